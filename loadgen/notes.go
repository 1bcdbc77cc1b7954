package loadgen

import (
	"context"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"aula/room"
)

// The shared-notes scenario (RunNotes): N editors in one meeting, no
// media, all typing into the shared notes. Each editor is an OT client as
// the browser's (docs/protocol.md, "Shared notes"): one operation in
// flight, what is typed meanwhile composed into the next one, sent on the
// ack; every notes.op from the others transforms the operation in flight
// (the server's as the earlier one). Each editor "types" at its share of
// the target rate: one tick, one keystroke group; while nothing is in
// flight a tick sends at once, so the target rate is operations (server
// revisions) per second unless round trips hold the editors back, and the
// sent rate says which.
//
// An operation inserts, at a random place, a token naming its editor and
// sequence number ("e12.345;") and one filler character per further tick
// composed into it; once the text is longer than MaxText it also deletes
// as much at another random place, so it stays well under the cap. The send time of
// every operation and of its first keystroke are kept in this process, so
// the latency from one editor's operation to the others' screens is
// exact. The generator tracks only each replica's length, not its text:
// at the end every editor's length and revision must match the server's.

// NotesOptions describe one notes run.
type NotesOptions struct {
	ScenarioOptions
	// Editors in all, the first a moderator. Default 50.
	Editors int
	// Rate is the target of operations per second, all editors together.
	Rate float64
	// MaxText: past this length (UTF-16 units) every operation deletes
	// as much as it inserts. Default 20 000 (the cap is 100 000).
	MaxText int
}

func (o *NotesOptions) validate() error {
	errs := o.check()
	if o.Editors == 0 {
		o.Editors = 50
	}
	if o.MaxText == 0 {
		o.MaxText = 20_000
	}
	if o.Editors < 2 || o.Editors > 1000 {
		errs = append(errs, "editors must be 2 to 1000")
	}
	// The server allows one editor 60 operations a second after a burst.
	if !(o.Rate > 0) || o.Rate > 60*float64(max(o.Editors, 1)) {
		errs = append(errs, "rate must be positive and at most 60 per editor")
	}
	if o.MaxText < 100 || o.MaxText > room.MaxNotesUnits/2 {
		errs = append(errs, fmt.Sprintf("max-text must be 100 to %d", room.MaxNotesUnits/2))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrOptions, strings.Join(errs, "; "))
	}
	o.defaults()
	return nil
}

// sentOp is one operation an editor sent: when, when its first keystroke
// was typed, whether inside the window, and how many others received it.
type sentOp struct {
	at, typed atomic.Int64 // Unix nanos; 0: not sent
	measured  atomic.Bool
	recv      atomic.Int32
}

// notesGen is one notes run's shared state.
type notesGen struct {
	*scenario
	o       NotesOptions
	editors []*editor

	opLat     histogram // operation sent → another editor received it
	typedLat  histogram // first keystroke in it → another editor received it
	ackLat    histogram // operation sent → its author's ack
	unknown   atomic.Int64
	gaps      atomic.Int64 // revisions that arrived out of step
	refused   atomic.Int64 // rate_limited errors
	conflicts atomic.Int64 // conflict errors (resynchronised)
	errs      atomic.Int64 // other errors

}

// RunNotes creates a meeting, joins the editors, lets them type at the
// target rate, measures for o.Duration, waits for what is still on its
// way, checks that every replica converged, and ends the meeting. It
// always ends what it started, also on error.
func RunNotes(ctx context.Context, o NotesOptions) (*NotesResult, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	sc, idle, err := startScenario(ctx, &o.ScenarioOptions, "aula-notes-", "Aula notes load test")
	if err != nil {
		return nil, err
	}
	defer sc.finish()
	g := &notesGen{scenario: sc, o: o}
	perEditor := o.Rate / float64(o.Editors)
	slots := int(math.Ceil(perEditor*(o.Warmup+o.Duration).Seconds())) + 64
	for i := range o.Editors {
		e := newEditor(g, i, slots)
		g.editors = append(g.editors, e)
		g.sigs = append(g.sigs, e.sigClient)
	}
	if err := g.joinEveryone(ctx, o.JoinConcurrency, o.JoinTimeout); err != nil {
		return nil, err
	}

	tctx, stopTyping := context.WithCancel(ctx)
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / perEditor)
	for _, e := range g.editors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the editors over one interval.
			e.type_(tctx, interval, interval*time.Duration(e.idx)/time.Duration(len(g.editors)))
		}()
	}
	defer func() { stopTyping(); wg.Wait() }()

	g.log.Info("typing", "editors", o.Editors, "rate", o.Rate)
	w, err := g.measure(ctx, o.Warmup, o.Duration, func() { stopTyping(); wg.Wait() })
	if err != nil {
		return nil, err
	}
	drained := g.waitDrained(ctx, o.Drain)
	res := g.result(idle, w.before, w.after, w.genCPU)
	res.Drained = drained
	res.Converged, res.FinalRev, res.FinalLength = g.converged(ctx)
	res.MachineCPUPercent, res.SoftirqCPUPercent, res.OtherCPUPercent =
		w.machineCPU(res.WindowSeconds, res.ServerCPUPercent, res.GeneratorCPUPercent)
	return res, nil
}

