package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"aula/room"
)

// editor is one participant of the notes scenario: a signaling socket, no
// media, and an OT client that tracks its replica's revision and length.
type editor struct {
	*sigClient
	g    *notesGen
	sent []sentOp // by sequence number

	// Sent inside the window; ticks dropped because the table or the
	// writer's queue was full.
	measuredOps, behind atomic.Int64

	mu       sync.Mutex
	joined   bool // the welcome's notes arrived
	rev      int  // the latest revision this replica has
	length   int  // the replica's length: the server's at rev plus inflight
	inflight room.TextOp
	inSeq    int  // inflight's sequence number
	syncing  bool // a conflict: waiting for notes.state
	typed    int  // ticks typed since the last send
	typedAt  int64
	seq      int // the next operation's sequence number
	stateCh  chan notesReplica
}

type notesReplica struct{ rev, length int }

func newEditor(g *notesGen, idx, slots int) *editor {
	name := "Notes editor " + strconv.Itoa(idx)
	e := &editor{g: g, sent: make([]sentOp, slots)}
	e.sigClient = newSigClient(g.api, g.base, g.meetingID, &g.stopping, idx, name, idx == 0, g.log.With("editor", idx))
	e.handle = e.handleNotes
	e.onError = e.refused
	return e
}

// type_ types one keystroke group per tick until ctx ends.
func (e *editor) type_(ctx context.Context, interval, phase time.Duration) {
	if err := sleep(ctx, phase); err != nil {
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now().UnixNano()
		e.mu.Lock()
		e.typed++
		if e.typedAt == 0 {
			e.typedAt = now
		}
		if e.joined && e.inflight == nil && !e.syncing {
			e.sendLocked(now)
		}
		e.mu.Unlock()
	}
}

// sendLocked sends what was typed as one operation on the replica's
// revision. The caller holds e.mu and has nothing in flight.
func (e *editor) sendLocked(now int64) {
	if e.seq >= len(e.sent) {
		e.behind.Add(int64(e.typed))
		e.typed, e.typedAt = 0, 0
		return
	}
	ins := opToken(e.idx, e.seq) + strings.Repeat("x", e.typed-1)
	del := 0
	if e.length > e.g.o.MaxText {
		del = min(len(ins), e.length)
	}
	op := makeOp(e.length, pickPos(e.length-del), ins, pickPos(e.length-del), del)
	data, err := json.Marshal(map[string]any{"rev": e.rev, "op": op})
	if err != nil {
		e.fail(err)
		return
	}
	m := &e.sent[e.seq]
	measuring := e.g.measuring.Load()
	m.measured.Store(measuring)
	m.typed.Store(e.typedAt)
	m.at.Store(now)
	if !e.trySend(envelope{Type: "notes.edit", Ref: "n" + strconv.Itoa(e.seq), Data: data}) {
		// The writer is behind: keep what was typed for the next tick.
		m.at.Store(0)
		e.behind.Add(1)
		return
	}
	if measuring {
		e.measuredOps.Add(1)
	}
	e.inflight, e.inSeq = op, e.seq
	e.seq++
	e.length += opDelta(op)
	e.typed, e.typedAt = 0, 0
}

// Payloads of the notes messages the scenario reads.
type (
	notesWelcomeIn struct {
		Data struct {
			Features struct {
				Notes struct {
					Rev  int    `json:"rev"`
					Text string `json:"text"`
				} `json:"notes"`
			} `json:"features"`
		} `json:"data"`
	}
	notesOpIn struct {
		Data struct {
			Rev    int         `json:"rev"`
			Op     room.TextOp `json:"op"`
			Author string      `json:"author"`
		} `json:"data"`
	}
	notesRevIn struct { // notes.ack and notes.state
		Data struct {
			Rev  int    `json:"rev"`
			Text string `json:"text"`
		} `json:"data"`
	}
)

func u16(s string) int { return len(utf16.Encode([]rune(s))) }

