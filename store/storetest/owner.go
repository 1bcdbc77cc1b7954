package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"aula/room"
)

// The contract cases of incarnations, write-back, append logs, leases and
// end requests: what the room layer's persister and ownership rely on.

// testIncarnations: a meetingID created again after its end is a new
// incarnation under a new key, sharing no key with the last one.
func testIncarnations(t *testing.T, s room.Store, in Inspector) {
	ctx := context.Background()
	first := create(t, s, "course-a", "11111", TTL)
	ths := fill(t, s, first, TTL)
	if err := s.DeleteMeeting(ctx, first.Key); err != nil {
		t.Fatal(err)
	}
	second := create(t, s, "course-a", "11111", TTL)
	if second.Key == first.Key {
		t.Fatal("a new incarnation got the old key")
	}
	if k, err := s.MeetingKeyByID(ctx, room.KeyOf("course-a")); err != nil || k != second.Key {
		t.Fatalf("MeetingKeyByID after re-create = %q, %v; want the new key", k, err)
	}
	if left := keysOf(in.Keys(t), first, ths); len(left) != 2 {
		// The meetingID and PIN keys now belong to the second incarnation.
		t.Fatalf("keys of the first incarnation: %v", left)
	}
	for k, v := range in.Dump(t) {
		if strings.Contains(k, first.Key) || strings.Contains(v, first.Key) {
			t.Fatalf("%s still mentions the first incarnation: %q", k, v)
		}
	}
	if ps, _ := s.ListParticipants(ctx, second.Key); len(ps) != 0 {
		t.Fatalf("the new incarnation sees participants %v", ps)
	}
}

// testRestore: after the store lost a meeting, RestoreMeeting writes it
// back, unless its meetingID or PIN went to another meeting meanwhile.
func testRestore(t *testing.T, s room.Store, _ Inspector) {
	ctx := context.Background()
	a := create(t, s, "course-a", "11111", TTL)
	if err := s.DeleteMeeting(ctx, a.Key); err != nil { // the loss
		t.Fatal(err)
	}
	if err := s.RestoreMeeting(ctx, a, TTL); err != nil {
		t.Fatalf("RestoreMeeting: %v", err)
	}
	if k, err := s.MeetingKeyByID(ctx, room.KeyOf("course-a")); err != nil || k != a.Key {
		t.Fatalf("meetingID after restore: %q, %v", k, err)
	}
	if k, err := s.MeetingByPIN(ctx, "11111"); err != nil || k != a.Key {
		t.Fatalf("PIN after restore: %q, %v", k, err)
	}
	if err := s.RestoreMeeting(ctx, a, TTL); err != nil {
		t.Fatalf("RestoreMeeting of a meeting that is there: %v", err)
	}
	if ms, _ := s.ListMeetings(ctx); len(ms) != 1 {
		t.Fatalf("ListMeetings after restore: %d meetings", len(ms))
	}
	// Someone else took the meetingID, then the PIN, while it was gone.
	if err := s.DeleteMeeting(ctx, a.Key); err != nil {
		t.Fatal(err)
	}
	usurper := create(t, s, "course-a", "22222", TTL)
	wantErr(t, "restore over a new incarnation", s.RestoreMeeting(ctx, a, TTL), room.ErrExists)
	if err := s.DeleteMeeting(ctx, usurper.Key); err != nil {
		t.Fatal(err)
	}
	create(t, s, "course-b", "11111", TTL)
	wantErr(t, "restore over a taken PIN", s.RestoreMeeting(ctx, a, TTL), room.ErrPINTaken)
}

// testLogs: an append log keeps entries in order after its snapshot, and
// a compaction swaps the oldest entries for a snapshot in one step.
func testLogs(t *testing.T, s room.Store, _ Inspector) {
	ctx := context.Background()
	m := create(t, s, "course-a", "11111", TTL)
	snap, entries, err := s.ReadLog(ctx, m.Key, "notes")
	if err != nil || snap != nil || len(entries) != 0 {
		t.Fatalf("empty log: %q %q %v", snap, entries, err)
	}
	for i := range 5 {
		n, err := s.AppendLog(ctx, m.Key, "notes", []byte(fmt.Sprint("op", i)), TTL)
		if err != nil || n != i+1 {
			t.Fatalf("AppendLog %d = %d, %v", i, n, err)
		}
	}
	if _, err := s.AppendLog(ctx, m.Key, "strokes", []byte("s0"), TTL); err != nil {
		t.Fatal(err)
	}
	if err := s.CompactLog(ctx, m.Key, "notes", []byte("snap-0-2"), 3, TTL); err != nil {
		t.Fatal(err)
	}
	snap, entries, err = s.ReadLog(ctx, m.Key, "notes")
	if err != nil || string(snap) != "snap-0-2" || fmt.Sprintf("%s", entries) != "[op3 op4]" {
		t.Fatalf("after compaction: %q %s %v", snap, entries, err)
	}
	if err := s.CompactLog(ctx, m.Key, "notes", []byte("snap-all"), -1, TTL); err != nil {
		t.Fatal(err)
	}
	snap, entries, err = s.ReadLog(ctx, m.Key, "notes")
	if err != nil || string(snap) != "snap-all" || len(entries) != 0 {
		t.Fatalf("after a full compaction: %q %s %v", snap, entries, err)
	}
	if _, entries, _ := s.ReadLog(ctx, m.Key, "strokes"); fmt.Sprintf("%s", entries) != "[s0]" {
		t.Fatalf("another log changed: %s", entries)
	}
	if _, entries, _ := s.ReadLog(ctx, room.NewKey(), "notes"); len(entries) != 0 {
		t.Fatalf("log of another meeting: %s", entries)
	}
}

