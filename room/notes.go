package room

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Shared notes: one text everyone in the meeting edits live (Markdown),
// kept consistent by server-ordered operational transformation (ot.go).
// A client sends its operation with the revision it was made on; the
// server transforms it over the operations applied since, applies it as
// the next revision, acknowledges it to its author and sends it to
// everyone else. Moderators can lock the notes for viewers (the lock
// setting disableNotes). Operations are kept as an append log, compacted
// into a snapshot of the text.

// FeatureNotes names the shared notes.
const FeatureNotes = "notes"

// Limits of the notes.
const (
	// MaxNotesUnits caps the text (UTF-16 units, about characters).
	MaxNotesUnits = 100_000
	// notesHistory is how many operations the server keeps to transform
	// late ones over; a client further behind resynchronises.
	notesHistory = 500
	maxOpComps   = 1000
)

// Notes commands.
type (
	// NotesEdit is a client's operation, made on revision Rev.
	NotesEdit struct {
		Rev int
		Op  TextOp
	}
	// NotesCursor shows where one's cursor (and selection) is, at Rev.
	NotesCursor struct {
		Rev, Pos, End int
	}
	// NotesAppend adds text at the end (the server itself, e.g. a poll's
	// result; not from clients).
	NotesAppend struct{ Text string }
	// NotesSync asks for the whole text again (a client too far behind).
	NotesSync struct{}
	// NotesToBoard copies the notes onto a new page of the blank deck
	// (presenter or moderator), as BBB does.
	NotesToBoard struct{}
)

// Notes events.
type (
	// NotesOp: the operation that made revision Rev, by Author.
	NotesOp struct {
		Rev    int
		Op     TextOp
		Author string
	}
	// NotesCursorMoved: participant ID's cursor at Rev.
	NotesCursorMoved struct {
		ID            string
		Rev, Pos, End int
	}
)

// NotesView is the notes as a participant sees them on connect.
type NotesView struct {
	Rev  int    `json:"rev"`
	Text string `json:"text"`
}

// NotesAck answers the author of an edit: its operation is revision Rev.
type NotesAck struct{ Rev int }

// NotesFeature registers the shared notes with a Manager.
func NotesFeature() FeatureSpec {
	return FeatureSpec{Name: FeatureNotes, CompactEvery: 300, New: func(*Meeting) Feature { return &notes{} }}
}

type notes struct {
	text    []uint16
	rev     int
	history []TextOp // the last operations, history[i] made revision rev-len(history)+i+1
}

// notesEntry is one log entry and the snapshot's shape.
type notesEntry struct {
	Rev  int    `json:"rev"`
	Op   TextOp `json:"op,omitempty"`
	Text string `json:"text,omitempty"`
}

// checkOp validates a client's operation's shape.
func checkOp(op TextOp) error {
	// An empty operation is a no-op on an empty text: a client's buffered
	// edit can become one by transformation, and is still acknowledged.
	if len(op) > maxOpComps {
		return fmt.Errorf("%w: at most %d components", ErrOp, maxOpComps)
	}
	for _, c := range op {
		if c.S != "" && c.N != 0 {
			return fmt.Errorf("%w: a component both inserts and moves", ErrOp)
		}
		if c.S == "" && c.N == 0 {
			return fmt.Errorf("%w: an empty component", ErrOp)
		}
		if c.S != "" {
			if err := plainText(c.S); err != nil {
				return err
			}
		}
	}
	return nil
}

