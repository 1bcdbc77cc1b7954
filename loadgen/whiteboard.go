package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The whiteboard scenario (RunWhiteboard): N participants in one meeting,
// no media. The first joins as a moderator and is the presenter; it
// grants drawing to as many viewers as the target rate needs (each drawer
// stays under the whiteboard's budget of 60 messages a second), and every
// drawer draws growing pen strokes on the blank deck's first page: a
// stroke is Stroke−1 wb.drawing messages, each carrying the whole stroke
// so far (Points more points each time), then one wb.draw committing it.
// Everyone counts the wb.drawing and wb.added messages that reach them;
// the send time of every message is kept in this process (sender and
// receivers share its clock), so loss and latency are exact.
//
// A shape's id names its drawer and stroke ("w<drawer>s<stroke>"), its
// number of points the message within the stroke: a receiver finds every
// message's record without any lookup table shared under a lock.

// WBOptions describe one whiteboard run.
type WBOptions struct {
	ScenarioOptions
	// Participants in all, the presenter included. Default 100.
	Participants int
	// Rate is the target of whiteboard messages per second, all drawers
	// together (wb.drawing and wb.draw).
	Rate float64
	// Drawers share the rate: the presenter and Drawers−1 viewers it lets
	// draw. 0: as few as keep each at or under PerDrawer.
	Drawers int
	// PerDrawer is the highest rate one drawer sends when Drawers is 0.
	// Default 50 (the server allows 60 a second after a burst of 120).
	PerDrawer float64
	// Stroke is the number of messages per stroke, the last one the
	// wb.draw commit. Default 10.
	Stroke int
	// Points is how many points each message adds to the stroke.
	// Default 3.
	Points int
	// ClearAt: the presenter clears the page (wb.clear, all) when it holds
	// this many shapes, well before the cap of 1000. Default 600.
	ClearAt int
}

func (o *WBOptions) validate() error {
	errs := o.check()
	if o.Participants == 0 {
		o.Participants = 100
	}
	if o.PerDrawer == 0 {
		o.PerDrawer = 50
	}
	if o.Stroke == 0 {
		o.Stroke = 10
	}
	if o.Points == 0 {
		o.Points = 3
	}
	if o.ClearAt == 0 {
		o.ClearAt = 600
	}
	if o.Participants < 2 || o.Participants > 2000 {
		errs = append(errs, "participants must be 2 to 2000")
	}
	if !(o.Rate > 0) || o.Rate > 100000 || !(o.PerDrawer > 0) {
		errs = append(errs, "rate and per-drawer rate must be positive")
	}
	if o.Drawers < 0 || o.Drawers > o.Participants {
		errs = append(errs, "drawers must be 0 (automatic) to participants")
	}
	if o.Drawers == 0 && o.Rate > 0 && o.PerDrawer > 0 {
		o.Drawers = int(math.Ceil(o.Rate/o.PerDrawer - 1e-9))
		if o.Drawers > o.Participants {
			errs = append(errs, fmt.Sprintf("rate %.0f needs %d drawers at %.0f/s each, more than participants", o.Rate, o.Drawers, o.PerDrawer))
		}
	}
	if o.Stroke < 1 || o.Points < 1 || o.Stroke*o.Points > 2000 {
		errs = append(errs, "stroke and points must be positive, stroke×points at most 2000 (the server's cap)")
	}
	if o.ClearAt < 1 || o.ClearAt > 900 {
		errs = append(errs, "clear-at must be 1 to 900 (a page holds 1000 shapes)")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrOptions, strings.Join(errs, "; "))
	}
	o.defaults()
	return nil
}

// blankPage is the page everyone draws on: the blank deck's first, which
// every meeting has.
var blankPage = json.RawMessage(`{"doc":"blank","page":1}`)

// sentMsg is one whiteboard message a drawer sent: when, whether inside
// the window, and how many participants received it.
type sentMsg struct {
	at       atomic.Int64 // Unix nanos; 0: not sent
	measured atomic.Bool
	recv     atomic.Int32
}

// drawer is one participant drawing at its share of the rate.
type drawer struct {
	idx  int
	c    *wbClient
	sent []sentMsg // by sequence number: stroke × Stroke + message in stroke
	// Sent inside the window, by kind.
	drawings, draws atomic.Int64
	behind          atomic.Int64 // sends dropped because the table was full
}

// wbGen is one whiteboard run's shared state.
type wbGen struct {
	*scenario
	o WBOptions

	clients []*wbClient
	drawers []*drawer

	latency histogram
	maxLat  atomic.Int64
	unknown atomic.Int64 // whiteboard messages that match no sent message
	refused atomic.Int64 // rate_limited errors
	errs    atomic.Int64 // other errors
	clears  atomic.Int64
}

