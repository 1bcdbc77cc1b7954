// Package present turns files into a meeting's presentation documents:
// an upload of the presenter, a document the course platform pre-uploads
// on create or adds with insertDocument. Each file is written to a staging
// folder outside every meeting, sniffed by its content, converted into
// page images by package render in the background, and only then moved
// into the meeting's folder (room.Manager.CommitFiles, atomic against the
// meeting's end); the room's presentation feature learns each step
// through system commands. A meeting's end cancels its conversions, and
// everything of a document goes with the meeting's folder.
package present

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"aula/render"
	"aula/room"
)

// Sentinel errors of the document service; refusals change nothing.
var (
	// ErrTooLarge: the file is larger than the limit (30 MiB).
	ErrTooLarge = errors.New("present: the file is too large")
	// ErrUnsupported: not a PDF, PNG, JPEG or Office document.
	ErrUnsupported = errors.New("present: this file type is not supported")
	// ErrNoFiles: the server keeps no files (no data directory).
	ErrNoFiles = errors.New("present: this server stores no documents")
)

// Error codes a failed document carries to clients (room.Doc.Error); the
// client shows each in its language.
const (
	CodeTooLarge     = "too_large"
	CodeUnsupported  = "unsupported"
	CodeTooManyPages = "too_many_pages"
	CodeCorrupt      = "corrupt"
	CodeEncrypted    = "encrypted"
	CodeNoOffice     = "no_office"
	CodeTimeout      = "timeout"
	CodeDownload     = "download_failed"
	CodeInternal     = "internal"
)

// Folder layout inside the meeting's folder: docs/<id>/original and
// docs/<id>/pages/<page images>.
const (
	pagesDir     = "pages"
	originalFile = "original"
)

// DocDir is a document's folder, relative to its meeting's.
func DocDir(id string) string { return "docs/" + id }

// PagePath is the path of a page image of a document, relative to the
// meeting's folder.
func PagePath(id, file string) string { return DocDir(id) + "/" + pagesDir + "/" + file }

// OriginalPath is the path of a document's original file.
func OriginalPath(id string) string { return DocDir(id) + "/" + originalFile }

// Service converts documents for the meetings of this node.
type Service struct {
	mgr      *room.Manager
	files    room.Files
	conv     *render.Renderer
	log      *slog.Logger
	maxBytes int64

	mu      sync.Mutex
	cancels map[string]map[string]context.CancelFunc // meeting key → doc ID
	closed  bool
	wg      sync.WaitGroup
}

// New returns the service; it registers with mgr to cancel a meeting's
// conversions when it ends. maxBytes caps each file (0: 30 MiB).
func New(mgr *room.Manager, files room.Files, conv *render.Renderer, maxBytes int64, log *slog.Logger) *Service {
	if maxBytes <= 0 {
		maxBytes = render.DefaultMaxBytes
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Service{mgr: mgr, files: files, conv: conv, maxBytes: maxBytes, log: log.With("component", "present"),
		cancels: map[string]map[string]context.CancelFunc{}}
	mgr.OnEnd(s.cancelMeeting)
	return s
}

// MaxBytes is the largest file accepted.
func (s *Service) MaxBytes() int64 { return s.maxBytes }

// Add stores r as a new document of the meeting (which must run on this
// node) and converts it in the background. It returns the document's ID
// once the file is stored and its type is known. A refusal (too large,
// not a document, the meeting ended or holds too many documents) leaves
// nothing behind. uploader is the participant who uploaded it ("" for the
// platform); show makes it the current document once converted.
func (s *Service) Add(ctx context.Context, meetingKey, name string, r io.Reader, uploader string, show bool) (string, error) {
	if s.files == nil {
		return "", ErrNoFiles
	}
	staged, err := s.files.Stage()
	if err != nil {
		return "", err
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(staged)
		}
	}()
	orig := filepath.Join(staged, originalFile)
	if err := s.save(orig, r); err != nil {
		return "", err
	}
	kind, err := render.SniffFile(orig)
	if err != nil {
		if errors.Is(err, render.ErrUnsupported) {
			return "", fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		return "", err
	}
	id := room.NewID()[:16]
	if _, err := s.mgr.SystemCommand(ctx, meetingKey, room.FeaturePresentation, room.DocAdded{
		ID: id, Name: name, Ext: extOf(kind, name), Uploader: uploader, Show: show,
	}); err != nil {
		return "", err
	}
	cctx, cancel := context.WithCancel(context.Background())
	if !s.track(meetingKey, id, cancel) {
		cancel()
		return "", room.ErrEnded
	}
	keep = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.untrack(meetingKey, id)
		defer cancel()
		s.convert(cctx, meetingKey, id, staged, kind)
	}()
	s.log.Info("document added", "meeting", meetingKey, "doc", id, "kind", kind)
	return id, nil
}

