package signaling

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"aula/room"
	"aula/store"
)

func lessonEnv(t *testing.T) *env {
	return newEnv(t, func(o *Options, _ *httptest.Server) {
		o.Extensions = []Extension{Presentation(), Whiteboard()}
		o.MaxMessageBytes = 64 << 10
	})
}

// TestPresenterDrivesThePresentation: the presenter turns pages and draws,
// everyone follows; a viewer forging presenter messages gets forbidden and
// changes nothing; a granted viewer draws and undoes.
func TestPresenterDrivesThePresentation(t *testing.T) {
	e := lessonEnv(t)
	mod, viewer, mw, vw := twoInRoom(t, e)
	if _, ok := mw.Features[room.FeaturePresentation]; !ok {
		t.Fatalf("welcome without the presentation: %+v", mw.Features)
	}
	ctx := context.Background()
	if _, err := e.mgr.SystemCommand(ctx, e.mt.Key, room.FeaturePresentation, room.DocAdded{ID: "deck", Name: "deck.pdf", Show: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mgr.SystemCommand(ctx, e.mt.Key, room.FeaturePresentation, room.DocConverted{ID: "deck", Pages: []room.PageSize{{W: 4, H: 3}, {W: 4, H: 3}}}); err != nil {
		t.Fatal(err)
	}
	viewer.expect(TypePresentationState, func(m Envelope) bool {
		return decodeData[room.PresentationView](t, m).Current == "deck"
	})
	mod.pending()
	for _, f := range []struct {
		typ  string
		data any
	}{
		{TypePresentationPage, PageTurn{Page: 2}},
		{TypePresentationShow, DocRef{Doc: "blank"}},
		{TypePresentationView, ViewSet{Zoom: 2}},
		{TypePresentationRemove, DocRef{Doc: "deck"}},
		{TypePresentationAddPage, nil},
		{TypeWBDraw, WBShape{Page: room.PageRef{Doc: "deck", Page: 1}, Shape: room.Shape{ID: "x", Kind: "pen", Points: []room.Point{{0.1, 0.1}}, Color: "#000000", Width: 0.01}}},
		{TypeWBAccess, WBAccessMsg{All: true}},
		{TypeWBClear, WBClear{Page: room.PageRef{Doc: "deck", Page: 1}, All: true}},
	} {
		viewer.send(f.typ, "forged-"+f.typ, f.data)
		wantError(t, viewer, "forged-"+f.typ, CodeForbidden)
	}
	for _, m := range mod.pending() {
		if strings.HasPrefix(m.Type, "presentation.") || strings.HasPrefix(m.Type, "wb.") {
			t.Fatalf("a refused viewer message reached the moderator: %s", m.Type)
		}
	}
	mod.send(TypePresentationPage, "p2", PageTurn{Page: 2})
	mod.expect(TypeAck, errorWithRef("p2"))
	viewer.expect(TypePresentationState, func(m Envelope) bool { return decodeData[room.PresentationView](t, m).Page == 2 })

	page := room.PageRef{Doc: "deck", Page: 2}
	mod.send(TypeWBDraw, "d1", WBShape{Page: page, Shape: room.Shape{ID: "m1", Kind: "rect", Points: []room.Point{{0.1, 0.1}, {0.4, 0.3}}, Color: "#1e88e5", Width: 0.004}})
	mod.expect(TypeAck, errorWithRef("d1"))
	got := decodeData[WBShapesAdded](t, viewer.expect(TypeWBAdded, nil))
	if got.Page != page || len(got.Shapes) != 1 || got.Shapes[0].Author != mw.Self.ID {
		t.Fatalf("wb.added %+v", got)
	}
	mod.send(TypeWBAccess, "grant", WBAccessMsg{IDs: []string{vw.Self.ID}})
	mod.expect(TypeAck, errorWithRef("grant"))
	viewer.expect(TypeWBAccess, nil)
	viewer.send(TypeWBDraw, "v1", WBShape{Page: page, Shape: room.Shape{ID: "v1", Kind: "pen", Points: []room.Point{{0.5, 0.5}, {0.6, 0.6}}, Color: "#43a047", Width: 0.004}})
	viewer.expect(TypeAck, errorWithRef("v1"))
	mod.expect(TypeWBAdded, func(m Envelope) bool { return decodeData[WBShapesAdded](t, m).Shapes[0].ID == "v1" })
	viewer.send(TypeWBUndo, "u", nil)
	viewer.expect(TypeAck, errorWithRef("u"))
	if rm := decodeData[WBShapes](t, mod.expect(TypeWBRemoved, nil)); len(rm.IDs) != 1 || rm.IDs[0] != "v1" {
		t.Fatalf("undo removed %+v", rm)
	}
	// Late joiners get the board and the page in their welcome.
	late := e.dial(e.join("Late", room.Viewer))
	w := welcomeOfMsg(t, late)
	b, _ := json.Marshal(w.Features)
	if !strings.Contains(string(b), `"m1"`) || strings.Contains(string(b), `"v1"`) || !strings.Contains(string(b), `"page":2`) {
		t.Fatalf("late joiner's features: %s", b)
	}
}

// FuzzWhiteboardMessage: whatever a client sends as a whiteboard or
// presentation message, the answer is a protocol error (never internal),
// and a refused message changes nothing on the board.
func FuzzWhiteboardMessage(f *testing.F) {
	for _, s := range [][2]string{
		{TypeWBDraw, `{"page":{"doc":"blank","page":1},"shape":{"id":"a","kind":"pen","points":[[0.1,0.2]],"color":"#000000","width":0.01}}`},
		{TypeWBDraw, `{"page":{"doc":"blank","page":1},"shape":{"id":"t","kind":"text","points":[[0.1,0.2]],"color":"#000000","width":0.01,"text":"Hallo","size":0.05}}`},
		{TypeWBDrawing, `{"page":{"doc":"blank","page":1},"shape":{"id":"b","kind":"line","points":[[0,0],[1,1]],"color":"#ffffff","width":0.01}}`},
		{TypeWBErase, `{"page":{"doc":"blank","page":1},"ids":["a"]}`},
		{TypeWBMove, `{"page":{"doc":"blank","page":1},"ids":["a"],"dx":1e308,"dy":0}`},
		{TypeWBClear, `{"page":{"doc":"blank","page":1},"all":true}`},
		{TypeWBAccess, `{"all":true,"ids":[]}`},
		{TypeWBCursor, `{"page":{"doc":"blank","page":1},"x":0.5,"y":0.5}`},
		{TypeWBUndo, ``},
		{TypePresentationView, `{"zoom":2,"x":0.5,"y":0.5}`},
		{TypePresentationPage, `{"page":-1}`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	fuzzExtensions(f, []room.FeatureSpec{room.PresentationFeature(), room.WhiteboardFeature()},
		[]Extension{Presentation(), Whiteboard()}, CodeBadRequest, CodeForbidden, CodeNotFound, CodeUnknownType)
}

// fuzzExtensions feeds the fuzzer's messages to exts' handlers for a
// moderator of a meeting with features: each is handled or refused with
// one of the codes allowed, and a refused one changes no feature's state.
func fuzzExtensions(f *testing.F, features []room.FeatureSpec, exts []Extension, allowed ...string) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := room.NewManager(room.Config{Logger: log, Features: features}, store.NewMemory(nil), nil)
	mt, _, err := mgr.Create(ctx, room.Settings{MeetingID: "fuzz", Name: "F", AttendeePW: "a", ModeratorPW: "m"})
	if err != nil {
		f.Fatal(err)
	}
	member, err := mgr.Attach(ctx, mt.Key, room.Identity{ParticipantID: "mod", Name: "M", Role: room.Moderator}, room.ListenerFunc(func(room.Event) {}))
	if err != nil {
		f.Fatal(err)
	}
	fc := &fakeConn{m: member, sent: make(chan string, 1024)}
	handlers := map[string]Handler{}
	for _, ext := range exts {
		h, _ := ext.Open(ctx, fc)
		for _, typ := range ext.Types() {
			handlers[typ] = h
		}
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		h := handlers[typ]
		if h == nil {
			return
		}
		before, _ := member.Snapshot(ctx)
		err := h.Handle(ctx, typ, data)
		if err == nil {
			return
		}
		if code := codeOf(err); !slices.Contains(allowed, code) {
			t.Fatalf("%s %q: error %v has code %s", typ, data, err, code)
		}
		after, _ := member.Snapshot(ctx)
		b1, _ := json.Marshal(before.Features)
		b2, _ := json.Marshal(after.Features)
		if string(b1) != string(b2) {
			t.Fatalf("%s %q refused (%v) but changed the features", typ, data, err)
		}
	})
}
