package signaling

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"aula/internal/testenv"
	"aula/room"
)

func TestWelcomeShowsRoomButNothingInternal(t *testing.T) {
	e := newEnv(t, nil)
	mod := e.dial(e.join("Maria", room.Moderator))
	raw := <-mod.raw
	var env Envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.Type != TypeWelcome {
		t.Fatalf("first message %s (%v), want welcome", raw, err)
	}
	w := decodeData[Welcome](t, env)
	if w.Lobby || w.Self.Name != "Maria" || w.Self.Role != room.Moderator || !w.Self.Avatar {
		t.Errorf("self = %+v lobby=%v", w.Self, w.Lobby)
	}
	want := MeetingInfo{Name: "Biology 101", PIN: "12345", DialNumber: "+49 30 1234567",
		LogoutURL: "https://lms.example/course/42", Welcome: "Welcome to Biology 101, dial +49 30 1234567 PIN 12345", Running: true}
	got := w.Meeting
	got.StartTime = time.Time{}
	if got != want {
		t.Errorf("meeting = %+v\nwant %+v", got, want)
	}
	if len(w.Roster) != 1 || w.Roster[0].ID != w.Self.ID {
		t.Errorf("roster = %+v", w.Roster)
	}
	for _, secret := range []string{"lms-user-", "lms.example/avatar", "course-42", `"mp"`, `"ap"`, e.mt.Key, "userID", "slot"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("welcome leaks %q: %s", secret, raw)
		}
	}
}

