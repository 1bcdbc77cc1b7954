package room_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"aula/room"
	"aula/store"
)

var quiet = slog.New(slog.DiscardHandler)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is the time of the Manager and the memory store alike, so tests
// move both by hand and never sleep.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock on and returns the new time.
func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

type env struct {
	t     *testing.T
	ctx   context.Context
	clock *clock
	store *store.Memory
	files *store.Dir
	mgr   *room.Manager
}

// newEnv returns a Manager over a memory store and an on-disk file store,
// both on a hand-driven clock. The TTL is long so that jumps of the clock
// in end-condition tests never expire the store under a running meeting.
func newEnv(t *testing.T) *env { return newEnvConfig(t, nil) }

// newEnvConfig is newEnv with the Manager's configuration tuned.
func newEnvConfig(t *testing.T, tune func(*room.Config)) *env {
	t.Helper()
	c := &clock{now: t0}
	st := store.NewMemory(c.Now)
	files, err := store.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := room.Config{TTL: 24 * time.Hour, Now: c.Now, Logger: quiet}
	if tune != nil {
		tune(&cfg)
	}
	mgr := room.NewManager(cfg, st, files)
	return &env{t: t, ctx: context.Background(), clock: c, store: st, files: files, mgr: mgr}
}

func (e *env) create(s room.Settings) *room.Meeting {
	e.t.Helper()
	if s.MeetingID == "" {
		s.MeetingID = "course-1"
	}
	mt, existed, err := e.mgr.Create(e.ctx, s)
	if err != nil || existed {
		e.t.Fatalf("Create(%s) = existed %v, %v", s.MeetingID, existed, err)
	}
	return mt
}

// flushed returns the store once every change made so far is written.
func (e *env) flushed() *store.Memory {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	if err := e.mgr.Flush(ctx); err != nil {
		e.t.Fatalf("flush: %v", err)
	}
	return e.store
}

// otherNodeAfterCrash lets this node's leases expire, as when the node
// died, and returns a second node on the same store.
func (e *env) otherNodeAfterCrash() *room.Manager {
	e.t.Helper()
	e.flushed()
	e.clock.Add(time.Minute) // past the lease TTL (30s)
	return room.NewManager(room.Config{TTL: 24 * time.Hour, Now: e.clock.Now, Logger: quiet}, e.store, e.files)
}

// tick moves the clock by d and runs the Manager's timers and heartbeat at
// the new time.
func (e *env) tick(d time.Duration) {
	e.mgr.Tick(e.ctx, e.clock.Add(d))
	e.mgr.Heartbeat(e.ctx)
}

// recorder is a Listener that keeps what it was told.
type recorder struct {
	mu     sync.Mutex
	events []room.Event
}

func (r *recorder) Notify(ev room.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

// take returns the events so far and forgets them.
func (r *recorder) take() []room.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func (r *recorder) count(typ room.EventType) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// about returns the events of type typ concerning participant id.
func (r *recorder) about(typ room.EventType, id string) []room.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []room.Event
	for _, ev := range r.events {
		if ev.Type != typ {
			continue
		}
		if ev.ParticipantID == id || ev.Participant != nil && ev.Participant.ID == id {
			out = append(out, ev)
		}
	}
	return out
}

// person is one joined participant: its handle, what it hears, its identity.
type person struct {
	*room.Member
	rec *recorder
	id  room.Identity
	tok string
}

// join vouches for a person through NewSession (as the API join does) and
// attaches their connection.
func (e *env) join(mt *room.Meeting, name string, role room.Role) *person {
	e.t.Helper()
	p, err := e.tryJoin(mt, name, role)
	if err != nil {
		e.t.Fatalf("join %s: %v", name, err)
	}
	return p
}

func (e *env) tryJoin(mt *room.Meeting, name string, role room.Role) (*person, error) {
	e.t.Helper()
	tok, sess, err := e.mgr.NewSession(e.ctx, mt.Key, room.Identity{Name: name, Role: role, UserID: "uid-" + name})
	if err != nil {
		return nil, err
	}
	return e.attach(mt, sess.Identity, tok)
}

func (e *env) attach(mt *room.Meeting, id room.Identity, tok string) (*person, error) {
	rec := &recorder{}
	m, err := e.mgr.Attach(e.ctx, mt.Key, id, rec)
	if err != nil {
		return nil, err
	}
	return &person{Member: m, rec: rec, id: id, tok: tok}, nil
}

func (e *env) snapshot(p *person) *room.Snapshot {
	e.t.Helper()
	s, err := p.Snapshot(e.ctx)
	if err != nil {
		e.t.Fatalf("Snapshot of %s: %v", p.id.Name, err)
	}
	return s
}

// roster returns the sorted names in p's roster.
func (e *env) roster(p *person) []string {
	e.t.Helper()
	var names []string
	for _, q := range e.snapshot(p).Roster {
		names = append(names, q.Name)
	}
	sort.Strings(names)
	return names
}

func (e *env) wantRoster(p *person, want ...string) {
	e.t.Helper()
	sort.Strings(want)
	if got := e.roster(p); !slices.Equal(got, want) {
		e.t.Fatalf("%s sees roster %q, want %q", p.id.Name, got, want)
	}
}

// noKeys fails unless the store is empty and the meeting's files are gone.
func (e *env) wantWiped(mt *room.Meeting) {
	e.t.Helper()
	if keys := e.flushed().Keys(); len(keys) != 0 {
		e.t.Fatalf("store keys remain after the end: %v", keys)
	}
	if names, err := e.files.List(mt.Key); err != nil || len(names) != 0 {
		e.t.Fatalf("files remain after the end: %v, %v", names, err)
	}
}

// wantEnded checks that every person was told the meeting ended, once,
// with the reason and the logout URL.
func wantEnded(t *testing.T, reason, logoutURL string, ps ...*person) {
	t.Helper()
	for _, p := range ps {
		var ended []room.Event
		for _, ev := range p.rec.take() {
			if ev.Type == room.EventEnded {
				ended = append(ended, ev)
			}
		}
		if len(ended) != 1 || ended[0].Reason != reason || ended[0].LogoutURL != logoutURL {
			t.Fatalf("%s got end events %+v, want one with reason %q and logout %q", p.id.Name, ended, reason, logoutURL)
		}
	}
}

func names(n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}
