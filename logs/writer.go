package logs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	dayLayout  = "2006-01-02"
	filePrefix = "aula-"
	fileSuffix = ".log"
)

// FileName is the name of the day file of t's UTC day:
// aula-YYYY-MM-DD.log. One file per day lets retention skip whole files
// that cannot hold anything old enough yet.
func FileName(t time.Time) string {
	return filePrefix + t.UTC().Format(dayLayout) + fileSuffix
}

// parseFileName reads the day of a day file's name.
func parseFileName(name string) (time.Time, bool) {
	if !strings.HasPrefix(name, filePrefix) || !strings.HasSuffix(name, fileSuffix) {
		return time.Time{}, false
	}
	d, err := time.Parse(dayLayout, name[len(filePrefix):len(name)-len(fileSuffix)])
	if err != nil {
		return time.Time{}, false
	}
	return d, true
}

// Writer appends log lines to the day file of the current UTC day in a
// directory (0700; files 0600). Each Write is one line (slog's handlers
// write a record at once). It is safe for many goroutines and, through
// the flock protocol of lock_unix.go, against a rewrite by `aula logs
// purge` or `aula privacy erase` in another process: a line is never
// appended to a file that a rewrite has replaced.
type Writer struct {
	dir string
	now func() time.Time

	mu   sync.Mutex
	day  string
	path string
	f    *os.File
}

// NewWriter creates dir if needed. now picks the day (nil: time.Now).
func NewWriter(dir string, now func() time.Time) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("log dir: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Writer{dir: dir, now: now}, nil
}

// maxReopen bounds how often one Write follows a replaced file: each
// round means a complete rewrite finished in between.
const maxReopen = 16

func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	day := w.now().UTC().Format(dayLayout)
	for range maxReopen {
		if w.f == nil || w.day != day {
			if err := w.open(day); err != nil {
				return 0, err
			}
		}
		if err := lockShared(w.f); err != nil {
			return 0, fmt.Errorf("lock %s: %w", w.path, err)
		}
		gone, err := replaced(w.f)
		if err != nil {
			unlock(w.f)
			return 0, fmt.Errorf("log file %s: %w", w.path, err)
		}
		if gone {
			unlock(w.f)
			w.closeFile()
			continue
		}
		n, err := w.f.Write(p)
		unlock(w.f)
		return n, err
	}
	return 0, fmt.Errorf("%s: %w", w.path, ErrReplaced)
}

// open opens (creating) the day file. A file whose last line lacks its
// newline (the process died in the middle of a write) gets one first, so
// the torn line stays a line of its own instead of swallowing the next.
func (w *Writer) open(day string) error {
	w.closeFile()
	path := filepath.Join(w.dir, filePrefix+day+fileSuffix)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	ownLike(f, w.dir)
	// Exclusive: no other writer is half-way through a line while the
	// last byte is looked at.
	if err := lockExclusive(f); err != nil {
		f.Close()
		return fmt.Errorf("lock %s: %w", path, err)
	}
	err = repairTail(f)
	unlock(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("log file %s: %w", path, err)
	}
	w.f, w.day, w.path = f, day, path
	return nil
}

func repairTail(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if last[0] != '\n' {
		_, err = f.Write([]byte{'\n'})
	}
	return err
}

func (w *Writer) closeFile() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// Close closes the open day file. A line written later (a goroutine that
// logs while the server shuts down) opens it again rather than being lost.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closeFile()
}