// TestRosterNeverShowsEmailOrInternalIDs: what the platform knows of a
// participant (its userID, often an e-mail address; userdata-*; the
// avatar's address) reaches no client — not the others' roster, join and
// update messages, not the chat, not the participant's own welcome.
func TestRosterNeverShowsEmailOrInternalIDs(t *testing.T) {
	e := newEnv(t, nil)
	mod := e.dial(e.join("Maria", room.Moderator))
	welcomeOfMsg(t, mod)
	tok, sess, err := e.mgr.NewSession(context.Background(), e.mt.Key, room.Identity{
		Name: "Vera", Role: room.Viewer, UserID: "vera.schulz@uni.example",
		AvatarURL:  "https://lms.example/pluginfile/4711/avatar.png",
		CustomData: map[string]string{"bbb_email": "vera@mail.example", "matrikel": "mat-0815"},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.sessions.Store(tok, sess)
	vera := e.dial(tok)
	welcomeOfMsg(t, vera)
	mod.expect(TypeParticipantJoined, nil)
	up := true
	vera.send(TypeHandRaise, "h1", HandRaise{Up: &up})
	vera.send(TypeChatSend, "c1", ChatSend{Text: "Guten Morgen"})
	mod.expect(TypeChatMessage, nil)
	for name, c := range map[string]*client{"moderator": mod, "Vera": vera} {
		c.pending()
		var all [][]byte
		for done := false; !done; {
			select {
			case b := <-c.raw:
				all = append(all, b)
			default:
				done = true
			}
		}
		if len(all) < 3 {
			t.Fatalf("%s received only %d messages", name, len(all))
		}
		for _, b := range all {
			for _, secret := range []string{"vera.schulz", "uni.example", "mail.example", "mat-0815", "pluginfile", "4711", "userID", "customData"} {
				if bytes.Contains(b, []byte(secret)) {
					t.Errorf("%s received %q: %s", name, secret, b)
				}
			}
		}
	}
}

func TestLobbyUntilModeratorArrives(t *testing.T) {
	e := newEnv(t, nil)
	viewer := e.dial(e.join("Vera", room.Viewer))
	raw := <-viewer.raw
	var env Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	w := decodeData[Welcome](t, env)
	if !w.Lobby || len(w.Roster) != 0 || len(w.Chat) != 0 {
		t.Fatalf("viewer before moderator: lobby=%v roster=%v", w.Lobby, w.Roster)
	}
	if bytes.Contains(raw, []byte("12345")) || bytes.Contains(raw, []byte("1234567")) {
		t.Errorf("the lobby must not show the PIN or dial number: %s", raw)
	}
	viewer.send(TypeChatSend, "c1", ChatSend{Text: "hello?"})
	if got := decodeData[Error](t, viewer.expect(TypeError, errorWithRef("c1"))); got.Code != CodeNotInRoom {
		t.Errorf("chat from the lobby: code %q, want %q", got.Code, CodeNotInRoom)
	}

	mod := e.dial(e.join("Maria", room.Moderator))
	mw := welcomeOfMsg(t, mod)
	viewer.expect(TypeLobbyAdmitted, nil)
	vw := welcomeOfMsg(t, viewer)
	if vw.Lobby || vw.Meeting.PIN != "12345" || len(vw.Roster) != 2 {
		t.Errorf("after admission: lobby=%v pin=%q roster=%d", vw.Lobby, vw.Meeting.PIN, len(vw.Roster))
	}
	joined := decodeData[ParticipantMsg](t, mod.expect(TypeParticipantJoined, nil))
	if joined.Participant.Name != "Vera" || joined.Participant.ID == mw.Self.ID {
		t.Errorf("moderator saw %+v join", joined.Participant)
	}
}

// twoInRoom returns a moderator and a viewer, both in the room.
func twoInRoom(t *testing.T, e *env) (mod, viewer *client, modW, viewerW Welcome) {
	t.Helper()
	mod = e.dial(e.join("Maria", room.Moderator))
	modW = welcomeOfMsg(t, mod)
	viewer = e.dial(e.join("Vera", room.Viewer))
	viewerW = welcomeOfMsg(t, viewer)
	mod.expect(TypeParticipantJoined, nil)
	return
}

func TestChat(t *testing.T) {
	e := newEnv(t, nil)
	mod, viewer, modW, viewerW := twoInRoom(t, e)
	third := e.dial(e.join("Tom", room.Viewer))
	welcomeOfMsg(t, third)

	viewer.send(TypeChatSend, "c1", ChatSend{Text: "  Hello all  "})
	viewer.expect(TypeAck, errorWithRef("c1"))
	for _, c := range []*client{mod, viewer, third} {
		m := decodeData[room.ChatMessage](t, c.expect(TypeChatMessage, nil))
		if m.Text != "Hello all" || m.FromName != "Vera" || m.From != viewerW.Self.ID || m.To != "" || m.Time.IsZero() {
			t.Errorf("public chat arrived as %+v", m)
		}
	}

	viewer.send(TypeChatSend, "c2", ChatSend{To: modW.Self.ID, Text: "a private question"})
	for _, c := range []*client{mod, viewer} {
		m := decodeData[room.ChatMessage](t, c.expect(TypeChatMessage, nil))
		if m.Text != "a private question" || m.To != modW.Self.ID || m.FromName != "Vera" {
			t.Errorf("private chat arrived as %+v", m)
		}
	}
	for _, m := range third.pending() {
		if m.Type == TypeChatMessage {
			t.Errorf("a third participant received a private message: %s", m.Data)
		}
	}

	// A late joiner gets the public history only.
	late := e.dial(e.join("Lena", room.Viewer))
	lw := welcomeOfMsg(t, late)
	if len(lw.Chat) != 1 || lw.Chat[0].Text != "Hello all" {
		t.Errorf("late joiner's history: %+v", lw.Chat)
	}

	viewer.send(TypeChatSend, "c3", ChatSend{To: "nobody", Text: "x"})
	if got := decodeData[Error](t, viewer.expect(TypeError, errorWithRef("c3"))); got.Code != CodeNotFound {
		t.Errorf("chat to an unknown id: %q", got.Code)
	}
}

func TestBadInputGetsErrorAndChangesNothing(t *testing.T) {
	e := newEnv(t, nil)
	mod, viewer, _, _ := twoInRoom(t, e)
	tests := []struct {
		name string
		msg  []byte
		ref  string
		code string
	}{
		{"not JSON", []byte(`{"type":"chat.send",`), "", CodeBadRequest},
		{"array", []byte(`[1,2]`), "", CodeBadRequest},
		{"no type", []byte(`{"ref":"r1","data":{}}`), "r1", CodeBadRequest},
		{"unknown type", []byte(`{"type":"rocket.launch","ref":"r2"}`), "r2", CodeUnknownType},
		{"server type", []byte(`{"type":"welcome","ref":"r3"}`), "r3", CodeUnknownType},
		{"missing text", []byte(`{"type":"chat.send","ref":"r4","data":{}}`), "r4", CodeBadRequest},
		{"wrong field type", []byte(`{"type":"chat.send","ref":"r5","data":{"text":5}}`), "r5", CodeBadRequest},
		{"unknown field", []byte(`{"type":"chat.send","ref":"r6","data":{"text":"hi","html":"<b>"}}`), "r6", CodeBadRequest},
		{"data not object", []byte(`{"type":"hand.raise","ref":"r7","data":true}`), "r7", CodeBadRequest},
		{"missing up", []byte(`{"type":"hand.raise","ref":"r8","data":{}}`), "r8", CodeBadRequest},
		{"bad role", []byte(`{"type":"role.set","ref":"r9","data":{"id":"x","role":"ADMIN"}}`), "r9", CodeBadRequest},
		{"blank chat", []byte(`{"type":"chat.send","ref":"r10","data":{"text":"   "}}`), "r10", CodeBadRequest},
		{"too large", []byte(`{"type":"chat.send","ref":"r11","data":{"text":"` + strings.Repeat("x", 2000) + `"}}`), "", CodeTooLarge},
		{"data on ping", []byte(`{"type":"ping","ref":"r12","data":{"x":1}}`), "r12", CodeBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			viewer.sendRaw(tc.msg)
			got := decodeData[Error](t, viewer.expect(TypeError, nil))
			if got.Code != tc.code || got.Ref != tc.ref || got.Message == "" {
				t.Errorf("error = %+v, want code %q ref %q", got, tc.code, tc.ref)
			}
		})
	}
	if err := viewer.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if got := decodeData[Error](t, viewer.expect(TypeError, nil)); got.Code != CodeBadRequest {
		t.Errorf("binary message: %+v", got)
	}

	// Nothing changed: no chat line, same roster, and the room works.
	chat, err := e.store.ListChat(context.Background(), e.mt.Key)
	if err != nil || len(chat) != 0 {
		t.Errorf("chat after bad input: %v %v", chat, err)
	}
	viewer.send(TypeChatSend, "ok", ChatSend{Text: "still here"})
	m := decodeData[room.ChatMessage](t, mod.expect(TypeChatMessage, nil))
	if m.Text != "still here" {
		t.Errorf("room after bad input: %+v", m)
	}
}

func TestHugeMessageClosesOnlyThatConnection(t *testing.T) {
	e := newEnv(t, nil)
	mod, viewer, _, viewerW := twoInRoom(t, e)
	// Beyond 16× the cap the socket is closed (1009), not read to the end.
	viewer.sendRaw(bytes.Repeat([]byte("x"), 20*1024))
	if code := viewer.expectClose(); code != websocket.CloseMessageTooBig && code != -1 {
		t.Errorf("close code %d", code)
	}
	up := decodeData[ParticipantMsg](t, mod.expect(TypeParticipantUpdated, func(m Envelope) bool {
		return decodeData[ParticipantMsg](t, m).Participant.ID == viewerW.Self.ID
	}))
	if up.Participant.Connected {
		t.Errorf("viewer still shown connected")
	}
	mod.ping("alive")
	if _, err := e.mgr.MeetingByKey(context.Background(), e.mt.Key); err != nil {
		t.Errorf("meeting after huge message: %v", err)
	}
}

func TestModeratorOnlyActions(t *testing.T) {
	tests := []struct {
		typ  string
		data func(modID, viewerID string) any
	}{
		{TypeMeetingEnd, func(string, string) any { return nil }},
		{TypeRoleSet, func(m, v string) any { return RoleSet{ID: v, Role: room.Moderator} }},
		{TypeParticipantRemove, func(m, v string) any { return Target{ID: m} }},
		{TypeParticipantMute, func(m, v string) any { return Target{ID: m} }},
		{TypeHandLower, func(m, v string) any { return Target{ID: m} }},
	}
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			e := newEnv(t, nil)
			mod, viewer, modW, viewerW := twoInRoom(t, e)
			before, _ := e.mgr.Participants(context.Background(), e.mt.Key)
			viewer.send(tc.typ, "x", tc.data(modW.Self.ID, viewerW.Self.ID))
			if got := decodeData[Error](t, viewer.expect(TypeError, errorWithRef("x"))); got.Code != CodeForbidden {
				t.Fatalf("viewer %s: code %q, want forbidden", tc.typ, got.Code)
			}
			after, err := e.mgr.Participants(context.Background(), e.mt.Key)
			if err != nil || len(after) != len(before) {
				t.Fatalf("participants changed: %v %v", after, err)
			}
			for i := range after {
				if after[i].Role != before[i].Role || after[i].Muted != before[i].Muted || after[i].RaisedHand != before[i].RaisedHand {
					t.Errorf("participant changed: %+v → %+v", before[i], after[i])
				}
			}
			viewer.ping("p")
			for _, m := range mod.pending() {
				if m.Type == TypeMeetingEnded || m.Type == TypeParticipantUpdated {
					t.Errorf("moderator got %s after a refused action", m.Type)
				}
			}
		})
	}
}