// RunWhiteboard creates a meeting, joins the participants, lets the
// drawers draw at the target rate, measures for o.Duration, waits for
// what is still on its way and ends the meeting. It always ends what it
// started, also on error.
func RunWhiteboard(ctx context.Context, o WBOptions) (*WBResult, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	sc, idle, err := startScenario(ctx, &o.ScenarioOptions, "aula-wb-", "Aula whiteboard load test")
	if err != nil {
		return nil, err
	}
	defer sc.finish()
	g := &wbGen{scenario: sc, o: o}
	for i := range o.Participants {
		g.clients = append(g.clients, newWBClient(g, i))
		g.sigs = append(g.sigs, g.clients[i].sigClient)
	}
	if err := g.joinEveryone(ctx, o.JoinConcurrency, o.JoinTimeout); err != nil {
		return nil, err
	}

	// The presenter lets the viewers that draw draw.
	var ids []string
	for i := range o.Drawers {
		c := g.clients[i]
		c.drawer = i
		if i > 0 {
			ids = append(ids, c.id)
		}
	}
	if len(ids) > 0 {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := g.clients[0].request(actx, "wb.access", map[string]any{"all": false, "ids": ids})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("granting drawing: %w", err)
		}
	}
	perDrawer := o.Rate / float64(o.Drawers)
	slots := int(math.Ceil(perDrawer*(o.Warmup+o.Duration).Seconds())) + 2*o.Stroke + 64
	for i := range o.Drawers {
		g.drawers = append(g.drawers, &drawer{idx: i, c: g.clients[i], sent: make([]sentMsg, slots)})
	}

	dctx, stopDrawing := context.WithCancel(ctx)
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / perDrawer)
	for _, d := range g.drawers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the drawers over one interval.
			g.draw(dctx, d, interval, interval*time.Duration(d.idx)/time.Duration(len(g.drawers)))
		}()
	}
	defer func() { stopDrawing(); wg.Wait() }()

	g.log.Info("drawing", "drawers", o.Drawers, "rate", o.Rate)
	w, err := g.measure(ctx, o.Warmup, o.Duration, func() { stopDrawing(); wg.Wait() })
	if err != nil {
		return nil, err
	}
	// Wait for what is still on its way (a receiver that fell behind
	// catches up, or the server dropped it).
	drained := g.waitDrained(ctx, o.Drain)
	res := g.result(idle, w.before, w.after, w.genCPU)
	res.Drained = drained
	res.MachineCPUPercent, res.SoftirqCPUPercent, res.OtherCPUPercent =
		w.machineCPU(res.WindowSeconds, res.ServerCPUPercent, res.GeneratorCPUPercent)
	return res, nil
}

// draw sends d's strokes, one message per tick, until ctx ends. A tick
// the generator could not keep up with is skipped (time.Ticker drops
// it), so the rate never exceeds the target: the sent rate is reported.
func (g *wbGen) draw(ctx context.Context, d *drawer, interval, phase time.Duration) {
	if err := sleep(ctx, phase); err != nil {
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	k, p := g.o.Stroke, g.o.Points
	color := wbColors[d.idx%len(wbColors)]
	var stroke []json.RawMessage
	for seq := 0; ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if seq >= len(d.sent) {
			d.behind.Add(1)
			continue
		}
		n, idx := seq/k, seq%k
		if idx == 0 {
			stroke = strokePoints(d.idx, n, k*p)
		}
		shape := wbShapeOut{ID: shapeID(d.idx, n), Kind: "pen", Points: stroke[:(idx+1)*p], Color: color, Width: 0.004}
		data, err := json.Marshal(wbShapeMsg{Page: blankPage, Shape: shape})
		if err != nil {
			d.c.fail(err)
			return
		}
		m := &d.sent[seq]
		measuring := g.measuring.Load()
		m.measured.Store(measuring)
		m.at.Store(time.Now().UnixNano())
		e := envelope{Type: "wb.drawing", Data: data}
		if idx == k-1 {
			// The commit, with a ref as a client that wants to know it
			// was kept.
			e.Type, e.Ref = "wb.draw", "d"+strconv.Itoa(seq)
			if measuring {
				d.draws.Add(1)
			}
		} else if measuring {
			d.drawings.Add(1)
		}
		if err := d.c.send(ctx, e); err != nil {
			if !g.stopping.Load() && ctx.Err() == nil {
				d.c.fail(err)
			}
			return
		}
	}
}

