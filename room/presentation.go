package room

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// The presentation: the documents of a meeting (uploaded by the presenter,
// pre-uploaded by the course platform, or added with insertDocument), which
// one is shown, on which page, at which zoom. The presenter turns pages
// for everyone; late joiners land on the current document, page and view.
// Conversion happens outside the room (package render, driven by web): the
// room only keeps each document's state, told by system commands.
//
// With no document there is a blank whiteboard deck, so there is always
// something to draw on.

// FeaturePresentation names the presentation feature.
const FeaturePresentation = "presentation"

// Document states.
const (
	DocConverting = "converting"
	DocReady      = "ready"
	DocFailed     = "failed"
)

// BlankDeck is the ID of the built-in blank whiteboard deck.
const BlankDeck = "blank"

// Limits of the presentation.
const (
	maxDocs       = 30
	maxBlankPages = 50
	maxDocName    = 120
	maxZoom       = 5.0
)

// PageSize is a page's size in points (PDF) or pixels (images); only the
// ratio matters to clients.
type PageSize struct {
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// Doc is one document of the meeting as everyone sees it.
type Doc struct {
	ID     string     `json:"id"`
	Name   string     `json:"name"`
	Status string     `json:"status"`
	Pages  []PageSize `json:"pages,omitempty"`
	// Done and Total tell the conversion's progress (pages).
	Done  int `json:"done,omitempty"`
	Total int `json:"total,omitempty"`
	// Error is why the document could not be converted (failed only).
	Error string `json:"error,omitempty"`
	// Downloadable: participants may download the original file.
	Downloadable bool `json:"downloadable"`
	// Ext is the original's extension, for the download's name.
	Ext string `json:"ext,omitempty"`
	// Uploader is the participant who uploaded it ("" for the platform).
	Uploader string `json:"uploader,omitempty"`
	// page is the page the document was left on, so returning to it
	// lands there again.
	Page int `json:"page,omitempty"`
}

// PresentationView is the presentation's state: every document and what
// is shown. Sent whole on every change (it is small).
type PresentationView struct {
	Docs    []Doc   `json:"docs"`
	Current string  `json:"current"`
	Page    int     `json:"page"`
	Zoom    float64 `json:"zoom"`
	X       float64 `json:"x"`
	Y       float64 `json:"y"`
}

// Presentation commands of the presenter.
type (
	// ShowDoc shows a ready document (at the page it was left on).
	ShowDoc struct{ Doc string }
	// TurnPage shows page (1-based) of the current document.
	TurnPage struct{ Page int }
	// SetView zooms (1 = whole page) and pans (X, Y: the top-left corner
	// of the visible part, as fractions of the page).
	SetView struct{ Zoom, X, Y float64 }
	// RemoveDoc takes a document away (not the blank deck).
	RemoveDoc struct{ Doc string }
	// AllowDownload lets participants download a document's original.
	AllowDownload struct {
		Doc   string
		Allow bool
	}
	// AddBlankPage adds a page to the blank whiteboard deck.
	AddBlankPage struct{}
)

// System commands, from the server's conversion (Manager.SystemCommand).
type (
	// DocAdded registers a document being converted.
	DocAdded struct {
		ID, Name, Ext, Uploader string
		// Show makes it current once ready (the first pre-uploaded
		// document, a presenter's upload).
		Show bool
	}
	// DocProgress reports converted pages.
	DocProgress struct {
		ID          string
		Done, Total int
	}
	// DocConverted marks a document ready with its pages.
	DocConverted struct {
		ID    string
		Pages []PageSize
	}
	// DocRefused marks a document that cannot be shown, with a reason
	// for the uploader.
	DocRefused struct{ ID, Reason string }
)

// PresentationFeature registers the presentation with a Manager.
func PresentationFeature() FeatureSpec {
	return FeatureSpec{Name: FeaturePresentation, New: func(*Meeting) Feature { return newPresentation() }}
}

type presentation struct {
	Docs      []*Doc   `json:"docs"`
	Current   string   `json:"current"`
	Zoom      float64  `json:"zoom"`
	X         float64  `json:"x"`
	Y         float64  `json:"y"`
	ShowFirst []string `json:"showFirst,omitempty"` // converting docs to show when ready
}

func newPresentation() *presentation {
	return &presentation{Docs: []*Doc{blankDeck()}, Current: BlankDeck, Zoom: 1}
}

func blankDeck() *Doc {
	return &Doc{ID: BlankDeck, Name: "", Status: DocReady, Pages: []PageSize{{W: 1600, H: 900}}, Page: 1}
}

func (p *presentation) doc(id string) *Doc {
	for _, d := range p.Docs {
		if d.ID == id {
			return d
		}
	}
	return nil
}

func (p *presentation) current() *Doc { return p.doc(p.Current) }

// view is the state as clients see it.
func (p *presentation) view() PresentationView {
	v := PresentationView{Current: p.Current, Zoom: p.Zoom, X: p.X, Y: p.Y}
	for _, d := range p.Docs {
		v.Docs = append(v.Docs, *d)
	}
	if c := p.current(); c != nil {
		v.Page = c.Page
	}
	return v
}

// finite reports whether all values are real numbers.
func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// CanPresent reports whether p may drive the presentation: the presenter
// (or the server itself).
func CanPresent(p *Participant) bool { return p.Presenter || p.Kind == KindSystem }

func (p *presentation) Command(tx *Tx, actor *Participant, cmd any) (any, error) {
	switch c := cmd.(type) {
	case DocAdded, DocProgress, DocConverted, DocRefused:
		if actor.Kind != KindSystem {
			return nil, ErrForbidden
		}
		return nil, p.system(tx, c)
	}
	if !CanPresent(actor) {
		return nil, fmt.Errorf("%w: only the presenter may do this", ErrForbidden)
	}
	switch c := cmd.(type) {
	case ShowDoc:
		d := p.doc(c.Doc)
		if d == nil {
			return nil, fmt.Errorf("%w: no such document", ErrNotFound)
		}
		if d.Status != DocReady {
			return nil, fmt.Errorf("%w: the document is not ready", ErrInvalid)
		}
		p.Current, p.Zoom, p.X, p.Y = d.ID, 1, 0, 0
		p.ShowFirst = nil // the presenter chose; nothing converting takes over
	case TurnPage:
		d := p.current()
		if c.Page < 1 || c.Page > len(d.Pages) {
			return nil, fmt.Errorf("%w: page %d of %d", ErrInvalid, c.Page, len(d.Pages))
		}
		d.Page = c.Page
		p.Zoom, p.X, p.Y = 1, 0, 0
	case SetView:
		if !finite(c.Zoom, c.X, c.Y) || c.Zoom < 1 || c.Zoom > maxZoom || c.X < 0 || c.Y < 0 || c.X > 1 || c.Y > 1 {
			return nil, fmt.Errorf("%w: zoom 1 to %g, x and y 0 to 1", ErrInvalid, maxZoom)
		}
		p.Zoom, p.X, p.Y = c.Zoom, c.X, c.Y
	case RemoveDoc:
		if c.Doc == BlankDeck {
			return nil, fmt.Errorf("%w: the blank deck stays", ErrInvalid)
		}
		i := p.index(c.Doc)
		if i < 0 {
			return nil, fmt.Errorf("%w: no such document", ErrNotFound)
		}
		p.Docs = append(p.Docs[:i], p.Docs[i+1:]...)
		if err := tx.Also(FeatureWhiteboard, func(sub *Tx, f Feature) {
			if w, ok := f.(*whiteboard); ok {
				w.dropDoc(sub, c.Doc)
			}
		}); err != nil {
			return nil, err
		}
		if p.Current == c.Doc {
			p.Current, p.Zoom, p.X, p.Y = BlankDeck, 1, 0, 0
		}
	case AllowDownload:
		d := p.doc(c.Doc)
		if d == nil || d.ID == BlankDeck {
			return nil, fmt.Errorf("%w: no such document", ErrNotFound)
		}
		d.Downloadable = c.Allow
	case AddBlankPage:
		b := p.doc(BlankDeck)
		if len(b.Pages) >= maxBlankPages {
			return nil, fmt.Errorf("%w: at most %d blank pages", ErrInvalid, maxBlankPages)
		}
		b.Pages = append(b.Pages, b.Pages[0])
		if p.Current == BlankDeck {
			b.Page = len(b.Pages)
		}
	default:
		return nil, fmt.Errorf("%w: presentation command %T", ErrInvalid, cmd)
	}
	p.changed(tx)
	return nil, nil
}

func (p *presentation) index(id string) int {
	for i, d := range p.Docs {
		if d.ID == id {
			return i
		}
	}
	return -1
}

// system applies the conversion's news.
func (p *presentation) system(tx *Tx, cmd any) error {
	switch c := cmd.(type) {
	case DocAdded:
		if len(p.Docs) > maxDocs {
			return fmt.Errorf("%w: at most %d documents per meeting", ErrInvalid, maxDocs)
		}
		if p.doc(c.ID) != nil {
			return fmt.Errorf("%w: document exists", ErrExists)
		}
		p.Docs = append(p.Docs, &Doc{ID: c.ID, Name: cleanDocName(c.Name), Ext: c.Ext, Uploader: c.Uploader, Status: DocConverting, Page: 1})
		if c.Show {
			// The latest wish wins: a deck still converting from create
			// must not take the stage from the presenter's newer upload.
			p.ShowFirst = []string{c.ID}
		}
	case DocProgress:
		d := p.doc(c.ID)
		if d == nil || d.Status != DocConverting {
			return ErrNotFound // removed meanwhile
		}
		d.Done, d.Total = c.Done, c.Total
		// Progress goes to the uploader and moderators only, and is not
		// worth a store write.
		tx.SendIf(func(q *Participant) bool { return q.ID == d.Uploader || q.Role == Moderator }, p.view())
		return nil
	case DocConverted:
		d := p.doc(c.ID)
		if d == nil {
			return ErrNotFound
		}
		if len(c.Pages) == 0 {
			return fmt.Errorf("%w: a document without pages", ErrInvalid)
		}
		d.Status, d.Pages, d.Done, d.Total = DocReady, c.Pages, len(c.Pages), len(c.Pages)
		for i, id := range p.ShowFirst {
			if id == d.ID {
				p.ShowFirst = append(p.ShowFirst[:i], p.ShowFirst[i+1:]...)
				p.Current, p.Zoom, p.X, p.Y = d.ID, 1, 0, 0
				break
			}
		}
	case DocRefused:
		d := p.doc(c.ID)
		if d == nil {
			return ErrNotFound
		}
		d.Status, d.Error = DocFailed, c.Reason
		for i, id := range p.ShowFirst {
			if id == d.ID {
				p.ShowFirst = append(p.ShowFirst[:i], p.ShowFirst[i+1:]...)
				break
			}
		}
	}
	p.changed(tx)
	return nil
}

// changed stores the state and tells everyone.
func (p *presentation) changed(tx *Tx) {
	tx.Save()
	tx.Broadcast(p.view())
}

// cleanDocName keeps a document's display name printable and short.
func cleanDocName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > maxDocName {
		s = string([]rune(s)[:maxDocName])
	}
	return strings.TrimSpace(s)
}

