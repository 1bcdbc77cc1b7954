package render

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klippa-app/go-pdfium"
)

// Renderer converts documents into page images. It is safe for
// concurrent use; every conversion shares one bounded pool of workers.
type Renderer struct {
	cfg Config
	log *slog.Logger

	// slots holds one token per worker; whoever draws a page (or runs
	// LibreOffice, or scales a picture) holds one. waiting counts the
	// conversions queued for a first token, so that a document drawing
	// on several workers gives spare ones back between pages.
	slots   chan struct{}
	waiting atomic.Int32

	// The pdfium pool is made in the background by New (ready closes
	// when it is done); pool or poolErr is set before.
	ready   chan struct{}
	pool    pdfium.Pool
	poolErr error

	mu     sync.Mutex
	closed bool
	active sync.WaitGroup // running Converts
	stop   context.CancelFunc
	ctx    context.Context // cancelled by Close
}

// Document is a converted document.
type Document struct {
	Kind  Kind
	Pages []Page
}

// Page is one converted page.
type Page struct {
	// Width and Height are the page's size in PDF points (1/72 inch),
	// also the coordinate space of annotations on it (origin top left,
	// y downwards). A picture counts as 96 pixels per inch, as a browser
	// prints it (its pixels × 0.75).
	Width, Height float64
	// Files maps each of Config.Widths to the page image's file name in
	// outDir, e.g. 1920 → "page-0001-w1920.png"; that image fits in
	// 1920 × 1920 pixels.
	Files map[int]string
	// Thumb is the thumbnail's file name, e.g. "page-0001-thumb.png".
	Thumb string
}

// New checks cfg and starts the converter. Compiling pdfium's WebAssembly
// module takes seconds (3.7–4.5 s on a 2-core machine), so New starts it
// in the background and returns at once; the first Convert of a PDF
// waits for it. Compiled code is kept for the process (see wasmCache), so
// a later New in the same process is ready in tens of milliseconds.
func New(cfg Config) (*Renderer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	r := &Renderer{
		cfg:   cfg,
		log:   cfg.Logger.With("component", "render"),
		slots: make(chan struct{}, cfg.Workers),
		ready: make(chan struct{}),
		ctx:   ctx,
		stop:  stop,
	}
	if cfg.Soffice == "" {
		r.log.Info("LibreOffice (soffice) not found: Office documents will be refused")
	}
	go r.startPool()
	return r, nil
}

// Config returns the settings in force, defaults filled in (the web layer
// caps uploads at MaxBytes, the client picks among Widths).
func (r *Renderer) Config() Config {
	c := r.cfg
	c.Widths = slices.Clone(c.Widths)
	return c
}

// Close cancels running conversions, waits for them to end and frees
// the pdfium pool. It waits for the pool to finish starting if New was
// just called.
func (r *Renderer) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	r.stop()
	r.active.Wait()
	<-r.ready
	if r.pool != nil {
		if err := r.pool.Close(); err != nil {
			return fmt.Errorf("render: close pdfium: %w", err)
		}
	}
	return nil
}

// Convert renders the document at src (written by the server, under a
// name the server chose) into outDir, which it creates (0700) if needed:
// a PNG per page at each size of Config.Widths and a thumbnail, named
// page-0001-w1920.png and page-0001-thumb.png. kind is what Sniff said;
// "" sniffs the file here. Office documents are converted to PDF by
// LibreOffice first, in a temporary directory inside outDir.
//
// Everything is written to a hidden staging directory and moved into
// outDir only when the whole document succeeded: a refused or failed
// document leaves nothing behind. progress, if not nil, is called with
// (pages done, pages in all), first with done = 0 once the page count is
// known; calls come one at a time, possibly from different goroutines,
// and must return quickly.
//
// The work runs on the shared pool within Config.DocTimeout and
// Config.PageTimeout; cancelling ctx stops it (the error is then ctx's).
func (r *Renderer) Convert(ctx context.Context, src string, kind Kind, outDir string, progress func(done, total int)) (*Document, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	r.active.Add(1)
	r.mu.Unlock()
	defer r.active.Done()

	start := time.Now()
	log := r.log.With("src", filepath.Base(src))
	doc, err := r.convert(ctx, src, kind, outDir, progress)
	if err != nil {
		log.Info("document refused", "kind", kind, "err", err, "took", time.Since(start))
		return nil, err
	}
	log.Info("document converted", "kind", doc.Kind, "pages", len(doc.Pages), "took", time.Since(start))
	return doc, nil
}

