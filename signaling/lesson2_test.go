package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"aula/room"
)

func lessonTools(t *testing.T) *env {
	return newEnv(t, func(o *Options, _ *httptest.Server) {
		o.Extensions = []Extension{Presentation(), Whiteboard(), Polls(), Notes(), Timer(), Video()}
		o.MaxMessageBytes = 64 << 10
	})
}

// TestLessonToolsOverTheWire: a poll asked, answered and published; two
// note edits on one revision both kept; the timer and a video shared.
// A viewer forging the moderators' and presenter's messages is refused
// and changes nothing; bad input gets a clear error.
func TestLessonToolsOverTheWire(t *testing.T) {
	e := lessonTools(t)
	mod, viewer, _, _ := twoInRoom(t, e)
	mod.pending()
	for _, f := range []struct {
		typ  string
		data any
	}{
		{TypePollStart, PollStartMsg{Question: "?", Kind: "yesno"}},
		{TypePollPublish, nil},
		{TypeTimerStart, TimerStartMsg{Mode: "countdown", Seconds: 60}},
		{TypeVideoShare, VideoShareMsg{URL: "https://media.example.org/a.mp4"}},
	} {
		viewer.send(f.typ, "forged-"+f.typ, f.data)
		wantError(t, viewer, "forged-"+f.typ, CodeForbidden)
	}
	for _, m := range mod.pending() {
		if m.Type == TypePollState || m.Type == TypeTimerState || m.Type == TypeVideoState {
			t.Fatalf("a refused viewer message reached the moderator: %s", m.Type)
		}
	}

	mod.send(TypePollStart, "q", PollStartMsg{Question: "Alles klar?", Kind: "yesno"})
	mod.expect(TypeAck, errorWithRef("q"))
	poll := decodeData[room.PollView](t, viewer.expect(TypePollState, nil))
	viewer.send(TypePollVote, "v", PollVoteMsg{Poll: poll.ID, Choices: []int{0}})
	viewer.expect(TypeAck, errorWithRef("v"))
	if got := decodeData[room.PollView](t, mod.expect(TypePollState, func(m Envelope) bool {
		return decodeData[room.PollView](t, m).Total == 1
	})); got.Counts[0] != 1 {
		t.Fatalf("the moderator's live result %+v", got)
	}
	viewer.send(TypePollVote, "again", PollVoteMsg{Poll: poll.ID, Choices: []int{1}})
	wantError(t, viewer, "again", CodeBadRequest)
	viewer.send(TypePollVote, "unknown", PollVoteMsg{Poll: "nope", Choices: []int{1}})
	wantError(t, viewer, "unknown", CodeNotFound)

	mod.send(TypeNotesEdit, "n0", NotesEditMsg{Rev: 0, Op: room.TextOp{{S: "ab"}}})
	mod.expect(TypeNotesAck, nil)
	viewer.expect(TypeNotesOp, nil)
	mod.send(TypeNotesEdit, "n1", NotesEditMsg{Rev: 1, Op: room.TextOp{{N: 1}, {S: "M"}, {N: 1}}})
	viewer.send(TypeNotesEdit, "n2", NotesEditMsg{Rev: 1, Op: room.TextOp{{N: 1}, {S: "V"}, {N: 1}}})
	mod.expect(TypeAck, errorWithRef("n1"))
	viewer.expect(TypeAck, errorWithRef("n2"))
	if text, _ := e.mgr.NotesText(e.mt.Key); text != "aMVb" && text != "aVMb" {
		t.Fatalf("notes %q, want both inputs", text)
	}
	viewer.send(TypeNotesEdit, "future", NotesEditMsg{Rev: 99, Op: room.TextOp{{N: 4}, {S: "x"}}})
	wantError(t, viewer, "future", CodeBadRequest)
	viewer.sendRaw([]byte(`{"type":"notes.edit","ref":"junk","data":{"rev":3,"op":[0, {"x":1}]}}`))
	wantError(t, viewer, "junk", CodeBadRequest)

	mod.send(TypeVideoShare, "js", VideoShareMsg{URL: "javascript:alert(1)"})
	wantError(t, mod, "js", CodeBadRequest)
	mod.send(TypeVideoShare, "evil", VideoShareMsg{URL: "https://evil.example/watch?v=dQw4w9WgXcQ"})
	wantError(t, mod, "evil", CodeBadRequest)
	mod.send(TypeVideoShare, "ok", VideoShareMsg{URL: "https://media.example.org/a.mp4"})
	mod.expect(TypeAck, errorWithRef("ok"))
	if v := decodeData[room.VideoView](t, viewer.expect(TypeVideoState, nil)); v.Provider != room.ProviderFile || v.Origin != "https://media.example.org" {
		t.Fatalf("video.state %+v", v)
	}
	mod.send(TypeTimerStart, "t", TimerStartMsg{Mode: "countdown", Seconds: 90})
	mod.expect(TypeAck, errorWithRef("t"))
	var ts struct {
		Mode    string `json:"mode"`
		Seconds int    `json:"seconds"`
	}
	if err := json.Unmarshal(viewer.expect(TypeTimerState, nil).Data, &ts); err != nil || ts.Mode != "countdown" || ts.Seconds != 90 {
		t.Fatalf("timer.state %+v %v", ts, err)
	}
}

