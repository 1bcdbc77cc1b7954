package logs

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The server and `aula privacy erase` are different processes: the
// writer here runs in a child process (this test binary again) while the
// parent erases and purges, so the flock protocol is tested as it is used.
func TestRewriteAcrossProcesses(t *testing.T) {
	if dir := os.Getenv("AULA_LOGS_CHILD_DIR"); dir != "" {
		childWriter(dir)
		return
	}
	dir := t.TempDir()
	const lines = 3000
	cmd := exec.Command(os.Args[0], "-test.run=^TestRewriteAcrossProcesses$")
	cmd.Env = append(os.Environ(), "AULA_LOGS_CHILD_DIR="+dir, "AULA_LOGS_CHILD_LINES="+strconv.Itoa(lines))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	d := &Dir{Path: dir}
	ctx := context.Background()
	rounds := 0
	for running := true; running; rounds++ {
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("writer process: %v", err)
			}
			running = false
		default:
		}
		if _, err := d.Erase(ctx, Criteria{UserID: "victim"}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int]int{}
	for _, l := range strings.Split(strings.TrimSuffix(all(t, dir), "\n"), "\n") {
		e := ParseLine([]byte(l))
		if !e.OK {
			t.Fatalf("torn or merged line %q", l)
		}
		if e.UserID == "victim" {
			t.Errorf("erased line remains: %s", l)
		}
		if i := strings.Index(l, `"seq":`); i >= 0 {
			n, _ := strconv.Atoi(strings.TrimRight(l[i+6:], "}"))
			seen[n]++
		}
	}
	for i := range lines {
		if n := seen[i]; i%7 != 0 && n != 1 {
			t.Errorf("line %d of the writer process is there %d times", i, n)
		}
	}
	t.Logf("%d erase rounds while another process wrote %d lines", rounds, lines)
}

// childWriter is the "server" of TestRewriteAcrossProcesses.
func childWriter(dir string) {
	n, _ := strconv.Atoi(os.Getenv("AULA_LOGS_CHILD_LINES"))
	log, closer, err := New(Options{Dir: dir, Stderr: io.Discard, PurgeEvery: -1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := range n {
		if i%7 == 0 {
			log.Info("participant connecting", "meeting", "k", "participant", fmt.Sprint("v", i), "user_id", "victim", "seq", i)
		} else {
			log.Info("http", "path", "/", "seq", i)
		}
	}
	closer.Close()
}