func (n *notes) Command(tx *Tx, actor *Participant, cmd any) (any, error) {
	switch c := cmd.(type) {
	case NotesEdit:
		if actor.Kind != KindSystem && actor.Role == Viewer && tx.Meeting().Lock.DisableNotes {
			return nil, fmt.Errorf("%w: the notes are locked", ErrForbidden)
		}
		if err := checkOp(c.Op); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return n.edit(tx, actor.ID, c.Rev, c.Op)
	case NotesCursor:
		if c.Rev != n.rev || c.Pos < 0 || c.End < c.Pos || c.End > len(n.text) {
			return nil, nil // stale or off: not worth an error, the next one counts
		}
		tx.SendIf(func(p *Participant) bool { return p.ID != actor.ID && tx.MaySee(p, actor) },
			NotesCursorMoved{ID: actor.ID, Rev: c.Rev, Pos: c.Pos, End: c.End})
		return nil, nil
	case NotesSync:
		tx.SendTo(actor.ID, NotesView{Rev: n.rev, Text: n.Text()})
		return nil, nil
	case NotesToBoard:
		if actor.Role != Moderator && !CanPresent(actor) {
			return nil, fmt.Errorf("%w: only the presenter or a moderator copies the notes", ErrForbidden)
		}
		return nil, n.toBoard(tx)
	case NotesAppend:
		if actor.Kind != KindSystem {
			return nil, ErrForbidden
		}
		op := TextOp{{S: c.Text}}
		if len(n.text) > 0 {
			op = TextOp{{N: len(n.text)}, {S: c.Text}}
		}
		return n.edit(tx, "", n.rev, op)
	}
	return nil, fmt.Errorf("%w: notes command %T", ErrInvalid, cmd)
}

// edit transforms op (made on revision rev) to the current text, applies
// it as the next revision and tells everyone.
func (n *notes) edit(tx *Tx, author string, rev int, op TextOp) (any, error) {
	if rev > n.rev || rev < 0 {
		return nil, fmt.Errorf("%w: revision %d is ahead of the server's %d", ErrInvalid, rev, n.rev)
	}
	behind := n.rev - rev
	if behind > len(n.history) {
		return nil, fmt.Errorf("%w: revision %d is too old, reload the notes", ErrConflict, rev)
	}
	for _, past := range n.history[len(n.history)-behind:] {
		var err error
		if _, op, err = Transform(past, op); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	text, err := op.Apply(n.text)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(text) > MaxNotesUnits {
		return nil, fmt.Errorf("%w: the notes hold at most %d characters", ErrInvalid, MaxNotesUnits)
	}
	n.text = text
	n.rev++
	n.history = append(n.history, op)
	if len(n.history) > notesHistory {
		n.history = append([]TextOp(nil), n.history[len(n.history)-notesHistory:]...)
	}
	if b, err := json.Marshal(notesEntry{Rev: n.rev, Op: op}); err == nil {
		tx.Append(b)
	}
	tx.SendIf(func(p *Participant) bool { return p.ID != author && p.Kind != Phone }, NotesOp{Rev: n.rev, Op: op, Author: author})
	if author != "" {
		// The author learns its operation's revision in order with the
		// others' operations it receives.
		tx.SendTo(author, NotesAck{Rev: n.rev})
	}
	return nil, nil
}

// Text returns the notes' text (the export).
func (n *notes) Text() string { return string(utf16.Decode(n.text)) }

func (n *notes) View(p *Participant) any {
	if p.Kind == Phone {
		return nil
	}
	return NotesView{Rev: n.rev, Text: n.Text()}
}

func (n *notes) Snapshot() ([]byte, error) {
	return json.Marshal(notesEntry{Rev: n.rev, Text: n.Text()})
}

func (n *notes) Restore(snap []byte, entries [][]byte) error {
	if snap != nil {
		var s notesEntry
		if err := json.Unmarshal(snap, &s); err != nil {
			return err
		}
		n.text, n.rev = utf16.Encode([]rune(s.Text)), s.Rev
	}
	for _, e := range entries {
		var o notesEntry
		if err := json.Unmarshal(e, &o); err != nil {
			return err
		}
		if o.Rev <= n.rev {
			continue // in the snapshot already
		}
		text, err := o.Op.Apply(n.text)
		if err != nil {
			return err
		}
		n.text, n.rev = text, o.Rev
	}
	// Clients behind the adoption resynchronise: no history survives it.
	n.history = nil
	return nil
}

// MarshalJSON writes an operation as the wire does: numbers and strings.
func (op TextOp) MarshalJSON() ([]byte, error) {
	out := make([]any, len(op))
	for i, c := range op {
		if c.S != "" {
			out[i] = c.S
		} else {
			out[i] = c.N
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads an operation from numbers and strings.
func (op *TextOp) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%w: an operation is a list", ErrOp)
	}
	out := make(TextOp, 0, len(raw))
	for _, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			if s == "" {
				return fmt.Errorf("%w: an empty insert", ErrOp)
			}
			out = append(out, OpComp{S: s})
			continue
		}
		var n int
		if err := json.Unmarshal(r, &n); err != nil || n == 0 {
			return fmt.Errorf("%w: components are non-zero whole numbers or strings", ErrOp)
		}
		out = append(out, OpComp{N: n})
	}
	*op = out
	return nil
}

