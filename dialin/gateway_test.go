package dialin

import (
	"context"
	"strings"
	"testing"
	"time"

	"aula/room"
)

const testNumber = "+4930123456789"

func TestRightPINJoinsMasked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mt, _, _ := e.meeting("right-pin", "24680", true)
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	p.waitPrompt("en", promptWelcome)
	p.digits4733("24680#")
	eventually(t, 5*time.Second, "caller in the room", func() bool {
		ps := e.phones(mt.Key)
		return len(ps) == 1 && ps[0].InRoom
	})
	got := e.phones(mt.Key)[0]
	if got.Name != "Phone ···789" {
		t.Errorf("name = %q, want %q", got.Name, "Phone ···789")
	}
	if got.Kind != room.Phone || got.Role != room.Viewer || !got.Voice {
		t.Errorf("participant = %+v, want a phone viewer with voice", got)
	}
	p.waitPrompt("en", promptJoined)
	if e.gw.Calls() != 1 {
		t.Errorf("Calls() = %d, want 1", e.gw.Calls())
	}
	p.hangup()
	eventually(t, 5*time.Second, "caller gone after BYE", func() bool { return len(e.phones(mt.Key)) == 0 && e.gw.Calls() == 0 })
}

func TestWrongPINThreeTimesHangsUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.meeting("wrong-pin", "11111", true)
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	p.digits4733("22222#")
	p.waitPrompt("en", promptWrongPIN)
	p.digits4733("33333#")
	eventually(t, 5*time.Second, "second wrong PIN counted", func() bool { return strings.Count(e.log.String(), "msg=\"wrong PIN\"") >= 2 })
	p.digits4733("44444#")
	p.waitPrompt("en", promptGoodbye)
	p.waitBye(10 * time.Second)
	eventually(t, 5*time.Second, "call gone", func() bool { return e.gw.Calls() == 0 })
}

func TestWithheldNumbersCounted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mt, _, _ := e.meeting("withheld", "13579", true)
	cases := []dialOpts{
		{From: "anonymous", Display: "Anonymous"},
		{From: testNumber, Privacy: "id"},
	}
	for i, o := range cases {
		p, err := dial(t, e.gw, o)
		if err != nil {
			t.Fatal(err)
		}
		p.digits4733("13579#")
		eventually(t, 5*time.Second, "caller joined", func() bool { return len(e.phones(mt.Key)) == i+1 })
	}
	names := map[string]bool{}
	for _, p := range e.phones(mt.Key) {
		names[p.Name] = true
		if p.UserID != "" {
			t.Errorf("withheld caller has a user ID %q", p.UserID)
		}
	}
	if !names["Phone 1"] || !names["Phone 2"] {
		t.Errorf("names = %v, want Phone 1 and Phone 2", names)
	}
	// Not its digits (random hex IDs in the log may hold "789" by
	// chance, so a longer tail), nor the name it would have had.
	if l := e.log.String(); strings.Contains(l, "3456789") || strings.Contains(l, "···789") {
		t.Errorf("a withheld number reached the log")
	}
}

func TestINFODTMF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mt, _, _ := e.meeting("info", "97531", true)
	p, err := dial(t, e.gw, dialOpts{From: testNumber, Codecs: "0 8"})
	if err != nil {
		t.Fatal(err)
	}
	p.digitsInfo("97531#")
	eventually(t, 5*time.Second, "caller joined via INFO", func() bool { return len(e.phones(mt.Key)) == 1 })
}

func TestInbandDTMF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mt, _, _ := e.meeting("inband", "86420", true)
	for _, codecs := range []string{"0", "8"} { // PCMU and PCMA
		p, err := dial(t, e.gw, dialOpts{From: testNumber, Codecs: codecs})
		if err != nil {
			t.Fatal(err)
		}
		p.digitsInband("86420#")
		eventually(t, 8*time.Second, "caller joined via in-band tones ("+codecs+")", func() bool { return len(e.phones(mt.Key)) == 1 })
		p.hangup()
		eventually(t, 5*time.Second, "caller left", func() bool { return len(e.phones(mt.Key)) == 0 })
	}
}