func (p *presentation) View(*Participant) any { return p.view() }

func (p *presentation) Snapshot() ([]byte, error) { return json.Marshal(p) }

func (p *presentation) Restore(snap []byte, _ [][]byte) error {
	if snap == nil {
		return nil
	}
	var r presentation
	if err := json.Unmarshal(snap, &r); err != nil {
		return err
	}
	if r.doc(BlankDeck) == nil {
		r.Docs = append([]*Doc{blankDeck()}, r.Docs...)
	}
	*p = r
	return nil
}

// Left: when the uploader of a document leaves nothing changes; the
// presenter's leave is handled by the core (a new presenter).

// PresentationDocs returns the documents of a running meeting, the blank
// deck first.
func (m *Manager) PresentationDocs(key string) ([]Doc, error) {
	l := m.lookup(key)
	if l == nil {
		return nil, ErrNotFound
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return nil, ErrEnded
	}
	s := l.slot(FeaturePresentation)
	if s == nil {
		return nil, ErrNoFeature
	}
	return s.f.(*presentation).view().Docs, nil
}

// PresentationDoc returns a document of a running meeting (the web layer
// checks downloads and serves page images with it).
func (m *Manager) PresentationDoc(key, id string) (Doc, error) {
	l := m.lookup(key)
	if l == nil {
		return Doc{}, ErrNotFound
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return Doc{}, ErrEnded
	}
	s := l.slot(FeaturePresentation)
	if s == nil {
		return Doc{}, ErrNoFeature
	}
	d := s.f.(*presentation).doc(id)
	if d == nil {
		return Doc{}, ErrNotFound
	}
	return *d, nil
}
