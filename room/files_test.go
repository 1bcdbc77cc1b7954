package room_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"aula/room"
)

// TestSweepFiles: folders of meetings that exist nowhere (left by a crash
// once the store forgot them) are deleted; folders of meetings running
// here or known to the store stay.
func TestSweepFiles(t *testing.T) {
	e := newEnv(t)
	live := e.create(room.Settings{MeetingID: "running-here"})
	if _, err := e.mgr.StoreFile(e.ctx, live.Key, "slides.pdf", []byte("%PDF-1.4")); err != nil {
		t.Fatal(err)
	}
	// A meeting in the store that this manager does not run (another
	// node's, or one this node will adopt after a restart).
	other := &room.Meeting{Settings: room.Settings{MeetingID: "elsewhere", PIN: "54321"}, Key: room.KeyOf("elsewhere"), CreateTime: t0}
	if err := e.store.CreateMeeting(e.ctx, other, time.Hour); err != nil {
		t.Fatal(err)
	}
	ghost := room.KeyOf("killed-before-its-end")
	for _, k := range []string{other.Key, ghost} {
		if _, err := e.files.Put(k, "doc.pdf", []byte("%PDF-1.4")); err != nil {
			t.Fatal(err)
		}
	}
	n, err := e.mgr.SweepFiles(e.ctx)
	if err != nil || n != 1 {
		t.Fatalf("SweepFiles = %d, %v; want 1 folder removed", n, err)
	}
	for _, c := range []struct {
		key  string
		want bool
	}{{live.Key, true}, {other.Key, true}, {ghost, false}} {
		_, err := os.Stat(filepath.Join(e.files.Root(), c.key))
		if exists := err == nil; exists != c.want {
			t.Errorf("folder %s exists %v, want %v", c.key, exists, c.want)
		}
	}
}

// TestStoreFileRacesEnd: a file stored while its meeting ends is either
// wiped with it or refused; no folder outlives its meeting.
func TestStoreFileRacesEnd(t *testing.T) {
	e := newEnv(t)
	for i := range 100 {
		mt := e.create(room.Settings{MeetingID: fmt.Sprintf("race-%d", i)})
		var wg sync.WaitGroup
		var putErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 5 {
				if _, putErr = e.mgr.StoreFile(e.ctx, mt.Key, fmt.Sprintf("doc-%d.pdf", j), []byte("%PDF-1.4")); putErr != nil {
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			if err := e.mgr.End(e.ctx, mt.Key, room.ReasonAPI); err != nil {
				t.Errorf("end: %v", err)
			}
		}()
		wg.Wait()
		if putErr != nil && !errors.Is(putErr, room.ErrEnded) {
			t.Fatalf("StoreFile racing the end: %v", putErr)
		}
		if _, err := os.Stat(filepath.Join(e.files.Root(), mt.Key)); err == nil {
			t.Fatalf("round %d: the folder of an ended meeting is left", i)
		}
	}
	if _, err := e.mgr.StoreFile(e.ctx, room.KeyOf("never-created"), "x.pdf", []byte("%PDF-1.4")); !errors.Is(err, room.ErrEnded) {
		t.Fatalf("StoreFile for a meeting that does not run: %v", err)
	}
}
