package room_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode/utf16"

	"aula/room"
)

func u16(s string) []uint16 { return utf16.Encode([]rune(s)) }
func str(u []uint16) string { return string(utf16.Decode(u)) }

// randomOp makes a random operation on a text of n units: inserts and
// deletes at random places, never splitting a surrogate pair.
func randomOp(r *rand.Rand, text []uint16) room.TextOp {
	var op room.TextOp
	i := 0
	alphabet := []string{"a", "b", "ß", "ü", "😀", " ", "\n", "xy"}
	for i < len(text) || len(op) == 0 {
		switch r.IntN(4) {
		case 0:
			op = append(op, room.OpComp{S: alphabet[r.IntN(len(alphabet))]})
		case 1:
			if i < len(text) {
				n := 1 + r.IntN(min(3, len(text)-i))
				n = wholeUnits(text, i, n)
				op = append(op, room.OpComp{N: -n})
				i += n
			}
		default:
			if i < len(text) {
				n := 1 + r.IntN(len(text)-i)
				n = wholeUnits(text, i, n)
				op = append(op, room.OpComp{N: n})
				i += n
			} else if len(op) == 0 {
				op = append(op, room.OpComp{S: "z"})
			}
		}
	}
	return op
}

// wholeUnits grows n so that text[i:i+n] does not end inside a pair.
func wholeUnits(text []uint16, i, n int) int {
	if e := i + n; e < len(text) && text[e] >= 0xdc00 && text[e] < 0xe000 {
		n++
	}
	return n
}

// TestTransformConverges: for random pairs of concurrent operations,
// a then b' equals b then a'.
func TestTransformConverges(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		text := u16(strings.Repeat("ab😀c", r.IntN(5)))
		a, b := randomOp(r, text), randomOp(r, text)
		a2, b2, err := room.Transform(a, b)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		ta, err := a.Apply(text)
		if err != nil {
			t.Fatal(err)
		}
		tab, err := b2.Apply(ta)
		if err != nil {
			t.Fatalf("case %d: b' on a's result: %v", i, err)
		}
		tb, _ := b.Apply(text)
		tba, err := a2.Apply(tb)
		if err != nil {
			t.Fatalf("case %d: a' on b's result: %v", i, err)
		}
		if str(tab) != str(tba) {
			t.Fatalf("case %d: %q vs %q (a %v b %v)", i, str(tab), str(tba), a, b)
		}
	}
}

// editor is a client replica in the ot.js model: one operation in flight
// at a time (awaiting the server's ack), later local edits composed into
// a buffer.
type editor struct {
	id       string
	doc      []uint16
	rev      int
	inflight room.TextOp
	buffer   room.TextOp
	// awaiting and buffered tell the state apart from the operations,
	// which may have become empty (nil) by transformation.
	awaiting, buffered bool
}

// serverOp applies an operation of someone else from the server.
func (c *editor) serverOp(t *testing.T, op room.TextOp) {
	t.Helper()
	var err error
	// The server applied op before ours: op first (its inserts win ties,
	// as on the server), ours transformed over it.
	if c.awaiting {
		if op, c.inflight, err = room.Transform(op, c.inflight); err != nil {
			t.Fatal(err)
		}
		if c.buffered {
			if op, c.buffer, err = room.Transform(op, c.buffer); err != nil {
				t.Fatal(err)
			}
		}
	}
	if c.doc, err = op.Apply(c.doc); err != nil {
		t.Fatalf("%s applying the server's op %v to %q (inflight %v buffer %v): %v", c.id, op, str(c.doc), c.inflight, c.buffer, err)
	}
	c.rev++
}

// local makes an edit; it returns the operation to send now, or nil.
func (c *editor) local(t *testing.T, op room.TextOp) room.TextOp {
	t.Helper()
	var err error
	if c.doc, err = op.Apply(c.doc); err != nil {
		t.Fatal(err)
	}
	switch {
	case !c.awaiting:
		c.inflight, c.awaiting = op, true
		return op
	case !c.buffered:
		c.buffer, c.buffered = op, true
	default:
		if c.buffer, err = room.Compose(c.buffer, op); err != nil {
			t.Fatal(err)
		}
	}
	return nil
}

// ack: the server took the operation in flight; send the buffer next.
func (c *editor) ack() (room.TextOp, bool) {
	c.rev++
	c.inflight, c.awaiting = c.buffer, c.buffered
	c.buffer, c.buffered = nil, false
	return c.inflight, c.awaiting
}

// pending is an operation on its way to the server.
type pending struct {
	from int
	rev  int
	op   room.TextOp
}

