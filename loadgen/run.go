package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/webrtc/v4"
)

// Options describe one load run.
type Options struct {
	// URL is the server's public base URL (http://127.0.0.1:8080).
	URL string
	// Secret is the server's BigBlueButton shared secret.
	Secret string
	// MeetingID names the meeting to create; empty: a random one.
	MeetingID string
	// AudioPublishers send a microphone each (Opus, 50 packets/s).
	AudioPublishers int
	// VideoPublishers send a camera each (VP8, simulcast q/h/f).
	VideoPublishers int
	// Subscribers only receive.
	Subscribers int
	// Duration is the measurement window, after everyone joined.
	Duration time.Duration
	// Warmup is the pause between the last join and the window, so that
	// layer choices and queues settle. Default 3 s.
	Warmup time.Duration
	// JoinConcurrency is how many clients join at once. Default 8.
	JoinConcurrency int
	// JoinTimeout bounds one client's join (API call to first media
	// packet). Default 30 s.
	JoinTimeout time.Duration
	// VideoLayer is the display size subscribers report for cameras: q
	// (320×180), h (640×360), f (1280×720), mix (by subscriber, in turn),
	// or empty (report nothing: the server forwards the top layer).
	VideoLayer string
	// KeyframeInterval is how often cameras send a keyframe unasked
	// (besides the first and those asked for by PLI). Default 10 s.
	KeyframeInterval time.Duration
	// ClientRcvBuf is the receive buffer of each client socket in bytes
	// (capped by net.core.rmem_max); 0 means 1 MiB, negative the kernel's
	// default. See bufferedNet.
	ClientRcvBuf int
	// Logger gets progress lines; nil discards them.
	Logger *slog.Logger
}

func (o *Options) validate() error {
	var errs []string
	if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		errs = append(errs, "url must be an http(s) URL")
	}
	if o.Secret == "" {
		errs = append(errs, "secret is required")
	}
	if o.AudioPublishers < 0 || o.VideoPublishers < 0 || o.Subscribers < 0 {
		errs = append(errs, "counts must not be negative")
	}
	if o.AudioPublishers+o.VideoPublishers == 0 {
		errs = append(errs, "at least one publisher is needed")
	}
	if o.AudioPublishers+o.VideoPublishers > 1000 {
		errs = append(errs, "at most 1000 publishers (stream numbers are 16 bits)")
	}
	if o.Duration <= 0 || o.Duration > time.Hour {
		errs = append(errs, "duration must be between 0 and 1h")
	}
	switch o.VideoLayer {
	case "", "q", "h", "f", "mix":
	default:
		errs = append(errs, "video layer must be q, h, f, mix or empty")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrOptions, strings.Join(errs, "; "))
	}
	if o.Warmup <= 0 {
		o.Warmup = 3 * time.Second
	}
	if o.JoinConcurrency <= 0 {
		o.JoinConcurrency = 8
	}
	if o.JoinTimeout <= 0 {
		o.JoinTimeout = 30 * time.Second
	}
	if o.KeyframeInterval <= 0 {
		o.KeyframeInterval = keyInterval
	}
	if o.ClientRcvBuf == 0 {
		o.ClientRcvBuf = 1 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// gen is one run's shared state.
type gen struct {
	o          Options
	log        *slog.Logger
	base       string
	meetingID  string
	api        *api
	pubAPI     *webrtc.API
	subAPI     *webrtc.API
	publishers int

	measuring atomic.Bool
	stopping  atomic.Bool
	latency   histogram
	offers    atomic.Int64 // subscribe offers answered, all clients
	plis      atomic.Int64 // keyframe requests the publishers received

	mu   sync.Mutex
	pubs []*publisher
}

func (g *gen) displaySize(idx int) (w, h int, ok bool) {
	pick := g.o.VideoLayer
	if pick == "mix" {
		pick = videoLayers[idx%len(videoLayers)].rid
	}
	for _, l := range videoLayers {
		if l.rid == pick {
			return l.width, l.height, true
		}
	}
	return 0, 0, false
}

// Run creates a meeting, joins the publishers and subscribers, measures
// for o.Duration and ends the meeting. It always ends what it started,
// also on error.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	g := &gen{o: o, log: o.Logger, base: strings.TrimRight(o.URL, "/"), meetingID: o.MeetingID,
		publishers: o.AudioPublishers + o.VideoPublishers}
	if g.meetingID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		g.meetingID = "aula-load-" + hex.EncodeToString(b[:])
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: o.JoinConcurrency + 2, IdleConnTimeout: 30 * time.Second}}
	defer hc.CloseIdleConnections()
	g.api = &api{base: g.base, secret: o.Secret, hc: hc}
	var err error
	if g.pubAPI, g.subAPI, err = clientAPIs(o.ClientRcvBuf); err != nil {
		return nil, err
	}

	idle, err := scrape(ctx, hc, g.base)
	if err != nil {
		return nil, err
	}
	if err := g.api.create(ctx, g.meetingID, "Aula load test"); err != nil {
		return nil, err
	}
	var clients []*client
	defer func() {
		g.stopping.Store(true)
		ectx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := g.api.end(ectx, g.meetingID); err != nil {
			g.log.Warn("ending the meeting", "err", err)
		}
		closeAll(clients)
	}()

	pctx, stopPacing := context.WithCancel(ctx)
	defer stopPacing()
	go g.pace(pctx)

	// Publishers first (as moderators, so nobody waits in the lobby), one
	// at a time, then the subscribers in parallel.
	newClient := func(idx int, r role) *client {
		c := &client{g: g, idx: idx, role: r, name: fmt.Sprintf("Load %s %d", r, idx),
			log: g.log.With("client", idx, "role", r.String()), ready: make(chan struct{}),
			offers: make(chan mediaOffer, 64), layerSent: map[string]bool{}, quit: make(chan struct{})}
		clients = append(clients, c)
		return c
	}
	var pubs, subs []*client
	for i := 0; i < o.AudioPublishers+o.VideoPublishers; i++ {
		r := audioPublisher
		if i >= o.AudioPublishers {
			r = videoPublisher
		}
		pubs = append(pubs, newClient(i, r))
	}
	for i := 0; i < o.Subscribers; i++ {
		subs = append(subs, newClient(len(pubs)+i, subscriber))
	}
	g.log.Info("joining publishers", "n", len(pubs))
	if n, err := g.joinAll(ctx, pubs, 1); n > 0 {
		return nil, fmt.Errorf("%d of %d publishers did not join; first: %w", n, len(pubs), err)
	}
	for _, c := range pubs {
		g.mu.Lock()
		g.pubs = append(g.pubs, c.pub)
		g.mu.Unlock()
	}
	g.log.Info("joining subscribers", "n", len(subs), "concurrency", o.JoinConcurrency)
	// A subscriber that does not get in is reported, not fatal: under
	// overload that is a result. None getting in is an error.
	joinFailed, err := g.joinAll(ctx, subs, o.JoinConcurrency)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(subs) > 0 && joinFailed == len(subs) {
		return nil, fmt.Errorf("no subscriber joined; first: %w", err)
	}
	if joinFailed > 0 {
		g.log.Warn("subscribers did not join", "failed", joinFailed, "of", len(subs), "first", err)
	}

	g.log.Info("warming up", "for", o.Warmup)
	if err := sleep(ctx, o.Warmup); err != nil {
		return nil, err
	}
	before, err := scrape(ctx, hc, g.base)
	if err != nil {
		return nil, err
	}
	cpu0, sys0, plis0 := selfCPU(), readSysStat(), g.plis.Load()
	g.measuring.Store(true)
	g.log.Info("measuring", "for", o.Duration)
	werr := sleep(ctx, o.Duration)
	g.measuring.Store(false)
	cpu1, sys1, plis1 := selfCPU(), readSysStat(), g.plis.Load()
	if werr != nil {
		return nil, werr
	}
	after, err := scrape(ctx, hc, g.base)
	if err != nil {
		return nil, err
	}
	res := g.result(idle, before, after, cpu1-cpu0, pubs, subs)
	res.MachineCPUPercent = (sys1.busy - sys0.busy).Seconds() / res.WindowSeconds * 100
	res.SoftirqCPUPercent = (sys1.softirq - sys0.softirq).Seconds() / res.WindowSeconds * 100
	res.OtherCPUPercent = max(res.MachineCPUPercent-res.ServerCPUPercent-res.GeneratorCPUPerct-res.SoftirqCPUPercent, 0)
	res.SubscribeOffers = g.offers.Load()
	res.KeyframeRequestsReceived = plis1 - plis0
	res.UDPRcvbufErrors = sys1.rcvbufErrors - sys0.rcvbufErrors
	res.JoinFailed = joinFailed
	for _, c := range clients {
		if c.err() != nil {
			res.Failed++
		}
	}
	return res, nil
}

