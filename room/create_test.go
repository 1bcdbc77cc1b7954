package room_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"aula/room"
)

func TestCreateDefaults(t *testing.T) {
	cases := []struct {
		name  string
		in    room.Settings
		check func(t *testing.T, mt *room.Meeting)
	}{
		{"BBB defaults", room.Settings{MeetingID: "c1"}, func(t *testing.T, mt *room.Meeting) {
			if mt.GuestPolicy != room.GuestAlwaysAccept || mt.ExpireIfNoUserJoined != 5*time.Minute ||
				mt.ExpireWhenLastUserLeft != time.Minute || mt.EndWhenNoModerator || mt.EndWhenNoModeratorDelay != 0 {
				t.Fatalf("defaults: %+v", mt.Settings)
			}
		}},
		{"endWhenNoModerator gets a one-minute delay", room.Settings{MeetingID: "c2", EndWhenNoModerator: true}, func(t *testing.T, mt *room.Meeting) {
			if mt.EndWhenNoModeratorDelay != time.Minute {
				t.Fatalf("delay = %v", mt.EndWhenNoModeratorDelay)
			}
		}},
		{"given values kept", room.Settings{MeetingID: "c3", PIN: "12345", GuestPolicy: room.GuestAlwaysDeny,
			ExpireIfNoUserJoined: 2 * time.Minute, ExpireWhenLastUserLeft: 3 * time.Minute}, func(t *testing.T, mt *room.Meeting) {
			if mt.PIN != "12345" || mt.GuestPolicy != room.GuestAlwaysDeny || mt.ExpireIfNoUserJoined != 2*time.Minute || mt.ExpireWhenLastUserLeft != 3*time.Minute {
				t.Fatalf("settings changed: %+v", mt.Settings)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			mt := e.create(c.in)
			if len(mt.Key) != 40 || mt.Key == room.KeyOf(c.in.MeetingID) || !room.ValidPIN(mt.PIN) || !mt.CreateTime.Equal(t0) || mt.Running() {
				t.Fatalf("created %+v", mt)
			}
			c.check(t, mt)
			stored, err := e.mgr.Meeting(e.ctx, c.in.MeetingID)
			if err != nil || stored.PIN != mt.PIN || stored.GuestPolicy != mt.GuestPolicy {
				t.Fatalf("stored meeting %+v, %v", stored, err)
			}
			byPIN, err := e.mgr.MeetingByPIN(e.ctx, mt.PIN)
			if err != nil || byPIN.Key != mt.Key {
				t.Fatalf("MeetingByPIN: %+v, %v", byPIN, err)
			}
		})
	}
}

func TestCreateRejectsBadSettings(t *testing.T) {
	cases := []struct {
		name string
		s    room.Settings
	}{
		{"no meetingID", room.Settings{}},
		{"blank meetingID", room.Settings{MeetingID: "   "}},
		{"meetingID too short", room.Settings{MeetingID: "x"}},
		{"meetingID too long", room.Settings{MeetingID: strings.Repeat("x", 257)}},
		{"meetingID with comma", room.Settings{MeetingID: "a,b"}},
		{"PIN of 4 digits", room.Settings{MeetingID: "c1", PIN: "1234"}},
		{"PIN with letters", room.Settings{MeetingID: "c1", PIN: "12a45"}},
		{"PIN of 6 digits", room.Settings{MeetingID: "c1", PIN: "123456"}},
		{"negative duration", room.Settings{MeetingID: "c1", Duration: -time.Minute}},
		{"negative maxParticipants", room.Settings{MeetingID: "c1", MaxParticipants: -1}},
		{"negative expiry", room.Settings{MeetingID: "c1", ExpireWhenLastUserLeft: -1}},
		{"unknown guest policy", room.Settings{MeetingID: "c1", GuestPolicy: "SOMETIMES"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			mt, _, err := e.mgr.Create(e.ctx, c.s)
			if !errors.Is(err, room.ErrInvalid) || mt != nil {
				t.Fatalf("Create = %v, %v; want ErrInvalid", mt, err)
			}
			if keys := e.flushed().Keys(); len(keys) != 0 {
				t.Fatalf("a refused create wrote %v", keys)
			}
		})
	}
}

func TestCreateIsIdempotent(t *testing.T) {
	e := newEnv(t)
	first := e.create(room.Settings{MeetingID: "c1", Name: "First", PIN: "11111"})
	e.clock.Add(time.Minute)
	again, existed, err := e.mgr.Create(e.ctx, room.Settings{MeetingID: "c1", Name: "Second", PIN: "22222"})
	if err != nil || !existed {
		t.Fatalf("second create: existed %v, %v", existed, err)
	}
	if again.Name != "First" || again.PIN != "11111" || !again.CreateTime.Equal(first.CreateTime) {
		t.Fatalf("second create changed the meeting: %+v", again)
	}
	if _, err := e.mgr.MeetingByPIN(e.ctx, "22222"); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("the second create's PIN was reserved: %v", err)
	}
}