func TestModeratorActions(t *testing.T) {
	e := newEnv(t, nil)
	mod, viewer, _, viewerW := twoInRoom(t, e)
	vid := viewerW.Self.ID
	viewerIs := func(f func(room.Public) bool) func(Envelope) bool {
		return func(m Envelope) bool {
			p := decodeData[ParticipantMsg](t, m).Participant
			return p.ID == vid && f(p)
		}
	}
	handUp := viewerIs(func(p room.Public) bool { return p.RaisedHand })
	handDown := viewerIs(func(p room.Public) bool { return !p.RaisedHand })

	viewer.send(TypeHandRaise, "h1", HandRaise{Up: ptr(true)})
	mod.expect(TypeParticipantUpdated, handUp)
	viewer.expect(TypeParticipantUpdated, handUp)
	mod.send(TypeHandLower, "h2", Target{ID: vid})
	mod.expect(TypeAck, errorWithRef("h2"))
	mod.expect(TypeParticipantUpdated, handDown)
	viewer.expect(TypeParticipantUpdated, handDown)

	mod.send(TypeRoleSet, "r1", RoleSet{ID: vid, Role: room.Moderator})
	mod.expect(TypeParticipantUpdated, viewerIs(func(p room.Public) bool { return p.Role == room.Moderator }))
	// The promoted participant gets a fresh welcome with the new role.
	if w := welcomeOfMsg(t, viewer); w.Self.Role != room.Moderator {
		t.Errorf("promoted participant's welcome: %+v", w.Self)
	}

	mod.send(TypeRoleSet, "r2", RoleSet{ID: vid, Role: room.Viewer})
	mod.expect(TypeAck, errorWithRef("r2"))
	mod.send(TypeParticipantRemove, "rm", Target{ID: vid})
	mod.expect(TypeAck, errorWithRef("rm"))
	viewer.expect(TypeRemoved, nil)
	if code := viewer.expectClose(); code != CloseRemoved {
		t.Errorf("removed: close code %d, want %d", code, CloseRemoved)
	}
	if left := decodeData[Target](t, mod.expect(TypeParticipantLeft, nil)); left.ID != vid {
		t.Errorf("left: %+v", left)
	}
}

