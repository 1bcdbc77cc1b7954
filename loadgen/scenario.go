package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ScenarioOptions are what the signaling-only scenarios (RunWhiteboard,
// RunNotes) share: the server, the meeting, and the timing of the run.
type ScenarioOptions struct {
	// URL is the server's public base URL; Secret its BBB shared secret.
	URL    string
	Secret string
	// MeetingID names the meeting to create; empty: a random one.
	MeetingID string
	// Duration is the measurement window; Warmup the load before it.
	// Default warm-up 3 s.
	Duration, Warmup time.Duration
	// Drain is how long to wait after the window for messages still on
	// their way. Default 5 s.
	Drain time.Duration
	// Settle bounds the wait, before anything starts, for the server to
	// be idle (under 5 % of a core over a second; a fresh server compiles
	// its PDF renderer for some seconds). 0: 30 s; negative: no wait.
	Settle time.Duration
	// JoinConcurrency is how many participants join at once (default 8);
	// JoinTimeout bounds one join (default 30 s).
	JoinConcurrency int
	JoinTimeout     time.Duration
	// Logger gets progress lines; nil discards them.
	Logger *slog.Logger
}

// AddFlags registers the shared options as command-line flags of a
// scenario's command; getenv supplies the secret's default
// ($AULA_SECRET).
func (o *ScenarioOptions) AddFlags(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "server base URL (its AULA_PUBLIC_URL)")
	fs.StringVar(&o.Secret, "secret", getenv("AULA_SECRET"), "BigBlueButton shared secret (default $AULA_SECRET)")
	fs.StringVar(&o.MeetingID, "meeting", "", "meeting ID to create (default: random)")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "measurement window")
	fs.DurationVar(&o.Warmup, "warmup", 3*time.Second, "load before the window")
	fs.DurationVar(&o.Drain, "drain", 5*time.Second, "longest wait after the window for messages on their way")
	fs.DurationVar(&o.Settle, "settle", 30*time.Second, "longest wait for the server to be idle before starting (negative: none)")
	fs.IntVar(&o.JoinConcurrency, "join-concurrency", 8, "participants joining at once")
	fs.DurationVar(&o.JoinTimeout, "join-timeout", 30*time.Second, "longest one join may take")
}

// check names what is wrong with the shared options.
func (o *ScenarioOptions) check() []string {
	var errs []string
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		errs = append(errs, "url must be an http(s) URL")
	}
	if o.Secret == "" {
		errs = append(errs, "secret is required")
	}
	if o.Duration <= 0 || o.Duration > 10*time.Minute {
		errs = append(errs, "duration must be between 0 and 10m")
	}
	if o.Warmup < 0 || o.Drain < 0 {
		errs = append(errs, "warm-up and drain must not be negative")
	}
	return errs
}

