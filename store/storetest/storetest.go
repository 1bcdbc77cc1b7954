// Package storetest is the contract every room.Store must meet, run against
// the memory store and a real redis-server alike. It checks behaviour a user
// would notice: meetings found and not found, PINs unique, chat capped in
// order, and above all that every key expires and that ending a meeting
// leaves nothing of it behind.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"aula/internal/testenv"
	"aula/room"
	"aula/store"
)

// Inspector sees a store from below, as an operator with redis-cli would.
type Inspector interface {
	// Keys lists every key under store.Prefix with its remaining TTL
	// (negative: the key never expires).
	Keys(t testing.TB) map[string]time.Duration
	// Dump lists every key under store.Prefix with its value as text.
	Dump(t testing.TB) map[string]string
	// Elapse lets d pass for the store's TTLs. A store with its own clock
	// (memory) moves it; a real server's clock runs by itself, and the
	// suite then polls with a deadline.
	Elapse(t testing.TB, d time.Duration)
}

// TTL is the TTL of ordinary writes in the suite: long enough that nothing
// expires while a case runs.
const TTL = time.Minute

// ShortTTL is the TTL of the writes that the expiry cases watch expire.
const ShortTTL = 300 * time.Millisecond

// expiryDeadline bounds the wait for a real server to expire ShortTTL keys.
const expiryDeadline = 10 * time.Second

// Run runs the contract suite. newStore returns an empty store (no key under
// store.Prefix) and its inspector for each case; it registers its own
// cleanup with t.
func Run(t *testing.T, newStore func(t *testing.T) (room.Store, Inspector)) {
	cases := []struct {
		name string
		f    func(t *testing.T, s room.Store, in Inspector)
	}{
		{"CreateGetUpdateList", testCreateGetUpdateList},
		{"CreateConflictsWriteNothing", testCreateConflicts},
		{"ConcurrentCreatesOneWinner", testConcurrentCreates},
		{"PINLookup", testPINLookup},
		{"Participants", testParticipants},
		{"ChatCapAndOrder", testChat},
		{"Sessions", testSessions},
		{"ConcurrentRedeemsOneWinner", testConcurrentRedeems},
		{"State", testState},
		{"EveryKeyHasTTL", testEveryKeyHasTTL},
		{"TouchRefreshesEveryKey", testTouch},
		{"DeleteMeetingLeavesNothing", testDeleteMeeting},
		{"TTLExpiryRemovesData", testExpiry},
		{"ListPrunesExpired", testListPrunes},
		{"Incarnations", testIncarnations},
		{"RestoreAfterLoss", testRestore},
		{"AppendLogs", testLogs},
		{"Leases", testLeases},
		{"EndRequest", testEndRequest},
		{"ClearChat", testClearChat},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, in := newStore(t)
			if n := len(in.Keys(t)); n != 0 {
				t.Fatalf("new store holds %d keys, want none", n)
			}
			c.f(t, s, in)
		})
	}
}

var baseTime = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// newMeeting returns a meeting as the Manager creates it.
func newMeeting(id, pin string) *room.Meeting {
	return &room.Meeting{
		Settings: room.Settings{
			MeetingID: id, Name: "Course " + id, PIN: pin,
			AttendeePW: "ap", ModeratorPW: "mp",
			Meta:                   map[string]string{"course": "42"},
			ExpireIfNoUserJoined:   5 * time.Minute,
			ExpireWhenLastUserLeft: time.Minute,
		},
		Key:        room.NewKey(),
		CreateTime: baseTime,
	}
}

func create(t *testing.T, s room.Store, id, pin string, ttl time.Duration) *room.Meeting {
	t.Helper()
	m := newMeeting(id, pin)
	if err := s.CreateMeeting(context.Background(), m, ttl); err != nil {
		t.Fatalf("CreateMeeting(%s): %v", id, err)
	}
	return m
}

// filledKeys is how many keys fill leaves for a meeting: record, meetingID,
// PIN, participants, chat, sessions index, 2 sessions, state, logs index,
// one log, lease, end request.
const filledKeys = 13

