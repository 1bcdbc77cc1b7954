package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"aula/room"
	"aula/store"
)

// TestMeetingLifecycleOnStores runs a whole meeting through room.Manager on
// each store: while it runs every key has a TTL, and after the end not one
// key and not one file of it is left.
func TestMeetingLifecycleOnStores(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) room.Store
	}{
		{"memory", func(t *testing.T) room.Store { return store.NewMemory(nil) }},
		{"redis", func(t *testing.T) room.Store { s, _ := newRealRedis(t); return s }},
	}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			ctx := context.Background()
			st := sc.open(t)
			dir, err := store.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			const ttl = 10 * time.Minute
			mgr := room.NewManager(room.Config{TTL: ttl, Logger: quietLog()}, st, dir)
			mt, _, err := mgr.Create(ctx, room.Settings{MeetingID: "lms-course-77", Name: "Biology", AttendeePW: "ap-secret", ModeratorPW: "mp-secret"})
			if err != nil {
				t.Fatal(err)
			}
			var members []*room.Member
			for _, who := range []struct {
				name string
				role room.Role
			}{{"Vera", room.Viewer}, {"Mona", room.Moderator}} {
				tok, _, err := mgr.NewSession(ctx, mt.Key, room.Identity{Name: who.name, Role: who.role, UserID: "user-" + who.name})
				if err != nil {
					t.Fatal(err)
				}
				_, sess, err := mgr.RedeemSession(ctx, tok)
				if err != nil {
					t.Fatal(err)
				}
				m, err := mgr.Attach(ctx, mt.Key, sess.Identity, room.ListenerFunc(func(room.Event) {}))
				if err != nil {
					t.Fatal(err)
				}
				members = append(members, m)
			}
			if _, err := members[0].Chat(ctx, "", "hello"); err != nil {
				t.Fatal(err)
			}
			if _, err := members[0].Chat(ctx, members[1].ID(), "private"); err != nil {
				t.Fatal(err)
			}
			if err := members[0].RaiseHand(ctx, true); err != nil {
				t.Fatal(err)
			}
			if _, err := dir.Put(mt.Key, "slides.pdf", []byte("%PDF")); err != nil {
				t.Fatal(err)
			}
			mgr.Tick(ctx, time.Now().Add(ttl/2))
			mgr.Heartbeat(ctx) // refreshes the TTLs
			if err := mgr.Flush(ctx); err != nil {
				t.Fatal(err)
			}

			keys, err := store.Keys(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) < 7 {
				t.Fatalf("running meeting has only keys %v", keys)
			}
			for k, d := range keys {
				if d <= 0 || d > ttl {
					t.Fatalf("key %s has TTL %v while the meeting runs", k, d)
				}
				if strings.Contains(k, "lms-course-77") {
					t.Fatalf("key %s names the platform's meetingID", k)
				}
			}
			dump, err := store.Dump(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			if len(dump) != len(keys) {
				t.Fatalf("dump has %d keys, inspection %d", len(dump), len(keys))
			}

			if err := members[1].End(ctx); err != nil {
				t.Fatal(err)
			}
			if keys, err := store.Keys(ctx, st); err != nil || len(keys) != 0 {
				t.Fatalf("after the end the store holds %v (%v)", keys, err)
			}
			if names, err := dir.List(mt.Key); err != nil || len(names) != 0 {
				t.Fatalf("after the end files remain: %v, %v", names, err)
			}
		})
	}
}