// defaults fills in what was left zero.
func (o *ScenarioOptions) defaults() {
	if o.Warmup == 0 {
		o.Warmup = 3 * time.Second
	}
	if o.Drain == 0 {
		o.Drain = 5 * time.Second
	}
	if o.Settle == 0 {
		o.Settle = 30 * time.Second
	}
	if o.JoinConcurrency <= 0 {
		o.JoinConcurrency = 8
	}
	if o.JoinTimeout <= 0 {
		o.JoinTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// scenario is what the signaling-only scenarios (whiteboard, notes)
// share: the meeting they create and end, the API client, the clients'
// sockets, and the window they measure.
type scenario struct {
	log       *slog.Logger
	base      string
	meetingID string
	api       *api
	hc        *http.Client
	sigs      []*sigClient // filled by the scenario before it joins them

	measuring atomic.Bool // inside the window
	stopping  atomic.Bool // the run is ending: closed sockets are expected

	errMu    sync.Mutex
	errCodes map[string]int // errors from the server, by code
}

// countCode counts an error code the server sent.
func (s *scenario) countCode(code string) {
	s.errMu.Lock()
	s.errCodes[code]++
	s.errMu.Unlock()
}

// codeSummary lists the error codes counted, as "code=n,…" by code.
func (s *scenario) codeSummary() string {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	var codes []string
	for _, k := range slices.Sorted(maps.Keys(s.errCodes)) {
		codes = append(codes, fmt.Sprintf("%s=%d", k, s.errCodes[k]))
	}
	return strings.Join(codes, ",")
}

// startScenario waits (at most o.Settle; negative: not at all) for the
// server to be idle, takes its idle figures and creates the meeting,
// named o.MeetingID or, if empty, prefix and a random suffix. The caller
// defers finish once it returns without error.
func startScenario(ctx context.Context, o *ScenarioOptions, prefix, name string) (*scenario, *sample, error) {
	s := &scenario{log: o.Logger, base: strings.TrimRight(o.URL, "/"), meetingID: o.MeetingID, errCodes: map[string]int{}}
	if s.meetingID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		s.meetingID = prefix + hex.EncodeToString(b[:])
	}
	s.hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: o.JoinConcurrency + 2, IdleConnTimeout: 30 * time.Second}}
	s.api = &api{base: s.base, secret: o.Secret, hc: s.hc}
	fail := func(err error) (*scenario, *sample, error) {
		s.hc.CloseIdleConnections()
		return nil, nil, err
	}
	if o.Settle > 0 {
		if err := settleServer(ctx, s.hc, s.base, o.Settle, o.Logger); err != nil {
			return fail(err)
		}
	}
	idle, err := scrape(ctx, s.hc, s.base)
	if err != nil {
		return fail(err)
	}
	if err := s.api.create(ctx, s.meetingID, name); err != nil {
		return fail(err)
	}
	return s, idle, nil
}

// finish ends the meeting and closes every client; also after an error.
func (s *scenario) finish() {
	s.stopping.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.api.end(ctx, s.meetingID); err != nil {
		s.log.Warn("ending the meeting", "err", err)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, c := range s.sigs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c.close()
		}()
	}
	wg.Wait()
	s.hc.CloseIdleConnections()
}

// joinEveryone joins s.sigs: the first (the moderator) alone, so nobody
// waits in the lobby, then the rest n at a time.
func (s *scenario) joinEveryone(ctx context.Context, n int, timeout time.Duration) error {
	start := time.Now()
	if _, err := joinAll(ctx, s.sigs[:1], 1, timeout); err != nil {
		return fmt.Errorf("moderator: %w", err)
	}
	if failed, err := joinAll(ctx, s.sigs[1:], n, timeout); failed > 0 {
		return fmt.Errorf("%d of %d participants did not join; first: %w", failed, len(s.sigs)-1, err)
	}
	s.log.Info("joined", "participants", len(s.sigs), "in", time.Since(start).Round(time.Millisecond))
	return nil
}

// window is what measure took around the measured time.
type window struct {
	before, after *sample
	genCPU        time.Duration // this process's CPU inside the window
	sys0, sys1    sysStat
}

// measure lets the load run for warmup, then measures for d (measuring
// set), then calls stop, which must return once the load has stopped,
// and takes the server's figures once more.
func (s *scenario) measure(ctx context.Context, warmup, d time.Duration, stop func()) (*window, error) {
	s.log.Info("warming up", "for", warmup)
	if err := sleep(ctx, warmup); err != nil {
		return nil, err
	}
	before, err := scrape(ctx, s.hc, s.base)
	if err != nil {
		return nil, err
	}
	w := &window{before: before}
	cpu0 := selfCPU()
	w.sys0 = readSysStat()
	s.measuring.Store(true)
	s.log.Info("measuring", "for", d)
	werr := sleep(ctx, d)
	s.measuring.Store(false)
	w.genCPU, w.sys1 = selfCPU()-cpu0, readSysStat()
	stop()
	if werr != nil {
		return nil, werr
	}
	if w.after, err = scrape(ctx, s.hc, s.base); err != nil {
		return nil, err
	}
	return w, nil
}

// machineCPU is the whole machine's busy and softirq time in the window,
// and what remains of it besides server and generator (per cent of one
// core each).
func (w *window) machineCPU(seconds, server, generator float64) (machine, softirq, other float64) {
	machine = (w.sys1.busy - w.sys0.busy).Seconds() / seconds * 100
	softirq = (w.sys1.softirq - w.sys0.softirq).Seconds() / seconds * 100
	return machine, softirq, max(machine-server-generator-softirq, 0)
}