// fill writes one of every kind of key of a meeting; it returns the token
// hashes of the sessions it stored.
func fill(t *testing.T, s room.Store, m *room.Meeting, ttl time.Duration) []string {
	t.Helper()
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for i := range 2 {
		must("PutParticipant", s.PutParticipant(ctx, m.Key, participant(fmt.Sprintf("p%d-%s", i, m.Key[:6]), i), ttl))
	}
	must("AppendChat", s.AppendChat(ctx, m.Key, chat("c-"+m.Key[:6], "hello"), 10, ttl))
	must("PutState", s.PutState(ctx, m.Key, "poll", []byte(`{"q":"?"}`), ttl))
	for i := range 3 {
		_, err := s.AppendLog(ctx, m.Key, "notes", []byte(fmt.Sprintf("op%d", i)), ttl)
		must("AppendLog", err)
	}
	must("CompactLog", s.CompactLog(ctx, m.Key, "notes", []byte("snap"), 2, ttl))
	_, err := s.AcquireLease(ctx, m.Key, "node-a", ttl)
	must("AcquireLease", err)
	must("RequestEnd", s.RequestEnd(ctx, m.Key, "api", ttl))
	var ths []string
	for i := range 2 {
		th := room.HashToken(fmt.Sprintf("token-%d-%s", i, m.Key))
		must("PutSession", s.PutSession(ctx, th, &room.Session{MeetingKey: m.Key, Slot: "slot", Identity: room.Identity{ParticipantID: "x", Name: "N", Role: room.Viewer}}, ttl))
		ths = append(ths, th)
	}
	return ths
}

func participant(id string, n int) *room.Participant {
	return &room.Participant{
		ID: id, Name: "Person " + id, Role: room.Viewer, Kind: room.Browser,
		JoinedAt: baseTime.Add(time.Duration(n) * time.Second), InRoom: true, Connected: true,
	}
}

func chat(id, text string) *room.ChatMessage {
	return &room.ChatMessage{ID: id, From: "p0", FromName: "Person", Text: text, Time: baseTime}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

// keysOf returns the live keys that belong to meeting m (by key, PIN or
// session token hash).
func keysOf(keys map[string]time.Duration, m *room.Meeting, ths []string) []string {
	var out []string
	for k := range keys {
		mine := strings.Contains(k, m.Key) || k == store.KeyPIN(m.PIN) || k == store.KeyMeetingID(room.KeyOf(m.MeetingID))
		for _, th := range ths {
			mine = mine || k == store.KeySession(th)
		}
		if mine {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, expiryDeadline, what, cond)
}

func testCreateGetUpdateList(t *testing.T, s room.Store, _ Inspector) {
	ctx := context.Background()
	a := create(t, s, "course-a", "11111", TTL)
	got, err := s.GetMeeting(ctx, a.Key)
	if err != nil {
		t.Fatalf("GetMeeting: %v", err)
	}
	if got.MeetingID != a.MeetingID || got.Name != a.Name || got.PIN != a.PIN || got.Key != a.Key ||
		!got.CreateTime.Equal(a.CreateTime) || got.Meta["course"] != "42" || got.ExpireWhenLastUserLeft != time.Minute {
		t.Fatalf("GetMeeting = %+v, want %+v", got, a)
	}
	a.Name, a.StartTime, a.EverJoined = "Renamed", baseTime.Add(time.Minute), true
	if err := s.UpdateMeeting(ctx, a, TTL); err != nil {
		t.Fatalf("UpdateMeeting: %v", err)
	}
	got, err = s.GetMeeting(ctx, a.Key)
	if err != nil || got.Name != "Renamed" || !got.Running() || !got.EverJoined {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	if k, err := s.MeetingKeyByID(ctx, room.KeyOf("course-a")); err != nil || k != a.Key {
		t.Fatalf("MeetingKeyByID = %q, %v; want %q", k, err, a.Key)
	}
	_, err = s.MeetingKeyByID(ctx, room.KeyOf("nope"))
	wantErr(t, "MeetingKeyByID(missing)", err, room.ErrNotFound)
	nope := newMeeting("nope", "99999")
	_, err = s.GetMeeting(ctx, nope.Key)
	wantErr(t, "GetMeeting(missing)", err, room.ErrNotFound)
	err = s.UpdateMeeting(ctx, nope, TTL)
	wantErr(t, "UpdateMeeting(missing)", err, room.ErrNotFound)
	if _, err := s.GetMeeting(ctx, nope.Key); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("UpdateMeeting of a missing meeting created it: %v", err)
	}

	b := create(t, s, "course-b", "22222", TTL)
	list, err := s.ListMeetings(ctx)
	if err != nil {
		t.Fatalf("ListMeetings: %v", err)
	}
	var keys []string
	for _, m := range list {
		keys = append(keys, m.Key)
	}
	sort.Strings(keys)
	want := []string{a.Key, b.Key}
	sort.Strings(want)
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Fatalf("ListMeetings = %v, want %v", keys, want)
	}
}

func testCreateConflicts(t *testing.T, s room.Store, in Inspector) {
	ctx := context.Background()
	a := create(t, s, "course-a", "11111", TTL)
	before := in.Dump(t)
	cases := []struct {
		name string
		m    *room.Meeting
		want error
	}{
		{"same meetingID, other PIN", newMeeting("course-a", "22222"), room.ErrExists},
		{"same meetingID, same PIN", newMeeting("course-a", "11111"), room.ErrExists},
		{"other meetingID, taken PIN", newMeeting("course-b", "11111"), room.ErrPINTaken},
	}
	for _, c := range cases {
		c.m.Name = "Intruder"
		wantErr(t, c.name, s.CreateMeeting(ctx, c.m, TTL), c.want)
		after := in.Dump(t)
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("%s: store changed:\nbefore %v\nafter  %v", c.name, before, after)
		}
	}
	got, err := s.GetMeeting(ctx, a.Key)
	if err != nil || got.Name != a.Name {
		t.Fatalf("original meeting: %+v, %v", got, err)
	}
	_, err = s.MeetingByPIN(ctx, "22222")
	wantErr(t, "PIN of the refused create", err, room.ErrNotFound)
	_, err = s.MeetingKeyByID(ctx, room.KeyOf("course-b"))
	wantErr(t, "meeting of the refused create", err, room.ErrNotFound)
	for _, c := range cases {
		if _, err := s.GetMeeting(ctx, c.m.Key); !errors.Is(err, room.ErrNotFound) {
			t.Fatalf("%s: the refused meeting's record exists: %v", c.name, err)
		}
	}
}

