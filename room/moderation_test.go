package room_test

import (
	"errors"
	"testing"

	"aula/room"
)

func public(e *env, viewer *person, id string) room.Public {
	e.t.Helper()
	for _, p := range e.snapshot(viewer).Roster {
		if p.ID == id {
			return p
		}
	}
	e.t.Fatalf("%s does not see %s", viewer.id.Name, id)
	return room.Public{}
}

func TestHandsAndRoles(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	walt := e.join(mt, "Walt", room.Viewer)

	if err := vera.RaiseHand(e.ctx, true); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*person{mona, walt, vera} {
		evs := p.rec.about(room.EventUpdated, vera.ID())
		if len(evs) != 1 || !evs[0].Participant.RaisedHand {
			t.Fatalf("%s got %+v about the raised hand", p.id.Name, evs)
		}
		if !public(e, p, vera.ID()).RaisedHand {
			t.Fatalf("%s's roster shows no hand", p.id.Name)
		}
	}
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"viewer lowers another's hand", func() error { return walt.LowerHand(e.ctx, vera.ID()) }, room.ErrForbidden},
		{"viewer promotes", func() error { return walt.SetRole(e.ctx, walt.ID(), room.Moderator) }, room.ErrForbidden},
		{"viewer mutes", func() error { return walt.Mute(e.ctx, vera.ID()) }, room.ErrForbidden},
		{"viewer removes", func() error { return walt.Remove(e.ctx, vera.ID()) }, room.ErrForbidden},
		{"viewer ends", func() error { return walt.End(e.ctx) }, room.ErrForbidden},
		{"unknown role", func() error { return mona.SetRole(e.ctx, vera.ID(), "ADMIN") }, room.ErrInvalid},
		{"unknown participant", func() error { return mona.LowerHand(e.ctx, "nobody") }, room.ErrNotFound},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.want) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.want)
		}
	}
	if p := public(e, mona, walt.ID()); p.Role != room.Viewer || !public(e, mona, vera.ID()).RaisedHand {
		t.Fatal("a refused action changed the roster")
	}

	if err := mona.LowerHand(e.ctx, vera.ID()); err != nil {
		t.Fatal(err)
	}
	if public(e, walt, vera.ID()).RaisedHand {
		t.Fatal("hand still up after the moderator lowered it")
	}
	if err := mona.SetRole(e.ctx, walt.ID(), room.Moderator); err != nil {
		t.Fatal(err)
	}
	if public(e, vera, walt.ID()).Role != room.Moderator {
		t.Fatal("promotion not shown")
	}
	// The promoted moderator has the rights now, and can demote back.
	if err := walt.Mute(e.ctx, vera.ID()); err != nil {
		t.Fatalf("promoted moderator mutes: %v", err)
	}
	if err := walt.SetRole(e.ctx, mona.ID(), room.Viewer); err != nil {
		t.Fatal(err)
	}
	if err := mona.LowerHand(e.ctx, vera.ID()); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("demoted moderator still acts: %v", err)
	}
	stored, _ := e.flushed().ListParticipants(e.ctx, mt.Key)
	for _, p := range stored {
		want := map[string]room.Role{"Mona": room.Viewer, "Vera": room.Viewer, "Walt": room.Moderator}[p.Name]
		if p.Role != want {
			t.Fatalf("stored role of %s = %s, want %s", p.Name, p.Role, want)
		}
	}
}

func TestMuteIsNeverForcedOpen(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	if err := vera.SetMedia(e.ctx, room.MediaState{Audio: true}); err != nil {
		t.Fatal(err)
	}
	if err := mona.Mute(e.ctx, vera.ID()); err != nil {
		t.Fatal(err)
	}
	if p := public(e, vera, vera.ID()); !p.Muted || p.Audio {
		t.Fatalf("after mute: %+v", p)
	}
	// Publishing audio again is the participant's own act and unmutes.
	if err := vera.SetMedia(e.ctx, room.MediaState{Audio: true}); err != nil {
		t.Fatal(err)
	}
	if p := public(e, mona, vera.ID()); p.Muted || !p.Audio {
		t.Fatalf("after own unmute: %+v", p)
	}
}

func TestMuteOnStart(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{MuteOnStart: true})
	mona := e.join(mt, "Mona", room.Moderator)
	if p := e.snapshot(mona).Self; !p.Muted || p.Audio || p.Video {
		t.Fatalf("entry with muteOnStart: %+v", p)
	}
}

