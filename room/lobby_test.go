package room_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"aula/room"
)

func TestLobbyUntilModeratorArrives(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	vera := e.join(mt, "Vera", room.Viewer)

	s := e.snapshot(vera)
	if s.Self.InRoom || s.Roster != nil || s.Chat != nil || s.Meeting.Running() {
		t.Fatalf("viewer before any moderator: in room %v, roster %v, chat %v, running %v",
			s.Self.InRoom, s.Roster, s.Chat, s.Meeting.Running())
	}
	if _, err := vera.Chat(e.ctx, "", "hello?"); !errors.Is(err, room.ErrNotInRoom) {
		t.Fatalf("chat from the lobby: %v, want ErrNotInRoom", err)
	}
	if err := vera.RaiseHand(e.ctx, true); !errors.Is(err, room.ErrNotInRoom) {
		t.Fatalf("hand from the lobby: %v, want ErrNotInRoom", err)
	}
	// A second viewer waits too and does not learn of the first.
	walt := e.join(mt, "Walt", room.Viewer)
	if n := len(vera.rec.take()); n != 0 {
		t.Fatalf("a waiting viewer got %d events", n)
	}
	if ps, _ := e.mgr.Participants(e.ctx, mt.Key); len(ps) != 2 || ps[0].InRoom || ps[1].InRoom {
		t.Fatalf("participants while waiting: %+v", ps)
	}

	e.clock.Add(90 * time.Second)
	mona := e.join(mt, "Mona", room.Moderator)
	for _, v := range []*person{vera, walt} {
		if n := v.rec.count(room.EventAdmitted); n != 1 {
			t.Fatalf("%s admitted %d times, want once", v.id.Name, n)
		}
		if len(v.rec.about(room.EventJoined, mona.ID())) != 1 {
			t.Fatalf("%s was not told the moderator joined", v.id.Name)
		}
		e.wantRoster(v, "Mona", "Vera", "Walt")
		if !e.snapshot(v).Self.InRoom {
			t.Fatalf("%s still in the lobby", v.id.Name)
		}
	}
	if len(vera.rec.about(room.EventJoined, walt.ID())) != 1 {
		t.Fatal("admitted viewers were not told of each other")
	}
	for _, v := range []*person{vera, walt} {
		if len(mona.rec.about(room.EventJoined, v.ID())) != 1 {
			t.Fatalf("moderator not told that %s entered", v.id.Name)
		}
	}
	e.wantRoster(mona, "Mona", "Vera", "Walt")
	mt2, _ := e.mgr.MeetingByKey(e.ctx, mt.Key)
	if !mt2.Running() || !mt2.StartTime.Equal(e.clock.Now()) || !mt2.EverJoined {
		t.Fatalf("stored meeting after the moderator came: %+v", mt2)
	}
	// Once started, a later viewer enters at once, and everyone is told.
	xena := e.join(mt, "Xena", room.Viewer)
	if !e.snapshot(xena).Self.InRoom || xena.rec.count(room.EventAdmitted) != 0 {
		t.Fatal("viewer after the start did not enter directly")
	}
	if len(vera.rec.about(room.EventJoined, xena.ID())) != 1 {
		t.Fatal("room not told of the new viewer")
	}
}

func chatTexts(evs []room.Event) []string {
	var out []string
	for _, ev := range evs {
		if ev.Type == room.EventChat {
			out = append(out, ev.Chat.Text)
		}
	}
	return out
}

