package dialin

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"aula/room"
)

// A 1 kHz tone the caller sends as G.711 arrives in the room as Opus that
// decodes to 1 kHz; a 600 Hz tone published into the room as Opus reaches
// the caller's G.711. Both run through the real codecs.
func TestAudioBothWays(t *testing.T) {
	if raceEnabled {
		t.Skip("real-time Opus bridge is too slow under the race detector")
	}
	t.Parallel()
	for _, codecs := range []string{"0 101", "8 101"} {
		t.Run(codecs, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			mt, _, _ := e.meeting("audio-"+codecs[:1], "4242"+codecs[:1], true)
			ear := newRoomEar(t, e.hub, mt.Key, "trainer-media")
			p, err := dial(t, e.gw, dialOpts{From: testNumber, Codecs: codecs})
			if err != nil {
				t.Fatal(err)
			}
			p.digits4733(mt.PIN + "#")
			eventually(t, 5*time.Second, "caller joined", func() bool {
				ps := e.phones(mt.Key)
				return len(ps) == 1 && ps[0].Audio
			})
			caller := e.phones(mt.Key)[0].ID

			// Caller → room.
			p.setSource(tone(1000, 8000))
			eventually(t, 5*time.Second, "1 kHz from the caller in the room", func() bool {
				pcm, _ := ear.last(caller)
				return len(pcm) >= roomFrame && toneShare32(pcm[len(pcm)-roomFrame:], 1000, roomRate) > 0.7
			})
			pcm, _ := ear.last(caller)
			if s := toneShare32(pcm[len(pcm)-roomFrame:], 600, roomRate); s > 0.05 {
				t.Errorf("room hears 600 Hz share %.2f in a 1 kHz tone", s)
			}

			// Room → caller, after the "joined" prompt.
			stop := make(chan struct{})
			defer close(stop)
			go speak(t, ear.media, 600, stop)
			eventually(t, 10*time.Second, "600 Hz from the room at the caller", func() bool {
				return toneShare(p.lastPCM(phoneFrame), 600, phoneRate) > 0.7
			})
			// The caller's own voice is not mixed back.
			if s := toneShare(p.lastPCM(phoneFrame), 1000, phoneRate); s > 0.05 {
				t.Errorf("caller hears own 1 kHz tone back (share %.2f)", s)
			}
		})
	}
}

// Two callers in one meeting hear each other through the room.
func TestCallersHearEachOther(t *testing.T) {
	if raceEnabled {
		t.Skip("real-time Opus bridge is too slow under the race detector")
	}
	t.Parallel()
	e := newEnv(t, nil)
	mt, _, _ := e.meeting("two-callers", "50505", true)
	a, err := dial(t, e.gw, dialOpts{From: "+49301234001"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := dial(t, e.gw, dialOpts{From: "+49301234002"})
	if err != nil {
		t.Fatal(err)
	}
	a.digits4733("50505#")
	b.digits4733("50505#")
	eventually(t, 5*time.Second, "both joined", func() bool { return len(e.phones(mt.Key)) == 2 })
	a.setSource(tone(800, 8000))
	eventually(t, 10*time.Second, "b hears a's 800 Hz", func() bool { return toneShare(b.lastPCM(phoneFrame), 800, phoneRate) > 0.7 })
	// Muting a (key 0) silences it for b.
	a.digits4733("0")
	eventually(t, 5*time.Second, "a muted", func() bool {
		for _, p := range e.phones(mt.Key) {
			if strings.HasSuffix(p.Name, "001") {
				return !p.Audio
			}
		}
		return false
	})
	eventually(t, 5*time.Second, "b no longer hears a", func() bool { return toneShare(b.lastPCM(phoneFrame), 800, phoneRate) < 0.1 })
}

// The full calling number appears in nothing the room, its clients or
// the store see: only once in the server log, with the call ID.
func TestNumberOnlyInServerLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	mt, mod, evs := e.meeting("privacy", "60606", true)
	p, err := dial(t, e.gw, dialOpts{From: testNumber, Display: "Erika Mustermann"})
	if err != nil {
		t.Fatal(err)
	}
	p.digits4733("60606#")
	eventually(t, 5*time.Second, "caller joined", func() bool { return len(e.phones(mt.Key)) == 1 })
	p.digits4733("0") // a state change, so more events and store writes happen
	eventually(t, 5*time.Second, "caller muted", func() bool { return !e.phones(mt.Key)[0].Audio })

	forbidden := []string{"4930123456789", "30123456789", "123456789", "Erika"}
	check := func(where, s string) {
		for _, f := range forbidden {
			if strings.Contains(s, f) {
				t.Errorf("%s contains %q: %s", where, f, s)
			}
		}
	}
	for k, v := range e.store.Dump() {
		check("store key", k)
		check("store value", v)
	}
	for _, ev := range evs.all() {
		b, _ := json.Marshal(ev)
		check("event", string(b))
	}
	snap, err := mod.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(snap)
	check("snapshot", string(b))
	ps, _ := e.mgr.Participants(context.Background(), mt.Key)
	b, _ = json.Marshal(ps)
	check("participants", string(b))
	if !strings.Contains(string(b), "Phone ···789") {
		t.Errorf("masked name missing: %s", b)
	}
	mts, _ := e.mgr.Meetings(context.Background())
	b, _ = json.Marshal(mts)
	check("meetings", string(b))

	p.hangup()
	eventually(t, 5*time.Second, "call ended", func() bool { return e.gw.Calls() == 0 })
	logs := e.log.String()
	// Not as a value of its own (random hex IDs may contain the digits).
	if regexp.MustCompile(`(^|[^0-9a-f])` + mt.PIN + `([^0-9a-f]|$)`).MatchString(logs) {
		t.Errorf("the PIN reached the log")
	}
	if n := strings.Count(logs, testNumber[1:]); n != 1 {
		t.Errorf("the number appears %d times in the server log, want once:\n%s", n, logs)
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, testNumber[1:]) && !strings.Contains(line, "call=") {
			t.Errorf("the number's log line has no call ID: %s", line)
		}
	}
	// The meeting's HMAC key dies with the meeting.
	if err := e.mgr.End(context.Background(), mt.Key, room.ReasonAPI); err != nil {
		t.Fatal(err)
	}
	if n := e.gw.secrets.len(); n != 0 {
		t.Errorf("%d meeting secrets left after the end", n)
	}
}