func testPINLookup(t *testing.T, s room.Store, _ Inspector) {
	ctx := context.Background()
	a := create(t, s, "course-a", "11111", TTL)
	b := create(t, s, "course-b", "22222", TTL)
	for _, c := range []struct{ pin, want string }{{"11111", a.Key}, {"22222", b.Key}} {
		got, err := s.MeetingByPIN(ctx, c.pin)
		if err != nil || got != c.want {
			t.Fatalf("MeetingByPIN(%s) = %q, %v; want %q", c.pin, got, err, c.want)
		}
	}
	_, err := s.MeetingByPIN(ctx, "33333")
	wantErr(t, "unknown PIN", err, room.ErrNotFound)
	if err := s.DeleteMeeting(ctx, a.Key); err != nil {
		t.Fatal(err)
	}
	_, err = s.MeetingByPIN(ctx, "11111")
	wantErr(t, "PIN of an ended meeting", err, room.ErrNotFound)
	// The freed PIN can serve a new meeting.
	c := create(t, s, "course-c", "11111", TTL)
	if got, err := s.MeetingByPIN(ctx, "11111"); err != nil || got != c.Key {
		t.Fatalf("reused PIN: %q, %v", got, err)
	}
}

func ids(ps []*room.Participant) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return strings.Join(out, ",")
}