func TestCreatePINs(t *testing.T) {
	e := newEnv(t)
	seen := map[string]bool{}
	for _, id := range names(200, "course-") {
		mt := e.create(room.Settings{MeetingID: id})
		if !room.ValidPIN(mt.PIN) || mt.PIN[0] == '0' {
			t.Fatalf("random PIN %q", mt.PIN)
		}
		if seen[mt.PIN] {
			t.Fatalf("PIN %s given to two running meetings", mt.PIN)
		}
		seen[mt.PIN] = true
	}
	taken := e.create(room.Settings{MeetingID: "mine", PIN: "54321"})
	mt, existed, err := e.mgr.Create(e.ctx, room.Settings{MeetingID: "theirs", PIN: taken.PIN})
	if !errors.Is(err, room.ErrPINTaken) || mt != nil || existed {
		t.Fatalf("requested PIN clash: %v, %v, %v", mt, existed, err)
	}
	if _, err := e.mgr.Meeting(e.ctx, "theirs"); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("the refused meeting exists: %v", err)
	}
	for _, bad := range []string{"", "1234", "abcde", "123456"} {
		if _, err := e.mgr.MeetingByPIN(e.ctx, bad); !errors.Is(err, room.ErrNotFound) {
			t.Fatalf("MeetingByPIN(%q) = %v", bad, err)
		}
	}
}

func TestMeetingHelpers(t *testing.T) {
	mt := &room.Meeting{Settings: room.Settings{MeetingID: "x", Name: "Bio", PIN: "12345", DialNumber: "+49 30 1234",
		Welcome: "Welcome to %%CONFNAME%%! Call %%DIALNUM%%, PIN %%CONFNUM%%."}, Key: room.NewKey(), CreateTime: t0}
	if got := mt.WelcomeText(); got != "Welcome to Bio! Call +49 30 1234, PIN 12345." {
		t.Fatalf("WelcomeText = %q", got)
	}
	if got, want := mt.InternalID(), room.KeyOf("x")+"-1772442000000"; got != want {
		t.Fatalf("InternalID = %q, want %q", got, want)
	}
	if k := room.KeyOf("x"); len(k) != 40 || k == room.KeyOf("y") {
		t.Fatalf("KeyOf = %q", k)
	}
	if a, b := room.NewKey(), room.NewKey(); len(a) != 40 || a == b {
		t.Fatalf("NewKey = %q, %q", a, b)
	}
}

// FuzzSettingsValidate: whatever a platform sends, Validate either refuses
// it with ErrInvalid or Create makes a meeting with a valid PIN.
func FuzzSettingsValidate(f *testing.F) {
	f.Add("course-1", "12345", int64(0), 0, "")
	f.Add("a,b", "1", int64(-1), -1, "X")
	f.Add("", "", int64(0), 0, "ALWAYS_DENY")
	f.Fuzz(func(t *testing.T, id, pin string, dur int64, max int, policy string) {
		e := newEnv(t)
		s := room.Settings{MeetingID: id, PIN: pin, Duration: time.Duration(dur), MaxParticipants: max, GuestPolicy: room.GuestPolicy(policy)}
		mt, _, err := e.mgr.Create(e.ctx, s)
		if err != nil {
			if !errors.Is(err, room.ErrInvalid) {
				t.Fatalf("Create: %v is not ErrInvalid", err)
			}
			if len(e.flushed().Keys()) != 0 {
				t.Fatal("refused create wrote keys")
			}
			return
		}
		if !room.ValidPIN(mt.PIN) || (pin != "" && mt.PIN != pin) || len(mt.Key) != 40 {
			t.Fatalf("created %+v from %+v", mt, s)
		}
	})
}
