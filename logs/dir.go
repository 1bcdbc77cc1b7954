package logs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Dir is a log directory as the purge and the data-subject commands see
// it. They work while the server writes to it: one rewrite at a time
// (the directory lock, shared between processes), and each day file
// rewritten under the protocol of rewrite.
type Dir struct {
	// Path is the log directory (AULA_LOG_DIR).
	Path string
	// Retention and AccessRetention (zero: the defaults).
	Retention, AccessRetention time.Duration
	// Now is the clock (nil: time.Now): tests move it to the boundaries.
	Now func() time.Time
	// Log receives the line each action writes about itself (nil: a JSON
	// line appended to the directory's current day file, as the server
	// would; a command run by an operator thus leaves its trace in the
	// log it worked on).
	Log *slog.Logger
}

func (d *Dir) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dir) retention() time.Duration {
	if d.Retention > 0 {
		return d.Retention
	}
	return DefaultRetention
}

func (d *Dir) accessRetention() time.Duration {
	if d.AccessRetention > 0 {
		return d.AccessRetention
	}
	return DefaultAccessRetention
}

// check makes sure the directory is there: the commands must not create
// an empty log directory where the operator mistyped one.
func (d *Dir) check() error {
	if d.Path == "" {
		return ErrNoDir
	}
	fi, err := os.Stat(d.Path)
	if err != nil {
		return fmt.Errorf("log dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("log dir %s: not a directory", d.Path)
	}
	return nil
}

// lockFile orders the rewrites and hold changes of every process.
const lockFile = ".lock"

// lock takes the directory lock, waiting for another rewrite to finish.
func (d *Dir) lock() (release func(), err error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(d.Path, lockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log dir lock: %w", err)
	}
	ownLike(f, d.Path)
	if err := lockExclusive(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("log dir lock: %w", err)
	}
	return func() { unlock(f); f.Close() }, nil
}

// audit logs an action of the directory's own (a purge, a data-subject
// request) as an entry outside any conference. Callers pass no personal
// data: criteria kinds and counts, never values.
func (d *Dir) audit(level slog.Level, msg string, args ...any) error {
	if d.Log != nil {
		d.Log.Log(context.Background(), level, msg, args...)
		return nil
	}
	if level < slog.LevelInfo {
		return nil
	}
	w, err := NewWriter(d.Path, nil)
	if err != nil {
		return err
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.Add(args...)
	err = slog.NewJSONHandler(w, nil).WithAttrs([]slog.Attr{slog.String("component", "privacy")}).Handle(context.Background(), r)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("log the action: %w", err)
	}
	return nil
}

// indexPass reads every day file once: the index, and a selector for
// each criteria (holds, a request) fed with what it needs.
func (d *Dir) indexPass(ctx context.Context, files []dayFile, cs ...Criteria) (*index, []*selector, error) {
	ix := newIndex()
	sels := make([]*selector, len(cs))
	for i, c := range cs {
		sels[i] = newSelector(c)
	}
	err := scanAll(ctx, files, func(_ dayFile, e *Entry) error {
		ix.add(e)
		for _, s := range sels {
			s.observe(e)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for _, s := range sels {
		s.finish(ix)
	}
	return ix, sels, nil
}

func anySelects(sels []*selector, e *Entry) bool {
	for _, s := range sels {
		if s.selects(e) {
			return true
		}
	}
	return false
}
