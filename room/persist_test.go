package room_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"aula/room"
	"aula/store"
)

// gatedStore is a memory store whose writes of meeting state wait at a
// gate the test opens (a Redis that hangs), or fail while broken (a Redis
// that is down). Reads and session writes (the API's path) pass.
type gatedStore struct {
	*store.Memory
	mu     sync.Mutex
	closed chan struct{} // nil: open
	broken bool
	// order records the chat lines in the order they reached the store.
	order []string
}

func (g *gatedStore) close() {
	g.mu.Lock()
	g.closed = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedStore) open() {
	g.mu.Lock()
	if g.closed != nil {
		close(g.closed)
		g.closed = nil
	}
	g.mu.Unlock()
}

func (g *gatedStore) setBroken(b bool) {
	g.mu.Lock()
	g.broken = b
	g.mu.Unlock()
}

var errDown = errors.New("store down")

func (g *gatedStore) gate(ctx context.Context) error {
	g.mu.Lock()
	ch, broken := g.closed, g.broken
	g.mu.Unlock()
	if broken {
		return errDown
	}
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (g *gatedStore) PutParticipant(ctx context.Context, mk string, p *room.Participant, ttl time.Duration) error {
	if err := g.gate(ctx); err != nil {
		return err
	}
	return g.Memory.PutParticipant(ctx, mk, p, ttl)
}

func (g *gatedStore) DeleteParticipant(ctx context.Context, mk, id string) error {
	if err := g.gate(ctx); err != nil {
		return err
	}
	return g.Memory.DeleteParticipant(ctx, mk, id)
}

func (g *gatedStore) AppendChat(ctx context.Context, mk string, m *room.ChatMessage, max int, ttl time.Duration) error {
	if err := g.gate(ctx); err != nil {
		return err
	}
	g.mu.Lock()
	g.order = append(g.order, m.Text)
	g.mu.Unlock()
	return g.Memory.AppendChat(ctx, mk, m, max, ttl)
}

func (g *gatedStore) UpdateMeeting(ctx context.Context, m *room.Meeting, ttl time.Duration) error {
	if err := g.gate(ctx); err != nil {
		return err
	}
	return g.Memory.UpdateMeeting(ctx, m, ttl)
}

func (g *gatedStore) PutState(ctx context.Context, mk, name string, v []byte, ttl time.Duration) error {
	if err := g.gate(ctx); err != nil {
		return err
	}
	return g.Memory.PutState(ctx, mk, name, v, ttl)
}

func newGatedEnv(t *testing.T, tune func(*room.Config)) (*env, *gatedStore) {
	t.Helper()
	c := &clock{now: t0}
	mem := store.NewMemory(c.Now)
	g := &gatedStore{Memory: mem}
	files, err := store.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := room.Config{TTL: 24 * time.Hour, Now: c.Now, Logger: quiet}
	if tune != nil {
		tune(&cfg)
	}
	mgr := room.NewManager(cfg, g, files)
	t.Cleanup(func() {
		g.open()
		g.setBroken(false)
		mgr.Shutdown(context.Background())
	})
	return &env{t: t, ctx: context.Background(), clock: c, store: mem, files: files, mgr: mgr}, g
}

// TestSlowStoreDoesNotStallTheMeeting: while the store hangs on every
// write, chat, hands, joins and leaves still reach everyone at once; when
// it answers again it holds the final state, chat in order.
func TestSlowStoreDoesNotStallTheMeeting(t *testing.T) {
	e, g := newGatedEnv(t, nil)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	e.flushed()
	mona.rec.take()
	vera.rec.take()

	g.close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, line := range []string{"one", "two", "three"} {
			if _, err := vera.Chat(e.ctx, "", line); err != nil {
				t.Errorf("chat while the store hangs: %v", err)
			}
		}
		if err := vera.RaiseHand(e.ctx, true); err != nil {
			t.Errorf("hand: %v", err)
		}
		walt := e.join(mt, "Walt", room.Viewer)
		if err := walt.Leave(e.ctx); err != nil {
			t.Errorf("leave: %v", err)
		}
		tom := e.join(mt, "Tom", room.Viewer)
		_ = tom
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the meeting stalled on a hanging store")
	}
	got := chatTexts(mona.rec.take())
	if !slices.Equal(got, []string{"one", "two", "three"}) {
		t.Fatalf("moderator got chat %q while the store hung", got)
	}
	if len(mona.rec.about(room.EventUpdated, vera.ID())) == 0 && !raised(e.snapshot(mona), vera.ID()) {
		t.Fatal("the raised hand did not reach the moderator")
	}
	e.wantRoster(mona, "Mona", "Tom", "Vera")

	g.open()
	st := e.flushed()
	if !slices.Equal(g.order, []string{"one", "two", "three"}) {
		t.Fatalf("chat reached the store as %q", g.order)
	}
	ps, _ := st.ListParticipants(e.ctx, mt.Key)
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
		if p.Name == "Vera" && !p.RaisedHand {
			t.Fatal("the store lost the raised hand")
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Mona", "Tom", "Vera"}) {
		t.Fatalf("store roster %q", names)
	}
}

