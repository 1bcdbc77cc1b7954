package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aula/room"
)

// TestTwoNodesOneOwner: two Managers on one store (two nodes sharing
// Redis). The node that created a meeting owns it: only it runs and ticks
// it; the other answers the API from the store and passes an API end on
// to the owner. When the owner stops renewing its lease (it died), the
// other adopts the meeting and, once nobody came back, ends and wipes it
// once.
func TestTwoNodesOneOwner(t *testing.T) {
	bothStores(t, func(t *testing.T, st room.Store, _ func()) {
		ctx := context.Background()
		var ended atomic.Int32
		newNode := func(id string) *room.Manager {
			m := room.NewManager(room.Config{NodeID: id, LeaseTTL: 300 * time.Millisecond, TTL: time.Minute,
				ReconnectGrace: time.Second, Logger: quietLog()}, st, nil)
			m.OnEnded(func(room.Meeting, string) { ended.Add(1) })
			return m
		}
		a, b := newNode("node-a"), newNode("node-b")
		mt, _, err := a.Create(ctx, room.Settings{MeetingID: "shared", Name: "Shared", AttendeePW: "ap", ModeratorPW: "mp",
			ExpireWhenLastUserLeft: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		_, sess, err := a.NewSession(ctx, mt.Key, room.Identity{Name: "Mona", Role: room.Moderator})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Attach(ctx, mt.Key, sess.Identity, room.ListenerFunc(func(room.Event) {})); err != nil {
			t.Fatal(err)
		}
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}

		// B answers from the store and does not take the meeting.
		got, err := b.Meeting(ctx, "shared")
		if err != nil || got.Key != mt.Key || !got.Running() {
			t.Fatalf("B's view of A's meeting: %+v, %v", got, err)
		}
		if ps, err := b.Participants(ctx, mt.Key); err != nil || len(ps) != 1 {
			t.Fatalf("B's view of the roster: %v, %v", ps, err)
		}
		if _, err := b.Attach(ctx, mt.Key, sess.Identity, room.ListenerFunc(func(room.Event) {})); !errors.Is(err, room.ErrElsewhere) {
			t.Fatalf("attach on the node that does not own it: %v", err)
		}
		if again, existed, err := b.Create(ctx, room.Settings{MeetingID: "shared", Name: "Shared"}); err != nil || !existed || again.Key != mt.Key {
			t.Fatalf("create on B of A's meeting: %+v existed %v, %v", again, existed, err)
		}
		// Both tick far past every timer: only the owner's ticks count,
		// and the owner keeps the meeting (a moderator is in it).
		for range 3 {
			a.Tick(ctx, time.Now().Add(10*time.Second))
			b.Tick(ctx, time.Now().Add(10*time.Second))
			a.Heartbeat(ctx)
			b.Heartbeat(ctx)
			b.Scan(ctx)
		}
		if owner, _ := st.LeaseOwner(ctx, mt.Key); owner != "node-a" {
			t.Fatalf("owner %q, want node-a", owner)
		}

		// A dies: no more heartbeats. B's scan adopts the meeting once the
		// lease expired; the moderator never reconnects, so B's timers
		// end it after the grace and the empty-room delay.
		deadline := time.Now().Add(10 * time.Second)
		for {
			b.Scan(ctx)
			if owner, _ := st.LeaseOwner(ctx, mt.Key); owner == "node-b" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("B never adopted the orphaned meeting")
			}
			time.Sleep(50 * time.Millisecond)
		}
		now := time.Now()
		b.Tick(ctx, now.Add(2*time.Second)) // reconnect grace over: Mona leaves
		b.Tick(ctx, now.Add(2*time.Minute)) // empty for a minute: the end
		b.Tick(ctx, now.Add(3*time.Minute)) // nothing ends twice
		if n := ended.Load(); n != 1 {
			t.Fatalf("the meeting ended %d times, want once", n)
		}
		if keys := keysOf(t, st); len(keys) != 0 {
			t.Fatalf("keys after the end: %v", keys)
		}
	})
}

// TestEndThroughAnotherNode: the API end reaches B, which does not own
// the meeting: the owner A ends it at its next heartbeat, for everyone.
func TestEndThroughAnotherNode(t *testing.T) {
	bothStores(t, func(t *testing.T, st room.Store, _ func()) {
		ctx := context.Background()
		a := room.NewManager(room.Config{NodeID: "node-a", Logger: quietLog()}, st, nil)
		b := room.NewManager(room.Config{NodeID: "node-b", Logger: quietLog()}, st, nil)
		mt, _, err := a.Create(ctx, room.Settings{MeetingID: "ends-via-b", Name: "E", AttendeePW: "ap", ModeratorPW: "mp"})
		if err != nil {
			t.Fatal(err)
		}
		_, sess, _ := a.NewSession(ctx, mt.Key, room.Identity{Name: "Mona", Role: room.Moderator})
		var mu sync.Mutex
		var reason string
		if _, err := a.Attach(ctx, mt.Key, sess.Identity, room.ListenerFunc(func(e room.Event) {
			if e.Type == room.EventEnded {
				mu.Lock()
				reason = e.Reason
				mu.Unlock()
			}
		})); err != nil {
			t.Fatal(err)
		}
		if err := b.End(ctx, mt.Key, room.ReasonAPI); err != nil {
			t.Fatalf("end through B: %v", err)
		}
		a.Heartbeat(ctx)
		mu.Lock()
		defer mu.Unlock()
		if reason != room.ReasonAPI {
			t.Fatalf("the participant heard end reason %q", reason)
		}
		if _, err := b.Meeting(ctx, "ends-via-b"); !errors.Is(err, room.ErrNotFound) {
			t.Fatalf("after the end: %v", err)
		}
		if keys := keysOf(t, st); len(keys) != 0 {
			t.Fatalf("keys after the end: %v", keys)
		}
	})
}