func TestRemoveBansReattach(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	walt := e.join(mt, "Walt", room.Viewer)

	if err := mona.Remove(e.ctx, mona.ID()); !errors.Is(err, room.ErrInvalid) {
		t.Fatalf("removing oneself: %v", err)
	}
	if err := mona.Remove(e.ctx, vera.ID()); err != nil {
		t.Fatal(err)
	}
	if vera.rec.count(room.EventRemoved) != 1 {
		t.Fatal("the removed participant was not told")
	}
	if len(walt.rec.about(room.EventLeft, vera.ID())) != 1 {
		t.Fatal("the room was not told")
	}
	e.wantRoster(walt, "Mona", "Walt")
	if _, err := vera.Snapshot(e.ctx); err == nil {
		t.Fatal("the removed participant's handle still works")
	}
	if _, err := e.attach(mt, vera.id, vera.tok); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("re-attach after removal: %v, want ErrForbidden", err)
	}
	if ps, _ := e.flushed().ListParticipants(e.ctx, mt.Key); len(ps) != 2 {
		t.Fatalf("store holds %d participants, want 2", len(ps))
	}
}

func TestPhoneCallerRules(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	caller, err := e.attach(mt, room.Identity{ParticipantID: room.NewID(), Name: "Phone ···789", Role: room.Viewer, Kind: room.Phone}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := mona.SetRole(e.ctx, caller.ID(), room.Moderator); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("promoting a phone caller: %v, want ErrForbidden", err)
	}
	if p := public(e, mona, caller.ID()); p.Kind != room.Phone {
		t.Fatalf("caller shown as %+v", p)
	}
	// A call that drops leaves at once: no reconnect grace for phones.
	caller.Detach(e.ctx)
	if len(mona.rec.about(room.EventLeft, caller.ID())) != 1 {
		t.Fatal("dropped call did not leave at once")
	}
	e.wantRoster(mona, "Mona")
}

func TestMaxParticipants(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{MaxParticipants: 2})
	e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	if _, err := e.tryJoin(mt, "Walt", room.Viewer); !errors.Is(err, room.ErrFull) {
		t.Fatalf("third participant: %v, want ErrFull", err)
	}
	// Reconnecting is not joining: the place is kept.
	vera.Detach(e.ctx)
	again, err := e.attach(mt, vera.id, vera.tok)
	if err != nil {
		t.Fatalf("reconnect in a full room: %v", err)
	}
	if err := vera.Leave(e.ctx); err == nil {
		t.Fatal("the replaced handle could leave")
	}
	if ps, _ := e.mgr.Participants(e.ctx, mt.Key); len(ps) != 2 {
		t.Fatalf("%d participants, want 2", len(ps))
	}
	if err := again.Leave(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.tryJoin(mt, "Walt", room.Viewer); err != nil {
		t.Fatalf("join after a place came free: %v", err)
	}
}

// TestRemovalSurvivesNodeCrash: a node that adopts the meeting from the
// store (the first node died without ending it) keeps the removal and the
// roster, and gives everyone the reconnect grace.
func TestRemovalSurvivesNodeCrash(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	if err := mona.Remove(e.ctx, "nobody"); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("removing an unknown participant: %v", err)
	}
	if err := mona.Remove(e.ctx, vera.ID()); err != nil {
		t.Fatal(err)
	}

	next := e.otherNodeAfterCrash()
	if _, err := next.Attach(e.ctx, mt.Key, vera.id, &recorder{}); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("removed participant on the adopting node: %v, want ErrForbidden", err)
	}
	ps, err := next.Participants(e.ctx, mt.Key)
	if err != nil || len(ps) != 1 || ps[0].Name != "Mona" || ps[0].Connected {
		t.Fatalf("adopted roster %+v, %v; want Mona, waiting to reconnect", ps, err)
	}
	back, err := next.Attach(e.ctx, mt.Key, mona.id, &recorder{})
	if err != nil {
		t.Fatalf("moderator reconnects to the adopting node: %v", err)
	}
	if s, err := back.Snapshot(e.ctx); err != nil || !s.Self.Connected || !s.Self.InRoom || s.Self.Role != room.Moderator {
		t.Fatalf("after reconnect: %+v, %v", s, err)
	}
}
