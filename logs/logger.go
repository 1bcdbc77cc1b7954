package logs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Default retention periods: the promise of the privacy notice.
const (
	// DefaultRetention keeps a conference's entries four weeks after it ended.
	DefaultRetention = 28 * 24 * time.Hour
	// DefaultAccessRetention keeps entries outside any conference (web
	// access lines, start-up, refused calls) seven days.
	DefaultAccessRetention = 7 * 24 * time.Hour
	// DefaultPurgeEvery is how often the server purges.
	DefaultPurgeEvery = time.Hour
)

// Options configure the server logger.
type Options struct {
	// Dir is the log directory, the only place personal data is logged:
	// its day files are purged after Retention and AccessRetention, and
	// `aula privacy` answers data-subject requests on them. Empty: stderr
	// only, and so no personal data at all — stderr (journald, or whatever
	// collects it) is beyond Aula's purge, so it never carries any.
	Dir string
	// Level is the lowest level logged.
	Level slog.Leveler
	// Stderr receives the operational text log, never personal data.
	Stderr io.Writer
	// Retention and AccessRetention: see DefaultRetention and
	// DefaultAccessRetention (zero: those).
	Retention, AccessRetention time.Duration
	// PurgeEvery is the interval of the purge in the server (zero:
	// hourly; negative: no purge loop, for tests). It also runs once at
	// start.
	PurgeEvery time.Duration
	// Now is the clock of day files and purges (nil: time.Now).
	Now func() time.Time
}

// New returns the server logger. Stderr always gets text lines without
// personal data (the attributes in Personal left out, addresses in
// messages and error texts masked): whatever collects stderr keeps it
// under its own retention, which Aula can neither purge nor search for a
// data subject, so the server log's retention promise (personal data
// deleted four weeks after the conference) can only hold if none goes
// there. With a log directory, JSON lines with every attribute go to the
// day files there as well; a purge runs at once and then every
// PurgeEvery. Without one, personal data is not logged at all. The
// closer stops the purge and closes the file.
func New(o Options) (*slog.Logger, io.Closer, error) {
	if o.Level == nil {
		o.Level = slog.LevelInfo
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	text := slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: o.Level, ReplaceAttr: stderrAttr})
	if o.Dir == "" {
		return slog.New(text), nopCloser{}, nil
	}
	w, err := NewWriter(o.Dir, o.Now)
	if err != nil {
		return nil, nil, err
	}
	file := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: o.Level})
	log := slog.New(fanout{text, file})
	d := &Dir{Path: o.Dir, Retention: o.Retention, AccessRetention: o.AccessRetention, Now: o.Now, Log: log}
	ctx, cancel := context.WithCancel(context.Background())
	c := &closer{w: w, cancel: cancel}
	if o.PurgeEvery >= 0 {
		every := o.PurgeEvery
		if every == 0 {
			every = DefaultPurgeEvery
		}
		c.wg.Add(1)
		go c.purgeLoop(ctx, d, every)
	}
	return log, c, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

type closer struct {
	w      *Writer
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Close stops the purge (a purge under way stops between lines; the file
// it was rewriting stays as it was) and closes the day file.
func (c *closer) Close() error {
	c.cancel()
	c.wg.Wait()
	return c.w.Close()
}

func (c *closer) purgeLoop(ctx context.Context, d *Dir, every time.Duration) {
	defer c.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := d.Purge(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("log purge failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// fanout sends each record to several handlers.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (f fanout) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}
