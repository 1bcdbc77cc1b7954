package dialin

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thesyncim/gopus"

	"aula/dialin/siptest"
	"aula/internal/testenv"
	"aula/room"
	"aula/store"
)

// countingStore is the memory store counting the PIN lookups that reach
// it: the honest measure of how many PINs an attacker had checked.
type countingStore struct {
	*store.Memory
	pinLookups atomic.Int64
}

func (s *countingStore) MeetingByPIN(ctx context.Context, pin string) (string, error) {
	s.pinLookups.Add(1)
	return s.Memory.MeetingByPIN(ctx, pin)
}

// fakeClock is the rate limiters' clock (Config.Now), moved by the test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a gateway on loopback over a real room.Manager with the memory
// store and the in-process LoopHub as media.
type env struct {
	t     *testing.T
	store *countingStore
	mgr   *room.Manager
	hub   *LoopHub
	gw    *Gateway
	log   *testenv.LogBuffer
}

func newEnv(t *testing.T, mut func(*Config)) *env {
	t.Helper()
	logs := &testenv.LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st := &countingStore{Memory: store.NewMemory(nil)}
	mgr := room.NewManager(room.Config{Logger: log}, st, nil)
	hub := NewLoopHub()
	cfg := Config{
		Addr: "127.0.0.1:0", RTPPortMin: 30000, RTPPortMax: 39999,
		PINAnswerTime: 20 * time.Millisecond, PINTimeout: 3 * time.Second,
	}
	if mut != nil {
		mut(&cfg)
	}
	gw, err := New(cfg, mgr, hub.Open, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return &env{t: t, store: st, mgr: mgr, hub: hub, gw: gw, log: logs}
}

// meeting creates a meeting with pin; started makes a moderator attach so
// that it runs. It returns the meeting and the moderator's events.
func (e *env) meeting(id, pin string, started bool) (*room.Meeting, *room.Member, *eventLog) {
	e.t.Helper()
	ctx := context.Background()
	mt, _, err := e.mgr.Create(ctx, room.Settings{MeetingID: id, Name: id, PIN: pin})
	if err != nil {
		e.t.Fatal(err)
	}
	evs := &eventLog{}
	if !started {
		return mt, nil, evs
	}
	return mt, e.moderator(mt.Key, evs), evs
}

func (e *env) moderator(key string, evs *eventLog) *room.Member {
	e.t.Helper()
	m, err := e.mgr.Attach(context.Background(), key, room.Identity{ParticipantID: room.NewID(), Name: "Trainer", Role: room.Moderator, Kind: room.Browser}, evs)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// phoneIn returns the meeting's phone participants.
func (e *env) phones(key string) []*room.Participant {
	ps, err := e.mgr.Participants(context.Background(), key)
	if err != nil {
		return nil
	}
	var out []*room.Participant
	for _, p := range ps {
		if p.Kind == room.Phone {
			out = append(out, p)
		}
	}
	return out
}

// eventLog records room events (a room.Listener).
type eventLog struct {
	mu  sync.Mutex
	evs []room.Event
}

func (l *eventLog) Notify(e room.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, e)
	l.mu.Unlock()
}

func (l *eventLog) all() []room.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]room.Event(nil), l.evs...)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, d, what, cond)
}

// phone is siptest's phone bound to a test.
type phone struct {
	*siptest.Phone
	t *testing.T
}

type dialOpts = siptest.Options

// dial calls the gateway; a refused call's error gives its status through
// statusOf.
func dial(t *testing.T, gw *Gateway, o dialOpts) (*phone, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := siptest.Dial(ctx, gw.Addr(), o)
	if err != nil {
		return nil, err
	}
	t.Cleanup(p.Close)
	return &phone{Phone: p, t: t}, nil
}

func statusOf(err error) int { return siptest.StatusOf(err) }

func (p *phone) hangup() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Hangup(ctx); err != nil {
		p.t.Errorf("bye: %v", err)
	}
}

func (p *phone) digits4733(keys string)   { p.Digits4733(keys) }
func (p *phone) digitsInband(keys string) { p.DigitsInband(keys) }
func (p *phone) setSource(g func(int) int16) {
	p.SetSource(g)
}
func (p *phone) lastPCM(n int) []int16 { return p.LastPCM(n) }

