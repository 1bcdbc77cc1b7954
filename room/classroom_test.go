package room_test

import (
	"errors"
	"sort"
	"testing"
	"time"

	"aula/room"
)

func publicOf(t *testing.T, e *env, viewer *person, id string) room.Public {
	t.Helper()
	for _, p := range e.snapshot(viewer).Roster {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("%s does not see %s", viewer.id.Name, id)
	return room.Public{}
}

// TestPresenter: the first moderator in presents; a moderator hands the
// role to anyone in the room (never to a phone caller); when the presenter
// leaves, the earliest moderator still there takes over.
func TestPresenter(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	vera := e.join(mt, "Vera", room.Viewer) // in the lobby until a moderator comes
	mona := e.join(mt, "Mona", room.Moderator)
	e.clock.Add(time.Second)
	max := e.join(mt, "Max", room.Moderator)
	if !publicOf(t, e, vera, mona.ID()).Presenter || publicOf(t, e, vera, max.ID()).Presenter || publicOf(t, e, vera, vera.ID()).Presenter {
		t.Fatal("the first moderator in is not the only presenter")
	}
	if err := vera.SetPresenter(e.ctx, vera.ID()); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a viewer making herself presenter: %v", err)
	}
	if err := max.SetPresenter(e.ctx, vera.ID()); err != nil {
		t.Fatal(err)
	}
	if !publicOf(t, e, mona, vera.ID()).Presenter || publicOf(t, e, mona, mona.ID()).Presenter {
		t.Fatal("the presenter role did not move to Vera alone")
	}
	phone, err := e.mgr.Attach(e.ctx, mt.Key, room.Identity{ParticipantID: room.NewID(), Name: "Phone ···789", Role: room.Viewer, Kind: room.Phone}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	if err := max.SetPresenter(e.ctx, phone.ID()); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a phone caller as presenter: %v", err)
	}
	if err := vera.Leave(e.ctx); err != nil {
		t.Fatal(err)
	}
	if !publicOf(t, e, max, mona.ID()).Presenter {
		t.Fatal("the earliest moderator did not take over after the presenter left")
	}
}

// TestHandsInOrderAndLowerAll: hands carry the time they were raised (a
// hand raised again keeps its place); a moderator lowers them all; a
// viewer cannot.
func TestHandsInOrderAndLowerAll(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	var viewers []*person
	for _, n := range []string{"Zoe", "Adam", "Mia"} {
		viewers = append(viewers, e.join(mt, n, room.Viewer))
	}
	for _, p := range viewers {
		e.clock.Add(time.Second)
		if err := p.RaiseHand(e.ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Add(time.Second)
	if err := viewers[0].RaiseHand(e.ctx, true); err != nil { // Zoe again: keeps her place
		t.Fatal(err)
	}
	var hands []room.Public
	for _, p := range e.snapshot(mona).Roster {
		if p.RaisedHand {
			hands = append(hands, p)
		}
	}
	sort.Slice(hands, func(i, j int) bool { return hands[i].HandRaisedAt.Before(hands[j].HandRaisedAt) })
	var order []string
	for _, h := range hands {
		order = append(order, h.Name)
	}
	if len(order) != 3 || order[0] != "Zoe" || order[1] != "Adam" || order[2] != "Mia" {
		t.Fatalf("hands in the order raised: %v", order)
	}
	if err := viewers[1].LowerAllHands(e.ctx); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a viewer lowering all hands: %v", err)
	}
	if err := mona.LowerAllHands(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range e.snapshot(mona).Roster {
		if p.RaisedHand || !p.HandRaisedAt.IsZero() {
			t.Fatalf("%s's hand is still up: %+v", p.Name, p)
		}
	}
}

// TestMuteAllAndAway: mute all spares the caller and, when asked, the
// presenter; a viewer cannot; away is one's own status.
func TestMuteAllAndAway(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator) // presenter
	max := e.join(mt, "Max", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	for _, p := range []*person{mona, max, vera} {
		if err := p.SetMedia(e.ctx, room.MediaState{Audio: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := vera.MuteAll(e.ctx, false); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("a viewer muting all: %v", err)
	}
	if err := max.MuteAll(e.ctx, true); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{mona.ID(): false, max.ID(): false, vera.ID(): true}
	for id, muted := range want {
		if p := publicOf(t, e, mona, id); p.Muted != muted || p.Audio == muted {
			t.Fatalf("%s after mute all except presenter: %+v", p.Name, p)
		}
	}
	if err := vera.SetAway(e.ctx, true); err != nil {
		t.Fatal(err)
	}
	if !publicOf(t, e, mona, vera.ID()).Away {
		t.Fatal("away status not shown")
	}
}