func TestChatPublicAndPrivate(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	walt := e.join(mt, "Walt", room.Viewer)
	for _, p := range []*person{mona, vera, walt} {
		p.rec.take()
	}

	msg, err := vera.Chat(e.ctx, "", "  hello all  ")
	if err != nil {
		t.Fatal(err)
	}
	if msg.Text != "hello all" || msg.FromName != "Vera" || msg.From != vera.ID() || !msg.Time.Equal(t0) || msg.To != "" {
		t.Fatalf("public line %+v", msg)
	}
	if _, err := vera.Chat(e.ctx, walt.ID(), "psst"); err != nil {
		t.Fatal(err)
	}
	if _, err := vera.Chat(e.ctx, walt.ID(), "two\n\tlines"); err != nil {
		t.Fatalf("line breaks and tabs are text: %v", err)
	}
	want := map[*person]string{mona: "hello all", vera: "hello all|psst|two\n\tlines", walt: "hello all|psst|two\n\tlines"}
	for p, w := range want {
		if got := strings.Join(chatTexts(p.rec.take()), "|"); got != w {
			t.Fatalf("%s received %q, want %q", p.id.Name, got, w)
		}
		var snap []string
		for _, c := range e.snapshot(p).Chat {
			snap = append(snap, c.Text)
		}
		if got := strings.Join(snap, "|"); got != w {
			t.Fatalf("%s's history %q, want %q", p.id.Name, got, w)
		}
	}

	bad := []struct {
		name string
		to   string
		text string
		want error
	}{
		{"empty", "", "   ", room.ErrInvalid},
		{"too long", "", strings.Repeat("x", 5001), room.ErrInvalid},
		{"not UTF-8", "", "a\xffb", room.ErrInvalid},
		{"NUL", "", "a\x00b", room.ErrInvalid},
		{"escape sequence", "", "\x1b[2Jcleared", room.ErrInvalid},
		{"C1 control", "", "a\u0085b", room.ErrInvalid},
		{"unknown recipient", "nobody", "hi", room.ErrNotFound},
		{"to oneself", vera.ID(), "hi", room.ErrNotFound},
	}
	for _, c := range bad {
		if _, err := vera.Chat(e.ctx, c.to, c.text); !errors.Is(err, c.want) {
			t.Fatalf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	for _, p := range []*person{mona, vera, walt} {
		if n := len(p.rec.take()); n != 0 {
			t.Fatalf("refused chat reached %s (%d events)", p.id.Name, n)
		}
	}
	if cs, _ := e.flushed().ListChat(e.ctx, mt.Key); len(cs) != 3 {
		t.Fatalf("store holds %d lines, want 3", len(cs))
	}
}

func TestHideUserList(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{Lock: room.LockSettings{HideUserList: true}})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	walt := e.join(mt, "Walt", room.Viewer)

	e.wantRoster(mona, "Mona", "Vera", "Walt")
	e.wantRoster(vera, "Mona", "Vera")
	e.wantRoster(walt, "Mona", "Walt")
	if len(vera.rec.about(room.EventJoined, walt.ID())) != 0 {
		t.Fatal("a viewer was told another viewer joined")
	}
	if len(mona.rec.about(room.EventJoined, walt.ID())) != 1 {
		t.Fatal("the moderator was not told")
	}
	if err := walt.RaiseHand(e.ctx, true); err != nil {
		t.Fatal(err)
	}
	if len(vera.rec.about(room.EventUpdated, walt.ID())) != 0 || len(mona.rec.about(room.EventUpdated, walt.ID())) != 1 {
		t.Fatal("hand of a hidden viewer: wrong audience")
	}
	if _, err := vera.Chat(e.ctx, walt.ID(), "hi"); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("private chat to a hidden viewer: %v, want ErrNotFound", err)
	}
	if _, err := vera.Chat(e.ctx, mona.ID(), "question"); err != nil {
		t.Fatalf("private chat to the moderator: %v", err)
	}
	walt.Detach(e.ctx)
	if len(vera.rec.about(room.EventUpdated, walt.ID())) != 0 {
		t.Fatal("a viewer saw another viewer's connection drop")
	}
	e.tick(2 * time.Minute)
	if len(vera.rec.about(room.EventLeft, walt.ID())) != 0 || len(mona.rec.about(room.EventLeft, walt.ID())) != 1 {
		t.Fatal("leave of a hidden viewer: wrong audience")
	}
}

func TestLockSettingsChat(t *testing.T) {
	cases := []struct {
		name                      string
		lock                      room.LockSettings
		viewerPublic, viewerToVie error
		viewerToMod               error
	}{
		{"unlocked", room.LockSettings{}, nil, nil, nil},
		{"public chat locked", room.LockSettings{DisablePublicChat: true}, room.ErrForbidden, nil, nil},
		{"private chat locked", room.LockSettings{DisablePrivChat: true}, nil, room.ErrForbidden, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			mt := e.create(room.Settings{Lock: c.lock})
			mona := e.join(mt, "Mona", room.Moderator)
			vera := e.join(mt, "Vera", room.Viewer)
			walt := e.join(mt, "Walt", room.Viewer)
			check := func(what string, err, want error) {
				t.Helper()
				if want == nil && err != nil || want != nil && !errors.Is(err, want) {
					t.Fatalf("%s: %v, want %v", what, err, want)
				}
			}
			_, err := vera.Chat(e.ctx, "", "public")
			check("viewer public", err, c.viewerPublic)
			_, err = vera.Chat(e.ctx, walt.ID(), "to viewer")
			check("viewer to viewer", err, c.viewerToVie)
			_, err = vera.Chat(e.ctx, mona.ID(), "to moderator")
			check("viewer to moderator", err, c.viewerToMod)
			// Locks bind viewers only.
			_, err = mona.Chat(e.ctx, "", "public")
			check("moderator public", err, nil)
			_, err = mona.Chat(e.ctx, walt.ID(), "private")
			check("moderator private", err, nil)
		})
	}
}

