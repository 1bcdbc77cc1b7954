package room_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"aula/room"
	"aula/store"
)

func TestReconnectWithinGrace(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)

	vera.Detach(e.ctx)
	evs := mona.rec.about(room.EventUpdated, vera.ID())
	if len(evs) != 1 || evs[0].Participant.Connected {
		t.Fatalf("moderator got %+v on the drop, want connected=false", evs)
	}
	e.tick(30 * time.Second)
	mona.rec.take()
	again, err := e.attach(mt, vera.id, vera.tok)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID() != vera.ID() {
		t.Fatal("reconnect made a new participant")
	}
	evs = mona.rec.about(room.EventUpdated, vera.ID())
	if len(evs) != 1 || !evs[0].Participant.Connected {
		t.Fatalf("moderator got %+v on the return, want connected=true", evs)
	}
	if len(mona.rec.about(room.EventJoined, vera.ID())) != 0 {
		t.Fatal("a reconnect was announced as a join")
	}
	e.wantRoster(mona, "Mona", "Vera")
	if !e.snapshot(again).Self.Connected || !e.snapshot(again).Self.InRoom {
		t.Fatal("returned participant not connected and in the room")
	}
	if _, err := again.Chat(e.ctx, "", "back"); err != nil {
		t.Fatalf("chat after reconnect: %v", err)
	}
}

