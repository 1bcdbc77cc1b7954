package room

import (
	"errors"
	"fmt"
	"unicode/utf16"
)

// Operational transformation for the shared notes, in the model of ot.js
// and Google Wave: the server orders operations by revision; a client's
// operation made against an older revision is transformed over everything
// that came in since, then applied. Every replica applying the server's
// sequence ends with the server's text.
//
// Positions count UTF-16 code units, as JavaScript strings do, so the
// browser's indices need no conversion; an operation that would split a
// surrogate pair is refused.
//
// An operation is a list of components over the whole document: a
// positive number retains that many units, a negative one deletes that
// many, a string inserts itself. Its base length (what it applies to) is
// retains plus deletes; its target length is retains plus inserts.

// OpComp is one component of an operation: exactly one of N (retain > 0,
// delete < 0) or S (insert).
type OpComp struct {
	N int
	S string
}

// TextOp is an operation on a text.
type TextOp []OpComp

// ErrOp: an operation does not fit the text or is malformed.
var ErrOp = errors.New("room: invalid text operation")

func u16len(s string) int { return len(utf16.Encode([]rune(s))) }

// lengths returns the operation's base and target length.
func (op TextOp) lengths() (base, target int) {
	for _, c := range op {
		switch {
		case c.S != "":
			target += u16len(c.S)
		case c.N > 0:
			base += c.N
			target += c.N
		case c.N < 0:
			base -= c.N
		}
	}
	return
}