func ptr[T any](v T) *T { return &v }

func TestRemovedCannotReturn(t *testing.T) {
	e := newEnv(t, nil)
	mod := e.dial(e.join("Maria", room.Moderator))
	welcomeOfMsg(t, mod)
	tok := e.join("Vera", room.Viewer)
	viewer := e.dial(tok)
	vid := welcomeOfMsg(t, viewer).Self.ID
	mod.send(TypeParticipantRemove, "rm", Target{ID: vid})
	viewer.expectClose()

	again := e.dial(tok)
	if got := decodeData[Error](t, again.expect(TypeError, nil)); got.Code != CodeForbidden {
		t.Errorf("removed participant reconnecting: %+v", got)
	}
	if code := again.expectClose(); code != CloseRemoved {
		t.Errorf("close code %d, want %d", code, CloseRemoved)
	}
}

func TestConnectRefused(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	small, _, err := e.mgr.Create(ctx, room.Settings{MeetingID: "small-room", Name: "Small", MaxParticipants: 1})
	if err != nil {
		t.Fatal(err)
	}
	first := e.dial(e.joinMeeting(small.Key, "Maria", room.Moderator))
	welcomeOfMsg(t, first)

	gone, _, err := e.mgr.Create(ctx, room.Settings{MeetingID: "gone-room", Name: "Gone"})
	if err != nil {
		t.Fatal(err)
	}
	goneTok := e.joinMeeting(gone.Key, "Vera", room.Viewer)
	if err := e.mgr.End(ctx, gone.Key, room.ReasonAPI); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
		typ   string
		code  string
		close int
	}{
		{"full", e.joinMeeting(small.Key, "Tom", room.Viewer), TypeError, CodeFull, CloseFull},
		{"ended while the page loaded", goneTok, TypeMeetingEnded, "", CloseEnded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial(tc.token)
			m := c.expect(tc.typ, nil)
			if tc.code != "" {
				if got := decodeData[Error](t, m); got.Code != tc.code {
					t.Errorf("code %q, want %q", got.Code, tc.code)
				}
			}
			if code := c.expectClose(); code != tc.close {
				t.Errorf("close code %d, want %d", code, tc.close)
			}
		})
	}
	if ps, _ := e.mgr.Participants(ctx, small.Key); len(ps) != 1 {
		t.Errorf("%d participants in the full room, want 1", len(ps))
	}
	first.ping("still fine")
}

