package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/enums"
	pdfiumerr "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// pdfium runs as WebAssembly inside wazero (pure Go, no cgo): a hostile
// PDF that finds a bug in pdfium's parser can at worst corrupt the linear
// memory of its own instance. The sandbox gets no file system (documents
// are read through a callback on an open file), no clock or network
// beyond what WASI offers, a memory cap, and a fresh instance for every
// document, so nothing one document did survives into the next.

// wasmCache keeps wazero's compiled pdfium for the life of the process:
// the first compile costs seconds, every later Renderer (tests, a config
// reload) gets the native code from here in tens of milliseconds. It is
// never closed, by design: the code is needed until the process exits.
var wasmCache = sync.OnceValue(wazero.NewCompilationCache)

// startPool compiles pdfium and makes the instance pool; run once by New
// in its own goroutine, it closes r.ready when done.
func (r *Renderer) startPool() {
	defer close(r.ready)
	start := time.Now()
	rc := wazero.NewRuntimeConfig().
		// pdfium's setjmp/longjmp are WebAssembly exceptions.
		WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
		// Lets a timeout stop a page that never ends (Kill cancels the
		// instance's context and wazero aborts the running call).
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(uint32(r.cfg.MemoryLimit / wasmPage)).
		WithCompilationCache(wasmCache())
	pool, err := webassembly.Init(webassembly.Config{
		MaxTotal:      r.cfg.Workers,
		FSConfig:      wazero.NewFSConfig(), // no directory mounted
		RuntimeConfig: rc,
		Stdout:        io.Discard,
		Stderr:        io.Discard,
		// A new instance per document (about 10 ms) rather than a
		// reused one: isolation between documents.
		ReuseWorkers: false,
	})
	if err != nil {
		r.poolErr = err
		r.log.Error("pdfium did not start: PDF and Office documents will fail", "err", err)
		return
	}
	r.pool = pool
	r.log.Info("pdfium ready", "took", time.Since(start), "workers", r.cfg.Workers)
}

// worker is one pdfium instance with the document open in it.
type worker struct {
	inst     pdfium.Pdfium
	file     *os.File // pdfium reads the document through it while open
	doc      references.FPDF_DOCUMENT
	opened   bool
	killOnce sync.Once
	killed   bool // set inside killOnce
}

// kill stops the instance even in the middle of a call; the call returns
// an error and the instance is gone.
func (w *worker) kill() {
	w.killOnce.Do(func() {
		w.killed = true
		w.inst.Kill()
	})
}

// close closes the document, frees the instance (unless it was killed)
// and closes the file. It must not run while a call guarded by guard is
// still running, and waits for a kill in progress to finish.
func (w *worker) close() {
	w.killOnce.Do(func() {}) // waits for a running kill; none can start after
	if !w.killed {
		if w.opened {
			w.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: w.doc})
		}
		w.inst.Close()
	}
	if w.file != nil {
		w.file.Close()
	}
}

// errPageTimeout is the cause of a page's own deadline.
var errPageTimeout = errors.New("page timeout")

// guard runs f on the instance and kills the instance if ctx ends or
// timeout passes first. A panic inside go-pdfium (say, reading the
// memory of an instance being killed) becomes ErrCorrupt, never a crash.
func (w *worker) guard(ctx context.Context, timeout time.Duration, f func() error) (err error) {
	gctx, cancel := context.WithTimeoutCause(ctx, timeout, errPageTimeout)
	defer cancel()
	stop := context.AfterFunc(gctx, w.kill)
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%w (pdfium: %v)", ErrCorrupt, p)
			}
		}()
		err = f()
	}()
	if !stop() {
		// The instance was killed: report why, whatever f returned.
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errPageTimeout
	}
	return err
}

// openWorker takes a fresh pdfium instance and opens the PDF at path in
// it, within the page timeout.
func (r *Renderer) openWorker(ctx context.Context, path string) (*worker, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("render: %w", err)
	}
	inst, err := r.pool.GetInstanceWithContext(ctx)
	if err != nil {
		f.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("render: pdfium instance: %w", err)
	}
	w := &worker{inst: inst, file: f}
	err = w.guard(ctx, r.cfg.PageTimeout, func() error {
		res, err := inst.OpenDocument(&requests.OpenDocument{FileReader: f, FileReaderSize: st.Size()})
		if err != nil {
			return err
		}
		w.doc, w.opened = res.Document, true
		return nil
	})
	if err != nil {
		w.close()
		switch {
		case errors.Is(err, pdfiumerr.ErrPassword), errors.Is(err, pdfiumerr.ErrSecurity):
			return nil, ErrEncrypted
		case errors.Is(err, errPageTimeout):
			return nil, fmt.Errorf("%w: opening it took more than %v", ErrTimeout, r.cfg.PageTimeout)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w (%v)", ErrCorrupt, err)
	}
	return w, nil
}

