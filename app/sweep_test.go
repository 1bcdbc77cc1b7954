package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"aula/room"
)

// TestStartSweepsOrphanFiles: a node killed (SIGKILL) during a meeting and
// started again after its store forgot the meeting finds the meeting's
// files on disk; it deletes them at start-up.
func TestStartSweepsOrphanFiles(t *testing.T) {
	cfg := Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Demo = false
	orphan := filepath.Join(cfg.DataDir, "rooms", room.KeyOf("killed-mid-lesson"))
	if err := os.MkdirAll(orphan, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(orphan, "slides.pdf"), []byte("%PDF-1.4"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		a.Close(cctx)
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(orphan); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the orphaned meeting folder is still there after start-up")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
