package room_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"aula/room"
)

// joinGuest vouches for a guest (join with guest=true) and attaches them.
func (e *env) joinGuest(mt *room.Meeting, name string, role room.Role) *person {
	e.t.Helper()
	tok, sess, err := e.mgr.NewSession(e.ctx, mt.Key, room.Identity{Name: name, Role: role, Guest: true})
	if err != nil {
		e.t.Fatalf("guest session %s: %v", name, err)
	}
	p, err := e.attach(mt, sess.Identity, tok)
	if err != nil {
		e.t.Fatalf("attach guest %s: %v", name, err)
	}
	return p
}

func waitingNames(ps []room.Public) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// lastWaiting returns the list of the last EventWaiting p received, and
// whether there was one; the events are consumed.
func lastWaiting(p *person) ([]string, bool) {
	var got []string
	seen := false
	for _, ev := range p.rec.take() {
		if ev.Type == room.EventWaiting {
			got, seen = waitingNames(ev.Waiting), true
		}
	}
	return got, seen
}

func (e *env) wantWaiting(p *person, want ...string) {
	e.t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := waitingNames(e.snapshot(p).Waiting); !slices.Equal(got, want) {
		e.t.Fatalf("%s's snapshot lists waiting guests %q, want %q", p.id.Name, got, want)
	}
}

func askModerator() room.Settings { return room.Settings{GuestPolicy: room.GuestAskModerator} }

func TestAskModeratorGuestWaitsInRunningMeeting(t *testing.T) {
	e := newEnv(t)
	mt := e.create(askModerator())
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	mona.rec.take()

	e.clock.Add(time.Second)
	gary := e.joinGuest(mt, "Gary", room.Viewer)
	s := e.snapshot(gary)
	if s.Self.InRoom || !s.AwaitingApproval || s.Roster != nil || s.Chat != nil || s.Waiting != nil {
		t.Fatalf("guest in a running meeting: in room %v, awaiting %v, roster %v, chat %v, waiting %v",
			s.Self.InRoom, s.AwaitingApproval, s.Roster, s.Chat, s.Waiting)
	}
	if _, err := gary.Chat(e.ctx, "", "let me in"); !errors.Is(err, room.ErrNotInRoom) {
		t.Fatalf("chat from the waiting guest: %v, want ErrNotInRoom", err)
	}
	if got, ok := lastWaiting(mona); !ok || !slices.Equal(got, []string{"Gary"}) {
		t.Fatalf("moderator told of waiting guests %q (event %v), want [Gary]", got, ok)
	}
	e.wantWaiting(mona, "Gary")
	if evs := vera.rec.take(); len(evs) != 0 {
		t.Fatalf("a viewer learnt of the waiting guest: %+v", evs)
	}
	if s := e.snapshot(vera); s.Waiting != nil {
		t.Fatalf("a viewer's snapshot lists waiting guests %+v", s.Waiting)
	}
	e.wantRoster(mona, "Mona", "Vera")
	// A later guest queues behind the first; a non-guest viewer enters at once.
	e.clock.Add(time.Second)
	e.joinGuest(mt, "Anna", room.Viewer)
	e.wantWaiting(mona, "Gary", "Anna")
	walt := e.join(mt, "Walt", room.Viewer)
	if !e.snapshot(walt).Self.InRoom {
		t.Fatal("a viewer who is no guest waited")
	}
}

func TestAdmitGuestRights(t *testing.T) {
	e := newEnv(t)
	mt := e.create(askModerator())
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	gary := e.joinGuest(mt, "Gary", room.Viewer)
	e.clock.Add(time.Second)
	anna := e.joinGuest(mt, "Anna", room.Viewer)
	tests := []struct {
		name  string
		actor *person
		id    string
		allow bool
		want  error
	}{
		{"viewer admits", vera, gary.ID(), true, room.ErrForbidden},
		{"viewer denies", vera, gary.ID(), false, room.ErrForbidden},
		{"waiting guest admits another", anna, gary.ID(), true, room.ErrNotInRoom},
		{"waiting guest admits self", gary, gary.ID(), true, room.ErrNotInRoom},
		{"unknown id", mona, "nobody", true, room.ErrNotFound},
		{"empty id", mona, "", false, room.ErrNotFound},
		{"participant already in the room", mona, vera.ID(), false, room.ErrNotFound},
		{"the moderator", mona, mona.ID(), true, room.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.actor.AdmitGuest(e.ctx, tt.id, tt.allow); !errors.Is(err, tt.want) {
				t.Fatalf("AdmitGuest = %v, want %v", err, tt.want)
			}
			e.wantWaiting(mona, "Gary", "Anna")
			e.wantRoster(mona, "Mona", "Vera")
		})
	}
	if _, err := vera.AdmitAllGuests(e.ctx); !errors.Is(err, room.ErrForbidden) {
		t.Fatalf("viewer admits all: %v, want ErrForbidden", err)
	}
	e.wantWaiting(mona, "Gary", "Anna")
}