// opToken names operation seq of editor e at the start of its insert.
func opToken(e, seq int) string { return pairID("e", ".", e, seq) + ";" }

// parseOpToken reads the token at the start of an insert.
func parseOpToken(s string) (e, seq int, ok bool) {
	tok, _, found := strings.Cut(s, ";")
	if !found {
		return 0, 0, false
	}
	return parsePair(tok, "e", ".")
}

// makeOp is the operation an editor sends on a text of length n: del
// units deleted from delAt, and ins inserted at pos of the text without
// them (0 ≤ delAt ≤ n − del, 0 ≤ pos ≤ n − del). Editors delete at random
// places rather than all at the end: concurrent deletes of the same
// units count once, so end deletes would not hold the length.
func makeOp(n, pos int, ins string, delAt, del int) room.TextOp {
	var op room.TextOp
	retain := func(k int) {
		if k > 0 {
			op = append(op, room.OpComp{N: k})
		}
	}
	if del == 0 {
		delAt = pos
	}
	if pos <= delAt {
		retain(pos)
		op = append(op, room.OpComp{S: ins})
		retain(delAt - pos)
		if del > 0 {
			op = append(op, room.OpComp{N: -del})
		}
		retain(n - delAt - del)
		return op
	}
	retain(delAt)
	op = append(op, room.OpComp{N: -del})
	retain(pos - delAt)
	op = append(op, room.OpComp{S: ins})
	retain(n - del - pos)
	return op
}

// opDelta is how much op changes a text's length in UTF-16 units.
func opDelta(op room.TextOp) int {
	d := 0
	for _, c := range op {
		switch {
		case c.S != "":
			for _, r := range c.S {
				d++
				if r >= 0x10000 { // a surrogate pair
					d++
				}
			}
		case c.N < 0:
			d += c.N
		}
	}
	return d
}

// observe records that an editor received e's operation seq at now.
func (g *notesGen) observe(e, seq int, now time.Time) {
	if e >= len(g.editors) || seq >= len(g.editors[e].sent) {
		g.unknown.Add(1)
		return
	}
	m := &g.editors[e].sent[seq]
	at := m.at.Load()
	if at == 0 {
		g.unknown.Add(1)
		return
	}
	m.recv.Add(1)
	if !m.measured.Load() {
		return
	}
	g.opLat.observe(time.Duration(now.UnixNano() - at))
	g.typedLat.observe(time.Duration(now.UnixNano() - m.typed.Load()))
}

// expected is how many deliveries the measured operations should make:
// each to every editor but its author; and how many arrived.
func (g *notesGen) deliveries() (want, got int64) {
	for _, e := range g.editors {
		for i := range e.sent {
			m := &e.sent[i]
			if m.measured.Load() && m.at.Load() != 0 {
				want += int64(len(g.editors) - 1)
				got += int64(m.recv.Load())
			}
		}
	}
	return want, got
}

// waitDrained polls until every measured operation reached everyone and
// every editor has its ack, or until within has passed.
func (g *notesGen) waitDrained(ctx context.Context, within time.Duration) bool {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		want, got := g.deliveries()
		idle := true
		for _, e := range g.editors {
			if e.busy() {
				idle = false
				break
			}
		}
		if got >= want && idle {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// converged asks the server for the text (notes.sync by the first
// editor) and compares every editor's revision and length with it.
func (g *notesGen) converged(ctx context.Context) (ok bool, rev, length int) {
	// Every replica as it is, before the sync replaces the first one's.
	reps := make([]notesReplica, len(g.editors))
	for i, e := range g.editors {
		reps[i].rev, reps[i].length = e.replica()
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := g.editors[0].sync(sctx)
	if err != nil {
		g.log.Warn("notes.sync", "err", err)
		return false, 0, 0
	}
	ok = true
	for i, r := range reps {
		if r != st {
			g.log.Warn("replica differs", "editor", i, "rev", r.rev, "length", r.length, "server rev", st.rev, "server length", st.length)
			ok = false
		}
	}
	return ok, st.rev, st.length
}

func (g *notesGen) noteError(code string) {
	switch code {
	case "rate_limited":
		g.refused.Add(1)
	case "conflict":
		g.conflicts.Add(1)
	default:
		g.errs.Add(1)
	}
	g.countCode(code)
}

// pickPos is a random insert position in [0, n].
func pickPos(n int) int { return mrand.IntN(n + 1) }