func (p *phone) digitsInfo(keys string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.DigitsINFO(ctx, keys); err != nil {
		p.t.Error(err)
	}
}

func keyFreqs(k byte) (float64, float64) {
	r, c, ok := siptest.KeyFreqs(k)
	if !ok {
		panic("no key")
	}
	return r, c
}

var tone = siptest.Tone

// heardPrompt reports whether the phone received (a characteristic piece
// of) the named prompt, in the call's codec.
func (p *phone) heardPrompt(lang, name string) bool {
	pr, err := loadPrompts(lang)
	if err != nil {
		p.t.Fatal(err)
	}
	b := pr[name]
	// A loud 40 ms piece from the first second of the prompt.
	piece := b[len(b)/8 : len(b)/8+320]
	c := codec{ulaw: p.ULaw()}
	want := make([]byte, len(piece))
	for i, x := range piece {
		want[i] = c.fromUlaw(x)
	}
	return bytes.Contains(p.Received(), want)
}

func (p *phone) waitPrompt(lang, name string) {
	p.t.Helper()
	eventually(p.t, 15*time.Second, "prompt "+name, func() bool { return p.heardPrompt(lang, name) })
}

func (p *phone) waitBye(d time.Duration) {
	p.t.Helper()
	select {
	case <-p.Byes():
	case <-time.After(d):
		p.t.Fatalf("no BYE from the gateway within %v", d)
	}
}

// toneShare is the share of a block's energy at freq (see relPower).
func toneShare(pcm []int16, freq, rate float64) float64 {
	f := make([]float64, len(pcm))
	var e float64
	for i, s := range pcm {
		f[i] = float64(s)
		e += f[i] * f[i]
	}
	return relPower(f, freq, rate, e)
}

func toneShare32(pcm []float32, freq, rate float64) float64 {
	f := make([]float64, len(pcm))
	var e float64
	for i, s := range pcm {
		f[i] = float64(s)
		e += f[i] * f[i]
	}
	return relPower(f, freq, rate, e)
}

// roomEar is a test participant on the room side of the LoopHub: it
// decodes every Opus frame it hears and keeps the last 100 ms per source.
type roomEar struct {
	media Media
	mu    sync.Mutex
	dec   map[string]*gopus.Decoder
	pcm   map[string][]float32
	n     map[string]int
}

func newRoomEar(t *testing.T, hub *LoopHub, key, id string) *roomEar {
	m, err := hub.Open(key, id)
	if err != nil {
		t.Fatal(err)
	}
	e := &roomEar{media: m, dec: map[string]*gopus.Decoder{}, pcm: map[string][]float32{}, n: map[string]int{}}
	m.OnOpus(func(src string, frame []byte) {
		e.mu.Lock()
		defer e.mu.Unlock()
		d := e.dec[src]
		if d == nil {
			d, _ = gopus.NewDecoder(gopus.DefaultDecoderConfig(roomRate, 1))
			e.dec[src] = d
		}
		out := make([]float32, roomFrame*6)
		n, err := d.Decode(frame, out)
		if err != nil {
			t.Errorf("room side cannot decode the caller's Opus: %v", err)
			return
		}
		e.pcm[src] = append(e.pcm[src], out[:n]...)
		if len(e.pcm[src]) > 4800 {
			e.pcm[src] = e.pcm[src][len(e.pcm[src])-4800:]
		}
		e.n[src]++
	})
	t.Cleanup(func() { m.Close() })
	return e
}

func (e *roomEar) last(src string) ([]float32, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]float32(nil), e.pcm[src]...), e.n[src]
}

// speak publishes a tone into the room as 20 ms Opus frames until stop.
func speak(t *testing.T, m Media, freq float64, stop <-chan struct{}) {
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: roomRate, Channels: 1, Application: gopus.ApplicationAudio})
	if err != nil {
		t.Error(err)
		return
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pcm := make([]float32, roomFrame)
	buf := make([]byte, maxOpusSize)
	n := 0
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for i := range pcm {
			pcm[i] = float32(0.3 * math.Sin(2*math.Pi*freq*float64(n)/roomRate))
			n++
		}
		k, err := enc.Encode(pcm, buf)
		if err != nil {
			t.Error(err)
			return
		}
		if err := m.PublishOpus(buf[:k], 10); err != nil && !errors.Is(err, errMediaClosed) {
			t.Error(err)
		}
	}
}
