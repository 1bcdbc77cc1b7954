package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aula/room"
	"aula/sfu"
	"aula/store"
)

// TestRecreatedMeetingSharesNothing: a meetingID created, ended and created
// again through the running node is a new incarnation: a new key, a new
// SFU room (the old one stays closed for good), no file folder and no
// store key of the first.
func TestRecreatedMeetingSharesNothing(t *testing.T) {
	cfg := Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Demo = false
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.Close(ctx)
	})
	ctx := context.Background()
	set := room.Settings{MeetingID: "weekly-course", Name: "Weekly"}
	first, _, err := a.Manager().Create(ctx, set)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SFU().Room(first.Key); err != nil {
		t.Fatalf("the first meeting's SFU room is not open: %v", err)
	}
	if _, err := a.Manager().StoreFile(ctx, first.Key, "week1.pdf", []byte("%PDF-1.4")); err != nil {
		t.Fatal(err)
	}
	if err := a.Manager().End(ctx, first.Key, room.ReasonAPI); err != nil {
		t.Fatal(err)
	}
	second, _, err := a.Manager().Create(ctx, set)
	if err != nil {
		t.Fatal(err)
	}
	if second.Key == first.Key {
		t.Fatal("the second incarnation reuses the first's key")
	}
	if _, err := a.SFU().Room(second.Key); err != nil {
		t.Fatalf("the second meeting's SFU room: %v", err)
	}
	if _, err := a.SFU().Room(first.Key); !errors.Is(err, sfu.ErrClosed) {
		t.Fatalf("the first meeting's SFU room: %v, want closed", err)
	}
	if _, err := a.SFU().OpenRoom(first.Key); !errors.Is(err, sfu.ErrClosed) {
		t.Fatalf("the first meeting's SFU room opened again: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "rooms", first.Key)); !os.IsNotExist(err) {
		t.Fatalf("the first meeting's folder: %v", err)
	}
	keys, err := store.Keys(ctx, a.Store())
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys {
		if strings.Contains(k, first.Key) {
			t.Fatalf("store key %s of the first incarnation remains", k)
		}
	}
}