// renderPDF draws every page of the PDF at path into stage. The first
// worker token is waited for; more are taken only while they are free and
// nobody else waits, and given back between pages as soon as another
// document is in line, so one long document cannot hold the whole pool.
func (r *Renderer) renderPDF(ctx context.Context, path, stage string, progress func(done, total int)) (*Document, error) {
	select {
	case <-r.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.poolErr != nil {
		return nil, fmt.Errorf("render: pdfium did not start: %w", r.poolErr)
	}
	if err := r.acquire(ctx); err != nil {
		return nil, err
	}
	defer r.release()
	w, err := r.openWorker(ctx, path)
	if err != nil {
		return nil, err
	}
	defer w.close()

	doc := &Document{}
	err = w.guard(ctx, r.cfg.PageTimeout, func() error {
		pc, err := w.inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: w.doc})
		if err != nil {
			return fmt.Errorf("%w (%v)", ErrCorrupt, err)
		}
		n := pc.PageCount
		switch {
		case n <= 0:
			return fmt.Errorf("%w (it has no pages)", ErrCorrupt)
		case n > r.cfg.MaxPages:
			return fmt.Errorf("%w: it has %d pages, at most %d are allowed", ErrTooManyPages, n, r.cfg.MaxPages)
		}
		doc.Pages = make([]Page, n)
		for i := range doc.Pages {
			sz, err := w.inst.FPDF_GetPageSizeByIndex(&requests.FPDF_GetPageSizeByIndex{Document: w.doc, Index: i})
			if err != nil {
				return fmt.Errorf("%w (page %d: %v)", ErrCorrupt, i+1, err)
			}
			if !validSize(sz.Width) || !validSize(sz.Height) {
				return fmt.Errorf("%w (page %d has no size)", ErrCorrupt, i+1)
			}
			p := &doc.Pages[i]
			p.Width, p.Height = sz.Width, sz.Height
			p.Files, p.Thumb = r.pageNames(i)
		}
		return nil
	})
	if errors.Is(err, errPageTimeout) {
		return nil, fmt.Errorf("%w: reading the page list took more than %v", ErrTimeout, r.cfg.PageTimeout)
	}
	if err != nil {
		return nil, err
	}
	n := len(doc.Pages)
	prog := &counter{total: n, f: progress}
	prog.add(0)

	// Pages are handed out one at a time to every worker on the document.
	var next atomic.Int64
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for h := 1; h < n && h < r.cfg.Workers && r.tryAcquire(); h++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.release()
			hw, err := r.openWorker(ctx, path)
			if err != nil {
				// The first worker has the document open already, so
				// this is a timeout or a cancellation it sees too.
				return
			}
			defer hw.close()
			if err := r.drawPages(ctx, hw, doc, stage, &next, prog, true); err != nil {
				cancel(err)
			}
		}()
	}
	err = r.drawPages(ctx, w, doc, stage, &next, prog, false)
	if err != nil {
		cancel(err)
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// drawPages draws the next page not yet taken until none is left. A
// helper (a worker beyond the document's first) stops after a page when
// another conversion waits for a token.
func (r *Renderer) drawPages(ctx context.Context, w *worker, doc *Document, stage string, next *atomic.Int64, prog *counter, helper bool) error {
	for {
		i := int(next.Add(1) - 1)
		if i >= len(doc.Pages) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		err := w.guard(ctx, r.cfg.PageTimeout, func() error {
			return r.drawPage(w, i, &doc.Pages[i], stage)
		})
		switch {
		case errors.Is(err, errPageTimeout):
			return fmt.Errorf("%w: page %d took more than %v", ErrTimeout, i+1, r.cfg.PageTimeout)
		case err != nil:
			return err
		}
		prog.add(1)
		if helper && r.waiting.Load() > 0 {
			return nil
		}
	}
}

// drawPage draws page i at every size and as a thumbnail, each a PNG in
// stage.
func (r *Renderer) drawPage(w *worker, i int, p *Page, stage string) error {
	draw := func(width int, name string) error {
		res, err := w.inst.RenderPageInPixels(&requests.RenderPageInPixels{
			Page: requests.Page{ByIndex: &requests.PageByIndex{Document: w.doc, Index: i}},
			// Fit in a square box: a landscape slide is width wide, a
			// portrait page width high (a screen shows it whole), and a
			// crafted 1 × 14400-point page asks for no giant bitmap.
			Width:       width,
			Height:      width,
			RenderFlags: enums.FPDF_RENDER_FLAG_ANNOT,
		})
		if err != nil {
			return fmt.Errorf("%w (page %d: %v)", ErrCorrupt, i+1, err)
		}
		// The image is a view into the instance's memory: encode it
		// before it is freed.
		defer res.Cleanup()
		return writePNG(filepath.Join(stage, name), res.Result.Image)
	}
	for _, width := range r.cfg.Widths {
		if err := draw(width, p.Files[width]); err != nil {
			return err
		}
	}
	return draw(r.cfg.ThumbWidth, p.Thumb)
}

// validSize accepts a page side in points: PDF allows 3 to 14400 user
// units; a little more is tolerated (UserUnit scaling).
func validSize(v float64) bool {
	return !math.IsNaN(v) && v >= 1 && v <= 200000
}

// counter reports progress, one call at a time.
type counter struct {
	mu    sync.Mutex
	done  int
	total int
	f     func(done, total int)
}

func (c *counter) add(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done += n
	c.f(c.done, c.total)
}
