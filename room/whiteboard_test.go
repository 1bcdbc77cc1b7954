package room_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"aula/room"
)

func newLessonEnv(t *testing.T) *env {
	t.Helper()
	return newEnvConfig(t, func(c *room.Config) {
		c.Features = []room.FeatureSpec{room.PresentationFeature(), room.WhiteboardFeature()}
	})
}

func presView(t *testing.T, e *env, p *person) room.PresentationView {
	t.Helper()
	v, ok := e.snapshot(p).Features[room.FeaturePresentation].(room.PresentationView)
	if !ok {
		t.Fatalf("no presentation in %s's snapshot", p.id.Name)
	}
	return v
}

func boardView(t *testing.T, e *env, p *person) room.WhiteboardView {
	t.Helper()
	v, ok := e.snapshot(p).Features[room.FeatureWhiteboard].(room.WhiteboardView)
	if !ok {
		t.Fatalf("no whiteboard in %s's snapshot", p.id.Name)
	}
	return v
}

// addDoc registers a converted document as the conversion would.
func addDoc(t *testing.T, e *env, mt *room.Meeting, id string, pages int, show bool) {
	t.Helper()
	if _, err := e.mgr.SystemCommand(e.ctx, mt.Key, room.FeaturePresentation, room.DocAdded{ID: id, Name: id + ".pdf", Ext: ".pdf", Show: show}); err != nil {
		t.Fatal(err)
	}
	var ps []room.PageSize
	for range pages {
		ps = append(ps, room.PageSize{W: 595, H: 842})
	}
	if _, err := e.mgr.SystemCommand(e.ctx, mt.Key, room.FeaturePresentation, room.DocConverted{ID: id, Pages: ps}); err != nil {
		t.Fatal(err)
	}
}