// Refused registers a document that could not even be stored (a download
// that failed for a platform's pre-upload), so moderators see it and why.
func (s *Service) Refused(ctx context.Context, meetingKey, name, code string) {
	id := room.NewID()[:16]
	if _, err := s.mgr.SystemCommand(ctx, meetingKey, room.FeaturePresentation, room.DocAdded{ID: id, Name: name}); err != nil {
		s.log.Warn("register a refused document", "meeting", meetingKey, "err", err)
		return
	}
	if _, err := s.mgr.SystemCommand(ctx, meetingKey, room.FeaturePresentation, room.DocRefused{ID: id, Reason: code}); err != nil {
		s.log.Warn("register a refused document", "meeting", meetingKey, "err", err)
	}
}

// save copies r into path, refusing more than maxBytes.
func (s *Service) save(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("present: store: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(r, s.maxBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("present: store: %w", err)
	}
	if n > s.maxBytes {
		return fmt.Errorf("%w: at most %d MiB", ErrTooLarge, s.maxBytes>>20)
	}
	return nil
}

// convert renders the staged document, moves it into the meeting and
// tells the room; on failure it tells the room why and removes the rest.
func (s *Service) convert(ctx context.Context, key, id, staged string, kind render.Kind) {
	var last time.Time
	progress := func(done, total int) {
		// The uploader watches this: a few updates a second are enough.
		if done < total && time.Since(last) < 250*time.Millisecond {
			return
		}
		last = time.Now()
		if _, err := s.mgr.SystemCommand(ctx, key, room.FeaturePresentation, room.DocProgress{ID: id, Done: done, Total: total}); err != nil {
			s.log.Debug("conversion progress", "meeting", key, "doc", id, "err", err)
		}
	}
	doc, err := s.conv.Convert(ctx, filepath.Join(staged, originalFile), kind, filepath.Join(staged, pagesDir), progress)
	if err == nil {
		err = s.mgr.CommitFiles(ctx, key, staged, DocDir(id))
	}
	if err != nil {
		os.RemoveAll(staged)
		if errors.Is(err, room.ErrEnded) || ctx.Err() != nil {
			return // the meeting ended: nobody is left to tell
		}
		code := codeOf(err)
		if code == CodeInternal {
			s.log.Error("document conversion", "meeting", key, "doc", id, "err", err)
		} else {
			s.log.Info("document refused", "meeting", key, "doc", id, "reason", code)
		}
		if _, cerr := s.mgr.SystemCommand(context.Background(), key, room.FeaturePresentation, room.DocRefused{ID: id, Reason: code}); cerr != nil {
			s.log.Debug("report a refused document", "meeting", key, "doc", id, "err", cerr)
		}
		return
	}
	pages := make([]room.PageSize, len(doc.Pages))
	for i, p := range doc.Pages {
		pages[i] = room.PageSize{W: p.Width, H: p.Height}
	}
	if _, err := s.mgr.SystemCommand(context.Background(), key, room.FeaturePresentation, room.DocConverted{ID: id, Pages: pages}); err != nil {
		s.log.Debug("report a converted document", "meeting", key, "doc", id, "err", err)
		return
	}
	s.log.Info("document converted", "meeting", key, "doc", id, "pages", len(pages))
}

// codeOf maps a conversion error to the code clients show.
func codeOf(err error) string {
	switch {
	case errors.Is(err, render.ErrTooLarge), errors.Is(err, ErrTooLarge):
		return CodeTooLarge
	case errors.Is(err, render.ErrUnsupported), errors.Is(err, ErrUnsupported):
		return CodeUnsupported
	case errors.Is(err, render.ErrTooManyPages):
		return CodeTooManyPages
	case errors.Is(err, render.ErrCorrupt):
		return CodeCorrupt
	case errors.Is(err, render.ErrEncrypted):
		return CodeEncrypted
	case errors.Is(err, render.ErrNoOffice):
		return CodeNoOffice
	case errors.Is(err, render.ErrTimeout):
		return CodeTimeout
	}
	return CodeInternal
}

// CodeOf is codeOf for the web layer's refusals before a document exists.
func CodeOf(err error) string { return codeOf(err) }

// extOf is the original's extension for its download.
func extOf(kind render.Kind, name string) string {
	switch kind {
	case render.KindPDF:
		return ".pdf"
	case render.KindPNG:
		return ".png"
	case render.KindJPEG:
		return ".jpg"
	}
	switch e := strings.ToLower(path.Ext(name)); e {
	case ".docx", ".pptx", ".xlsx", ".odt", ".odp", ".ods", ".odg", ".doc", ".ppt", ".xls", ".rtf":
		return e
	}
	return ""
}

func (s *Service) track(key, id string, cancel context.CancelFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.cancels[key] == nil {
		s.cancels[key] = map[string]context.CancelFunc{}
	}
	s.cancels[key][id] = cancel
	return true
}

func (s *Service) untrack(key, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cancels[key], id)
	if len(s.cancels[key]) == 0 {
		delete(s.cancels, key)
	}
}

// cancelMeeting stops the conversions of a meeting that stopped running
// here (the room's end hook).
func (s *Service) cancelMeeting(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.cancels[key] {
		cancel()
	}
}

// Close cancels every conversion and waits for them.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	for _, m := range s.cancels {
		for _, cancel := range m {
			cancel()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
}