var wbColors = []string{"#1e88e5", "#e53935", "#43a047", "#fb8c00", "#8e24aa", "#00897b"}

// shapeID names stroke n of drawer d.
func shapeID(d, n int) string { return pairID("w", "s", d, n) }

// parseShapeID is shapeID's inverse.
func parseShapeID(id string) (d, n int, ok bool) { return parsePair(id, "w", "s") }

// pairID writes two counters as prefix, a, sep, b: the names the load
// generator gives what it sends (shapes, note operations), so a receiver
// finds the record of each without a shared table.
func pairID(prefix, sep string, a, b int) string {
	return prefix + strconv.Itoa(a) + sep + strconv.Itoa(b)
}

// parsePair is pairID's inverse: both counters, if s is exactly such a
// name.
func parsePair(s, prefix, sep string) (a, b int, ok bool) {
	rest, found := strings.CutPrefix(s, prefix)
	if !found {
		return 0, 0, false
	}
	as, bs, found := strings.Cut(rest, sep)
	if !found {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(as)
	b, err2 := strconv.Atoi(bs)
	return a, b, err1 == nil && err2 == nil && a >= 0 && b >= 0
}

// strokePoints is a wavy line across the page, at a height by drawer and
// stroke, with four decimals as a client would round them.
func strokePoints(d, n, count int) []json.RawMessage {
	y0 := 0.1 + 0.8*float64((n*37+d*11)%100)/100
	pts := make([]json.RawMessage, count)
	for j := range pts {
		t := float64(j) / float64(count)
		x := 0.05 + 0.9*t
		y := y0 + 0.02*math.Sin(t*20)
		pts[j] = json.RawMessage("[" + strconv.FormatFloat(math.Round(x*1e4)/1e4, 'f', -1, 64) + "," +
			strconv.FormatFloat(math.Round(y*1e4)/1e4, 'f', -1, 64) + "]")
	}
	return pts
}

// The whiteboard messages the generator sends.
type (
	wbShapeMsg struct {
		Page  json.RawMessage `json:"page"`
		Shape wbShapeOut      `json:"shape"`
	}
	wbShapeOut struct {
		ID     string            `json:"id"`
		Kind   string            `json:"kind"`
		Points []json.RawMessage `json:"points"`
		Color  string            `json:"color"`
		Width  float64           `json:"width"`
	}
)

// observe records that c received message idx of stroke n by drawer d
// at now.
func (g *wbGen) observe(c *wbClient, id string, idx int, now time.Time) {
	d, n, ok := parseShapeID(id)
	if !ok || d >= len(g.drawers) || idx < 0 || idx >= g.o.Stroke {
		g.unknown.Add(1)
		return
	}
	dr := g.drawers[d]
	seq := n*g.o.Stroke + idx
	if seq >= len(dr.sent) {
		g.unknown.Add(1)
		return
	}
	m := &dr.sent[seq]
	at := m.at.Load()
	if at == 0 {
		g.unknown.Add(1)
		return
	}
	m.recv.Add(1)
	if !m.measured.Load() {
		return
	}
	c.received.Add(1)
	lat := now.UnixNano() - at
	g.latency.observe(time.Duration(lat))
	for {
		cur := g.maxLat.Load()
		if lat <= cur || g.maxLat.CompareAndSwap(cur, lat) {
			break
		}
	}
}

// expected is how many deliveries the measured messages should make:
// each wb.drawing to everyone but its drawer, each wb.added to everyone.
// For one client (c non-nil): what it alone should receive.
func (g *wbGen) expected(c *wbClient) int64 {
	var n int64
	for _, d := range g.drawers {
		drawings, draws := d.drawings.Load(), d.draws.Load()
		if c == nil {
			n += drawings*int64(len(g.clients)-1) + draws*int64(len(g.clients))
			continue
		}
		n += draws
		if d.c != c {
			n += drawings
		}
	}
	return n
}

func (g *wbGen) receivedTotal() int64 {
	var n int64
	for _, c := range g.clients {
		n += int64(c.received.Load())
	}
	return n
}

// waitDrained polls until every measured message reached everyone, or
// until within has passed; it reports whether all arrived.
func (g *wbGen) waitDrained(ctx context.Context, within time.Duration) bool {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	want := g.expected(nil)
	for g.receivedTotal() < want {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

func (g *wbGen) noteError(code string) {
	if code == "rate_limited" {
		g.refused.Add(1)
	} else {
		g.errs.Add(1)
	}
	g.countCode(code)
}
