package logs

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// t0 is "now" in the tests: the purge and the requests see this clock.
var t0 = time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)

// put appends one entry, as the server's JSON handler writes it, dated
// when, to the day file of when.
func put(t testing.TB, dir string, when time.Time, msg string, args ...any) {
	t.Helper()
	w, err := NewWriter(dir, func() time.Time { return when })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r := slog.NewRecord(when, slog.LevelInfo, msg, 0)
	r.Add(args...)
	if err := slog.NewJSONHandler(w, nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// putRaw appends a line as it is (a torn or foreign line).
func putRaw(t testing.TB, dir string, day time.Time, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, FileName(day)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// all returns every line of the directory's day files.
func all(t testing.TB, dir string) string {
	t.Helper()
	files, err := dayFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

// has reports whether a line with this message (and every "k=v" given) is
// in the directory.
func has(t testing.TB, dir, msg string, kv ...string) bool {
	t.Helper()
	for _, l := range strings.Split(all(t, dir), "\n") {
		if !strings.Contains(l, `"msg":"`+msg+`"`) {
			continue
		}
		ok := true
		for _, s := range kv {
			k, v, _ := strings.Cut(s, "=")
			if !strings.Contains(l, `"`+k+`":"`+v+`"`) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func ago(d time.Duration) time.Time { return t0.Add(-d) }

const day = 24 * time.Hour

// testDir is a Dir on a fresh directory at clock t0 that logs its own
// actions into the directory (as the commands do).
func testDir(t testing.TB) *Dir {
	t.Helper()
	return &Dir{Path: t.TempDir(), Now: func() time.Time { return t0 }}
}