// TestNotesConvergeUnderConcurrentEdits: thousands of random schedules of
// two to five editors typing and deleting at random (and equal) places,
// with operations in flight while others arrive, the server applying them
// in arrival order: every replica ends with the server's text.
func TestNotesConvergeUnderConcurrentEdits(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for round := range 2000 {
		e := newEnvConfig(t, func(c *room.Config) { c.Features = []room.FeatureSpec{room.NotesFeature()} })
		mt := e.create(room.Settings{MeetingID: fmt.Sprint("notes-", round)})
		n := 2 + r.IntN(4)
		var eds []*editor
		var people []*person
		for i := range n {
			p := e.join(mt, fmt.Sprint("E", i), room.Moderator)
			people = append(people, p)
			eds = append(eds, &editor{id: p.ID()})
		}
		for _, p := range people {
			p.rec.take()
		}
		var toServer []pending
		serve := func() {
			m := toServer[0]
			toServer = toServer[1:]
			if _, err := people[m.from].Command(e.ctx, room.FeatureNotes, room.NotesEdit{Rev: m.rev, Op: m.op}); err != nil {
				t.Fatalf("round %d: the server refused an edit: %v", round, err)
			}
			// Each editor takes what the server sent it, in order.
			for i, p := range people {
				for _, ev := range p.rec.take() {
					switch pl := ev.Payload.(type) {
					case room.NotesOp:
						eds[i].serverOp(t, pl.Op)
					case room.NotesAck:
						if next, ok := eds[i].ack(); ok {
							toServer = append(toServer, pending{from: i, rev: eds[i].rev, op: next})
						}
					}
				}
			}
		}
		for range 10 + r.IntN(30) {
			if r.IntN(3) < 2 || len(toServer) == 0 {
				i := r.IntN(n)
				if out := eds[i].local(t, randomOp(r, eds[i].doc)); out != nil {
					toServer = append(toServer, pending{from: i, rev: eds[i].rev, op: out})
				}
				continue
			}
			serve()
		}
		for len(toServer) > 0 {
			serve()
		}
		want, err := e.mgr.NotesText(mt.Key)
		if err != nil {
			t.Fatal(err)
		}
		for i, ed := range eds {
			if ed.awaiting || ed.buffered {
				t.Fatalf("round %d: editor %d still waits for the server", round, i)
			}
			if str(ed.doc) != want {
				t.Fatalf("round %d: editor %d has %q, the server %q", round, i, str(ed.doc), want)
			}
		}
	}
}

