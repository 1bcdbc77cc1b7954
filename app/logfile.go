package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// dailyFile writes the server log to one file per UTC day, so retention
// (deleting a day's file once its meetings are four weeks past) works on
// whole files.
type dailyFile struct {
	dir string
	mu  sync.Mutex
	day string
	f   *os.File
}

func (d *dailyFile) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	day := time.Now().UTC().Format("2006-01-02")
	if d.f == nil || day != d.day {
		if d.f != nil {
			d.f.Close()
		}
		f, err := os.OpenFile(filepath.Join(d.dir, "aula-"+day+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return 0, err
		}
		d.f, d.day = f, day
	}
	return d.f.Write(p)
}

func (d *dailyFile) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

// NewLogger returns the server logger: text on stderr, and JSON lines in
// LogDir when set. The returned closer flushes the file.
func NewLogger(cfg Config, stderr io.Writer) (*slog.Logger, io.Closer, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel))); err != nil {
		return nil, nil, fmt.Errorf("log level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	text := slog.NewTextHandler(stderr, opts)
	if cfg.LogDir == "" {
		return slog.New(text), io.NopCloser(nil), nil
	}
	if err := os.MkdirAll(cfg.LogDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("log dir: %w", err)
	}
	df := &dailyFile{dir: cfg.LogDir}
	return slog.New(fanout{text, slog.NewJSONHandler(df, opts)}), df, nil
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
	var err error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			if e := h.Handle(ctx, r.Clone()); e != nil {
				err = e
			}
		}
	}
	return err
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