func TestPresentationFollowsThePresenter(t *testing.T) {
	e := newLessonEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator) // presenter
	vera := e.join(mt, "Vera", room.Viewer)
	if v := presView(t, e, vera); v.Current != room.BlankDeck || v.Page != 1 {
		t.Fatalf("start: %+v, want the blank deck", v)
	}
	addDoc(t, e, mt, "slides", 3, true)
	if v := presView(t, e, vera); v.Current != "slides" || v.Page != 1 {
		t.Fatalf("a document shown on upload: %+v", v)
	}
	for _, c := range []struct {
		who  *person
		cmd  any
		want error
	}{
		{vera, room.TurnPage{Page: 2}, room.ErrForbidden},
		{mona, room.TurnPage{Page: 4}, room.ErrInvalid},
		{mona, room.TurnPage{Page: 0}, room.ErrInvalid},
		{mona, room.SetView{Zoom: 0.5}, room.ErrInvalid},
		{mona, room.ShowDoc{Doc: "nope"}, room.ErrNotFound},
		{mona, room.DocConverted{ID: "slides"}, room.ErrForbidden},
	} {
		if _, err := c.who.Command(e.ctx, room.FeaturePresentation, c.cmd); !errors.Is(err, c.want) {
			t.Fatalf("%s %T%+v: %v, want %v", c.who.id.Name, c.cmd, c.cmd, err, c.want)
		}
	}
	if _, err := mona.Command(e.ctx, room.FeaturePresentation, room.TurnPage{Page: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := mona.Command(e.ctx, room.FeaturePresentation, room.SetView{Zoom: 2, X: 0.25, Y: 0.5}); err != nil {
		t.Fatal(err)
	}
	// A late joiner lands on the current document, page and view.
	walt := e.join(mt, "Walt", room.Viewer)
	if v := presView(t, e, walt); v.Current != "slides" || v.Page != 2 || v.Zoom != 2 || v.X != 0.25 || v.Y != 0.5 {
		t.Fatalf("late joiner: %+v", v)
	}
	// A failed conversion is kept with its reason and never shown.
	if _, err := e.mgr.SystemCommand(e.ctx, mt.Key, room.FeaturePresentation, room.DocAdded{ID: "broken", Name: "x.pptx", Show: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mgr.SystemCommand(e.ctx, mt.Key, room.FeaturePresentation, room.DocRefused{ID: "broken", Reason: "not a presentation"}); err != nil {
		t.Fatal(err)
	}
	v := presView(t, e, vera)
	if v.Current != "slides" || v.Docs[len(v.Docs)-1].Status != room.DocFailed || v.Docs[len(v.Docs)-1].Error == "" {
		t.Fatalf("after a failed conversion: %+v", v)
	}
	if _, err := mona.Command(e.ctx, room.FeaturePresentation, room.ShowDoc{Doc: "broken"}); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("showing a failed document: %v", err)
	}
}

func shape(id, kind string, pts ...room.Point) room.Shape {
	return room.Shape{ID: id, Kind: kind, Points: pts, Color: "#ff0000", Width: 0.005}
}

func TestWhiteboardDrawingRights(t *testing.T) {
	e := newLessonEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	addDoc(t, e, mt, "slides", 2, true)
	p1 := room.PageRef{Doc: "slides", Page: 1}
	draw := func(who *person, s room.Shape) error {
		_, err := who.Command(e.ctx, room.FeatureWhiteboard, room.Draw{Page: p1, Shape: s})
		return err
	}
	if err := draw(mona, shape("s1", room.ShapePen, room.Point{0.1, 0.1}, room.Point{0.2, 0.2})); err != nil {
		t.Fatal(err)
	}
	if err := draw(vera, shape("v1", room.ShapePen, room.Point{0.5, 0.5})); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a viewer drawing without access: %v", err)
	}
	if _, err := vera.Command(e.ctx, room.FeatureWhiteboard, room.Access{All: true}); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a viewer granting herself drawing: %v", err)
	}
	if _, err := mona.Command(e.ctx, room.FeatureWhiteboard, room.Access{IDs: []string{vera.ID()}}); err != nil {
		t.Fatal(err)
	}
	vera.rec.take()
	mona.rec.take()
	if err := draw(vera, shape("v1", room.ShapeRect, room.Point{0.5, 0.5}, room.Point{0.7, 0.6})); err != nil {
		t.Fatal(err)
	}
	if evs := mona.rec.take(); len(evs) != 1 || evs[0].Payload.(room.WBAdded).Shapes[0].Author != vera.ID() {
		t.Fatalf("the moderator saw %+v", evs)
	}
	// Vera cannot erase Mona's shape; Mona (presenter) can erase Vera's.
	if _, err := vera.Command(e.ctx, room.FeatureWhiteboard, room.Erase{Page: p1, IDs: []string{"s1"}}); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("erasing another's shape: %v", err)
	}
	// Undo and redo are one's own.
	if _, err := vera.Command(e.ctx, room.FeatureWhiteboard, room.Undo{}); err != nil {
		t.Fatal(err)
	}
	if n := len(boardView(t, e, mona).Pages["slides/1"]); n != 1 {
		t.Fatalf("after Vera's undo the page has %d shapes, want Mona's one", n)
	}
	if _, err := vera.Command(e.ctx, room.FeatureWhiteboard, room.Redo{}); err != nil {
		t.Fatal(err)
	}
	if n := len(boardView(t, e, mona).Pages["slides/1"]); n != 2 {
		t.Fatalf("after the redo: %d shapes", n)
	}
	if _, err := vera.Command(e.ctx, room.FeatureWhiteboard, room.Clear{Page: p1, All: true}); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a viewer clearing the page: %v", err)
	}
	if _, err := vera.Command(e.ctx, room.FeatureWhiteboard, room.Clear{Page: p1}); err != nil {
		t.Fatal(err)
	}
	if got := boardView(t, e, mona).Pages["slides/1"]; len(got) != 1 || got[0].ID != "s1" {
		t.Fatalf("clear mine left %+v", got)
	}
	if _, err := mona.Command(e.ctx, room.FeatureWhiteboard, room.Access{}); err != nil {
		t.Fatal(err)
	}
	if err := draw(vera, shape("v2", room.ShapePen, room.Point{0.3, 0.3})); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("drawing after the access was taken back: %v", err)
	}
	// Without the right, her own shapes are still hers to move and erase;
	// another's are not.
	if _, err := vera.Command(e.ctx, room.FeatureWhiteboard, room.Undo{}); err != nil {
		t.Fatal(err) // undoing her clear brings her rectangle back
	}
	if _, err := vera.Command(e.ctx, room.FeatureWhiteboard, room.Move{Page: p1, IDs: []string{"v1"}, DX: 0.1}); err != nil {
		t.Fatalf("moving her own shape without the right: %v", err)
	}
	if _, err := vera.Command(e.ctx, room.FeatureWhiteboard, room.Move{Page: p1, IDs: []string{"s1"}, DX: 0.1}); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("moving another's shape: %v", err)
	}
	if _, err := vera.Command(e.ctx, room.FeatureWhiteboard, room.Erase{Page: p1, IDs: []string{"v1"}}); err != nil {
		t.Fatalf("erasing her own shape without the right: %v", err)
	}
	if got := boardView(t, e, mona).Pages["slides/1"]; len(got) != 1 || got[0].ID != "s1" {
		t.Fatalf("after her erase the page has %+v", got)
	}
}

