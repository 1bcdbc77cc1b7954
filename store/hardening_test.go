package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"aula/room"
	"aula/store"
)

// bothStores runs f on the memory store and on the real redis-server;
// flush makes the store lose every key, as a Redis restarted without
// persistence does.
func bothStores(t *testing.T, f func(t *testing.T, st room.Store, flush func())) {
	t.Run("memory", func(t *testing.T) {
		st := store.NewMemory(nil)
		f(t, st, func() {
			for k := range st.Keys() {
				st.Drop(k)
			}
		})
	})
	t.Run("redis", func(t *testing.T) {
		st, c := newRealRedis(t)
		f(t, st, func() { dropKeys(t, c) })
	})
}

// TestJoinLinkRedeemsOnce: 20 concurrent redeems of one one-time join link
// give exactly one session.
func TestJoinLinkRedeemsOnce(t *testing.T) {
	bothStores(t, func(t *testing.T, st room.Store, _ func()) {
		ctx := context.Background()
		mgr := room.NewManager(room.Config{Logger: quietLog()}, st, nil)
		mt, _, err := mgr.Create(ctx, room.Settings{MeetingID: "race-link", Name: "Race", AttendeePW: "ap", ModeratorPW: "mp"})
		if err != nil {
			t.Fatal(err)
		}
		for round := range 3 {
			tok, _, err := mgr.NewSession(ctx, mt.Key, room.Identity{Name: "Vera", Role: room.Viewer})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			var won []string
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					nt, _, err := mgr.RedeemSession(ctx, tok)
					if err != nil && !errors.Is(err, room.ErrNotFound) {
						t.Errorf("redeem: %v", err)
					}
					if err == nil {
						mu.Lock()
						won = append(won, nt)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if len(won) != 1 {
				t.Fatalf("round %d: %d concurrent redeems of one link got a session, want 1", round, len(won))
			}
			if s, err := mgr.Session(ctx, won[0]); err != nil || !s.Used {
				t.Fatalf("round %d: the one new session: %+v, %v", round, s, err)
			}
		}
	})
}

// TestStoreLosesDataDuringMeeting: the store forgets everything (a Redis
// restarted empty) while a meeting runs on this node. The meeting is no
// zombie: the API still finds it, a re-create is a duplicate instead of a
// replacement, and end reaches every participant and leaves no key.
func TestStoreLosesDataDuringMeeting(t *testing.T) {
	bothStores(t, func(t *testing.T, st room.Store, flush func()) {
		ctx := context.Background()
		mgr := room.NewManager(room.Config{TTL: 10 * time.Minute, Logger: quietLog()}, st, nil)
		set := room.Settings{MeetingID: "lost-data", Name: "Lost", AttendeePW: "ap", ModeratorPW: "mp"}
		mt, _, err := mgr.Create(ctx, set)
		if err != nil {
			t.Fatal(err)
		}
		type person struct {
			m     *room.Member
			mu    sync.Mutex
			ended int
		}
		var people []*person
		for _, who := range []struct {
			name string
			role room.Role
		}{{"Mona", room.Moderator}, {"Vera", room.Viewer}} {
			_, sess, err := mgr.NewSession(ctx, mt.Key, room.Identity{Name: who.name, Role: who.role})
			if err != nil {
				t.Fatal(err)
			}
			p := &person{}
			p.m, err = mgr.Attach(ctx, mt.Key, sess.Identity, room.ListenerFunc(func(e room.Event) {
				if e.Type == room.EventEnded {
					p.mu.Lock()
					p.ended++
					p.mu.Unlock()
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			people = append(people, p)
		}
		if _, err := people[1].m.Chat(ctx, "", "before the loss"); err != nil {
			t.Fatal(err)
		}
		if err := mgr.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		flush()

		got, err := mgr.Meeting(ctx, set.MeetingID)
		if err != nil || got.Key != mt.Key {
			t.Fatalf("the running meeting after the store lost it: %+v, %v", got, err)
		}
		again, existed, err := mgr.Create(ctx, set)
		if err != nil || !existed || !again.CreateTime.Equal(mt.CreateTime) {
			t.Fatalf("re-create of a meeting this node runs: existed %v, %v (a replacement?)", existed, err)
		}
		// The owner's heartbeat notices the loss and writes the meeting
		// back: record, PIN, roster and chat return to the store.
		mgr.Heartbeat(ctx)
		if err := mgr.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if back, err := st.GetMeeting(ctx, mt.Key); err != nil || back.MeetingID != set.MeetingID {
			t.Fatalf("record after the write-back: %+v, %v", back, err)
		}
		if k, err := st.MeetingByPIN(ctx, mt.PIN); err != nil || k != mt.Key {
			t.Fatalf("PIN after the write-back: %q, %v", k, err)
		}
		if ps, err := st.ListParticipants(ctx, mt.Key); err != nil || len(ps) != 2 {
			t.Fatalf("roster after the write-back: %d, %v", len(ps), err)
		}
		if cs, err := st.ListChat(ctx, mt.Key); err != nil || len(cs) != 1 || cs[0].Text != "before the loss" {
			t.Fatalf("chat after the write-back: %v, %v", cs, err)
		}
		if err := mgr.End(ctx, mt.Key, room.ReasonAPI); err != nil {
			t.Fatalf("end: %v", err)
		}
		for i, p := range people {
			p.mu.Lock()
			n := p.ended
			p.mu.Unlock()
			if n != 1 {
				t.Fatalf("participant %d heard the end %d times, want 1", i, n)
			}
			if _, err := p.m.Chat(ctx, "", "still here?"); !errors.Is(err, room.ErrEnded) && !errors.Is(err, room.ErrNotFound) {
				t.Fatalf("participant %d can still chat after the end: %v", i, err)
			}
			p.m.Detach(ctx)
		}
		if _, err := mgr.Meeting(ctx, set.MeetingID); !errors.Is(err, room.ErrNotFound) {
			t.Fatalf("the ended meeting is still found: %v", err)
		}
		if keys := keysOf(t, st); len(keys) != 0 {
			t.Fatalf("keys written after the end: %v", keys)
		}
	})
}

func keysOf(t *testing.T, st room.Store) map[string]time.Duration {
	t.Helper()
	switch s := st.(type) {
	case *store.Memory:
		return s.Keys()
	case *store.Redis:
		k, err := s.Keys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	t.Fatalf("unknown store %T", st)
	return nil
}
