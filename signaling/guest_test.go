package signaling

import (
	"bytes"
	"context"
	"testing"

	"aula/room"
)

// askMeeting creates a meeting under the guest policy ASK_MODERATOR.
func (e *env) askMeeting() *room.Meeting {
	e.t.Helper()
	mt, _, err := e.mgr.Create(context.Background(), room.Settings{
		MeetingID: "course-guests", Name: "Guests 101", GuestPolicy: room.GuestAskModerator,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return mt
}

// joinGuest creates a session as a join with guest=true would.
func (e *env) joinGuest(key, name string) string {
	e.t.Helper()
	tok, sess, err := e.mgr.NewSession(context.Background(), key, room.Identity{
		Name: name, Role: room.Viewer, Guest: true, UserID: "lms-user-" + name,
		AvatarURL: "https://lms.example/avatar/" + name + ".png",
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sessions.Store(tok, sess)
	return tok
}

func waitingOf(t *testing.T, c *client, n int) []room.Public {
	t.Helper()
	m := c.expect(TypeGuestWaiting, func(m Envelope) bool {
		return len(decodeData[GuestWaiting](t, m).Waiting) == n
	})
	return decodeData[GuestWaiting](t, m).Waiting
}

func TestGuestWaitsUntilAdmitted(t *testing.T) {
	e := newEnv(t, nil)
	mt := e.askMeeting()
	mod := e.dial(e.joinMeeting(mt.Key, "Maria", room.Moderator))
	if w := welcomeOfMsg(t, mod); w.Lobby || w.Waiting != nil {
		t.Fatalf("moderator's welcome: lobby %v, waiting %+v", w.Lobby, w.Waiting)
	}
	guest := e.dial(e.joinGuest(mt.Key, "Gary"))
	raw := <-guest.raw
	gw := welcomeOfMsg(t, guest)
	if !gw.Lobby || gw.LobbyReason != LobbyGuest || !gw.Meeting.Running || len(gw.Roster) != 0 {
		t.Fatalf("guest's welcome: lobby %v, reason %q, running %v, roster %d", gw.Lobby, gw.LobbyReason, gw.Meeting.Running, len(gw.Roster))
	}
	waiting := waitingOf(t, mod, 1)
	if waiting[0].Name != "Gary" || waiting[0].ID != gw.Self.ID || waiting[0].InRoom {
		t.Fatalf("moderator sees waiting %+v", waiting)
	}
	viewer := e.dial(e.joinMeeting(mt.Key, "Vera", room.Viewer))
	vw := welcomeOfMsg(t, viewer)
	if vw.Lobby || vw.LobbyReason != "" || vw.Waiting != nil {
		t.Fatalf("viewer's welcome: lobby %v, reason %q, waiting %+v", vw.Lobby, vw.LobbyReason, vw.Waiting)
	}
	// A moderator connecting later finds the list in the welcome.
	mod2 := e.dial(e.joinMeeting(mt.Key, "Max", room.Moderator))
	if w := welcomeOfMsg(t, mod2); len(w.Waiting) != 1 || w.Waiting[0].Name != "Gary" {
		t.Fatalf("second moderator's welcome lists waiting %+v", w.Waiting)
	}

	refusals := []struct {
		name string
		c    *client
		data GuestAdmit
		code string
	}{
		{"viewer admits", viewer, GuestAdmit{ID: gw.Self.ID, Allow: ptr(true)}, CodeForbidden},
		{"viewer admits all", viewer, GuestAdmit{All: true, Allow: ptr(true)}, CodeForbidden},
		{"guest admits self", guest, GuestAdmit{ID: gw.Self.ID, Allow: ptr(true)}, CodeNotInRoom},
		{"bad id", mod, GuestAdmit{ID: "no-such-guest", Allow: ptr(true)}, CodeNotFound},
		{"participant in the room", mod, GuestAdmit{ID: vw.Self.ID, Allow: ptr(false)}, CodeNotFound},
		{"no allow", mod, GuestAdmit{ID: gw.Self.ID}, CodeBadRequest},
	}
	for i, r := range refusals {
		ref := "r" + itoa(i)
		r.c.send(TypeGuestAdmit, ref, r.data)
		if got := decodeData[Error](t, r.c.expect(TypeError, errorWithRef(ref))); got.Code != r.code {
			t.Errorf("%s: code %q, want %q", r.name, got.Code, r.code)
		}
	}
	for _, m := range guest.pending() {
		if m.Type == TypeLobbyAdmitted || m.Type == TypeWelcome {
			t.Fatalf("a refused admission let the guest in: %s", m.Type)
		}
	}

	mod.send(TypeGuestAdmit, "ok", GuestAdmit{ID: gw.Self.ID, Allow: ptr(true)})
	mod.expect(TypeAck, errorWithRef("ok"))
	guest.expect(TypeLobbyAdmitted, nil)
	in := welcomeOfMsg(t, guest)
	if in.Lobby || in.LobbyReason != "" || len(in.Roster) != 4 {
		t.Fatalf("admitted guest: lobby %v, reason %q, roster %+v", in.Lobby, in.LobbyReason, in.Roster)
	}
	for _, c := range []*client{mod, viewer} {
		j := decodeData[ParticipantMsg](t, c.expect(TypeParticipantJoined, nil))
		if j.Participant.Name != "Gary" {
			t.Fatalf("room told of %+v joining", j.Participant)
		}
	}
	waitingOf(t, mod, 0)
	for _, m := range viewer.pending() {
		if m.Type == TypeGuestWaiting {
			t.Fatal("a viewer received the waiting list")
		}
	}
	for _, secret := range []string{"lms-user-", "lms.example/avatar", "userID", "approved", "guest\":"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("guest's welcome leaks %q: %s", secret, raw)
		}
	}
}

func TestDeniedGuestCannotReturn(t *testing.T) {
	e := newEnv(t, nil)
	mt := e.askMeeting()
	mod := e.dial(e.joinMeeting(mt.Key, "Maria", room.Moderator))
	welcomeOfMsg(t, mod)
	tok := e.joinGuest(mt.Key, "Gina")
	guest := e.dial(tok)
	gw := welcomeOfMsg(t, guest)
	waitingOf(t, mod, 1)

	mod.send(TypeGuestAdmit, "no", GuestAdmit{ID: gw.Self.ID, Allow: ptr(false)})
	mod.expect(TypeAck, errorWithRef("no"))
	guest.expect(TypeGuestDenied, nil)
	if code := guest.expectClose(); code != CloseDenied {
		t.Fatalf("denied guest's socket closed with %d, want %d", code, CloseDenied)
	}
	waitingOf(t, mod, 0)

	again := e.dial(tok)
	again.expect(TypeGuestDenied, nil)
	if code := again.expectClose(); code != CloseDenied {
		t.Fatalf("denied guest reconnecting: close %d, want %d", code, CloseDenied)
	}
	for _, m := range mod.pending() {
		if m.Type == TypeParticipantJoined || m.Type == TypeGuestWaiting {
			t.Fatalf("the denied guest's return reached the moderator: %s", m.Type)
		}
	}
}

func TestAdmitAllGuests(t *testing.T) {
	e := newEnv(t, nil)
	mt := e.askMeeting()
	mod := e.dial(e.joinMeeting(mt.Key, "Maria", room.Moderator))
	welcomeOfMsg(t, mod)
	var guests []*client
	for i, name := range []string{"Gary", "Anna"} {
		g := e.dial(e.joinGuest(mt.Key, name))
		if w := welcomeOfMsg(t, g); w.LobbyReason != LobbyGuest {
			t.Fatalf("%s: lobby reason %q", name, w.LobbyReason)
		}
		waitingOf(t, mod, i+1)
		guests = append(guests, g)
	}
	mod.send(TypeGuestAdmit, "all", GuestAdmit{All: true, Allow: ptr(true)})
	mod.expect(TypeAck, errorWithRef("all"))
	for _, g := range guests {
		g.expect(TypeLobbyAdmitted, nil)
		if w := welcomeOfMsg(t, g); w.Lobby || len(w.Roster) != 3 {
			t.Fatalf("after admit all: lobby %v, roster %d", w.Lobby, len(w.Roster))
		}
	}
	waitingOf(t, mod, 0)
}