// TestPollAnswersStayPrivateUntilPublished: while a poll is open, what
// reaches a viewer's socket is that viewer's own answer only: no count,
// no total, no voter and no other participant's text, in a choice poll
// and in a text poll; once published, the result (without voters) does.
func TestPollAnswersStayPrivateUntilPublished(t *testing.T) {
	e := lessonTools(t)
	mod, anna, _, annaW := twoInRoom(t, e)
	bert := e.dial(e.join("Bert", room.Viewer))
	bertW := welcomeOfMsg(t, bert)
	for _, kind := range []string{room.PollLetters, room.PollText} {
		mod.send(TypePollStart, "q-"+kind, PollStartMsg{Question: "Welche?", Kind: kind, Letters: 4})
		mod.expect(TypeAck, errorWithRef("q-"+kind))
		opened := func(m Envelope) bool {
			v := decodeData[room.PollView](t, m)
			return v.Kind == kind && v.Status == room.PollOpen
		}
		poll := decodeData[room.PollView](t, anna.expect(TypePollState, opened))
		bert.expect(TypePollState, opened)
		bert.pending()
		for len(bert.raw) > 0 {
			<-bert.raw
		}
		vote := PollVoteMsg{Poll: poll.ID, Choices: []int{2}}
		if kind == room.PollText {
			vote = PollVoteMsg{Poll: poll.ID, Text: "Annas geheime Antwort"}
		}
		anna.send(TypePollVote, "v-"+kind, vote)
		anna.expect(TypeAck, errorWithRef("v-"+kind))
		// The moderator's live result counts Anna's answer: it was made.
		mod.expect(TypePollState, func(m Envelope) bool {
			v := decodeData[room.PollView](t, m)
			return v.ID == poll.ID && v.Total == 1
		})
		bert.pending()
		var seen []string
		for len(bert.raw) > 0 {
			b := <-bert.raw
			seen = append(seen, string(b))
			for _, secret := range []string{annaW.Self.ID, "Annas geheime", `"counts"`, `"voters"`, `"texts"`, `"total":1`} {
				if strings.Contains(string(b), secret) {
					t.Errorf("%s poll: Bert received %q before the result was published: %s", kind, secret, b)
				}
			}
		}
		mod.send(TypePollPublish, "p-"+kind, nil)
		mod.expect(TypeAck, errorWithRef("p-"+kind))
		got := decodeData[room.PollView](t, bert.expect(TypePollState, func(m Envelope) bool {
			return decodeData[room.PollView](t, m).Status == room.PollPublished
		}))
		if got.Total != 1 || len(got.Voters) != 0 || len(got.TextVoters) != 0 ||
			(kind == room.PollLetters && got.Counts[2] != 1) || (kind == room.PollText && (len(got.Texts) != 1 || got.Texts[0] != "Annas geheime Antwort")) {
			t.Errorf("%s poll: Bert's published result %+v (saw before: %v)", kind, got, seen)
		}
		if got.Voted || bertW.Self.ID == "" {
			t.Errorf("%s poll: Bert shown as having voted", kind)
		}
	}
}

