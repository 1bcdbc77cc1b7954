package dialin

import (
	"errors"
	"math"
	"math/rand"
	"testing"
)

func TestParseTelephoneEvent(t *testing.T) {
	ev, err := ParseTelephoneEvent([]byte{11, 0x8a, 0x03, 0x20})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Event != 11 || !ev.End || ev.Volume != 10 || ev.Duration != 800 {
		t.Errorf("event = %+v", ev)
	}
	for _, bad := range [][]byte{nil, {1, 2, 3}, {16, 0, 0, 0}, {200, 0x80, 0, 1}} {
		if _, err := ParseTelephoneEvent(bad); !errors.Is(err, ErrBadDTMF) {
			t.Errorf("%v: err = %v, want ErrBadDTMF", bad, err)
		}
	}
}

// The tracker counts each key press once: retransmitted end packets are
// dropped, and a key whose end packet never came (baresip's last digit)
// is counted at its first packet.
func TestEventTracker(t *testing.T) {
	type pkt struct {
		ts  uint32
		ev  uint8
		end bool
	}
	cases := []struct {
		name string
		pkts []pkt
		want string
	}{
		{"start update end x3", []pkt{{100, 1, false}, {100, 1, false}, {100, 1, true}, {100, 1, true}, {100, 1, true}}, "1"},
		{"same key twice", []pkt{{100, 5, false}, {100, 5, true}, {900, 5, false}, {900, 5, true}}, "55"},
		{"no end packets", []pkt{{100, 2, false}, {100, 2, false}, {900, 11, false}}, "2#"},
		{"only end packets", []pkt{{100, 3, true}, {100, 3, true}, {100, 3, true}}, "3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tr eventTracker
			got := ""
			for _, p := range tc.pkts {
				if d, ok := tr.feed(p.ts, TelephoneEvent{Event: p.ev, End: p.end}); ok {
					got += string(d)
				}
			}
			if got != tc.want {
				t.Errorf("digits = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseInfoDTMF(t *testing.T) {
	cases := []struct {
		ct, body string
		want     byte
		err      bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', false},
		{"Application/DTMF-Relay; charset=x", "signal= #\nduration=100", '#', false},
		{"application/dtmf-relay", "Signal=11\r\n", '#', false},
		{"application/dtmf", "*", '*', false},
		{"application/dtmf", "d", 'D', false},
		{"application/dtmf-relay", "Duration=160", 0, true},
		{"application/dtmf-relay", "Signal=X", 0, true},
		{"application/dtmf", "55", 0, true},
		{"text/plain", "5", 0, true},
	}
	for _, tc := range cases {
		d, err := ParseInfoDTMF(tc.ct, []byte(tc.body))
		if tc.err {
			if !errors.Is(err, ErrBadDTMF) {
				t.Errorf("%q %q: err = %v, want ErrBadDTMF", tc.ct, tc.body, err)
			}
			continue
		}
		if err != nil || d != tc.want {
			t.Errorf("%q %q = %q, %v; want %q", tc.ct, tc.body, d, err, tc.want)
		}
	}
}

func dtmfPCM(keys string, amp float64, toneMs, gapMs int, noise float64) []int16 {
	var out []int16
	rng := rand.New(rand.NewSource(1))
	n := 0
	for i := 0; i < len(keys); i++ {
		r, c := keyFreqs(keys[i])
		for j := 0; j < toneMs*8; j++ {
			t := float64(n) / 8000
			v := amp*math.Sin(2*math.Pi*r*t) + amp*math.Sin(2*math.Pi*c*t) + noise*rng.NormFloat64()
			out = append(out, clip16(v))
			n++
		}
		for j := 0; j < gapMs*8; j++ {
			out = append(out, clip16(noise*rng.NormFloat64()))
			n++
		}
	}
	return out
}

func TestToneDetector(t *testing.T) {
	cases := []struct {
		name  string
		pcm   []int16
		want  string
		codec *codec
	}{
		{"all keys", dtmfPCM("0123456789*#ABCD", 5000, 80, 60, 0), "0123456789*#ABCD", nil},
		{"through PCMU", dtmfPCM("86420#", 5000, 70, 50, 100), "86420#", &codec{ulaw: true}},
		{"through PCMA", dtmfPCM("13579*", 5000, 70, 50, 100), "13579*", &codec{ulaw: false}},
		{"long press counts once", dtmfPCM("5", 5000, 600, 50, 0), "5", nil},
		{"too quiet", dtmfPCM("5", 80, 100, 50, 0), "", nil},
		{"single tone is no key", func() []int16 {
			var p []int16
			for i := 0; i < 8000; i++ {
				p = append(p, int16(8000*math.Sin(2*math.Pi*697*float64(i)/8000)))
			}
			return p
		}(), "", nil},
		{"noise is no key", dtmfPCM("", 0, 0, 0, 0), "", nil},
	}
	noise := make([]int16, 16000)
	rng := rand.New(rand.NewSource(2))
	for i := range noise {
		noise[i] = clip16(3000 * rng.NormFloat64())
	}
	cases[len(cases)-1].pcm = noise
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pcm := tc.pcm
			if tc.codec != nil {
				pcm = tc.codec.decode(tc.codec.encode(pcm, nil), nil)
			}
			var d toneDetector
			var got []byte
			for i := 0; i < len(pcm); i += phoneFrame {
				got = d.feed(pcm[i:min(i+phoneFrame, len(pcm))], got)
			}
			if string(got) != tc.want {
				t.Errorf("keys = %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzParseTelephoneEvent(f *testing.F) {
	f.Add([]byte{1, 0x8a, 0, 160})
	f.Add([]byte{11, 0, 1, 0, 9, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseTelephoneEvent(b)
		if err != nil {
			if !errors.Is(err, ErrBadDTMF) {
				t.Fatalf("error %v is not ErrBadDTMF", err)
			}
			return
		}
		if _, ok := eventDigit(ev.Event); !ok {
			t.Fatalf("accepted event %d", ev.Event)
		}
	})
}

func FuzzParseInfoDTMF(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Fuzz(func(t *testing.T, ct string, b []byte) {
		d, err := ParseInfoDTMF(ct, b)
		if err != nil {
			if !errors.Is(err, ErrBadDTMF) {
				t.Fatalf("error %v is not ErrBadDTMF", err)
			}
			return
		}
		if _, ok := digitEvent(d); !ok {
			t.Fatalf("accepted digit %q", d)
		}
	})
}

// Speech is not a key press: all prompts, in both languages, pass the
// tone detector without a digit (a false '0' would mute a caller).
func TestToneDetectorIgnoresSpeech(t *testing.T) {
	for _, lang := range Languages {
		p, err := loadPrompts(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range promptNames {
			pcm := codec{ulaw: true}.decode(p[name], nil)
			var d toneDetector
			if got := d.feed(pcm, nil); len(got) > 0 {
				t.Errorf("%s/%s: detected %q in speech", lang, name, got)
			}
		}
	}
}
