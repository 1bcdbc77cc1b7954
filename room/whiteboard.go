package room

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The whiteboard: drawings on every page of every document (and of the
// blank deck). The presenter draws; the presenter or a moderator lets
// everyone, or chosen people, draw too. Each shape belongs to the page it
// was drawn on and to its author, who may erase, move, undo and redo it;
// the presenter may erase anything and clear a page. Shapes are kept as an
// append log (one entry per change, compacted into a snapshot), so a
// stroke costs one small store write, never a rewrite of the whole board.
//
// Coordinates are fractions of the page: x and y run from 0 to 1 across
// the page's width and height, so every screen size and zoom agrees.

// FeatureWhiteboard names the whiteboard feature.
const FeatureWhiteboard = "whiteboard"

// Shape kinds.
const (
	ShapePen         = "pen"
	ShapeHighlighter = "highlighter"
	ShapeLine        = "line"
	ShapeArrow       = "arrow"
	ShapeRect        = "rect"
	ShapeEllipse     = "ellipse"
	ShapeText        = "text"
)

// Limits of the whiteboard, with clear errors.
const (
	MaxShapesPerPage = 1000
	MaxShapes        = 20000 // per meeting
	MaxPoints        = 2000  // per stroke (a long stroke is split by the client)
	MaxShapeText     = 500   // runes
	maxShapeID       = 40
)

// Point is a position on a page: fractions of its width and height.
type Point [2]float64

// Shape is one drawing on a page.
type Shape struct {
	ID     string  `json:"id"`
	Kind   string  `json:"kind"`
	Points []Point `json:"points"`
	Color  string  `json:"color"`
	// Width is the line width as a fraction of the page width.
	Width float64 `json:"width"`
	Text  string  `json:"text,omitempty"`
	// Size is the text's height as a fraction of the page height.
	Size   float64 `json:"size,omitempty"`
	Author string  `json:"author"`
}

// PageRef names a page of a document.
type PageRef struct {
	Doc  string `json:"doc"`
	Page int    `json:"page"`
}

func (r PageRef) key() string { return r.Doc + "/" + strconv.Itoa(r.Page) }

// Whiteboard commands.
type (
	// Draw commits a finished shape.
	Draw struct {
		Page  PageRef
		Shape Shape
	}
	// Drawing shows a shape while it is being drawn (not kept).
	Drawing struct {
		Page  PageRef
		Shape Shape
	}
	// Erase removes shapes.
	Erase struct {
		Page PageRef
		IDs  []string
	}
	// Move shifts shapes by DX, DY (fractions of the page).
	Move struct {
		Page   PageRef
		IDs    []string
		DX, DY float64
	}
	// Undo and Redo undo and redo one's own last change.
	Undo struct{}
	Redo struct{}
	// Clear removes one's own shapes from a page; with All (presenter
	// only), every shape on it.
	Clear struct {
		Page PageRef
		All  bool
	}
	// Access lets everyone (All) or the participants IDs draw (presenter
	// or moderator); All false and no IDs: only the presenter.
	Access struct {
		All bool
		IDs []string
	}
	// Cursor shows where one points (the presenter's pointer, drawers'
	// cursors); not kept.
	Cursor struct {
		Page PageRef
		X, Y float64
	}
)

// Whiteboard events (room.EventFeature payloads).
type (
	// WBAdded: shapes appeared on a page (a drawing, an undo of an erase).
	WBAdded struct {
		Page   PageRef
		Shapes []Shape
	}
	// WBRemoved: shapes were erased.
	WBRemoved struct {
		Page PageRef
		IDs  []string
	}
	// WBMoved: shapes were moved by DX, DY.
	WBMoved struct {
		Page   PageRef
		IDs    []string
		DX, DY float64
	}
	// WBAccess: who may draw now.
	WBAccess struct {
		All bool
		IDs []string
	}
	// WBDrawing: a shape being drawn by its author.
	WBDrawing struct {
		Page  PageRef
		Shape Shape
	}
	// WBCursor: where participant ID points.
	WBCursor struct {
		ID   string
		Page PageRef
		X, Y float64
	}
)

// WhiteboardView is the whole board as a participant sees it on connect.
type WhiteboardView struct {
	Pages map[string][]Shape `json:"pages"`
	All   bool               `json:"all"`
	IDs   []string           `json:"ids"`
}

// WhiteboardFeature registers the whiteboard with a Manager.
func WhiteboardFeature() FeatureSpec {
	return FeatureSpec{Name: FeatureWhiteboard, CompactEvery: 500, New: func(*Meeting) Feature { return newWhiteboard() }}
}

type whiteboard struct {
	Pages   map[string][]*Shape `json:"pages"`
	All     bool                `json:"all"`
	Drawers map[string]bool     `json:"drawers,omitempty"`
	count   int
	// undo and redo are each author's changes, newest last; they live in
	// memory only (a node adopting the meeting starts them afresh).
	undo, redo map[string][]wbOp
}

// wbOp is one change, as stored in the log and kept for undo.
type wbOp struct {
	Op     string   `json:"op"` // add, remove, move, access
	Page   string   `json:"page,omitempty"`
	Shapes []*Shape `json:"shapes,omitempty"`
	IDs    []string `json:"ids,omitempty"`
	DX     float64  `json:"dx,omitempty"`
	DY     float64  `json:"dy,omitempty"`
	All    bool     `json:"all,omitempty"`
}

func newWhiteboard() *whiteboard {
	return &whiteboard{Pages: map[string][]*Shape{}, Drawers: map[string]bool{}, undo: map[string][]wbOp{}, redo: map[string][]wbOp{}}
}

// mayDraw reports whether p may draw now.
func (w *whiteboard) mayDraw(p *Participant) bool {
	return CanPresent(p) || w.All || w.Drawers[p.ID]
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

// checkPage validates a page reference against the presentation.
func checkPage(tx *Tx, r PageRef) error {
	if p, ok := tx.Peer(FeaturePresentation).(*presentation); ok {
		d := p.doc(r.Doc)
		if d == nil || d.Status != DocReady || r.Page < 1 || r.Page > len(d.Pages) {
			return fmt.Errorf("%w: no such page", ErrNotFound)
		}
		return nil
	}
	if r.Doc == "" || r.Page < 1 {
		return fmt.Errorf("%w: no such page", ErrNotFound)
	}
	return nil
}

// checkShape validates a shape a client sent.
func checkShape(s *Shape, live bool) error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: shape: "+f, append([]any{ErrInvalid}, a...)...) }
	if !idRE.MatchString(s.ID) {
		return bad("id must be 1 to %d letters, digits, - or _", maxShapeID)
	}
	if len(s.Points) > MaxPoints {
		return bad("at most %d points", MaxPoints)
	}
	min := map[string]int{ShapePen: 1, ShapeHighlighter: 1, ShapeLine: 2, ShapeArrow: 2, ShapeRect: 2, ShapeEllipse: 2, ShapeText: 1}
	n, ok := min[s.Kind]
	if !ok {
		return bad("unknown kind %q", s.Kind)
	}
	if len(s.Points) < n || (n == 2 && len(s.Points) != 2) || (s.Kind == ShapeText && len(s.Points) != 1) {
		return bad("%s needs %d point(s)", s.Kind, n)
	}
	for _, p := range s.Points {
		if !finite(p[0], p[1]) || p[0] < -0.5 || p[0] > 1.5 || p[1] < -0.5 || p[1] > 1.5 {
			return bad("points must lie on or near the page")
		}
	}
	if !colorRE.MatchString(s.Color) {
		return bad("color must be #rrggbb")
	}
	if !finite(s.Width) || s.Width < 0.0005 || s.Width > 0.1 {
		return bad("width must be 0.0005 to 0.1 of the page")
	}
	if s.Kind == ShapeText {
		if !live && strings.TrimSpace(s.Text) == "" {
			return bad("text is empty")
		}
		if !utf8.ValidString(s.Text) || utf8.RuneCountInString(s.Text) > MaxShapeText {
			return bad("text of at most %d characters", MaxShapeText)
		}
		if err := plainText(s.Text); err != nil {
			return err
		}
		if !finite(s.Size) || s.Size < 0.005 || s.Size > 0.5 {
			return bad("text size must be 0.005 to 0.5 of the page")
		}
	} else if s.Text != "" || s.Size != 0 {
		return bad("only text shapes have text")
	}
	return nil
}

func (w *whiteboard) find(page, id string) (int, *Shape) {
	for i, s := range w.Pages[page] {
		if s.ID == id {
			return i, s
		}
	}
	return -1, nil
}

// apply carries out an op on the board (no checks: the op is valid or
// comes from the log) and returns its inverse for undo.
func (w *whiteboard) apply(o wbOp) wbOp {
	switch o.Op {
	case "add":
		for _, s := range o.Shapes {
			if i, _ := w.find(o.Page, s.ID); i < 0 {
				w.Pages[o.Page] = append(w.Pages[o.Page], s)
				w.count++
			}
		}
		ids := make([]string, len(o.Shapes))
		for i, s := range o.Shapes {
			ids[i] = s.ID
		}
		return wbOp{Op: "remove", Page: o.Page, IDs: ids}
	case "remove":
		var gone []*Shape
		for _, id := range o.IDs {
			if i, s := w.find(o.Page, id); i >= 0 {
				gone = append(gone, s)
				w.Pages[o.Page] = append(w.Pages[o.Page][:i], w.Pages[o.Page][i+1:]...)
				w.count--
			}
		}
		if len(w.Pages[o.Page]) == 0 {
			delete(w.Pages, o.Page)
		}
		return wbOp{Op: "add", Page: o.Page, Shapes: gone}
	case "move":
		for _, id := range o.IDs {
			if _, s := w.find(o.Page, id); s != nil {
				// New points, never changed in place: views sent before
				// share the old ones and may still be being encoded.
				moved := make([]Point, len(s.Points))
				for i, p := range s.Points {
					moved[i] = Point{p[0] + o.DX, p[1] + o.DY}
				}
				s.Points = moved
			}
		}
		return wbOp{Op: "move", Page: o.Page, IDs: o.IDs, DX: -o.DX, DY: -o.DY}
	case "access":
		w.All = o.All
		w.Drawers = map[string]bool{}
		for _, id := range o.IDs {
			w.Drawers[id] = true
		}
	}
	return wbOp{}
}

// record logs an op, tells everyone, and (for an author's own change)
// keeps its inverse for undo.
func (w *whiteboard) record(tx *Tx, author string, o wbOp, undoable bool) {
	inv := w.apply(o)
	b, err := json.Marshal(o)
	if err == nil {
		tx.Append(b)
	}
	w.announce(tx, o)
	if undoable && author != "" {
		w.undo[author] = append(w.undo[author], inv)
		if len(w.undo[author]) > 100 {
			w.undo[author] = w.undo[author][1:]
		}
	}
}

// announce tells everyone in the room what an op changed.
func (w *whiteboard) announce(tx *Tx, o wbOp) {
	page := pageRefOf(o.Page)
	switch o.Op {
	case "add":
		shapes := make([]Shape, len(o.Shapes))
		for i, s := range o.Shapes {
			shapes[i] = *s
		}
		tx.Broadcast(WBAdded{Page: page, Shapes: shapes})
	case "remove":
		tx.Broadcast(WBRemoved{Page: page, IDs: o.IDs})
	case "move":
		tx.Broadcast(WBMoved{Page: page, IDs: o.IDs, DX: o.DX, DY: o.DY})
	case "access":
		tx.Broadcast(WBAccess{All: o.All, IDs: o.IDs})
	}
}

func pageRefOf(key string) PageRef {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return PageRef{}
	}
	n, _ := strconv.Atoi(key[i+1:])
	return PageRef{Doc: key[:i], Page: n}
}