func TestRemovedAfterGrace(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	vera.Detach(e.ctx)
	e.tick(time.Minute - time.Second)
	e.wantRoster(mona, "Mona", "Vera")
	e.tick(time.Second)
	if len(mona.rec.about(room.EventLeft, vera.ID())) != 1 {
		t.Fatal("no leave after the reconnect grace")
	}
	e.wantRoster(mona, "Mona")
	if ps, _ := e.flushed().ListParticipants(e.ctx, mt.Key); len(ps) != 1 {
		t.Fatalf("store holds %d participants, want 1", len(ps))
	}
	// The session still vouches for her: she comes back as a fresh arrival.
	back, err := e.attach(mt, vera.id, vera.tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(mona.rec.about(room.EventJoined, back.ID())) != 2 {
		t.Fatal("return after the grace not announced as a join")
	}
}

func TestSecondAttachReplacesFirst(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	tab1 := e.join(mt, "Vera", room.Viewer)
	tab2, err := e.attach(mt, tab1.id, tab1.tok)
	if err != nil {
		t.Fatal(err)
	}
	if tab1.rec.count(room.EventReplaced) != 1 || tab2.rec.count(room.EventReplaced) != 0 {
		t.Fatal("the first connection was not told it was replaced")
	}
	if _, err := tab1.Snapshot(e.ctx); err == nil {
		t.Fatal("the replaced handle still reads the room")
	}
	if _, err := tab1.Chat(e.ctx, "", "ghost"); err == nil {
		t.Fatal("the replaced handle still chats")
	}
	// The old tab closing must not take the new one's place away.
	tab1.Detach(e.ctx)
	if p := public(e, mona, tab2.ID()); !p.Connected {
		t.Fatal("the replaced handle's Detach disconnected the new connection")
	}
	e.tick(2 * time.Minute)
	e.wantRoster(mona, "Mona", "Vera")
	e.wantRoster(tab2, "Mona", "Vera")
}

func TestEndConditions(t *testing.T) {
	type setup func(e *env, mt *room.Meeting) []*person
	modOnly := func(e *env, mt *room.Meeting) []*person { return []*person{e.join(mt, "Mona", room.Moderator)} }
	cases := []struct {
		name   string
		s      room.Settings
		setup  setup
		alive  []time.Duration // ticks after which the meeting still runs
		final  time.Duration   // the tick that ends it
		reason string
	}{
		{"duration reached", room.Settings{Duration: 30 * time.Minute}, modOnly,
			[]time.Duration{0, 30*time.Minute - time.Second}, time.Second, room.ReasonDuration},
		{"nobody joined", room.Settings{}, func(*env, *room.Meeting) []*person { return nil },
			[]time.Duration{0, 5*time.Minute - time.Second}, time.Second, room.ReasonNoUser},
		{"only the lobby, no moderator came", room.Settings{ExpireIfNoUserJoined: 2 * time.Minute},
			func(e *env, mt *room.Meeting) []*person { return []*person{e.join(mt, "Vera", room.Viewer)} },
			[]time.Duration{0, 2*time.Minute - time.Second}, time.Second, room.ReasonNoUser},
		{"empty past its grace", room.Settings{ExpireWhenLastUserLeft: 3 * time.Minute},
			func(e *env, mt *room.Meeting) []*person {
				p := e.join(mt, "Mona", room.Moderator)
				if err := p.Leave(e.ctx); err != nil {
					e.t.Fatal(err)
				}
				p.rec.take()
				return nil
			},
			[]time.Duration{0, 3*time.Minute - time.Second}, time.Second, room.ReasonEmpty},
		{"empty once the reconnect grace ran out", room.Settings{},
			func(e *env, mt *room.Meeting) []*person {
				p := e.join(mt, "Mona", room.Moderator)
				p.Detach(e.ctx)
				return nil
			},
			// grace 1m removes her, then the empty grace of 1m runs.
			[]time.Duration{0, time.Minute, time.Minute - time.Second}, time.Second, room.ReasonEmpty},
		{"no moderator left", room.Settings{EndWhenNoModerator: true, EndWhenNoModeratorDelay: 2 * time.Minute},
			func(e *env, mt *room.Meeting) []*person {
				mona := e.join(mt, "Mona", room.Moderator)
				vera := e.join(mt, "Vera", room.Viewer)
				if err := mona.Leave(e.ctx); err != nil {
					e.t.Fatal(err)
				}
				return []*person{vera}
			},
			[]time.Duration{0, 2*time.Minute - time.Second}, time.Second, room.ReasonNoModerator},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			c.s.LogoutURL = "https://lms.example/course/7"
			mt := e.create(c.s)
			if _, err := e.files.Put(mt.Key, "slides.pdf", []byte("%PDF")); err != nil {
				t.Fatal(err)
			}
			people := c.setup(e, mt)
			for _, p := range people {
				p.rec.take()
			}
			for i, d := range c.alive {
				e.tick(d)
				if _, err := e.mgr.MeetingByKey(e.ctx, mt.Key); err != nil {
					t.Fatalf("ended too early, at alive step %d (+%v): %v", i, e.clock.Now().Sub(t0), err)
				}
				for _, p := range people {
					if p.rec.count(room.EventEnded) != 0 {
						t.Fatalf("%s told of an end at alive step %d", p.id.Name, i)
					}
				}
			}
			e.tick(c.final)
			wantEnded(t, c.reason, c.s.LogoutURL, people...)
			e.wantWiped(mt)
			if _, err := e.tryJoin(mt, "Late", room.Moderator); !errors.Is(err, room.ErrNotFound) {
				t.Fatalf("join after the end: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestOccupiedRoomLivesOn(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{EndWhenNoModerator: true})
	mona := e.join(mt, "Mona", room.Moderator)
	for range 20 {
		e.tick(10 * time.Minute)
	}
	if _, err := e.mgr.MeetingByKey(e.ctx, mt.Key); err != nil || mona.rec.count(room.EventEnded) != 0 {
		t.Fatalf("a room with its moderator ended: %v", err)
	}
}

func TestEnd(t *testing.T) {
	cases := []struct {
		name   string
		end    func(e *env, mt *room.Meeting, mona, vera *person) error
		reason string
	}{
		{"moderator ends", func(e *env, _ *room.Meeting, mona, _ *person) error { return mona.End(e.ctx) }, room.ReasonModerator},
		{"API end", func(e *env, mt *room.Meeting, _, _ *person) error { return e.mgr.End(e.ctx, mt.Key, room.ReasonAPI) }, room.ReasonAPI},
		{"shutdown", func(e *env, _ *room.Meeting, _, _ *person) error { e.mgr.Shutdown(e.ctx); return nil }, room.ReasonShutdown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			var mu sync.Mutex
			var hooked []string
			e.mgr.OnEnd(func(key string) {
				// Hooks run before the wipe, so they can still read the room.
				_, err := e.mgr.MeetingByKey(e.ctx, key)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					hooked = append(hooked, "gone:"+key)
					return
				}
				hooked = append(hooked, key)
			})
			mt := e.create(room.Settings{LogoutURL: "https://lms.example/bye"})
			other := e.create(room.Settings{MeetingID: "other-course"})
			e.join(other, "Otto", room.Moderator)
			mona := e.join(mt, "Mona", room.Moderator)
			vera := e.join(mt, "Vera", room.Viewer)
			if _, err := vera.Chat(e.ctx, "", "hi"); err != nil {
				t.Fatal(err)
			}
			if err := e.store.PutState(e.ctx, mt.Key, "notes", []byte("secret notes"), time.Hour); err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{"a.pdf", "b.png"} {
				if _, err := e.files.Put(mt.Key, n, []byte(n)); err != nil {
					t.Fatal(err)
				}
			}
			before := slices.Sorted(maps.Keys(e.flushed().Keys()))
			var mine []string
			for _, k := range before {
				if strings.Contains(k, mt.Key) || k == store.KeyPIN(mt.PIN) || k == store.KeyMeetingID(room.KeyOf(mt.MeetingID)) ||
					k == store.KeySession(room.HashToken(mona.tok)) || k == store.KeySession(room.HashToken(vera.tok)) {
					mine = append(mine, k)
				}
			}
			// record, meetingID, owner, participants, chat, sessions index,
			// state, PIN, 2 sessions
			if len(mine) != 10 {
				t.Fatalf("the meeting has keys %v, want 10", mine)
			}
			if err := c.end(e, mt, mona, vera); err != nil {
				t.Fatal(err)
			}
			wantEnded(t, c.reason, "https://lms.example/bye", mona, vera)
			mu.Lock()
			if !slices.Contains(hooked, mt.Key) || slices.Contains(hooked, "gone:"+mt.Key) {
				t.Fatalf("end hooks saw %v, want %s before the wipe", hooked, mt.Key)
			}
			mu.Unlock()
			for _, p := range []*person{mona, vera} {
				if _, err := e.mgr.Session(e.ctx, p.tok); !errors.Is(err, room.ErrNotFound) {
					t.Fatalf("%s's session survives the end: %v", p.id.Name, err)
				}
				if _, err := p.Chat(e.ctx, "", "after"); !errors.Is(err, room.ErrEnded) {
					t.Fatalf("chat after the end: %v, want ErrEnded", err)
				}
			}
			if _, err := e.mgr.MeetingByPIN(e.ctx, mt.PIN); !errors.Is(err, room.ErrNotFound) {
				t.Fatalf("PIN of an ended meeting: %v", err)
			}
			if err := e.mgr.End(e.ctx, mt.Key, room.ReasonAPI); !errors.Is(err, room.ErrNotFound) {
				t.Fatalf("ending twice: %v, want ErrNotFound", err)
			}
			if names, _ := e.files.List(mt.Key); len(names) != 0 {
				t.Fatalf("files remain: %v", names)
			}
			keys := slices.Sorted(maps.Keys(e.flushed().Keys()))
			if c.reason == room.ReasonShutdown {
				if len(keys) != 0 {
					t.Fatalf("keys remain after shutdown: %v", keys)
				}
				return
			}
			var want []string
			for _, k := range before {
				if !slices.Contains(mine, k) {
					want = append(want, k)
				}
			}
			if !slices.Equal(keys, want) {
				t.Fatalf("keys after the end %v, want the other meeting's %v", keys, want)
			}
			// The meetingID and PIN can serve a new meeting.
			again, existed, err := e.mgr.Create(e.ctx, room.Settings{MeetingID: mt.MeetingID, PIN: mt.PIN})
			if err != nil || existed {
				t.Fatalf("re-create after the end: %v, %v", existed, err)
			}
			if again.Running() {
				t.Fatal("re-created meeting inherited the old one's start")
			}
		})
	}
}

func TestTTLRefreshWhileRunning(t *testing.T) {
	c := &clock{now: t0}
	st := store.NewMemory(c.Now)
	const ttl = 9 * time.Minute
	mgr := room.NewManager(room.Config{TTL: ttl, Now: c.Now, Logger: quiet}, st, nil)
	e := &env{t: t, ctx: t.Context(), clock: c, store: st, mgr: mgr}
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	if _, err := mona.Chat(e.ctx, "", "hi"); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		keys := st.Keys()
		if len(keys) < 5 {
			t.Fatalf("%s: only keys %v", when, keys)
		}
		for k, d := range keys {
			if d <= 0 || d > ttl {
				t.Fatalf("%s: key %s has TTL %v, want in (0, %v]", when, k, d, ttl)
			}
		}
	}
	check("at the start")
	// An hour of ticks every 30s: the node keeps its data alive.
	for range 120 {
		e.tick(30 * time.Second)
	}
	check("after an hour")
	if _, err := mgr.MeetingByKey(e.ctx, mt.Key); err != nil {
		t.Fatalf("running meeting lost its record: %v", err)
	}
	// The node dies (no more ticks): the TTL removes everything.
	c.Add(ttl)
	if keys := st.Keys(); len(keys) != 0 {
		t.Fatalf("keys outlive the TTL of a dead node: %v", keys)
	}
}

// TestNoJoinIntoAnEndingMeeting: someone who arrives while the meeting is
// being ended (hooks running, data not yet wiped) must not bring it back.
func TestNoJoinIntoAnEndingMeeting(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	late := room.Identity{ParticipantID: room.NewID(), Name: "Late", Role: room.Moderator, Kind: room.Browser}
	var lateErr error
	e.mgr.OnEnd(func(string) {
		_, lateErr = e.mgr.Attach(e.ctx, mt.Key, late, &recorder{})
	})
	if err := mona.End(e.ctx); err != nil {
		t.Fatal(err)
	}
	if lateErr == nil {
		t.Fatal("a participant attached to a meeting that was ending")
	}
	e.wantWiped(mt)
	if ps, err := e.mgr.Participants(e.ctx, mt.Key); err != nil || len(ps) != 0 {
		t.Fatalf("the ended meeting still has participants %v, %v", ps, err)
	}
	if _, err := e.mgr.Attach(e.ctx, mt.Key, late, &recorder{}); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("attach after the end: %v, want ErrNotFound", err)
	}
}