func TestEndMeeting(t *testing.T) {
	e := newEnv(t, nil)
	mod, viewer, _, _ := twoInRoom(t, e)
	mod.send(TypeMeetingEnd, "end", nil)
	for _, c := range []*client{mod, viewer} {
		got := decodeData[Ended](t, c.expect(TypeMeetingEnded, nil))
		if got.Reason != room.ReasonModerator || got.LogoutURL != "https://lms.example/course/42" {
			t.Errorf("ended = %+v", got)
		}
		if code := c.expectClose(); code != CloseEnded {
			t.Errorf("close code %d, want %d", code, CloseEnded)
		}
	}
	if keys := e.store.Keys(); len(keys) != 0 {
		t.Errorf("keys left after the end: %v", keys)
	}
}

func TestReconnectKeepsParticipant(t *testing.T) {
	e := newEnv(t, nil)
	mod := e.dial(e.join("Maria", room.Moderator))
	welcomeOfMsg(t, mod)
	tok := e.join("Vera", room.Viewer)
	viewer := e.dial(tok)
	id := welcomeOfMsg(t, viewer).Self.ID
	viewer.send(TypeChatSend, "c", ChatSend{Text: "before the drop"})
	mod.expect(TypeChatMessage, nil)

	viewer.ws.UnderlyingConn().Close() // the network drops, no close frame
	isViewer := func(connected bool) func(Envelope) bool {
		return func(m Envelope) bool {
			p := decodeData[ParticipantMsg](t, m).Participant
			return p.ID == id && p.Connected == connected
		}
	}
	mod.expect(TypeParticipantUpdated, isViewer(false))

	again := e.dial(tok)
	w := welcomeOfMsg(t, again)
	if w.Self.ID != id || w.Lobby {
		t.Errorf("after reconnect self = %+v lobby=%v, want id %s", w.Self, w.Lobby, id)
	}
	if len(w.Chat) != 1 || w.Chat[0].Text != "before the drop" {
		t.Errorf("chat after reconnect: %+v", w.Chat)
	}
	mod.expect(TypeParticipantUpdated, isViewer(true))
	for _, m := range mod.pending() {
		if m.Type == TypeParticipantLeft || m.Type == TypeParticipantJoined {
			t.Errorf("moderator saw %s during a reconnect", m.Type)
		}
	}
}

func TestSecondTabReplacesFirst(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.join("Maria", room.Moderator)
	first := e.dial(tok)
	id := welcomeOfMsg(t, first).Self.ID
	second := e.dial(tok)
	if w := welcomeOfMsg(t, second); w.Self.ID != id {
		t.Errorf("second tab is %s, want %s", w.Self.ID, id)
	}
	first.expect(TypeReplaced, nil)
	if code := first.expectClose(); code != CloseReplaced {
		t.Errorf("close code %d, want %d", code, CloseReplaced)
	}
	second.ping("p")
}