// mayChange reports whether actor may erase or move shape s.
func mayChange(actor *Participant, s *Shape) bool {
	return s.Author == actor.ID || CanPresent(actor) || actor.Role == Moderator
}

func (w *whiteboard) Command(tx *Tx, actor *Participant, cmd any) (any, error) {
	switch c := cmd.(type) {
	case Access:
		if !CanPresent(actor) && actor.Role != Moderator {
			return nil, fmt.Errorf("%w: only the presenter or a moderator grants drawing", ErrForbidden)
		}
		if len(c.IDs) > 500 {
			return nil, fmt.Errorf("%w: too many participants", ErrInvalid)
		}
		ids := append([]string(nil), c.IDs...)
		for _, id := range ids {
			if tx.Participant(id) == nil {
				return nil, fmt.Errorf("%w: participant", ErrNotFound)
			}
		}
		w.record(tx, "", wbOp{Op: "access", All: c.All, IDs: ids}, false)
		return nil, nil
	case Undo, Redo:
		return nil, w.undoRedo(tx, actor, cmd)
	case Cursor:
		if !w.mayDraw(actor) {
			return nil, fmt.Errorf("%w: you may not draw", ErrForbidden)
		}
		if !finite(c.X, c.Y) || c.X < -0.5 || c.X > 1.5 || c.Y < -0.5 || c.Y > 1.5 {
			return nil, fmt.Errorf("%w: cursor off the page", ErrInvalid)
		}
		if err := checkPage(tx, c.Page); err != nil {
			return nil, err
		}
		ev := WBCursor{ID: actor.ID, Page: c.Page, X: c.X, Y: c.Y}
		tx.SendIf(func(p *Participant) bool { return p.ID != actor.ID && tx.MaySee(p, actor) }, ev)
		return nil, nil
	}
	switch c := cmd.(type) {
	case Draw, Drawing:
		// Drawing needs the right; erasing, moving and clearing one's own
		// shapes (a moderator's: anyone's) do not, so a right taken back
		// never leaves someone unable to remove what they drew.
		if !w.mayDraw(actor) {
			return nil, fmt.Errorf("%w: you may not draw", ErrForbidden)
		}
		page, s, live := drawArgs(c)
		if err := checkPage(tx, page); err != nil {
			return nil, err
		}
		if err := checkShape(&s, live); err != nil {
			return nil, err
		}
		s.Author = actor.ID
		if live {
			tx.SendIf(func(p *Participant) bool { return p.ID != actor.ID }, WBDrawing{Page: page, Shape: s})
			return nil, nil
		}
		key := page.key()
		if _, old := w.find(key, s.ID); old != nil {
			return nil, fmt.Errorf("%w: shape %s exists", ErrExists, s.ID)
		}
		if len(w.Pages[key]) >= MaxShapesPerPage {
			return nil, fmt.Errorf("%w: at most %d shapes on a page", ErrInvalid, MaxShapesPerPage)
		}
		if w.count >= MaxShapes {
			return nil, fmt.Errorf("%w: at most %d shapes in a meeting", ErrInvalid, MaxShapes)
		}
		w.redo[actor.ID] = nil
		w.record(tx, actor.ID, wbOp{Op: "add", Page: key, Shapes: []*Shape{&s}}, true)
	case Erase:
		key := c.Page.key()
		ids, err := w.changeable(actor, key, c.IDs)
		if err != nil {
			return nil, err
		}
		w.redo[actor.ID] = nil
		w.record(tx, actor.ID, wbOp{Op: "remove", Page: key, IDs: ids}, true)
	case Move:
		key := c.Page.key()
		if !finite(c.DX, c.DY) || math.Abs(c.DX) > 2 || math.Abs(c.DY) > 2 {
			return nil, fmt.Errorf("%w: move by at most the page", ErrInvalid)
		}
		ids, err := w.changeable(actor, key, c.IDs)
		if err != nil {
			return nil, err
		}
		w.redo[actor.ID] = nil
		w.record(tx, actor.ID, wbOp{Op: "move", Page: key, IDs: ids, DX: c.DX, DY: c.DY}, true)
	case Clear:
		key := c.Page.key()
		if c.All && !CanPresent(actor) {
			return nil, fmt.Errorf("%w: only the presenter clears the page", ErrForbidden)
		}
		var ids []string
		for _, s := range w.Pages[key] {
			if c.All || s.Author == actor.ID {
				ids = append(ids, s.ID)
			}
		}
		if len(ids) == 0 {
			return nil, nil
		}
		w.redo[actor.ID] = nil
		w.record(tx, actor.ID, wbOp{Op: "remove", Page: key, IDs: ids}, true)
	default:
		return nil, fmt.Errorf("%w: whiteboard command %T", ErrInvalid, cmd)
	}
	return nil, nil
}

