package logs

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// The server keeps logging while erase and purge rewrite the file it
// appends to: no line that should stay is lost, none is torn or merged,
// and the erased ones are gone. Run under -race.
func TestRewriteWhileWriting(t *testing.T) {
	dir := t.TempDir()
	// An old file for the purge to rewrite meanwhile.
	for i := range 50 {
		put(t, dir, time.Now().Add(-10*day), "http", "seq", fmt.Sprint(-i-1))
	}
	log, closer, err := New(Options{Dir: dir, Stderr: io.Discard, PurgeEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	// Writers log their lines while the rewriter erases and purges the
	// directory again and again, until they are done.
	const writers, lines = 4, 2500
	written := make([]int, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range lines {
				written[w] = i + 1
				seq := fmt.Sprintf("%d-%d", w, i)
				if i%10 == 0 {
					log.Info("participant connected", "meeting", "k", "participant", "v"+seq, "user_id", "victim", "seq", seq)
				} else {
					log.Info("media", "meeting", "k", "participant", "p"+seq, "seq", seq)
				}
			}
		})
	}
	d := &Dir{Path: dir}
	ctx := context.Background()
	writing := stop(&wg)
	rounds := 0
	for running := true; running; rounds++ {
		select {
		case <-writing:
			running = false
		default:
		}
		if _, err := d.Erase(ctx, Criteria{UserID: "victim"}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Purge(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Erase(ctx, Criteria{UserID: "victim"}); err != nil {
		t.Fatal(err)
	}
	closer.Close()
	seen := map[string]int{}
	for _, l := range strings.Split(strings.TrimSuffix(all(t, dir), "\n"), "\n") {
		e := ParseLine([]byte(l))
		if !e.OK {
			t.Fatalf("torn or merged line: %q", l)
		}
		if e.UserID == "victim" {
			t.Errorf("erased line remains: %s", l)
		}
		if i := strings.Index(l, `"seq":`); i >= 0 {
			seen[strings.Trim(l[i+6:], `"}`)]++
		}
	}
	total := 0
	for w := range writers {
		total += written[w]
		for i := range written[w] {
			if n := seen[fmt.Sprintf("%d-%d", w, i)]; i%10 != 0 && n != 1 {
				t.Errorf("line %d-%d present %d times", w, i, n)
			}
		}
	}
	for i := range 50 {
		if seen[fmt.Sprint(-i-1)] != 0 {
			t.Errorf("old line %d survived the purge", -i-1)
		}
	}
	t.Logf("%d lines written during %d erase+purge rounds", total, rounds)
}

// stop returns a channel closed once wg's goroutines are done.
func stop(wg *sync.WaitGroup) <-chan struct{} {
	c := make(chan struct{})
	go func() { wg.Wait(); close(c) }()
	return c
}