// joinAll joins clients, n at a time, each until it is ready (publishers:
// the publish answer applied; subscribers: first media packet). It returns
// how many did not make it and the first reason.
func (g *gen) joinAll(ctx context.Context, cs []*client, n int) (failed int, first error) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for _, c := range cs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return len(cs), ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := g.joinOne(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			done++
			if err != nil {
				c.fail(err)
				failed++
				if first == nil {
					first = fmt.Errorf("%s %d: %w", c.role, c.idx, err)
				}
			}
			if done%50 == 0 || done == len(cs) {
				g.log.Info("joined", "done", done, "of", len(cs), "failed", failed)
			}
		}()
	}
	wg.Wait()
	return failed, first
}

func (g *gen) joinOne(ctx context.Context, c *client) error {
	jctx, cancel := context.WithTimeout(ctx, g.o.JoinTimeout)
	defer cancel()
	if err := c.join(jctx); err != nil {
		return err
	}
	select {
	case <-c.ready:
		return c.err()
	case <-jctx.Done():
		what := "first media packet"
		if c.role != subscriber {
			what = "publish answer"
		}
		return fmt.Errorf("%w: no %s within %s", ErrNoMedia, what, g.o.JoinTimeout)
	}
}

// pace sends every publisher's media from two goroutines: one ticker for
// all microphones, one for all cameras, instead of one per track.
func (g *gen) pace(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		buf := make([]byte, audioPayload)
		tick := time.NewTicker(audioInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				for _, p := range g.snapshotPubs() {
					if !p.video {
						p.sendAudio(now, buf)
					}
				}
			}
		}
	}()
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / videoFPS)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				for _, p := range g.snapshotPubs() {
					if p.video {
						p.sendVideo(now)
					}
				}
			}
		}
	}()
	wg.Wait()
}

func (g *gen) snapshotPubs() []*publisher {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pubs
}

func closeAll(cs []*client) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, c := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c.close()
		}()
	}
	wg.Wait()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