func drawArgs(c any) (PageRef, Shape, bool) {
	switch d := c.(type) {
	case Draw:
		return d.Page, d.Shape, false
	case Drawing:
		return d.Page, d.Shape, true
	}
	return PageRef{}, Shape{}, false
}

// changeable checks that every shape of ids exists and actor may change it.
func (w *whiteboard) changeable(actor *Participant, key string, ids []string) ([]string, error) {
	if len(ids) == 0 || len(ids) > MaxShapesPerPage {
		return nil, fmt.Errorf("%w: name 1 to %d shapes", ErrInvalid, MaxShapesPerPage)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		_, s := w.find(key, id)
		if s == nil || seen[id] {
			return nil, fmt.Errorf("%w: no such shape", ErrNotFound)
		}
		if !mayChange(actor, s) {
			return nil, fmt.Errorf("%w: not your shape", ErrForbidden)
		}
		seen[id] = true
	}
	return append([]string(nil), ids...), nil
}

// undoRedo applies the actor's last change's inverse, keeping the
// opposite for redo (and the other way round).
func (w *whiteboard) undoRedo(tx *Tx, actor *Participant, cmd any) error {
	from, to := w.undo, w.redo
	if _, ok := cmd.(Redo); ok {
		from, to = w.redo, w.undo
	}
	stack := from[actor.ID]
	if len(stack) == 0 {
		return fmt.Errorf("%w: nothing to undo or redo", ErrNotFound)
	}
	o := stack[len(stack)-1]
	from[actor.ID] = stack[:len(stack)-1]
	// Only what is still there can be undone (others may have erased it).
	if o.Op == "add" {
		if w.count+len(o.Shapes) > MaxShapes || len(w.Pages[o.Page])+len(o.Shapes) > MaxShapesPerPage {
			return fmt.Errorf("%w: the page is full", ErrInvalid)
		}
	}
	inv := w.apply(o)
	if b, err := json.Marshal(o); err == nil {
		tx.Append(b)
	}
	w.announce(tx, o)
	to[actor.ID] = append(to[actor.ID], inv)
	return nil
}