func raised(s *room.Snapshot, id string) bool {
	for _, p := range s.Roster {
		if p.ID == id {
			return p.RaisedHand
		}
	}
	return false
}

// TestFailingStoreRefusesClearly: a store that stays down makes the
// meeting refuse changes with ErrUnavailable once its writes failed for
// StoreDownAfter: nothing is half-applied, nobody is told of a change
// that did not happen, no member appears that the store never heard of.
// When the store is back, the meeting goes on.
func TestFailingStoreRefusesClearly(t *testing.T) {
	e, g := newGatedEnv(t, func(c *room.Config) { c.StoreDownAfter = 50 * time.Millisecond })
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	e.flushed()
	mona.rec.take()

	g.setBroken(true)
	// The first change is taken (the store may just blink); its write
	// fails and is retried.
	if _, err := vera.Chat(e.ctx, "", "before the alarm"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := vera.Chat(e.ctx, "", "probe")
		if errors.Is(err, room.ErrUnavailable) {
			break
		}
		if err != nil {
			t.Fatalf("chat on a failing store: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("a store down for long is never reported")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mona.rec.take()
	before := e.roster(mona)
	if err := vera.RaiseHand(e.ctx, true); !errors.Is(err, room.ErrUnavailable) {
		t.Fatalf("hand on a down store: %v", err)
	}
	if _, err := e.tryJoin(mt, "Ghost", room.Viewer); !errors.Is(err, room.ErrUnavailable) {
		t.Fatalf("join on a down store: %v", err)
	}
	if evs := mona.rec.take(); len(evs) != 0 {
		t.Fatalf("refused changes reached others: %+v", evs)
	}
	if after := e.roster(mona); !slices.Equal(after, before) {
		t.Fatalf("roster changed by refused changes: %q → %q", before, after)
	}
	for _, p := range e.snapshot(mona).Roster {
		if p.RaisedHand {
			t.Fatal("a refused hand is up")
		}
	}

	g.setBroken(false)
	st := e.flushed()
	ps, _ := st.ListParticipants(e.ctx, mt.Key)
	if len(ps) != 2 {
		t.Fatalf("store roster after recovery: %d participants (a ghost?)", len(ps))
	}
	if err := vera.RaiseHand(e.ctx, true); err != nil {
		t.Fatalf("hand after recovery: %v", err)
	}
}

// TestStoreFollowsInOrder: many changes in quick succession end in the
// store as the meeting holds them (coalesced writes keep the last value).
func TestStoreFollowsInOrder(t *testing.T) {
	e, _ := newGatedEnv(t, nil)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	for i := range 200 {
		if err := mona.RaiseHand(e.ctx, i%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	ps, _ := e.flushed().ListParticipants(e.ctx, mt.Key)
	if len(ps) != 1 || ps[0].RaisedHand {
		t.Fatalf("stored %+v, want the last state (hand down)", ps)
	}
	if s := e.mgr.PersistStats(); s.Coalesced == 0 || s.Pending != 0 {
		t.Fatalf("stats %+v: expected coalesced writes and nothing pending", s)
	}
}