// TestNotesSamePlaceKeepsBoth: two people type at the same position at
// the same time: both inputs end up in the text, whole, the later one's
// first (so that each typist's next letters follow their own).
func TestNotesSamePlaceKeepsBoth(t *testing.T) {
	e := newEnvConfig(t, func(c *room.Config) { c.Features = []room.FeatureSpec{room.NotesFeature()} })
	mt := e.create(room.Settings{})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	if _, err := mona.Command(e.ctx, room.FeatureNotes, room.NotesEdit{Rev: 0, Op: room.TextOp{{S: "ab"}}}); err != nil {
		t.Fatal(err)
	}
	// Both type between a and b, on revision 1.
	if _, err := mona.Command(e.ctx, room.FeatureNotes, room.NotesEdit{Rev: 1, Op: room.TextOp{{N: 1}, {S: "MONA"}, {N: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := vera.Command(e.ctx, room.FeatureNotes, room.NotesEdit{Rev: 1, Op: room.TextOp{{N: 1}, {S: "VERA"}, {N: 1}}}); err != nil {
		t.Fatal(err)
	}
	if text, _ := e.mgr.NotesText(mt.Key); text != "aVERAMONAb" {
		t.Fatalf("notes %q, want both inputs", text)
	}
}

// TestNotesRefusals: bad edits get clear errors and change nothing.
func TestNotesRefusals(t *testing.T) {
	e := newEnvConfig(t, func(c *room.Config) { c.Features = []room.FeatureSpec{room.NotesFeature()} })
	mt := e.create(room.Settings{Lock: room.LockSettings{DisableNotes: true}})
	mona := e.join(mt, "Mona", room.Moderator)
	vera := e.join(mt, "Vera", room.Viewer)
	if _, err := mona.Command(e.ctx, room.FeatureNotes, room.NotesEdit{Rev: 0, Op: room.TextOp{{S: "Hallo 😀"}}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		who  *person
		edit room.NotesEdit
		want error
	}{
		{vera, room.NotesEdit{Rev: 1, Op: room.TextOp{{N: 8}, {S: "!"}}}, room.ErrForbidden},
		{mona, room.NotesEdit{Rev: 5, Op: room.TextOp{{N: 8}, {S: "!"}}}, room.ErrInvalid},
		{mona, room.NotesEdit{Rev: 1, Op: room.TextOp{{N: 9}, {S: "!"}}}, room.ErrInvalid},
		{mona, room.NotesEdit{Rev: 1, Op: room.TextOp{{N: 7}, {N: -1}}}, room.ErrInvalid}, // splits the emoji
		{mona, room.NotesEdit{Rev: 1, Op: room.TextOp{{N: 8}, {S: strings.Repeat("x", room.MaxNotesUnits)}}}, room.ErrInvalid},
		{mona, room.NotesEdit{Rev: 1, Op: room.TextOp{{N: 8}, {S: "\x00"}}}, room.ErrInvalid},
		{mona, room.NotesEdit{Rev: 1, Op: room.TextOp{}}, room.ErrInvalid}, // empty, on a text that is not
	}
	for i, c := range cases {
		if _, err := c.who.Command(e.ctx, room.FeatureNotes, c.edit); !errors.Is(err, c.want) {
			t.Errorf("case %d: %v, want %v", i, err, c.want)
		}
	}
	if text, _ := e.mgr.NotesText(mt.Key); text != "Hallo 😀" {
		t.Fatalf("refused edits changed the notes to %q", text)
	}
}

// FuzzTextOp: any JSON a client sends as a note operation either fails
// to decode or apply with an error, or applies to a text of its base
// length and yields whole UTF-16 (no split pair); transforming it against
// itself converges. Nothing panics.
func FuzzTextOp(f *testing.F) {
	for _, s := range []string{`[{"s":"ab"}]`, `[1,{"s":"M"},1]`, `[{"n":-2}]`, `[2,{"s":"😀"}]`, `[0]`, `[{"n":1e9}]`, `[{"s":"\ud800"}]`, `[{"x":1}]`, `null`, `[-1]`} {
		f.Add(s, "ab")
	}
	f.Fuzz(func(t *testing.T, raw, base string) {
		var op room.TextOp
		if err := json.Unmarshal([]byte(raw), &op); err != nil {
			return
		}
		text := u16(base)
		out, err := op.Apply(text)
		if err != nil {
			return
		}
		// base came from a Go string, so it is whole UTF-16: out must be too.
		if back := utf16.Encode([]rune(str(out))); !slices.Equal(back, out) {
			t.Fatalf("applying %s to %q split a character: %x", raw, base, out)
		}
		a2, b2, err := room.Transform(op, op)
		if err != nil {
			t.Fatalf("transform of an applicable op against itself: %v", err)
		}
		x, err1 := a2.Apply(out)
		y, err2 := b2.Apply(out)
		if err1 != nil || err2 != nil || str(x) != str(y) {
			t.Fatalf("%s against itself does not converge: %q %v / %q %v", raw, str(x), err1, str(y), err2)
		}
	})
}

// TestEventsArriveInCommitOrder: five editors type at once from their own
// goroutines (as five connections do); a sixth participant receives every
// note operation in the order the server made them, revision after
// revision, never a later one first.
func TestEventsArriveInCommitOrder(t *testing.T) {
	e := newEnvConfig(t, func(c *room.Config) { c.Features = []room.FeatureSpec{room.NotesFeature()} })
	mt := e.create(room.Settings{MeetingID: "order"})
	watcher := e.join(mt, "Watcher", room.Viewer)
	var editors []*person
	for i := range 5 {
		editors = append(editors, e.join(mt, fmt.Sprint("E", i), room.Moderator))
	}
	watcher.rec.take()
	const each = 200
	var wg sync.WaitGroup
	var applied atomic.Int64
	for _, p := range editors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				// Rev 0 is always in the past: the server transforms the
				// insert at the start onto the latest text.
				_, err := p.Command(e.ctx, room.FeatureNotes, room.NotesEdit{Rev: 0, Op: room.TextOp{{S: "x"}}})
				if err == nil {
					applied.Add(1)
				} else if !errors.Is(err, room.ErrConflict) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Every command has returned, so every flush has: nothing may be left
	// waiting in the outbox for a later change to carry it out.
	var revs []int
	for _, ev := range watcher.rec.take() {
		if op, ok := ev.Payload.(room.NotesOp); ok {
			revs = append(revs, op.Rev)
		}
	}
	if len(revs) == 0 || int64(len(revs)) != applied.Load() {
		t.Fatalf("the watcher saw %d operations of %d applied", len(revs), applied.Load())
	}
	for i := 1; i < len(revs); i++ {
		if revs[i] != revs[i-1]+1 {
			t.Fatalf("operation %d arrived after %d (of %d)", revs[i], revs[i-1], len(revs))
		}
	}
}