// racyStore runs beforePut just before a session is written, to place a
// meeting's end between the API join's checks and its write.
type racyStore struct {
	*store.Memory
	beforePut func()
}

func (s *racyStore) PutSession(ctx context.Context, th string, sess *room.Session, ttl time.Duration) error {
	if f := s.beforePut; f != nil {
		s.beforePut = nil
		f()
	}
	return s.Memory.PutSession(ctx, th, sess, ttl)
}

func TestNoSessionOutlivesItsMeeting(t *testing.T) {
	c := &clock{now: t0}
	mem := store.NewMemory(c.Now)
	st := &racyStore{Memory: mem}
	mgr := room.NewManager(room.Config{Now: c.Now, Logger: quiet}, st, nil)
	ctx := t.Context()
	mt, _, err := mgr.Create(ctx, room.Settings{MeetingID: "course-1"})
	if err != nil {
		t.Fatal(err)
	}
	st.beforePut = func() {
		if err := mgr.End(ctx, mt.Key, room.ReasonAPI); err != nil {
			t.Errorf("End: %v", err)
		}
	}
	tok, _, err := mgr.NewSession(ctx, mt.Key, room.Identity{Name: "Late", Role: room.Viewer})
	if !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("join racing the end: %v, want ErrNotFound", err)
	}
	if keys := mem.Keys(); len(keys) != 0 {
		t.Fatalf("keys outlive the meeting: %v", keys)
	}
	if tok != "" {
		t.Fatal("a token was handed out for an ended meeting")
	}
}