// FuzzLessonMessage: whatever a client sends as a poll, notes, timer or
// video message, the answer is a protocol error (never internal), and a
// refused message changes none of the features.
func FuzzLessonMessage(f *testing.F) {
	for _, s := range [][2]string{
		{TypeNotesEdit, `{"rev":0,"op":["Hallo"]}`},
		{TypeNotesEdit, `{"rev":0,"op":[3,-2,"x"]}`},
		{TypeNotesEdit, `{"rev":-1,"op":[]}`},
		{TypeNotesEdit, `{"rev":0,"op":["\ud83d"]}`},
		{TypeNotesCursor, `{"rev":0,"pos":1,"end":2}`},
		{TypePollStart, `{"question":"?","kind":"custom","options":["a","b"]}`},
		{TypePollStart, `{"question":"?","kind":"letters","letters":7}`},
		{TypePollVote, `{"poll":"x","choices":[0,0]}`},
		{TypeTimerStart, `{"mode":"countdown","seconds":-5}`},
		{TypeVideoShare, `{"url":"https://youtu.be/dQw4w9WgXcQ"}`},
		{TypeVideoControl, `{"playing":true,"position":1e309,"rate":1}`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	policy := room.VideoPolicy{Providers: []string{room.ProviderFile, room.ProviderYouTube}}
	fuzzExtensions(f, []room.FeatureSpec{room.PresentationFeature(), room.WhiteboardFeature(),
		room.PollFeature(), room.NotesFeature(), room.TimerFeature(), room.VideoFeature(policy)},
		[]Extension{Polls(), Notes(), Timer(), Video()}, CodeBadRequest, CodeForbidden, CodeNotFound, CodeConflict, CodeUnknownType)
}

// TestLessonToolsWipedAtEnd: a meeting whose board, presentation, poll,
// notes, timer and video all hold state leaves no store key of it behind
// when a moderator ends it. The check first proves the state reached the
// store, so it cannot pass by looking too early.
func TestLessonToolsWipedAtEnd(t *testing.T) {
	e := lessonTools(t)
	mod, viewer, _, _ := twoInRoom(t, e)
	ctx := context.Background()
	if _, err := e.mgr.SystemCommand(ctx, e.mt.Key, room.FeaturePresentation, room.DocAdded{ID: "deck", Name: "deck.pdf", Show: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.mgr.SystemCommand(ctx, e.mt.Key, room.FeaturePresentation, room.DocConverted{ID: "deck", Pages: []room.PageSize{{W: 4, H: 3}}}); err != nil {
		t.Fatal(err)
	}
	const secret = "wipe-me-7f3a"
	steps := []struct {
		typ  string
		data any
	}{
		{TypeWBDraw, WBShape{Page: room.PageRef{Doc: "deck", Page: 1}, Shape: room.Shape{ID: "s1", Kind: "text", Text: secret, Size: 0.05, Points: []room.Point{{0.2, 0.2}}, Color: "#000000", Width: 0.002}}},
		{TypePollStart, PollStartMsg{Question: secret + "?", Kind: "yesno"}},
		{TypeNotesEdit, NotesEditMsg{Rev: 0, Op: room.TextOp{{S: secret}}}},
		{TypeTimerStart, TimerStartMsg{Mode: "countdown", Seconds: 300}},
		{TypeVideoShare, VideoShareMsg{URL: "https://media.example.org/" + secret + ".mp4"}},
	}
	for i, s := range steps {
		mod.send(s.typ, fmt.Sprint("step", i), s.data)
		ack := TypeAck
		if s.typ == TypeNotesEdit {
			ack = TypeNotesAck
		}
		mod.expect(ack, nil)
	}
	viewer.expect(TypeVideoState, nil)
	fctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	if err := e.mgr.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, v := range e.store.Dump() {
		if strings.Contains(v, secret) {
			stored++
		}
	}
	if stored < 3 {
		t.Fatalf("only %d store values hold the lesson's text before the end: the wipe check would prove little", stored)
	}
	mod.send(TypeMeetingEnd, "end", nil)
	for _, c := range []*client{mod, viewer} {
		c.expect(TypeMeetingEnded, nil)
	}
	if keys := e.store.Keys(); len(keys) != 0 {
		t.Fatalf("keys left after the end: %v", keys)
	}
}