// dropDoc removes every shape of a removed document.
func (w *whiteboard) dropDoc(tx *Tx, doc string) {
	for key := range w.Pages {
		if pageRefOf(key).Doc == doc {
			var ids []string
			for _, s := range w.Pages[key] {
				ids = append(ids, s.ID)
			}
			w.record(tx, "", wbOp{Op: "remove", Page: key, IDs: ids}, false)
		}
	}
}

func (w *whiteboard) View(*Participant) any {
	v := WhiteboardView{Pages: map[string][]Shape{}, All: w.All, IDs: []string{}}
	for k, ss := range w.Pages {
		for _, s := range ss {
			v.Pages[k] = append(v.Pages[k], *s)
		}
	}
	for id := range w.Drawers {
		v.IDs = append(v.IDs, id)
	}
	return v
}

func (w *whiteboard) Snapshot() ([]byte, error) { return json.Marshal(w) }

func (w *whiteboard) Restore(snap []byte, entries [][]byte) error {
	if snap != nil {
		if err := json.Unmarshal(snap, w); err != nil {
			return err
		}
		if w.Pages == nil {
			w.Pages = map[string][]*Shape{}
		}
		if w.Drawers == nil {
			w.Drawers = map[string]bool{}
		}
		w.count = 0
		for _, ss := range w.Pages {
			w.count += len(ss)
		}
	}
	for _, e := range entries {
		var o wbOp
		if err := json.Unmarshal(e, &o); err != nil {
			return err
		}
		w.apply(o)
	}
	return nil
}

// Shapes returns a page's shapes of a running meeting (the export).
func (m *Manager) Shapes(key string, page PageRef) ([]Shape, error) {
	l := m.lookup(key)
	if l == nil {
		return nil, ErrNotFound
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slot(FeatureWhiteboard)
	if s == nil {
		return nil, ErrNoFeature
	}
	var out []Shape
	for _, sh := range s.f.(*whiteboard).Pages[page.key()] {
		c := *sh
		c.Points = append([]Point(nil), sh.Points...)
		out = append(out, c)
	}
	return out, nil
}
