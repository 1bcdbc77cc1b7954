package dialin

import (
	"errors"
	"math"
	"net/netip"
	"slices"
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

// The parts of the limiter admission uses: a token taken and given back,
// whether a key failed lately, and reservations served in order.
func TestLimiterSpendAndRefund(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(RateLimit{Burst: 2, Every: time.Minute}, func() time.Time { return now })
	if ok, full := l.takeFull("a"); !ok || !full {
		t.Fatalf("first take: ok %v full %v", ok, full)
	}
	if ok, full := l.takeFull("a"); !ok || full {
		t.Fatalf("second take: ok %v full %v, want ok and not full", ok, full)
	}
	l.give("a")
	l.give("a")
	l.give("a") // never beyond the burst
	if !l.full("a") || !l.full("never-seen") {
		t.Fatal("given back, the bucket is not full")
	}
	if ok, _ := l.takeFull("a"); !ok {
		t.Fatal("refunded token missing")
	}
	l.take("a")
	if ok, _ := l.takeFull("a"); ok {
		t.Fatal("a third token out of a burst of two")
	}

	// Reservations: two now, then one a minute away, one two minutes
	// away; beyond maxWait none, and nothing taken for it.
	r := newLimiter(RateLimit{Burst: 2, Every: time.Minute}, func() time.Time { return now })
	var dues []time.Duration
	for range 4 {
		due, ok := r.reserve("", 2*time.Minute)
		if !ok {
			t.Fatalf("reservation %d refused", len(dues))
		}
		dues = append(dues, due.Sub(now))
	}
	if want := []time.Duration{0, 0, time.Minute, 2 * time.Minute}; !slices.Equal(dues, want) {
		t.Errorf("due in %v, want %v", dues, want)
	}
	if _, ok := r.reserve("", 2*time.Minute); ok {
		t.Error("reservation beyond maxWait granted")
	}
	r.give("") // a cancelled reservation repays its debt
	if due, ok := r.reserve("", 2*time.Minute); !ok || due.Sub(now) != 2*time.Minute {
		t.Errorf("after a cancel: due %v ok %v", due.Sub(now), ok)
	}
	now = now.Add(3 * time.Minute)
	if due, ok := r.reserve("", 0); !ok || !due.Equal(now) {
		t.Errorf("after the debt is repaid: due %v ok %v", due, ok)
	}
}

// Who pays for a check: the number and the source, or the reserve for a
// number without failures once the source has nothing left; a right PIN
// gives the tokens back; a refused check spends nothing.
func TestAdmissionBudgets(t *testing.T) {
	now := time.Unix(1000, 0)
	cfg := Config{
		Now:         func() time.Time { return now },
		CallerLimit: RateLimit{Burst: 3, Every: time.Hour}, SourceLimit: RateLimit{Burst: 1, Every: time.Hour},
		FreshLimit: RateLimit{Burst: 2, Every: time.Hour}, PendingPerSource: 1, MaxPending: 2,
	}
	a := newAdmission(&cfg)
	src := netip.MustParseAddr("192.0.2.1")
	t1, err := a.spend(src, "n1", nil)
	if err != nil || !t1.fromSource {
		t.Fatalf("first check: %+v %v", t1, err)
	}
	if _, err := a.spend(src, "", nil); !errors.Is(err, ErrRateLimited) {
		t.Errorf("withheld number with the source spent: %v, want ErrRateLimited", err)
	}
	if t2, err := a.spend(src, "n2", nil); err != nil || !t2.fromFresh {
		t.Errorf("new number with the source spent: %+v %v, want the reserve", t2, err)
	}
	if _, err := a.spend(src, "n1", nil); !errors.Is(err, ErrRateLimited) {
		t.Errorf("a number that checked before gets no reserve: %v", err)
	}
	if !a.caller.full("n3") || a.caller.full("n1") {
		t.Error("a refused check spent the number's token")
	}
	a.refund(t1) // n1's PIN was right
	if err := a.mayCall(src, ""); err != nil {
		t.Errorf("the source's token was not given back: %v", err)
	}
	if _, err := a.spend(src, "n3", nil); err != nil {
		t.Fatal(err)
	}
	if t4, err := a.spend(src, "n4", nil); err != nil || !t4.fromFresh {
		t.Fatalf("second reserve token: %+v %v", t4, err)
	}
	if _, err := a.spend(src, "n5", nil); !errors.Is(err, ErrRateLimited) {
		t.Errorf("reserve empty, no wait allowed: %v", err)
	}
	if err := a.mayCall(src, "n5"); err != nil {
		t.Errorf("a new number may still call (and queue when FreshWait allows): %v", err)
	}

	leave, err := a.enter(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.enter(src); !errors.Is(err, ErrTooManyPending) {
		t.Errorf("second pending call from one source: %v", err)
	}
	leave2, err := a.enter(netip.MustParseAddr("192.0.2.2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.enter(netip.MustParseAddr("192.0.2.3")); !errors.Is(err, ErrTooManyPending) {
		t.Errorf("pending calls over the total: %v", err)
	}
	leave()
	leave() // once only
	leave2()
	if a.nPending != 0 || len(a.pending) != 0 {
		t.Errorf("pending after leaving: %d %v", a.nPending, a.pending)
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
