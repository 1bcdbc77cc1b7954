package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"aula/dialin/siptest"
)

// Phone calls: RunCalls places N concurrent calls into a running server's
// SIP gateway with the scriptable test phone (dialin/siptest, a SIP client
// like any phone, sharing no code with the gateway it calls), types the
// room's PIN, lets some callers speak (a tone each) and measures the
// server's CPU per call while the gateway mixes the room's audio for every
// caller.

// CallOptions configure a call run.
type CallOptions struct {
	// URL and Secret reach the server's BBB API and /metrics.
	URL    string
	Secret string
	// SIP is the gateway's address (AULA_SIP_ADDR), e.g. 127.0.0.1:5060.
	SIP string
	// Calls is how many calls to place; Speakers of them send a tone, the
	// others silence (a class: a few talk, the rest listen).
	Calls    int
	Speakers int
	// Duration is the measurement window once every caller is in the
	// room; Warmup the pause before it; Idle the window measuring the
	// server before any call.
	Duration, Warmup, Idle time.Duration
	// DialConcurrency is how many calls are set up at once.
	DialConcurrency int
	Logger          *slog.Logger
}

func (o *CallOptions) validate() error {
	if o.URL == "" || o.Secret == "" {
		return fmt.Errorf("%w: the server URL and secret are needed", ErrOptions)
	}
	if _, err := netip.ParseAddrPort(o.SIP); err != nil {
		return fmt.Errorf("%w: SIP address %q: %v", ErrOptions, o.SIP, err)
	}
	if o.Calls < 1 || o.Speakers < 0 || o.Speakers > o.Calls {
		return fmt.Errorf("%w: want 1 or more calls and 0 to calls speakers", ErrOptions)
	}
	if o.Duration <= 0 || o.Warmup < 0 || o.Idle < 0 {
		return fmt.Errorf("%w: durations must be positive", ErrOptions)
	}
	if o.DialConcurrency <= 0 {
		o.DialConcurrency = 8
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// CallResult is what a call run measured.
type CallResult struct {
	Calls    int `json:"calls"`
	Speakers int `json:"speakers"`
	// Joined is how many callers were in the room (voiceParticipantCount)
	// when the window started; Hearing how many non-speakers received the
	// room's audio (not silence) at its end.
	Joined  int `json:"joined"`
	Hearing int `json:"hearing"`
	// JoinP50Ms and JoinMaxMs: INVITE to being counted in the room.
	JoinP50Ms float64 `json:"join_p50_ms"`
	JoinMaxMs float64 `json:"join_max_ms"`
	// ServerCPU is the server's CPU over the window in cores (1 = one core
	// busy); IdleCPU the same before any call; CPUPerCallPct is the
	// difference per call, in percent of one core.
	ServerCPU     float64 `json:"server_cpu_cores"`
	IdleCPU       float64 `json:"idle_cpu_cores"`
	CPUPerCallPct float64 `json:"cpu_per_call_pct"`
	// RSSMB is the server's resident memory at the end of the window.
	RSSMB    float64 `json:"rss_mb"`
	Duration string  `json:"duration"`
}

// CallsMarkdownHeader is the header of CallResult.MarkdownRow.
func CallsMarkdownHeader() string {
	return "| calls | speakers | in room | hearing | join p50 / max (ms) | server CPU (cores) | idle CPU | CPU per call (% of a core) | RSS (MB) |\n" +
		"|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
}

// MarkdownRow is one row under CallsMarkdownHeader.
func (r *CallResult) MarkdownRow() string {
	return fmt.Sprintf("| %d | %d | %d | %d | %.0f / %.0f | %.3f | %.3f | %.2f | %.0f |",
		r.Calls, r.Speakers, r.Joined, r.Hearing, r.JoinP50Ms, r.JoinMaxMs, r.ServerCPU, r.IdleCPU, r.CPUPerCallPct, r.RSSMB)
}

// JSON is the result as one JSON object.
func (r *CallResult) JSON() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// RunCalls creates a meeting with a PIN, has a moderator open it (through
// the API and WebSocket, as a browser), places the calls, measures, ends
// the meeting and hangs up.
func RunCalls(ctx context.Context, o CallOptions) (*CallResult, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	log := o.Logger
	base := strings.TrimRight(o.URL, "/")
	hc := &http.Client{Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	a := &api{base: base, secret: o.Secret, hc: hc}
	sipAddr := netip.MustParseAddrPort(o.SIP)

	var idle float64
	if o.Idle > 0 {
		c, err := cpuOver(ctx, hc, base, o.Idle)
		if err != nil {
			return nil, err
		}
		idle = c
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	meetingID := "aula-calls-" + hex.EncodeToString(b[:])
	pin, err := createWithPIN(ctx, a, meetingID)
	if err != nil {
		return nil, err
	}
	defer func() {
		ectx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.end(ectx, meetingID); err != nil {
			log.Warn("ending the meeting", "err", err)
		}
	}()
	// A moderator opens the room, so callers do not wait in the lobby.
	link, err := a.join(ctx, meetingID, "Load moderator", true)
	if err != nil {
		return nil, err
	}
	sess, err := a.redeem(ctx, link)
	if err != nil {
		return nil, err
	}
	ws, err := dialWS(ctx, base, sess)
	if err != nil {
		return nil, err
	}
	defer ws.close()
	go func() {
		for {
			if _, err := ws.read(); err != nil {
				return
			}
		}
	}()

	// Place the calls.
	phones := make([]*siptest.Phone, o.Calls)
	joinStart := make([]time.Time, o.Calls)
	defer func() {
		var wg sync.WaitGroup
		for _, p := range phones {
			if p != nil {
				wg.Add(1)
				go func() { defer wg.Done(); p.Close() }()
			}
		}
		wg.Wait()
	}()
	sem := make(chan struct{}, o.DialConcurrency)
	var mu sync.Mutex
	var dialErr error
	var wg sync.WaitGroup
	for i := range phones {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			joinStart[i] = time.Now()
			// Numbers from the documentation range (+49 30 …): the
			// gateway shows only their last three digits.
			p, err := siptest.Dial(dctx, sipAddr, siptest.Options{From: fmt.Sprintf("+4930%07d", i)})
			if err != nil {
				mu.Lock()
				dialErr = errors.Join(dialErr, fmt.Errorf("call %d: %w", i, err))
				mu.Unlock()
				return
			}
			if i < o.Speakers {
				// A different pitch each, well apart from DTMF.
				p.SetSource(siptest.Tone(300+float64(i%40)*11, 4000))
			}
			p.Digits4733(pin + "#")
			mu.Lock()
			phones[i] = p
			mu.Unlock()
		}()
	}
	wg.Wait()
	if dialErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrJoin, dialErr)
	}
	log.Info("calls placed", "n", o.Calls)

	// Wait until every caller is counted in the room, noting when each
	// one's masked name ("Phone ···007") first shows with voice: the join
	// time from INVITE, the gateway's fixed PIN answer time (300 ms) and
	// the poll interval included.
	deadline := time.Now().Add(30 * time.Second)
	seen := map[string]time.Time{}
	var joined int
	for {
		n, names, err := voiceCount(ctx, a, meetingID)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		for _, name := range names {
			if _, ok := seen[name]; !ok {
				seen[name] = now
			}
		}
		joined = n
		if n >= o.Calls || now.After(deadline) {
			break
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return nil, err
		}
	}
	if joined < o.Calls {
		return nil, fmt.Errorf("%w: only %d of %d callers reached the room", ErrJoin, joined, o.Calls)
	}
	var joins []float64
	for i, t := range joinStart {
		if at, ok := seen[fmt.Sprintf("Phone \u00b7\u00b7\u00b7%03d", i%1000)]; ok && o.Calls <= 1000 {
			joins = append(joins, ms(at.Sub(t)))
		}
	}
	if len(joins) == 0 {
		joins = []float64{0}
	}
	sort.Float64s(joins)

	if err := sleep(ctx, o.Warmup); err != nil {
		return nil, err
	}
	before, err := scrape(ctx, hc, base)
	if err != nil {
		return nil, err
	}
	if err := sleep(ctx, o.Duration); err != nil {
		return nil, err
	}
	after, err := scrape(ctx, hc, base)
	if err != nil {
		return nil, err
	}
	window := after.at.Sub(before.at).Seconds()
	cpu := (after.sum("process_cpu_seconds_total") - before.sum("process_cpu_seconds_total")) / window
	hearing := 0
	for i, p := range phones {
		if i >= o.Speakers && rms(p.LastPCM(800)) > 100 {
			hearing++
		}
	}
	return &CallResult{
		Calls: o.Calls, Speakers: o.Speakers, Joined: joined, Hearing: hearing,
		JoinP50Ms: joins[len(joins)/2], JoinMaxMs: joins[len(joins)-1],
		ServerCPU: finite(cpu), IdleCPU: finite(idle), CPUPerCallPct: finite(100 * (cpu - idle) / float64(o.Calls)),
		RSSMB: after.sum("process_resident_memory_bytes") / (1 << 20), Duration: o.Duration.String(),
	}, nil
}

// createWithPIN creates the meeting with a random PIN, trying another when
// a running meeting holds it.
func createWithPIN(ctx context.Context, a *api, meetingID string) (string, error) {
	var err error
	for try := 0; try < 10; try++ {
		n, rerr := rand.Int(rand.Reader, big.NewInt(90000))
		if rerr != nil {
			return "", rerr
		}
		pin := strconv.Itoa(10000 + int(n.Int64()))
		_, err = a.call(ctx, "create", url.Values{
			"meetingID": {meetingID}, "name": {"Aula call load test"}, "voiceBridge": {pin},
			"attendeePW": {"ap-" + meetingID}, "moderatorPW": {"mp-" + meetingID},
		})
		if err == nil {
			return pin, nil
		}
	}
	return "", err
}

// voiceCount is getMeetingInfo's voiceParticipantCount and the names of
// the attendees with voice.
func voiceCount(ctx context.Context, a *api, meetingID string) (int, []string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url("getMeetingInfo", url.Values{"meetingID": {meetingID}}), nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: getMeetingInfo: %v", ErrAPI, err)
	}
	defer resp.Body.Close()
	var r struct {
		ReturnCode string `xml:"returncode"`
		Voice      int    `xml:"voiceParticipantCount"`
		Attendees  []struct {
			Name  string `xml:"fullName"`
			Voice bool   `xml:"hasJoinedVoice"`
		} `xml:"attendees>attendee"`
	}
	if err := xml.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&r); err != nil || r.ReturnCode != "SUCCESS" {
		return 0, nil, fmt.Errorf("%w: getMeetingInfo: %s %v", ErrAPI, r.ReturnCode, err)
	}
	var names []string
	for _, at := range r.Attendees {
		if at.Voice {
			names = append(names, at.Name)
		}
	}
	return r.Voice, names, nil
}

// cpuOver measures the server's CPU (cores) over d.
func cpuOver(ctx context.Context, hc *http.Client, base string, d time.Duration) (float64, error) {
	s0, err := scrape(ctx, hc, base)
	if err != nil {
		return 0, err
	}
	if err := sleep(ctx, d); err != nil {
		return 0, err
	}
	s1, err := scrape(ctx, hc, base)
	if err != nil {
		return 0, err
	}
	return (s1.sum("process_cpu_seconds_total") - s0.sum("process_cpu_seconds_total")) / s1.at.Sub(s0.at).Seconds(), nil
}

func rms(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	return math.Sqrt(e / float64(len(pcm)))
}