func testParticipants(t *testing.T, s room.Store, in Inspector) {
	ctx := context.Background()
	m := create(t, s, "course-a", "11111", TTL)
	ps, err := s.ListParticipants(ctx, m.Key)
	if err != nil || len(ps) != 0 {
		t.Fatalf("empty roster: %v, %v", ps, err)
	}
	// Stored out of order: listed by JoinedAt.
	for _, n := range []int{2, 0, 1} {
		if err := s.PutParticipant(ctx, m.Key, participant(fmt.Sprintf("p%d", n), n), TTL); err != nil {
			t.Fatal(err)
		}
	}
	ps, err = s.ListParticipants(ctx, m.Key)
	if err != nil || ids(ps) != "p0,p1,p2" {
		t.Fatalf("roster = %s, %v; want p0,p1,p2", ids(ps), err)
	}
	p1 := participant("p1", 1)
	p1.RaisedHand, p1.Role = true, room.Moderator
	if err := s.PutParticipant(ctx, m.Key, p1, TTL); err != nil {
		t.Fatal(err)
	}
	ps, _ = s.ListParticipants(ctx, m.Key)
	if len(ps) != 3 || !ps[1].RaisedHand || ps[1].Role != room.Moderator {
		t.Fatalf("update did not replace: %+v", ps)
	}
	if err := s.DeleteParticipant(ctx, m.Key, "p0"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteParticipant(ctx, m.Key, "nobody"); err != nil {
		t.Fatalf("deleting a missing participant: %v", err)
	}
	ps, _ = s.ListParticipants(ctx, m.Key)
	if ids(ps) != "p1,p2" {
		t.Fatalf("after delete: %s", ids(ps))
	}
	for _, id := range []string{"p1", "p2"} {
		if err := s.DeleteParticipant(ctx, m.Key, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := in.Keys(t)[store.KeyParticipants(m.Key)]; ok {
		t.Fatal("an empty roster left its key behind")
	}
}

func testChat(t *testing.T, s room.Store, _ Inspector) {
	ctx := context.Background()
	m := create(t, s, "course-a", "11111", TTL)
	for i := range 5 {
		if err := s.AppendChat(ctx, m.Key, chat(fmt.Sprint(i), fmt.Sprintf("line %d", i)), 3, TTL); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListChat(ctx, m.Key)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, c := range got {
		texts = append(texts, c.Text)
	}
	if strings.Join(texts, "|") != "line 2|line 3|line 4" {
		t.Fatalf("chat = %q, want the newest 3 oldest first", texts)
	}
	if got[0].FromName != "Person" || !got[0].Time.Equal(baseTime) {
		t.Fatalf("chat line lost fields: %+v", got[0])
	}
	other, err := s.ListChat(ctx, room.NewKey())
	if err != nil || len(other) != 0 {
		t.Fatalf("chat of another meeting: %v, %v", other, err)
	}
}

func testSessions(t *testing.T, s room.Store, _ Inspector) {
	ctx := context.Background()
	m := create(t, s, "course-a", "11111", TTL)
	th := room.HashToken("secret-token")
	sess := &room.Session{MeetingKey: m.Key, Slot: "s1", Identity: room.Identity{ParticipantID: "p1", Name: "Ada", Role: room.Moderator, Kind: room.Browser, CustomData: map[string]string{"course": "7"}}}
	if err := s.PutSession(ctx, th, sess, TTL); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSession(ctx, th)
	if err != nil || got.MeetingKey != m.Key || got.Slot != "s1" || !reflect.DeepEqual(got.Identity, sess.Identity) {
		t.Fatalf("GetSession = %+v, %v", got, err)
	}
	_, err = s.GetSession(ctx, room.HashToken("other"))
	wantErr(t, "unknown session", err, room.ErrNotFound)
	if err := s.DeleteSession(ctx, th); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetSession(ctx, th)
	wantErr(t, "deleted session", err, room.ErrNotFound)
	if err := s.DeleteSession(ctx, th); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

// testConcurrentRedeems: a one-time join session taken by many callers at
// once goes to exactly one of them and is gone afterwards; a redeemed
// session is returned to everyone and kept.
func testConcurrentRedeems(t *testing.T, s room.Store, _ Inspector) {
	ctx := context.Background()
	m := create(t, s, "course-a", "11111", TTL)
	for round := range 5 {
		th := room.HashToken(fmt.Sprintf("join-link-%d", round))
		sess := &room.Session{MeetingKey: m.Key, Slot: "s", Identity: room.Identity{ParticipantID: "p", Name: "Ada", Role: room.Viewer}}
		if err := s.PutSession(ctx, th, sess, TTL); err != nil {
			t.Fatal(err)
		}
		const n = 20
		var mu sync.Mutex
		var wg sync.WaitGroup
		unused, notFound := 0, 0
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := s.TakeJoinSession(ctx, th)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && !got.Used && got.Identity.Name == "Ada":
					unused++
				case errors.Is(err, room.ErrNotFound):
					notFound++
				default:
					t.Errorf("TakeJoinSession = %+v, %v", got, err)
				}
			}()
		}
		wg.Wait()
		if unused != 1 || notFound != n-1 {
			t.Fatalf("round %d: %d callers got the session, %d found none; want 1 and %d", round, unused, notFound, n-1)
		}
		if _, err := s.GetSession(ctx, th); !errors.Is(err, room.ErrNotFound) {
			t.Fatalf("round %d: the taken session is still there: %v", round, err)
		}
	}
	used := room.HashToken("cookie")
	if err := s.PutSession(ctx, used, &room.Session{MeetingKey: m.Key, Slot: "s", Used: true}, TTL); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got, err := s.TakeJoinSession(ctx, used); err != nil || !got.Used {
			t.Fatalf("redeemed session: %+v, %v", got, err)
		}
	}
	if _, err := s.GetSession(ctx, used); err != nil {
		t.Fatalf("a redeemed session was deleted by TakeJoinSession: %v", err)
	}
}

func testState(t *testing.T, s room.Store, _ Inspector) {
	ctx := context.Background()
	m := create(t, s, "course-a", "11111", TTL)
	_, err := s.GetState(ctx, m.Key, "poll")
	wantErr(t, "state never written", err, room.ErrNotFound)
	for _, v := range []string{"v1", "v2"} {
		if err := s.PutState(ctx, m.Key, "poll", []byte(v), TTL); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutState(ctx, m.Key, "notes", []byte("text"), TTL); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, want string }{{"poll", "v2"}, {"notes", "text"}} {
		got, err := s.GetState(ctx, m.Key, c.name)
		if err != nil || string(got) != c.want {
			t.Fatalf("GetState(%s) = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	_, err = s.GetState(ctx, m.Key, "whiteboard")
	wantErr(t, "other state name", err, room.ErrNotFound)
	_, err = s.GetState(ctx, room.NewKey(), "poll")
	wantErr(t, "state of another meeting", err, room.ErrNotFound)
}

// checkTTLs fails if any key has no TTL or one longer than max.
func checkTTLs(t *testing.T, in Inspector, after string, max time.Duration) {
	t.Helper()
	keys := in.Keys(t)
	if len(keys) == 0 {
		t.Fatalf("after %s: no keys at all", after)
	}
	for k, d := range keys {
		if !strings.HasPrefix(k, store.Prefix) {
			t.Fatalf("after %s: key %q outside the prefix", after, k)
		}
		if d <= 0 || d > max {
			t.Fatalf("after %s: key %s has TTL %v, want in (0, %v]", after, k, d, max)
		}
	}
}

func testEveryKeyHasTTL(t *testing.T, s room.Store, in Inspector) {
	ctx := context.Background()
	m := newMeeting("course-a", "11111")
	second := newMeeting("course-b", "22222")
	th := room.HashToken("tok")
	writes := []struct {
		name string
		f    func() error
	}{
		{"CreateMeeting", func() error { return s.CreateMeeting(ctx, m, TTL) }},
		{"UpdateMeeting", func() error { m.EverJoined = true; return s.UpdateMeeting(ctx, m, TTL) }},
		{"PutParticipant", func() error { return s.PutParticipant(ctx, m.Key, participant("p1", 1), TTL) }},
		{"PutParticipant again", func() error { return s.PutParticipant(ctx, m.Key, participant("p2", 2), TTL) }},
		{"DeleteParticipant", func() error { return s.DeleteParticipant(ctx, m.Key, "p1") }},
		{"AppendChat", func() error { return s.AppendChat(ctx, m.Key, chat("c1", "hi"), 2, TTL) }},
		{"AppendChat past the cap", func() error {
			for i := range 3 {
				if err := s.AppendChat(ctx, m.Key, chat(fmt.Sprint(i), "x"), 2, TTL); err != nil {
					return err
				}
			}
			return nil
		}},
		{"PutSession", func() error {
			return s.PutSession(ctx, th, &room.Session{MeetingKey: m.Key, Identity: room.Identity{ParticipantID: "p2", Role: room.Viewer}}, TTL)
		}},
		{"PutSession again", func() error {
			return s.PutSession(ctx, room.HashToken("tok2"), &room.Session{MeetingKey: m.Key, Used: true}, TTL)
		}},
		{"DeleteSession", func() error { return s.DeleteSession(ctx, th) }},
		{"PutState", func() error { return s.PutState(ctx, m.Key, "poll", []byte("{}"), TTL) }},
		{"AppendLog", func() error { _, err := s.AppendLog(ctx, m.Key, "notes", []byte("op1"), TTL); return err }},
		{"CompactLog", func() error { return s.CompactLog(ctx, m.Key, "notes", []byte("snap"), 1, TTL) }},
		{"AppendLog after compaction", func() error { _, err := s.AppendLog(ctx, m.Key, "notes", []byte("op2"), TTL); return err }},
		{"AcquireLease", func() error { _, err := s.AcquireLease(ctx, m.Key, "node-a", TTL/2); return err }},
		{"RequestEnd", func() error { return s.RequestEnd(ctx, m.Key, "api", TTL) }},
		{"ClearChat", func() error { return s.ClearChat(ctx, m.Key) }},
		{"RestoreMeeting", func() error { return s.RestoreMeeting(ctx, m, TTL) }},
		{"second meeting", func() error { return s.CreateMeeting(ctx, second, TTL) }},
		{"Touch", func() error { return s.Touch(ctx, m.Key, TTL) }},
		{"ListMeetings", func() error { _, err := s.ListMeetings(ctx); return err }},
		{"DeleteMeeting of the second", func() error { return s.DeleteMeeting(ctx, second.Key) }},
	}
	for _, w := range writes {
		if err := w.f(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		checkTTLs(t, in, w.name, TTL)
	}
	// Keys name meetings only by their internal key: no meetingID, no name.
	for k := range in.Keys(t) {
		if strings.Contains(k, "course-") || strings.Contains(k, "Person") {
			t.Fatalf("key %q reveals a platform ID or name", k)
		}
	}
}

func testTouch(t *testing.T, s room.Store, in Inspector) {
	ctx := context.Background()
	m := create(t, s, "course-a", "11111", TTL)
	ths := fill(t, s, m, TTL)
	const long = 10 * TTL
	if err := s.Touch(ctx, m.Key, long); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	keys := in.Keys(t)
	mine := keysOf(keys, m, ths)
	if len(mine) != filledKeys {
		t.Fatalf("meeting has keys %v, want %d", mine, filledKeys)
	}
	for _, k := range append(mine, store.KeyMeetings) {
		d := keys[k]
		if k == store.KeyLease(m.Key) {
			// The lease keeps its own TTL: only renewing extends it.
			if d > TTL {
				t.Fatalf("after Touch: the lease has TTL %v, want its own (≤ %v)", d, TTL)
			}
			continue
		}
		if d <= TTL || d > long {
			t.Fatalf("after Touch: %s has TTL %v, want in (%v, %v]", k, d, TTL, long)
		}
	}
	wantErr(t, "Touch(missing)", s.Touch(ctx, room.NewKey(), long), room.ErrNotFound)
}

func testDeleteMeeting(t *testing.T, s room.Store, in Inspector) {
	ctx := context.Background()
	a := create(t, s, "course-a", "11111", TTL)
	aths := fill(t, s, a, TTL)
	b := create(t, s, "course-b", "22222", TTL)
	bths := fill(t, s, b, TTL)
	beforeB := keysOf(in.Keys(t), b, bths)
	if len(beforeB) != filledKeys {
		t.Fatalf("meeting b has keys %v, want %d", beforeB, filledKeys)
	}
	if err := s.DeleteMeeting(ctx, a.Key); err != nil {
		t.Fatalf("DeleteMeeting: %v", err)
	}
	keys := in.Keys(t)
	if left := keysOf(keys, a, aths); len(left) != 0 {
		t.Fatalf("keys of the deleted meeting remain: %v", left)
	}
	for k, v := range in.Dump(t) {
		if strings.Contains(v, a.Key) {
			t.Fatalf("key %s still mentions the deleted meeting: %q", k, v)
		}
	}
	if afterB := keysOf(keys, b, bths); strings.Join(afterB, ",") != strings.Join(beforeB, ",") {
		t.Fatalf("the other meeting's keys changed: %v, want %v", afterB, beforeB)
	}
	if err := s.DeleteMeeting(ctx, a.Key); err != nil {
		t.Fatalf("deleting a deleted meeting: %v", err)
	}
	if err := s.DeleteMeeting(ctx, b.Key); err != nil {
		t.Fatal(err)
	}
	if keys := in.Keys(t); len(keys) != 0 {
		t.Fatalf("after deleting every meeting, keys remain: %v", keys)
	}
}

func testExpiry(t *testing.T, s room.Store, in Inspector) {
	ctx := context.Background()
	m := create(t, s, "course-a", "11111", ShortTTL)
	ths := fill(t, s, m, ShortTTL)
	in.Elapse(t, ShortTTL)
	waitFor(t, "every key expired", func() bool { return len(in.Keys(t)) == 0 })
	_, err := s.GetMeeting(ctx, m.Key)
	wantErr(t, "expired meeting", err, room.ErrNotFound)
	_, err = s.MeetingByPIN(ctx, m.PIN)
	wantErr(t, "expired PIN", err, room.ErrNotFound)
	_, err = s.GetSession(ctx, ths[0])
	wantErr(t, "expired session", err, room.ErrNotFound)
	_, err = s.GetState(ctx, m.Key, "poll")
	wantErr(t, "expired state", err, room.ErrNotFound)
	if ps, err := s.ListParticipants(ctx, m.Key); err != nil || len(ps) != 0 {
		t.Fatalf("expired roster: %v, %v", ps, err)
	}
	if cs, err := s.ListChat(ctx, m.Key); err != nil || len(cs) != 0 {
		t.Fatalf("expired chat: %v, %v", cs, err)
	}
	if ms, err := s.ListMeetings(ctx); err != nil || len(ms) != 0 {
		t.Fatalf("expired meeting listed: %v, %v", ms, err)
	}
}

func testListPrunes(t *testing.T, s room.Store, in Inspector) {
	ctx := context.Background()
	long := create(t, s, "course-long", "22222", TTL)
	short := create(t, s, "course-short", "11111", ShortTTL)
	in.Elapse(t, ShortTTL)
	waitFor(t, "short meeting expired", func() bool {
		_, err := s.GetMeeting(ctx, short.Key)
		return errors.Is(err, room.ErrNotFound)
	})
	list, err := s.ListMeetings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Key != long.Key {
		t.Fatalf("ListMeetings = %v, want only the unexpired meeting", list)
	}
	if strings.Contains(in.Dump(t)[store.KeyMeetings], short.Key) {
		t.Fatal("the index still lists the expired meeting")
	}
}

// testConcurrentCreates races creates as several nodes would: one winner
// per meetingID and per PIN, and the losers leave no reservation behind.
func testConcurrentCreates(t *testing.T, s room.Store, in Inspector) {
	ctx := context.Background()
	const n = 16
	race := func(mk func(i int) *room.Meeting) (winners []*room.Meeting, errs []error) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m := mk(i)
				err := s.CreateMeeting(ctx, m, TTL)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					winners = append(winners, m)
				} else {
					errs = append(errs, err)
				}
			}()
		}
		wg.Wait()
		return winners, errs
	}
	for round := range 5 {
		// Same meetingID, each with its own PIN.
		id := fmt.Sprintf("race-%d", round)
		winners, errs := race(func(i int) *room.Meeting { return newMeeting(id, fmt.Sprintf("%05d", 10000+round*100+i)) })
		if len(winners) != 1 {
			t.Fatalf("round %d: %d creates of one meetingID won", round, len(winners))
		}
		for _, err := range errs {
			wantErr(t, "losing create", err, room.ErrExists)
		}
		pins := 0
		for k := range in.Keys(t) {
			if strings.HasPrefix(k, store.KeyPIN("")) {
				pins++
			}
		}
		if pins != 1 {
			t.Fatalf("round %d: %d PINs reserved for one meeting", round, pins)
		}
		// Different meetingIDs, one PIN.
		pin := fmt.Sprintf("%05d", 20000+round)
		winners, errs = race(func(i int) *room.Meeting { return newMeeting(fmt.Sprintf("pin-%d-%d", round, i), pin) })
		if len(winners) != 1 {
			t.Fatalf("round %d: %d creates with one PIN won", round, len(winners))
		}
		for _, err := range errs {
			wantErr(t, "losing create", err, room.ErrPINTaken)
		}
		list, err := s.ListMeetings(ctx)
		if err != nil || len(list) != 2 {
			t.Fatalf("round %d: %d meetings listed (%v), want 2", round, len(list), err)
		}
		for _, m := range list {
			if err := s.DeleteMeeting(ctx, m.Key); err != nil {
				t.Fatal(err)
			}
		}
		if keys := in.Keys(t); len(keys) != 0 {
			t.Fatalf("round %d: keys left %v", round, keys)
		}
	}
}