func (e *editor) handleNotes(typ string, b []byte, now time.Time) error {
	switch typ {
	case "welcome":
		var m notesWelcomeIn
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		e.mu.Lock()
		e.joined, e.rev, e.length = true, m.Data.Features.Notes.Rev, u16(m.Data.Features.Notes.Text)
		e.mu.Unlock()
	case "notes.op":
		var m notesOpIn
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		if err := e.apply(m.Data.Rev, m.Data.Op); err != nil {
			return err
		}
		for _, c := range m.Data.Op {
			if c.S != "" {
				if d, seq, ok := parseOpToken(c.S); ok && d != e.idx {
					e.g.observe(d, seq, now)
				} else {
					e.g.unknown.Add(1)
				}
				break
			}
		}
	case "notes.ack":
		var m notesRevIn
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		return e.acked(m.Data.Rev, now)
	case "notes.state":
		var m notesRevIn
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		e.mu.Lock()
		e.rev, e.length, e.inflight, e.syncing = m.Data.Rev, u16(m.Data.Text), nil, false
		if e.stateCh != nil {
			e.stateCh <- notesReplica{e.rev, e.length}
			e.stateCh = nil
		}
		if e.typed > 0 {
			e.sendLocked(now.UnixNano())
		}
		e.mu.Unlock()
	}
	return nil
}

// apply takes another's operation, revision rev: the one in flight is
// transformed over it (the server's as the earlier one), and the replica
// takes the transformed server operation.
func (e *editor) apply(rev int, op room.TextOp) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.syncing {
		return nil // notes.state will replace everything
	}
	if rev != e.rev+1 {
		e.g.gaps.Add(1)
	}
	e.rev = rev
	if e.inflight == nil {
		e.length += opDelta(op)
		return nil
	}
	s2, a2, err := room.Transform(op, e.inflight)
	if err != nil {
		return fmt.Errorf("%w: notes.op %d does not fit the replica: %v", ErrServer, rev, err)
	}
	e.inflight = a2
	e.length += opDelta(s2)
	return nil
}

// acked: the operation in flight became revision rev; what was typed
// meanwhile goes out at once.
func (e *editor) acked(rev int, now time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inflight == nil {
		return fmt.Errorf("%w: notes.ack %d with nothing in flight", ErrServer, rev)
	}
	if rev != e.rev+1 {
		e.g.gaps.Add(1)
	}
	e.rev, e.inflight = rev, nil
	if m := &e.sent[e.inSeq]; m.measured.Load() {
		e.g.ackLat.observe(time.Duration(now.UnixNano() - m.at.Load()))
	}
	if e.typed > 0 && !e.syncing {
		e.sendLocked(now.UnixNano())
	}
	return nil
}

// refused handles an error from the server: an edit refused leaves the
// replica (it was never applied) and is not expected anywhere; a conflict
// resynchronises.
func (e *editor) refused(code, ref string) {
	e.g.noteError(code)
	seq, err := strconv.Atoi(strings.TrimPrefix(ref, "n"))
	if !strings.HasPrefix(ref, "n") || err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inflight == nil || seq != e.inSeq {
		return
	}
	e.length -= opDelta(e.inflight)
	e.inflight = nil
	m := &e.sent[seq]
	m.at.Store(0)
	if m.measured.Swap(false) {
		e.measuredOps.Add(-1)
	}
	if code == "conflict" && !e.syncing {
		e.syncing = e.trySend(envelope{Type: "notes.sync", Ref: e.nextRef("s")})
	}
}

// busy: an operation or a resynchronisation is still on its way.
func (e *editor) busy() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inflight != nil || e.syncing
}

func (e *editor) replica() (rev, length int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rev, e.length
}

// sync asks the server for the whole text and returns its revision and
// length; the replica takes them too.
func (e *editor) sync(ctx context.Context) (notesReplica, error) {
	ch := make(chan notesReplica, 1)
	e.mu.Lock()
	if e.inflight != nil || e.syncing {
		e.mu.Unlock()
		return notesReplica{}, errors.New("an operation is still in flight")
	}
	e.stateCh, e.syncing = ch, true
	e.mu.Unlock()
	if err := e.send(ctx, envelope{Type: "notes.sync", Ref: e.nextRef("s")}); err != nil {
		return notesReplica{}, err
	}
	select {
	case st := <-ch:
		return st, nil
	case <-ctx.Done():
		return notesReplica{}, fmt.Errorf("notes.sync: no notes.state: %w", ctx.Err())
	}
}
