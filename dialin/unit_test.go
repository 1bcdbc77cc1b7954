package dialin

import (
	"math"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestCallerNumber(t *testing.T) {
	cases := []struct {
		name, user, display, privacy string
		digits                       string
		withheld                     bool
	}{
		{"e164", "+4930123456789", "", "", "4930123456789", false},
		{"national", "030123456789", "", "", "030123456789", false},
		{"anonymous user", "anonymous", "", "", "", true},
		{"anonymous display", "", "Anonymous", "", "", true},
		{"privacy id", "+4930123456789", "", "id", "", true},
		{"privacy user;critical", "+4930123456789", "", "user; critical", "", true},
		{"privacy none", "+4930123456789", "", "none", "4930123456789", false},
		{"no digits", "restricted", "", "", "", true},
		{"too short", "123", "", "", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := sip.NewRequest(sip.INVITE, sip.Uri{Host: "x"})
			req.AppendHeader(&sip.FromHeader{DisplayName: tc.display, Address: sip.Uri{User: tc.user, Host: "t"}, Params: sip.NewParams()})
			if tc.privacy != "" {
				req.AppendHeader(sip.NewHeader("Privacy", tc.privacy))
			}
			d, w := callerNumber(req)
			if d != tc.digits || w != tc.withheld {
				t.Errorf("= %q, %v; want %q, %v", d, w, tc.digits, tc.withheld)
			}
		})
	}
}

func TestIdentityKeyedPerMeeting(t *testing.T) {
	s := newSecrets()
	n1, u1 := s.identity("m1", "4930123456789", false)
	_, u1again := s.identity("m1", "4930123456789", false)
	_, u2 := s.identity("m2", "4930123456789", false)
	if n1 != "Phone ···789" {
		t.Errorf("name = %q", n1)
	}
	if u1 != u1again {
		t.Errorf("same number, same meeting: %q != %q", u1, u1again)
	}
	if u1 == u2 {
		t.Errorf("same number in two meetings is linkable: %q", u1)
	}
	s.forget("m1")
	if _, u := s.identity("m1", "4930123456789", false); u == u1 {
		t.Errorf("identity survived the meeting's end")
	}
	if a, _ := s.identity("m2", "", true); a != "Phone 1" {
		t.Errorf("first withheld = %q", a)
	}
	if a, _ := s.identity("m2", "", true); a != "Phone 2" {
		t.Errorf("second withheld = %q", a)
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(RateLimit{Burst: 2, Every: time.Minute}, func() time.Time { return now })
	if !l.take("a") || !l.take("a") {
		t.Fatal("burst refused")
	}
	if l.take("a") || l.allowed("a") {
		t.Fatal("third attempt allowed")
	}
	if !l.allowed("b") {
		t.Fatal("another key limited")
	}
	now = now.Add(time.Minute)
	if !l.allowed("a") || !l.take("a") || l.take("a") {
		t.Fatal("refill is not one per minute")
	}
	now = now.Add(time.Hour)
	l.take("c")
	if _, ok := l.buckets["a"]; ok {
		t.Errorf("a full bucket was kept")
	}
}

func TestJitterBuffer(t *testing.T) {
	cases := []struct {
		name string
		in   []uint16 // arrival order
		want []int    // popped payload ids, -1 for nothing
	}{
		{"in order", []uint16{1, 2, 3, 4}, []int{1, 2, 3, 4, -1}},
		{"reordered", []uint16{2, 1, 4, 3}, []int{1, 2, 3, 4, -1}},
		{"loss skipped", []uint16{1, 2, 4, 5}, []int{1, 2, -1, 4, 5}},
		{"wraps", []uint16{65534, 65535, 0, 1}, []int{65534, 65535, 0, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := newJitterBuffer()
			for _, s := range tc.in {
				j.push(s, []byte{byte(s >> 8), byte(s)})
			}
			for i, w := range tc.want {
				p := j.pop()
				got := -1
				if p != nil {
					got = int(p[0])<<8 | int(p[1])
				}
				if got != w {
					t.Fatalf("pop %d = %d, want %d", i, got, w)
				}
			}
		})
	}
	// A late packet after its slot was played is dropped.
	j := newJitterBuffer()
	j.push(10, []byte{10})
	j.push(11, []byte{11})
	j.pop()
	j.push(9, []byte{9})
	if p := j.pop(); p == nil || p[0] != 11 {
		t.Errorf("late packet disturbed the order: %v", p)
	}
}

func TestAudioLevel(t *testing.T) {
	full := make([]int16, 160)
	for i := range full {
		full[i] = int16(32767 * math.Sin(2*math.Pi*float64(i)/16))
	}
	if l := audioLevel(full); l > 4 {
		t.Errorf("full-scale sine level = %d, want about 3", l)
	}
	if l := audioLevel(make([]int16, 160)); l != 127 {
		t.Errorf("silence level = %d, want 127", l)
	}
}

// The resamplers keep a tone's frequency and level, 8 → 48 → 8 kHz.
func TestResampleRoundTrip(t *testing.T) {
	var up upsampler
	var down downsampler
	var hi []float32
	var back []int16
	for f := 0; f < 20; f++ {
		in := make([]int16, phoneFrame)
		for i := range in {
			in[i] = int16(10000 * math.Sin(2*math.Pi*1000*float64(f*phoneFrame+i)/8000))
		}
		hi = up.process(in, hi[:0])
		if len(hi) != roomFrame {
			t.Fatalf("up: %d samples", len(hi))
		}
		if s := toneShare32(hi, 1000, roomRate); f > 2 && s < 0.9 {
			t.Fatalf("48 kHz frame %d: 1 kHz share %.2f", f, s)
		}
		back = down.process(hi, back[:0])
	}
	if len(back) != phoneFrame {
		t.Fatalf("down: %d samples", len(back))
	}
	if s := toneShare(back, 1000, phoneRate); s < 0.9 {
		t.Errorf("back at 8 kHz: 1 kHz share %.2f", s)
	}
	if l := audioLevel(back); l < 9 || l > 13 {
		t.Errorf("level after round trip %d dBov, want about 13 (a 10000-peak sine)", l)
	}
}

// The mixer never plays the caller's own frames and stays silent without
// sources.
func TestMixerExcludesSelf(t *testing.T) {
	enc, err := newOpusEncoder()
	if err != nil {
		t.Fatal(err)
	}
	m := newMixer("me")
	for i := 0; i < 10; i++ {
		pcm := make([]int16, phoneFrame)
		for j := range pcm {
			pcm[j] = int16(8000 * math.Sin(2*math.Pi*500*float64(i*phoneFrame+j)/8000))
		}
		op, _, err := enc.encode(pcm)
		if err != nil {
			t.Fatal(err)
		}
		m.push("me", op)
	}
	for i := 0; i < 5; i++ {
		if _, heard := m.frame(); heard {
			t.Fatal("own voice mixed back")
		}
	}
	m.push("other", []byte{0xff, 0xff, 0xff}) // garbage must not break the mix
	m.push("other", []byte{0xff, 0xff, 0xff})
	m.frame()
}

func TestPromptsComplete(t *testing.T) {
	for _, lang := range Languages {
		p, err := loadPrompts(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range promptNames {
			if d := time.Duration(len(p[n])) * time.Second / phoneRate; d < 500*time.Millisecond || d > 8*time.Second {
				t.Errorf("%s/%s lasts %v", lang, n, d)
			}
		}
	}
}