// testLeases: one owner at a time; it renews; others cannot release it;
// an expired lease is free.
func testLeases(t *testing.T, s room.Store, in Inspector) {
	ctx := context.Background()
	m := create(t, s, "course-a", "11111", TTL)
	acquire := func(node string, ttl time.Duration, want bool) {
		t.Helper()
		ok, err := s.AcquireLease(ctx, m.Key, node, ttl)
		if err != nil || ok != want {
			t.Fatalf("AcquireLease(%s) = %v, %v; want %v", node, ok, err, want)
		}
	}
	owner := func(want string) {
		t.Helper()
		if got, err := s.LeaseOwner(ctx, m.Key); err != nil || got != want {
			t.Fatalf("LeaseOwner = %q, %v; want %q", got, err, want)
		}
	}
	owner("")
	acquire("node-a", TTL, true)
	acquire("node-b", TTL, false)
	acquire("node-a", TTL, true) // renewal
	owner("node-a")
	if err := s.ReleaseLease(ctx, m.Key, "node-b"); err != nil {
		t.Fatal(err)
	}
	owner("node-a")
	if err := s.ReleaseLease(ctx, m.Key, "node-a"); err != nil {
		t.Fatal(err)
	}
	owner("")
	acquire("node-b", ShortTTL, true)
	acquire("node-a", TTL, false)
	in.Elapse(t, ShortTTL)
	waitFor(t, "the lease expired", func() bool {
		o, err := s.LeaseOwner(ctx, m.Key)
		return err == nil && o == ""
	})
	acquire("node-a", TTL, true)
	if _, err := s.GetMeeting(ctx, m.Key); err != nil {
		t.Fatalf("the meeting went with its lease: %v", err)
	}
}

// testEndRequest: a request to end reaches the owner through the store,
// only for a meeting that exists.
func testEndRequest(t *testing.T, s room.Store, in Inspector) {
	ctx := context.Background()
	m := create(t, s, "course-a", "11111", TTL)
	if r, err := s.EndRequested(ctx, m.Key); err != nil || r != "" {
		t.Fatalf("EndRequested before = %q, %v", r, err)
	}
	if err := s.RequestEnd(ctx, m.Key, "api", TTL); err != nil {
		t.Fatal(err)
	}
	if r, err := s.EndRequested(ctx, m.Key); err != nil || r != "api" {
		t.Fatalf("EndRequested = %q, %v; want api", r, err)
	}
	if err := s.DeleteMeeting(ctx, m.Key); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RequestEnd of a gone meeting", s.RequestEnd(ctx, m.Key, "api", TTL), room.ErrNotFound)
	if keys := in.Keys(t); len(keys) != 0 {
		t.Fatalf("keys after the end: %v", keys)
	}
}

// testClearChat: ClearChat empties the chat of one meeting only.
func testClearChat(t *testing.T, s room.Store, _ Inspector) {
	ctx := context.Background()
	a := create(t, s, "course-a", "11111", TTL)
	b := create(t, s, "course-b", "22222", TTL)
	for _, m := range []*room.Meeting{a, b} {
		if err := s.AppendChat(ctx, m.Key, chat("c-"+m.Key[:6], "hello"), 10, TTL); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ClearChat(ctx, a.Key); err != nil {
		t.Fatal(err)
	}
	if cs, _ := s.ListChat(ctx, a.Key); len(cs) != 0 {
		t.Fatalf("chat after ClearChat: %v", cs)
	}
	if cs, _ := s.ListChat(ctx, b.Key); len(cs) != 1 {
		t.Fatalf("the other meeting's chat: %v", cs)
	}
}