func TestLeave(t *testing.T) {
	e := newEnv(t, nil)
	mod, viewer, _, viewerW := twoInRoom(t, e)
	viewer.send(TypeLeave, "bye", nil)
	viewer.expect(TypeAck, errorWithRef("bye"))
	if code := viewer.expectClose(); code != CloseLeft {
		t.Errorf("close code %d, want %d", code, CloseLeft)
	}
	if left := decodeData[Target](t, mod.expect(TypeParticipantLeft, nil)); left.ID != viewerW.Self.ID {
		t.Errorf("left = %+v", left)
	}
}

func TestSlowClientIsDroppedNotTheRoom(t *testing.T) {
	e := newEnv(t, func(o *Options, ts *httptest.Server) {
		// Big enough for the moderator, who reads, to never overflow.
		o.QueueSize = 32
		o.MaxMessageBytes = 64 << 10
		o.ChatBurst, o.ChatPerSecond = 100000, 100000
		o.MsgBurst, o.MsgPerSecond = 100000, 100000
		ts.Listener = smallBuffers{ts.Listener}
	})
	mod, _, _, _ := twoInRoom(t, e)
	// The slow client never reads after connecting.
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	slow, _, err := d.Dial(e.wsURL(e.join("Sam", room.Viewer)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	joined := decodeData[ParticipantMsg](t, mod.expect(TypeParticipantJoined, nil)).Participant

	text := strings.Repeat("lorem ipsum ", 400)
	deadline := time.Now().Add(3 * waitFor)
	dropped := false
	i := 0
	for ; !dropped; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("the slow client was never disconnected (%d messages sent)", i)
		}
		ref := fmt.Sprint("c", i)
		mod.send(TypeChatSend, ref, ChatSend{Text: text})
		// pending, not expect: expect would skip the update looked for.
		for _, m := range mod.pending() {
			if m.Type == TypeParticipantUpdated {
				p := decodeData[ParticipantMsg](t, m).Participant
				dropped = dropped || (p.ID == joined.ID && !p.Connected)
			}
		}
	}
	t.Logf("dropped after %d messages", i)
	// Only the slow connection ended: the room and the others go on.
	mod.ping("alive")
	ps, err := e.mgr.Participants(context.Background(), e.mt.Key)
	if err != nil || len(ps) != 3 {
		t.Errorf("participants after the drop: %d %v (the slow one keeps its place)", len(ps), err)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *httptest.Server) { o.ChatBurst, o.ChatPerSecond = 3, 0.001 })
	_, viewer, _, _ := twoInRoom(t, e)
	for i := range 3 {
		ref := fmt.Sprint("ok", i)
		viewer.send(TypeChatSend, ref, ChatSend{Text: "hi"})
		viewer.expect(TypeAck, errorWithRef(ref))
	}
	viewer.send(TypeChatSend, "flood", ChatSend{Text: "hi"})
	if got := decodeData[Error](t, viewer.expect(TypeError, errorWithRef("flood"))); got.Code != CodeRateLimited {
		t.Errorf("4th chat line: %+v", got)
	}
	viewer.ping("p") // other messages are not limited by the chat bucket
}

func TestOriginCheck(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *httptest.Server) { o.AllowedOrigins = []string{"https://aula.example"} })
	tok := e.join("Maria", room.Moderator)
	tests := []struct {
		origin string
		ok     bool
	}{
		{"https://aula.example", true},
		{"https://AULA.example", true},
		{"https://evil.example", false},
		{"http://aula.example", false},
		{"null", false},
	}
	for _, tc := range tests {
		t.Run(tc.origin, func(t *testing.T) {
			ws, resp, err := websocket.DefaultDialer.Dial(e.wsURL(tok), http.Header{"Origin": {tc.origin}})
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				ws.Close()
				return
			}
			if err == nil {
				ws.Close()
				t.Fatal("accepted")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("response %v, want 403", resp)
			}
		})
	}
}