// NotesText returns the shared notes of a running meeting (the export).
func (m *Manager) NotesText(key string) (string, error) {
	l := m.lookup(key)
	if l == nil {
		return "", ErrNotFound
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slot(FeatureNotes)
	if s == nil {
		return "", ErrNoFeature
	}
	return s.f.(*notes).Text(), nil
}

// toBoard adds a blank page, shows it, and writes the notes on it in text
// shapes of at most MaxShapeText characters each, top to bottom.
func (n *notes) toBoard(tx *Tx) error {
	text := strings.TrimSpace(n.Text())
	if text == "" {
		return fmt.Errorf("%w: the notes are empty", ErrInvalid)
	}
	var page PageRef
	if err := tx.Also(FeaturePresentation, func(sub *Tx, f Feature) {
		p, ok := f.(*presentation)
		if !ok {
			return
		}
		b := p.doc(BlankDeck)
		if len(b.Pages) >= maxBlankPages {
			return
		}
		b.Pages = append(b.Pages, b.Pages[0])
		b.Page = len(b.Pages)
		p.Current, p.Zoom, p.X, p.Y = BlankDeck, 1, 0, 0
		page = PageRef{Doc: BlankDeck, Page: b.Page}
		p.changed(sub)
	}); err != nil {
		return err
	}
	if page.Page == 0 {
		return fmt.Errorf("%w: the blank deck is full", ErrInvalid)
	}
	var chunks []string
	for _, line := range strings.Split(text, "\n") {
		for utf8.RuneCountInString(line) > MaxShapeText {
			r := []rune(line)
			chunks = append(chunks, string(r[:MaxShapeText]))
			line = string(r[MaxShapeText:])
		}
		if k := len(chunks); k > 0 && utf8.RuneCountInString(chunks[k-1])+1+utf8.RuneCountInString(line) <= MaxShapeText {
			chunks[k-1] += "\n" + line
		} else {
			chunks = append(chunks, line)
		}
	}
	return tx.Also(FeatureWhiteboard, func(sub *Tx, f Feature) {
		w, ok := f.(*whiteboard)
		if !ok {
			return
		}
		y := 0.05
		var shapes []*Shape
		for i, c := range chunks {
			lines := strings.Count(c, "\n") + 1
			if y > 0.95 || w.count+len(shapes) >= MaxShapes {
				break // the rest does not fit on the page
			}
			shapes = append(shapes, &Shape{ID: fmt.Sprintf("notes-%d-%d", page.Page, i), Kind: ShapeText,
				Points: []Point{{0.05, y}}, Color: "#212121", Width: 0.002, Text: plainTextOnly(c), Size: 0.025})
			y += 0.03 * float64(lines)
		}
		w.record(sub, "", wbOp{Op: "add", Page: page.key(), Shapes: shapes}, false)
	})
}

// plainTextOnly drops the control characters a shape's text may not
// hold (tabs stay).
func plainTextOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
}