// TestHideUserListRoleChanges: a promotion or demotion changes who may see
// whom; clients learn it as joins and leaves, so their rosters stay equal to
// what Snapshot would give.
func TestHideUserListRoleChanges(t *testing.T) {
	e := newEnv(t)
	mt := e.create(room.Settings{Lock: room.LockSettings{HideUserList: true}})
	mona := e.join(mt, "Mona", room.Moderator)
	walt := e.join(mt, "Walt", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	xena := e.join(mt, "Xena", room.Viewer)
	for _, p := range []*person{mona, walt, vera, xena} {
		p.rec.take()
	}

	if err := mona.SetRole(e.ctx, walt.ID(), room.Viewer); err != nil {
		t.Fatal(err)
	}
	wantEvents := func(p *person, want map[string]room.EventType) {
		t.Helper()
		got := map[string]room.EventType{}
		for _, ev := range p.rec.take() {
			id := ev.ParticipantID
			if ev.Participant != nil {
				id = ev.Participant.ID
			}
			got[id] = ev.Type
		}
		if len(got) != len(want) {
			t.Fatalf("%s got %v, want %v", p.id.Name, got, want)
		}
		for id, typ := range want {
			if got[id] != typ {
				t.Fatalf("%s got %v, want %v", p.id.Name, got, want)
			}
		}
	}
	wantEvents(mona, map[string]room.EventType{walt.ID(): room.EventUpdated})
	wantEvents(walt, map[string]room.EventType{walt.ID(): room.EventUpdated, vera.ID(): room.EventLeft, xena.ID(): room.EventLeft})
	wantEvents(vera, map[string]room.EventType{walt.ID(): room.EventLeft})
	wantEvents(xena, map[string]room.EventType{walt.ID(): room.EventLeft})
	e.wantRoster(walt, "Mona", "Walt")
	e.wantRoster(vera, "Mona", "Vera")

	if err := mona.SetRole(e.ctx, vera.ID(), room.Moderator); err != nil {
		t.Fatal(err)
	}
	wantEvents(mona, map[string]room.EventType{vera.ID(): room.EventUpdated})
	wantEvents(vera, map[string]room.EventType{vera.ID(): room.EventUpdated, walt.ID(): room.EventJoined, xena.ID(): room.EventJoined})
	wantEvents(walt, map[string]room.EventType{vera.ID(): room.EventJoined})
	wantEvents(xena, map[string]room.EventType{vera.ID(): room.EventJoined})
	e.wantRoster(vera, "Mona", "Vera", "Walt", "Xena")
	e.wantRoster(xena, "Mona", "Vera", "Xena")
}

// FuzzChat: whatever a client sends, the line is refused with ErrInvalid and
// reaches nobody, or it arrives trimmed, valid UTF-8, within the size cap.
func FuzzChat(f *testing.F) {
	for _, s := range []string{"hello", "  ", "a\xffb", "<script>", strings.Repeat("ü", 5001), "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		e := newEnv(t)
		mt := e.create(room.Settings{})
		mona := e.join(mt, "Mona", room.Moderator)
		vera := e.join(mt, "Vera", room.Viewer)
		vera.rec.take()
		msg, err := mona.Chat(e.ctx, "", text)
		got := chatTexts(vera.rec.take())
		if err != nil {
			if !errors.Is(err, room.ErrInvalid) || len(got) != 0 {
				t.Fatalf("refused line: %v, delivered %q", err, got)
			}
			return
		}
		if len(got) != 1 || got[0] != msg.Text || msg.Text != strings.TrimSpace(text) ||
			!utf8.ValidString(msg.Text) || utf8.RuneCountInString(msg.Text) > 5000 || msg.Text == "" {
			t.Fatalf("line %q delivered as %q", text, got)
		}
	})
}