func TestSilentClientIsDropped(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *httptest.Server) { o.PingInterval = 50 * time.Millisecond })
	mod := e.dial(e.join("Maria", room.Moderator)) // its reader answers pings
	welcomeOfMsg(t, mod)
	silent, _, err := websocket.DefaultDialer.Dial(e.wsURL(e.join("Sam", room.Viewer)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// Sam's client never reads, so it never answers a ping: after two
	// intervals the server gives up on it and keeps its place.
	id := decodeData[ParticipantMsg](t, mod.expect(TypeParticipantJoined, nil)).Participant.ID
	mod.expect(TypeParticipantUpdated, func(m Envelope) bool {
		p := decodeData[ParticipantMsg](t, m).Participant
		return p.ID == id && !p.Connected
	})
	// The moderator, silent too but answering pings, is still connected.
	mod.ping("alive")
}

func TestCloseDrainsWithGoingAway(t *testing.T) {
	e := newEnv(t, nil)
	leaks := testenv.GoroutineCheck(t, 0)
	mod, viewer, _, _ := twoInRoom(t, e)
	e.srv.Close()
	for _, c := range []*client{mod, viewer} {
		if code := c.expectClose(); code != websocket.CloseGoingAway {
			t.Errorf("close code %d, want %d", code, websocket.CloseGoingAway)
		}
	}
	// The participants keep their places for the reconnect grace.
	ps, err := e.mgr.Participants(context.Background(), e.mt.Key)
	if err != nil || len(ps) != 2 {
		t.Errorf("participants after drain: %d %v", len(ps), err)
	}
	if _, _, err := websocket.DefaultDialer.Dial(e.wsURL(e.join("Late", room.Viewer)), nil); !errors.Is(err, websocket.ErrBadHandshake) {
		t.Errorf("dial after Close: %v, want a refused handshake", err)
	}
	// Every goroutine of the connections is gone.
	leaks()
}

// TestMalformedFloodDisconnects: frames that are not valid messages count
// against the message budget like good ones, and a client that keeps
// sending them past the budget is cut off, while the others go on.
func TestMalformedFloodDisconnects(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *httptest.Server) { o.FrameBurst, o.FramePerSecond = 20, 1 })
	mod, viewer, _, _ := twoInRoom(t, e)
	frames := [][]byte{[]byte("{"), []byte(`{"type":"no.such.type"}`), []byte("not json"), []byte(strings.Repeat("x", 2000))}
	sent := 0
	for ; sent < 500; sent++ {
		if err := viewer.ws.WriteMessage(websocket.TextMessage, frames[sent%len(frames)]); err != nil {
			break // the server closed the socket
		}
	}
	if code := viewer.expectClose(); code != CloseFlood {
		t.Fatalf("flooding viewer closed with %d, want %d (after %d frames)", code, CloseFlood, sent)
	}
	mod.ping("alive")
}

// TestRateLimitCountsBadFrames: once the budget is spent on malformed
// frames, a good message is refused too (and changes nothing).
func TestRateLimitCountsBadFrames(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *httptest.Server) { o.FrameBurst, o.FramePerSecond = 5, 0.001 })
	mod, viewer, _, _ := twoInRoom(t, e)
	for range 5 {
		viewer.sendRaw([]byte("{"))
		if got := decodeData[Error](t, viewer.expect(TypeError, nil)); got.Code != CodeBadRequest {
			t.Fatalf("malformed frame within the budget: %+v", got)
		}
	}
	viewer.send(TypeChatSend, "late", ChatSend{Text: "should not arrive"})
	if got := decodeData[Error](t, viewer.expect(TypeError, nil)); got.Code != CodeRateLimited {
		t.Fatalf("good message after the budget went on bad frames: %+v", got)
	}
	for _, m := range mod.pending() {
		if m.Type == TypeChatMessage {
			t.Fatalf("a refused chat line reached the moderator: %s", m.Data)
		}
	}
}