func TestAdmitGuest(t *testing.T) {
	e := newEnv(t)
	mt := e.create(askModerator())
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	gary := e.joinGuest(mt, "Gary", room.Viewer)
	for _, p := range []*person{mona, vera, gary} {
		p.rec.take()
	}

	if err := mona.AdmitGuest(e.ctx, gary.ID(), true); err != nil {
		t.Fatal(err)
	}
	if gary.rec.count(room.EventAdmitted) != 1 {
		t.Fatal("the guest was not told they were admitted")
	}
	if s := e.snapshot(gary); !s.Self.InRoom || s.AwaitingApproval {
		t.Fatalf("admitted guest: in room %v, awaiting %v", s.Self.InRoom, s.AwaitingApproval)
	}
	e.wantRoster(gary, "Gary", "Mona", "Vera")
	for _, p := range []*person{mona, vera} {
		if len(p.rec.about(room.EventJoined, gary.ID())) != 1 {
			t.Fatalf("%s was not told the guest entered", p.id.Name)
		}
		e.wantRoster(p, "Gary", "Mona", "Vera")
	}
	if got, ok := lastWaiting(mona); !ok || len(got) != 0 {
		t.Fatalf("moderator's waiting list after admission %q (event %v), want empty", got, ok)
	}
	if _, ok := lastWaiting(vera); ok {
		t.Fatal("a viewer got the waiting list")
	}
	if _, err := gary.Chat(e.ctx, "", "thanks"); err != nil {
		t.Fatalf("admitted guest cannot chat: %v", err)
	}
	if err := mona.AdmitGuest(e.ctx, gary.ID(), false); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("denying a guest already admitted: %v, want ErrNotFound", err)
	}
	// A reconnect keeps the admission.
	gary2, err := e.attach(mt, gary.id, gary.tok)
	if err != nil {
		t.Fatal(err)
	}
	if !e.snapshot(gary2).Self.InRoom {
		t.Fatal("admitted guest waits again after reconnecting")
	}
}

func TestDenyGuest(t *testing.T) {
	e := newEnv(t)
	mt := e.create(askModerator())
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	gina := e.joinGuest(mt, "Gina", room.Viewer)
	gary := e.joinGuest(mt, "Gary", room.Viewer)
	for _, p := range []*person{mona, vera, gina} {
		p.rec.take()
	}

	if err := mona.AdmitGuest(e.ctx, gina.ID(), false); err != nil {
		t.Fatal(err)
	}
	if gina.rec.count(room.EventDenied) != 1 || gina.rec.count(room.EventAdmitted) != 0 {
		t.Fatalf("denied guest got %+v", gina.rec.take())
	}
	if got, ok := lastWaiting(mona); !ok || !slices.Equal(got, []string{"Gary"}) {
		t.Fatalf("moderator's waiting list after the denial %q (event %v), want [Gary]", got, ok)
	}
	if evs := vera.rec.take(); len(evs) != 0 {
		t.Fatalf("a viewer learnt of the denial: %+v", evs)
	}
	ps, _ := e.mgr.Participants(e.ctx, mt.Key)
	for _, p := range ps {
		if p.ID == gina.ID() {
			t.Fatal("the denied guest is still a participant")
		}
	}
	if _, err := gina.Snapshot(e.ctx); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("denied guest's old handle: %v, want ErrNotFound", err)
	}
	if _, err := e.attach(mt, gina.id, gina.tok); !errors.Is(err, room.ErrDenied) {
		t.Fatalf("denied guest attaching again: %v, want ErrDenied", err)
	}
	// The denial outlasts this node: another node adopting the meeting
	// from the store refuses the guest too.
	other := e.otherNodeAfterCrash()
	if _, err := other.Attach(e.ctx, mt.Key, gina.id, &recorder{}); !errors.Is(err, room.ErrDenied) {
		t.Fatalf("denied guest on another node: %v, want ErrDenied", err)
	}
	e.wantWaiting(mona, "Gary")
	if !e.snapshot(gary).AwaitingApproval {
		t.Fatal("the other guest stopped waiting")
	}
}