func TestWhiteboardRefusesBadShapes(t *testing.T) {
	e := newLessonEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	addDoc(t, e, mt, "slides", 1, true)
	p1 := room.PageRef{Doc: "slides", Page: 1}
	huge := make([]room.Point, 100000)
	cases := map[string]room.Draw{
		"100 000 points":   {Page: p1, Shape: shape("a", room.ShapePen, huge...)},
		"no such page":     {Page: room.PageRef{Doc: "slides", Page: 2}, Shape: shape("b", room.ShapePen, room.Point{0, 0})},
		"no such document": {Page: room.PageRef{Doc: "x", Page: 1}, Shape: shape("c", room.ShapePen, room.Point{0, 0})},
		"off the page":     {Page: p1, Shape: shape("d", room.ShapePen, room.Point{9, 0})},
		"bad colour":       {Page: p1, Shape: room.Shape{ID: "e", Kind: room.ShapePen, Points: []room.Point{{0, 0}}, Color: "red", Width: 0.01}},
		"bad kind":         {Page: p1, Shape: shape("f", "blob", room.Point{0, 0})},
		"bad id":           {Page: p1, Shape: shape("../x", room.ShapePen, room.Point{0, 0})},
		"rect of 3 points": {Page: p1, Shape: shape("g", room.ShapeRect, room.Point{0, 0}, room.Point{1, 1}, room.Point{0.5, 0.5})},
		"text with NUL":    {Page: p1, Shape: room.Shape{ID: "h", Kind: room.ShapeText, Points: []room.Point{{0, 0}}, Color: "#000000", Width: 0.01, Text: "a\x00b", Size: 0.05}},
	}
	for name, d := range cases {
		if _, err := mona.Command(e.ctx, room.FeatureWhiteboard, d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := len(boardView(t, e, mona).Pages); n != 0 {
		t.Fatalf("refused shapes left %d pages with drawings", n)
	}
	for i := range room.MaxShapesPerPage {
		if _, err := mona.Command(e.ctx, room.FeatureWhiteboard, room.Draw{Page: p1, Shape: shape(fmt.Sprint("s", i), room.ShapePen, room.Point{0.5, 0.5})}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mona.Command(e.ctx, room.FeatureWhiteboard, room.Draw{Page: p1, Shape: shape("one-too-many", room.ShapePen, room.Point{0.5, 0.5})}); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("a shape beyond the page's cap: %v", err)
	}
}

// TestWhiteboardSurvivesAdoption: the board comes back from the store's
// log on another node, with removals and moves in place; a removed
// document takes its drawings along.
func TestWhiteboardSurvivesAdoption(t *testing.T) {
	e := newLessonEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	addDoc(t, e, mt, "slides", 2, true)
	addDoc(t, e, mt, "old", 1, false)
	p := room.PageRef{Doc: "slides", Page: 2}
	for i := range 5 {
		if _, err := mona.Command(e.ctx, room.FeatureWhiteboard, room.Draw{Page: p, Shape: shape(fmt.Sprint("s", i), room.ShapeLine, room.Point{0.1, 0.1}, room.Point{0.2, 0.2})}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mona.Command(e.ctx, room.FeatureWhiteboard, room.Draw{Page: room.PageRef{Doc: "old", Page: 1}, Shape: shape("o", room.ShapePen, room.Point{0.5, 0.5})}); err != nil {
		t.Fatal(err)
	}
	if _, err := mona.Command(e.ctx, room.FeatureWhiteboard, room.Erase{Page: p, IDs: []string{"s0"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := mona.Command(e.ctx, room.FeatureWhiteboard, room.Move{Page: p, IDs: []string{"s1"}, DX: 0.5, DY: 0.25}); err != nil {
		t.Fatal(err)
	}
	if _, err := mona.Command(e.ctx, room.FeaturePresentation, room.RemoveDoc{Doc: "old"}); err != nil {
		t.Fatal(err)
	}
	e.flushed()
	e.clock.Add(time.Minute) // this node died: its lease expired
	e2 := &env{t: t, ctx: e.ctx, clock: e.clock, store: e.store, files: e.files,
		mgr: room.NewManager(room.Config{TTL: 24 * time.Hour, Now: e.clock.Now, Logger: quiet,
			Features: []room.FeatureSpec{room.PresentationFeature(), room.WhiteboardFeature()}}, e.store, e.files)}
	otto := e2.join(mt, "Otto", room.Moderator)
	b := boardView(t, e2, otto)
	got := b.Pages["slides/2"]
	if len(got) != 4 || len(b.Pages) != 1 {
		t.Fatalf("adopted board: %+v", b.Pages)
	}
	for _, s := range got {
		if s.ID == "s1" && (s.Points[0] != room.Point{0.6, 0.35}) {
			t.Fatalf("moved shape at %v", s.Points)
		}
	}
	if v := presView(t, e2, otto); v.Current != "slides" || len(v.Docs) != 2 {
		t.Fatalf("adopted presentation: %+v", v)
	}
}

// TestLateConversionKeepsThePresentersChoice: a deck from create that
// finishes converting after the presenter showed (or uploaded) another
// does not take the stage.
func TestLateConversionKeepsThePresentersChoice(t *testing.T) {
	e := newLessonEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	convert := func(id string) {
		t.Helper()
		if _, err := e.mgr.SystemCommand(e.ctx, mt.Key, room.FeaturePresentation, room.DocConverted{ID: id, Pages: []room.PageSize{{W: 4, H: 3}}}); err != nil {
			t.Fatal(err)
		}
	}
	add := func(id string) {
		t.Helper()
		if _, err := e.mgr.SystemCommand(e.ctx, mt.Key, room.FeaturePresentation, room.DocAdded{ID: id, Name: id + ".pdf", Ext: ".pdf", Show: true}); err != nil {
			t.Fatal(err)
		}
	}
	// The platform's big deck is still converting; the presenter's own
	// upload is ready first and shown; then the big deck finishes.
	add("course")
	add("mine")
	convert("mine")
	convert("course")
	if v := presView(t, e, mona); v.Current != "mine" {
		t.Fatalf("current %q after the older deck finished, want the presenter's upload", v.Current)
	}
	// The presenter shows the blank deck while another still converts.
	add("later")
	if _, err := mona.Command(e.ctx, room.FeaturePresentation, room.ShowDoc{Doc: room.BlankDeck}); err != nil {
		t.Fatal(err)
	}
	convert("later")
	if v := presView(t, e, mona); v.Current != room.BlankDeck {
		t.Fatalf("current %q, want the blank deck the presenter chose", v.Current)
	}
}