// normalize merges neighbouring components of a kind and drops empty
// ones, so equal operations look equal.
func (op TextOp) normalize() TextOp {
	var out TextOp
	for _, c := range op {
		if c.S == "" && c.N == 0 {
			continue
		}
		if n := len(out); n > 0 {
			last := &out[n-1]
			switch {
			case c.S != "" && last.S != "":
				last.S += c.S
				continue
			case c.S == "" && last.S == "" && (c.N > 0) == (last.N > 0):
				last.N += c.N
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// Apply applies op to text (UTF-16 units) and returns the result.
func (op TextOp) Apply(text []uint16) ([]uint16, error) {
	base, target := op.lengths()
	if base != len(text) {
		return nil, fmt.Errorf("%w: it applies to %d units, the text has %d", ErrOp, base, len(text))
	}
	out := make([]uint16, 0, target)
	i := 0
	for _, c := range op {
		switch {
		case c.S != "":
			out = append(out, utf16.Encode([]rune(c.S))...)
		case c.N > 0:
			out = append(out, text[i:i+c.N]...)
			i += c.N
		case c.N < 0:
			i -= c.N
		}
	}
	if !wholeUTF16(out) {
		return nil, fmt.Errorf("%w: it splits a character", ErrOp)
	}
	return out, nil
}

// wholeUTF16 reports whether s has no lone surrogate.
func wholeUTF16(s []uint16) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0xd800 && c < 0xdc00:
			if i+1 >= len(s) || s[i+1] < 0xdc00 || s[i+1] >= 0xe000 {
				return false
			}
			i++
		case c >= 0xdc00 && c < 0xe000:
			return false
		}
	}
	return true
}

// opIter walks an operation's components, splitting them as asked.
type opIter struct {
	op  TextOp
	i   int
	off int // units of op[i] consumed (for retain, delete, insert alike)
}

func (it *opIter) done() bool { return it.i >= len(it.op) }

// peek returns the current component's remainder.
func (it *opIter) peek() (OpComp, int) {
	c := it.op[it.i]
	switch {
	case c.S != "":
		u := utf16.Encode([]rune(c.S))[it.off:]
		return OpComp{S: string(utf16.Decode(u))}, len(u)
	case c.N > 0:
		return OpComp{N: c.N - it.off}, c.N - it.off
	default:
		return OpComp{N: c.N + it.off}, -c.N - it.off
	}
}

// take consumes n units of the current component and returns them as a
// component.
func (it *opIter) take(n int) OpComp {
	c := it.op[it.i]
	var out OpComp
	var size int
	switch {
	case c.S != "":
		u := utf16.Encode([]rune(c.S))
		out = OpComp{S: string(utf16.Decode(u[it.off : it.off+n]))}
		size = len(u)
	case c.N > 0:
		out, size = OpComp{N: n}, c.N
	default:
		out, size = OpComp{N: -n}, -c.N
	}
	it.off += n
	if it.off >= size {
		it.i++
		it.off = 0
	}
	return out
}

// Transform takes two operations a and b made concurrently on the same
// text and returns a' and b' such that applying a then b' equals applying
// b then a'. a is the operation the server applied first. When both
// insert at the same place, b's insert (the later one) comes first: a
// typist's next character lands right after their previous one, which
// the earlier operation already pushed along, so two people typing at the
// same place each keep their words whole instead of interleaving letters.
func Transform(a, b TextOp) (TextOp, TextOp, error) {
	ab, _ := a.lengths()
	bb, _ := b.lengths()
	if ab != bb {
		return nil, nil, fmt.Errorf("%w: concurrent operations on texts of %d and %d units", ErrOp, ab, bb)
	}
	var a2, b2 TextOp
	ia, ib := &opIter{op: a}, &opIter{op: b}
	for !ia.done() || !ib.done() {
		// Inserts go first, b's before a's.
		if !ib.done() {
			if c, n := ib.peek(); c.S != "" {
				b2 = append(b2, ib.take(n))
				a2 = append(a2, OpComp{N: n})
				continue
			}
		}
		if !ia.done() {
			if c, n := ia.peek(); c.S != "" {
				a2 = append(a2, ia.take(n))
				b2 = append(b2, OpComp{N: n})
				continue
			}
		}
		if ia.done() || ib.done() {
			return nil, nil, fmt.Errorf("%w: operations of different lengths", ErrOp)
		}
		ca, na := ia.peek()
		cb, nb := ib.peek()
		n := min(na, nb)
		ia.take(n)
		ib.take(n)
		switch {
		case ca.N > 0 && cb.N > 0: // both retain
			a2 = append(a2, OpComp{N: n})
			b2 = append(b2, OpComp{N: n})
		case ca.N < 0 && cb.N < 0: // both delete: already gone for the other
		case ca.N < 0: // a deletes what b retains
			a2 = append(a2, OpComp{N: -n})
		default: // b deletes what a retains
			b2 = append(b2, OpComp{N: -n})
		}
	}
	return a2.normalize(), b2.normalize(), nil
}

// Compose returns the operation doing a then b.
func Compose(a, b TextOp) (TextOp, error) {
	_, at := a.lengths()
	bb, _ := b.lengths()
	if at != bb {
		return nil, fmt.Errorf("%w: composing a result of %d units with an operation on %d", ErrOp, at, bb)
	}
	var out TextOp
	ia, ib := &opIter{op: a}, &opIter{op: b}
	for !ia.done() || !ib.done() {
		if !ia.done() {
			if c, n := ia.peek(); c.N < 0 {
				out = append(out, ia.take(n))
				continue
			}
		}
		if !ib.done() {
			if c, n := ib.peek(); c.S != "" {
				out = append(out, ib.take(n))
				continue
			}
		}
		if ia.done() || ib.done() {
			return nil, fmt.Errorf("%w: operations of different lengths", ErrOp)
		}
		ca, na := ia.peek()
		cb, nb := ib.peek()
		n := min(na, nb)
		pa := ia.take(n)
		ib.take(n)
		switch {
		case cb.N < 0: // b deletes what a made or kept
			if ca.N > 0 {
				out = append(out, OpComp{N: -n})
			}
		case ca.S != "": // b keeps what a inserted
			out = append(out, pa)
		default: // both keep
			out = append(out, OpComp{N: n})
		}
	}
	return out.normalize(), nil
}