func TestGuestBeforeStartWaitsForApproval(t *testing.T) {
	e := newEnv(t)
	mt := e.create(askModerator())
	gary := e.joinGuest(mt, "Gary", room.Viewer)
	vera := e.join(mt, "Vera", room.Viewer)
	if s := e.snapshot(vera); s.Self.InRoom || s.AwaitingApproval {
		t.Fatalf("viewer before the start: in room %v, awaiting approval %v", s.Self.InRoom, s.AwaitingApproval)
	}
	if !e.snapshot(gary).AwaitingApproval {
		t.Fatal("guest before the start does not await approval")
	}
	mona := e.join(mt, "Mona", room.Moderator)
	if vera.rec.count(room.EventAdmitted) != 1 || !e.snapshot(vera).Self.InRoom {
		t.Fatal("the viewer was not let in when the moderator came")
	}
	if gary.rec.count(room.EventAdmitted) != 0 || e.snapshot(gary).Self.InRoom {
		t.Fatal("the guest entered without approval when the moderator came")
	}
	e.wantWaiting(mona, "Gary")
	e.wantRoster(mona, "Mona", "Vera")
	n, err := mona.AdmitAllGuests(e.ctx)
	if err != nil || n != 1 {
		t.Fatalf("AdmitAllGuests = %d, %v; want 1", n, err)
	}
	e.wantRoster(mona, "Gary", "Mona", "Vera")
	e.wantWaiting(mona)
}

func TestAdmitAllGuests(t *testing.T) {
	e := newEnv(t)
	mt := e.create(askModerator())
	mona := e.join(mt, "Mona", room.Moderator)
	var guests []*person
	for _, name := range []string{"Gary", "Anna", "Olga"} {
		e.clock.Add(time.Second) // the list is in order of arrival
		guests = append(guests, e.joinGuest(mt, name, room.Viewer))
	}
	if err := guests[2].Leave(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got, ok := lastWaiting(mona); !ok || !slices.Equal(got, []string{"Gary", "Anna"}) {
		t.Fatalf("waiting list after a guest left %q (event %v), want [Gary Anna]", got, ok)
	}
	n, err := mona.AdmitAllGuests(e.ctx)
	if err != nil || n != 2 {
		t.Fatalf("AdmitAllGuests = %d, %v; want 2", n, err)
	}
	for _, g := range guests[:2] {
		if g.rec.count(room.EventAdmitted) != 1 {
			t.Fatalf("%s was not admitted", g.id.Name)
		}
	}
	e.wantRoster(mona, "Anna", "Gary", "Mona")
	e.wantWaiting(mona)
	if n, err := mona.AdmitAllGuests(e.ctx); err != nil || n != 0 {
		t.Fatalf("AdmitAllGuests with nobody waiting = %d, %v", n, err)
	}
}

// TestGuestPolicies: only ASK_MODERATOR holds guests back, and never a
// guest who joins as a moderator (BBB always lets moderators in).
func TestGuestPolicies(t *testing.T) {
	tests := []struct {
		policy   room.GuestPolicy
		role     room.Role
		inRoom   bool
		awaiting bool
		denied   bool
	}{
		{room.GuestAlwaysAccept, room.Viewer, true, false, false},
		{"", room.Viewer, true, false, false},
		{room.GuestAlwaysDeny, room.Viewer, false, false, true},
		{room.GuestAskModerator, room.Viewer, false, true, false},
		{room.GuestAskModerator, room.Moderator, true, false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy)+"/"+string(tt.role), func(t *testing.T) {
			e := newEnv(t)
			mt := e.create(room.Settings{GuestPolicy: tt.policy})
			mona := e.join(mt, "Mona", room.Moderator)
			tok, sess, err := e.mgr.NewSession(e.ctx, mt.Key, room.Identity{Name: "Gus", Role: tt.role, Guest: true})
			if tt.denied {
				if !errors.Is(err, room.ErrDenied) {
					t.Fatalf("NewSession = %v, want ErrDenied", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gus, err := e.attach(mt, sess.Identity, tok)
			if err != nil {
				t.Fatal(err)
			}
			s := e.snapshot(gus)
			if s.Self.InRoom != tt.inRoom || s.AwaitingApproval != tt.awaiting {
				t.Fatalf("guest: in room %v, awaiting %v; want %v, %v", s.Self.InRoom, s.AwaitingApproval, tt.inRoom, tt.awaiting)
			}
			if n := len(e.snapshot(mona).Waiting); n != map[bool]int{true: 1}[tt.awaiting] {
				t.Fatalf("moderator sees %d waiting", n)
			}
		})
	}
}