func (r *Renderer) convert(ctx context.Context, src string, kind Kind, outDir string, progress func(done, total int)) (*Document, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (not a regular file)", ErrUnsupported)
	}
	if st.Size() > r.cfg.MaxBytes {
		return nil, fmt.Errorf("%w: %s, at most %s are allowed", ErrTooLarge, sizeText(st.Size()), sizeText(r.cfg.MaxBytes))
	}
	officeExt := ""
	if kind == "" || kind == KindOffice {
		k, ext, err := sniffFile(src)
		if err != nil {
			return nil, err
		}
		if kind == KindOffice && k != KindOffice {
			return nil, fmt.Errorf("%w (not an Office document)", ErrUnsupported)
		}
		kind, officeExt = k, ext
	}
	if kind == KindOffice && r.cfg.Soffice == "" {
		return nil, ErrNoOffice
	}
	if progress == nil {
		progress = func(int, int) {}
	}

	// One deadline for the whole document; Close cancels it too.
	ctx, cancel := context.WithTimeoutCause(ctx, r.cfg.DocTimeout, ErrTimeout)
	defer cancel()
	stopOnClose := context.AfterFunc(r.ctx, cancel)
	defer stopOnClose()

	created, err := mkdirNew(outDir)
	if err != nil {
		return nil, fmt.Errorf("render: output directory: %w", err)
	}
	stage, err := os.MkdirTemp(outDir, ".render-*")
	if err != nil {
		return nil, fmt.Errorf("render: output directory: %w", err)
	}
	ok := false
	defer func() {
		os.RemoveAll(stage)
		if !ok && created {
			os.Remove(outDir) // only if still empty
		}
	}()

	var doc *Document
	switch kind {
	case KindPDF:
		doc, err = r.renderPDF(ctx, src, stage, progress)
	case KindOffice:
		var pdf string
		if pdf, err = r.office(ctx, src, officeExt, stage); err == nil {
			doc, err = r.renderPDF(ctx, pdf, stage, progress)
		}
	case KindPNG, KindJPEG:
		doc, err = r.renderImage(ctx, src, kind, stage, progress)
	default:
		err = fmt.Errorf("%w (kind %q)", ErrUnsupported, kind)
	}
	if err != nil {
		return nil, r.ctxErr(ctx, err)
	}
	doc.Kind = kind
	if err := publish(doc, stage, outDir); err != nil {
		return nil, err
	}
	ok = true
	return doc, nil
}

// ctxErr names why a conversion stopped early: the deadline is
// ErrTimeout, Close is ErrClosed, the caller's cancellation is its own
// error; any other error is returned as it is.
func (r *Renderer) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	if r.ctx.Err() != nil {
		return ErrClosed
	}
	if cause := context.Cause(ctx); errors.Is(cause, ErrTimeout) {
		return fmt.Errorf("%w: more than %v", ErrTimeout, r.cfg.DocTimeout)
	}
	return ctx.Err()
}

// publish moves the page images from the staging directory into outDir;
// on failure it removes those it already moved.
func publish(doc *Document, stage, outDir string) error {
	var moved []string
	for _, p := range doc.Pages {
		names := []string{p.Thumb}
		for _, n := range p.Files {
			names = append(names, n)
		}
		for _, n := range names {
			if err := os.Rename(filepath.Join(stage, n), filepath.Join(outDir, n)); err != nil {
				for _, m := range moved {
					os.Remove(filepath.Join(outDir, m))
				}
				return fmt.Errorf("render: output directory: %w", err)
			}
			moved = append(moved, n)
		}
	}
	return nil
}

// mkdirNew creates dir (and its parents) 0700 and reports whether dir
// itself was created, so a failed conversion removes only what it made.
func mkdirNew(dir string) (bool, error) {
	if _, err := os.Stat(dir); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	return true, nil
}

// acquire takes a worker token, waiting in line.
func (r *Renderer) acquire(ctx context.Context) error {
	select {
	case r.slots <- struct{}{}:
		return nil
	default:
	}
	r.waiting.Add(1)
	defer r.waiting.Add(-1)
	select {
	case r.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tryAcquire takes a spare worker token if one is free and nobody waits.
func (r *Renderer) tryAcquire() bool {
	if r.waiting.Load() > 0 {
		return false
	}
	select {
	case r.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (r *Renderer) release() { <-r.slots }

// pageNames returns the file names of page i (0-based).
func (r *Renderer) pageNames(i int) (map[int]string, string) {
	files := make(map[int]string, len(r.cfg.Widths))
	for _, w := range r.cfg.Widths {
		files[w] = fmt.Sprintf("page-%04d-w%d.png", i+1, w)
	}
	return files, fmt.Sprintf("page-%04d-thumb.png", i+1)
}

// sizeText writes a byte count for people.
func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", (n+1023)/1024)
}