// TestClassroomControls: a moderator lowers all hands, mutes all but the
// presenter, hands over the presenter role and clears the chat; a viewer
// forging any of these (or lock.set) gets forbidden and changes nothing.
func TestClassroomControls(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *httptest.Server) { o.Extensions = []Extension{Reactions()} })
	mod, viewer, _, vw := twoInRoom(t, e)
	viewer.send(TypeHandRaise, "up", HandRaise{Up: ptr(true)})
	viewer.expect(TypeAck, errorWithRef("up"))
	mod.pending()
	for _, forged := range []struct {
		typ  string
		data any
	}{
		{TypeHandLowerAll, nil},
		{TypeMuteAll, MuteAll{ExceptPresenter: true}},
		{TypePresenterSet, Target{ID: vw.Self.ID}},
		{TypeChatClear, nil},
		{TypeLockSet, LockSet{Lock: &room.LockSettings{DisableCam: true}}},
	} {
		viewer.send(forged.typ, "forged-"+forged.typ, forged.data)
		wantError(t, viewer, "forged-"+forged.typ, CodeForbidden)
	}
	for _, m := range mod.pending() {
		if m.Type == TypeParticipantUpdated || m.Type == TypeMeetingUpdated || m.Type == TypeChatCleared {
			t.Fatalf("a refused viewer message reached the moderator: %s %s", m.Type, m.Data)
		}
	}

	mod.send(TypeHandLowerAll, "lower", nil)
	mod.expect(TypeAck, errorWithRef("lower"))
	viewer.expect(TypeParticipantUpdated, func(m Envelope) bool {
		p := decodeData[ParticipantMsg](t, m).Participant
		return p.ID == vw.Self.ID && !p.RaisedHand
	})
	mod.send(TypePresenterSet, "pres", Target{ID: vw.Self.ID})
	mod.expect(TypeAck, errorWithRef("pres"))
	viewer.expect(TypeParticipantUpdated, func(m Envelope) bool {
		p := decodeData[ParticipantMsg](t, m).Participant
		return p.ID == vw.Self.ID && p.Presenter
	})
	mod.send(TypeMuteAll, "mute", MuteAll{ExceptPresenter: true})
	mod.expect(TypeAck, errorWithRef("mute"))
	for _, m := range viewer.pending() {
		if m.Type == TypeParticipantUpdated && decodeData[ParticipantMsg](t, m).Participant.Muted {
			t.Fatal("mute all muted the presenter")
		}
	}
	viewer.send(TypeStatusSet, "away", StatusSet{Away: ptr(true)})
	viewer.expect(TypeAck, errorWithRef("away"))
	mod.expect(TypeParticipantUpdated, func(m Envelope) bool {
		p := decodeData[ParticipantMsg](t, m).Participant
		return p.ID == vw.Self.ID && p.Away
	})
	viewer.send(TypeStatusSet, "bad", map[string]any{})
	wantError(t, viewer, "bad", CodeBadRequest)
}

// TestReactions: a reaction reaches everyone who may see its sender; an
// unknown emoji is refused; reactions have a small budget of their own,
// which leaves the protocol's untouched.
func TestReactions(t *testing.T) {
	e := newEnv(t, func(o *Options, _ *httptest.Server) { o.Extensions = []Extension{Reactions()} })
	mod, viewer, _, vw := twoInRoom(t, e)
	viewer.send(TypeReactionSend, "clap", ReactionSend{Emoji: "👏"})
	viewer.expect(TypeAck, errorWithRef("clap"))
	for _, c := range []*client{mod, viewer} {
		got := decodeData[ReactionMsg](t, c.expect(TypeReaction, nil))
		if got.ID != vw.Self.ID || got.Emoji != "👏" {
			t.Fatalf("reaction %+v", got)
		}
	}
	viewer.send(TypeReactionSend, "bad", ReactionSend{Emoji: "💩<script>"})
	wantError(t, viewer, "bad", CodeBadRequest)
	viewer.send(TypeReactionSend, "extra", map[string]any{"emoji": "👍", "x": 1})
	wantError(t, viewer, "extra", CodeBadRequest)
	for i := range 10 {
		viewer.send(TypeReactionSend, fmt.Sprint("r", i), ReactionSend{Emoji: "👍"})
	}
	acks, limited := 0, 0
	for _, m := range viewer.pending() {
		switch {
		case m.Type == TypeAck:
			acks++
		case m.Type == TypeError && decodeData[Error](t, m).Code == CodeRateLimited:
			limited++
		}
	}
	if limited == 0 || acks > 5 {
		t.Fatalf("10 reactions at once: %d acked, %d limited; the budget is 5", acks, limited)
	}
	viewer.ping("core budget untouched")
}