func TestRateLimitRefusesEarly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) {
		c.CallerLimit = RateLimit{Burst: 2, Every: time.Hour}
		c.PINTries = 5
	})
	e.meeting("ratelimit", "55555", true)
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	p.digits4733("12345#")
	p.waitPrompt("en", promptWrongPIN)
	p.digits4733("12346#") // the budget's last check: goodbye, no PIN asked for that could not be checked
	p.waitPrompt("en", promptGoodbye)
	p.waitBye(10 * time.Second)
	if n := e.store.pinLookups.Load(); n != 2 {
		t.Errorf("%d PINs checked; the number's budget is 2", n)
	}

	_, err = dial(t, e.gw, dialOpts{From: testNumber})
	if statusOf(err) != 403 {
		t.Fatalf("second call: err = %v, want a 403", err)
	}
	// Another number from the same trunk may still call.
	if _, err := dial(t, e.gw, dialOpts{From: "+49301111222"}); err != nil {
		t.Fatalf("another caller refused: %v", err)
	}
}

func TestEndedRoomPINIsDead(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.PINTries = 1 })
	mt, _, _ := e.meeting("ended", "77777", true)
	if err := e.mgr.End(context.Background(), mt.Key, room.ReasonAPI); err != nil {
		t.Fatal(err)
	}
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	p.digits4733("77777#")
	p.waitBye(10 * time.Second)
	if !strings.Contains(e.log.String(), "reason=\"wrong PIN\"") {
		t.Errorf("the PIN of an ended room was not refused")
	}
}

func TestNotStartedRoomWaitsForModerator(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mt, _, evs := e.meeting("lobby", "31415", false)
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	p.digits4733("31415#")
	p.waitPrompt("en", promptWait)
	if ps := e.phones(mt.Key); len(ps) != 1 || ps[0].InRoom {
		t.Fatalf("caller should wait in the lobby: %+v", ps)
	}
	e.moderator(mt.Key, evs)
	eventually(t, 5*time.Second, "caller admitted", func() bool {
		ps := e.phones(mt.Key)
		return len(ps) == 1 && ps[0].InRoom && ps[0].Audio
	})
	p.waitPrompt("en", promptJoined)
}

func TestRoomEndSendsBye(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mt, _, _ := e.meeting("end-bye", "27182", true)
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	p.digits4733("27182#")
	eventually(t, 5*time.Second, "caller joined", func() bool { return len(e.phones(mt.Key)) == 1 })
	if err := e.mgr.End(context.Background(), mt.Key, room.ReasonModerator); err != nil {
		t.Fatal(err)
	}
	p.waitPrompt("en", promptEnded)
	p.waitBye(10 * time.Second)
}

func TestModeratorMuteAndRemove(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mt, mod, _ := e.meeting("mute", "16180", true)
	p, err := dial(t, e.gw, dialOpts{From: testNumber})
	if err != nil {
		t.Fatal(err)
	}
	p.digits4733("16180#")
	eventually(t, 5*time.Second, "caller joined unmuted", func() bool {
		ps := e.phones(mt.Key)
		return len(ps) == 1 && ps[0].Audio
	})
	id := e.phones(mt.Key)[0].ID
	if err := mod.Mute(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	p.waitPrompt("en", promptMuted)
	// Key 0 unmutes oneself again.
	p.digits4733("0")
	eventually(t, 5*time.Second, "caller unmuted by key 0", func() bool {
		ps := e.phones(mt.Key)
		return len(ps) == 1 && ps[0].Audio && !ps[0].Muted
	})
	p.waitPrompt("en", promptUnmuted)
	p.digits4733("0")
	eventually(t, 5*time.Second, "caller muted by key 0", func() bool {
		ps := e.phones(mt.Key)
		return len(ps) == 1 && !ps[0].Audio
	})
	if err := mod.Remove(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	p.waitBye(10 * time.Second)
}

// The trunk's address is shared by all its callers: its own, larger
// budget still stops a guesser who hides the number or keeps it, while a
// number without a failure may still try (from the reserve for new
// numbers, see TestTrunkAttackLeavesRoomForAnHonestCaller).
func TestSourceRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) {
		c.SourceLimit = RateLimit{Burst: 1, Every: time.Hour}
		c.PINTries = 1
	})
	e.meeting("source-limit", "56789", true)
	p, err := dial(t, e.gw, dialOpts{From: "+49302222333"})
	if err != nil {
		t.Fatal(err)
	}
	p.digits4733("12345#")
	p.waitBye(10 * time.Second)
	for _, from := range []string{"anonymous", "+49302222333"} {
		if _, err := dial(t, e.gw, dialOpts{From: from}); statusOf(err) != 403 {
			t.Errorf("call from %s from the exhausted source: err = %v, want a 403", from, err)
		}
	}
	if _, err := dial(t, e.gw, dialOpts{From: "+49301111222"}); err != nil {
		t.Errorf("a new number from the exhausted source: %v, want an answer", err)
	}
}
