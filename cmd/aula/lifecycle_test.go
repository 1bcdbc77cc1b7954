package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeNode records what lifecycle asks of the node.
type fakeNode struct {
	mu       sync.Mutex
	calls    []string
	drainCtx chan context.Context
}

func (f *fakeNode) note(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeNode) Drain(ctx context.Context) {
	f.note("drain")
	f.drainCtx <- ctx
	<-ctx.Done() // meetings run until the deadline or a second signal
	f.note("drain over: " + context.Cause(ctx).Error())
}

func (f *fakeNode) Close(context.Context) error { f.note("close"); return nil }
func (f *fakeNode) ReloadTLS() error            { f.note("reload"); return nil }

func (f *fakeNode) log() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, ", ")
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestSignals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sigs  []os.Signal
		drain time.Duration
		want  string
	}{
		{"SIGINT stops at once", []os.Signal{os.Interrupt}, time.Hour, "close"},
		{"SIGHUP reloads, then SIGTERM drains until a second SIGTERM", []os.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGTERM}, time.Hour,
			"reload, drain, reload, drain over: context canceled, close"},
		{"SIGINT ends a drain", []os.Signal{syscall.SIGTERM, os.Interrupt}, time.Hour, "drain, drain over: context canceled, close"},
		{"the drain deadline", []os.Signal{syscall.SIGTERM}, 50 * time.Millisecond, "drain, drain over: context deadline exceeded, close"},
		{"no drain time", []os.Signal{syscall.SIGTERM}, 0, "close"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeNode{drainCtx: make(chan context.Context, 1)}
			sigs := make(chan os.Signal, len(tc.sigs))
			done := make(chan error, 1)
			go func() { done <- lifecycle(f, tc.drain, sigs, quiet()) }()
			for _, s := range tc.sigs {
				sigs <- s
				if s == syscall.SIGTERM && tc.drain > 0 && !strings.Contains(f.log(), "drain") {
					<-f.drainCtx // the drain runs before the next signal
				}
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("lifecycle did not end: %s", f.log())
			}
			if got := f.log(); got != tc.want {
				t.Errorf("calls %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckCommand: aula check prints a line per check and fails on a
// broken configuration, read from the service's env file.
func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "aula.env")
	write := func(s string) {
		if err := os.WriteFile(envFile, []byte(s), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	write("# /etc/aula/aula.env\nAULA_HTTP_ADDR=127.0.0.1:0\nAULA_SECRET='a-real-secret-0123456789'\nAULA_DATA_DIR=\"" + dir + "/data\"\nAULA_DIAL_NUMBER=\"+49 30 1234567\"\n")
	var out, errb bytes.Buffer
	if err := run([]string{"check", "-env-file", envFile}, &out, &errb); err != nil {
		t.Fatalf("good configuration: %v\n%s%s", err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "ok    configuration") || !strings.Contains(out.String(), "ok    secret") {
		t.Errorf("output:\n%s", out.String())
	}

	write("AULA_HTTP_ADDR=127.0.0.1:0\nAULA_SECRET=change-me-to-a-long-random-secret\nAULA_DATA_DIR=" + dir + "/data\n")
	out.Reset()
	err := run([]string{"check", "--env-file=" + envFile}, &out, &errb)
	if !errors.Is(err, errCheckFailed) || !strings.Contains(out.String(), "FAIL  configuration") || !strings.Contains(out.String(), "AULA_SECRET") {
		t.Fatalf("broken configuration: %v\n%s", err, out.String())
	}
}
