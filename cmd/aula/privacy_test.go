package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"aula/logs"
)

// logLine appends an entry dated when to dir's day file of when, as the
// server's JSON handler writes it.
func logLine(t *testing.T, dir string, when time.Time, msg string, args ...any) {
	t.Helper()
	w, err := logs.NewWriter(dir, func() time.Time { return when })
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

// preparedLog is a log directory with a browser participant and a caller
// in one meeting 40 days ago, and another meeting today.
func preparedLog(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	old := time.Now().Add(-40 * 24 * time.Hour)
	logLine(t, dir, old, "meeting created", "meeting", "k-old", "meeting_id", "course-7")
	logLine(t, dir, old.Add(time.Minute), "participant connecting", "meeting", "k-old", "participant", "p1",
		"user_id", "moodle-42", "name", "Vera Schulz", "ip", "198.51.100.7", "user_agent", "Firefox/128")
	logLine(t, dir, old.Add(2*time.Minute), "incoming call", "component", "dialin", "call", "c1", "from", "4930123456789", "source", "192.0.2.1:5060")
	logLine(t, dir, old.Add(3*time.Minute), "caller joined the room", "component", "dialin", "call", "c1", "meeting", "k-old", "participant", "ph1")
	logLine(t, dir, old.Add(time.Hour), "meeting ended", "meeting", "k-old", "reason", "api")
	now := time.Now()
	logLine(t, dir, now, "meeting created", "meeting", "k-new", "meeting_id", "course-8")
	logLine(t, dir, now, "participant connecting", "meeting", "k-new", "participant", "p9",
		"user_id", "moodle-42", "name", "Vera Schulz", "ip", "198.51.100.7", "user_agent", "Firefox/128")
	return dir
}

// aula runs a command in-process with no AULA_* environment.
func aula(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	var err error
	switch args[0] {
	case "privacy":
		err = privacy(args[1:], noEnv, &out, &errb)
	case "logs":
		err = logsCmd(args[1:], noEnv, &out, &errb)
	default:
		err = run(args, &out, &errb)
	}
	return out.String() + errb.String(), err
}

func mustAula(t *testing.T, args ...string) string {
	t.Helper()
	out, err := aula(t, args...)
	if err != nil {
		t.Fatalf("aula %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Every privacy command on a prepared log directory, in the order of a
// request: find, export, hold, erase (the hold wins), release, erase,
// purge; each leaves a line in the log without the values searched for.
func TestPrivacyCommands(t *testing.T) {
	dir := preparedLog(t)
	out := mustAula(t, "privacy", "find", "-log-dir", dir, "-user-id", "moodle-42")
	for _, want := range []string{"2 entries for user-id \"moodle-42\"", "meeting k-old (course-7), ended", "meeting k-new (course-8), no end in this log"} {
		if !strings.Contains(out, want) {
			t.Errorf("find lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Firefox") {
		t.Error("find printed entries without -print")
	}
	if out := mustAula(t, "privacy", "find", "-log-dir", dir, "-phone", "+49 30 123456789", "-print"); !strings.Contains(out, "2 entries") ||
		!strings.Contains(out, `"from":"4930123456789"`) || !strings.Contains(out, `"msg":"caller joined the room"`) {
		t.Errorf("find -print by phone:\n%s", out)
	}

	file := filepath.Join(t.TempDir(), "vera.json")
	out = mustAula(t, "privacy", "export", "-log-dir", dir, "-name", "vera schulz", "-to", time.Now().Add(-24*time.Hour).Format("2006-01-02"), "-o", file)
	if !strings.Contains(out, "exported 1 entries to "+file) {
		t.Errorf("export said %q", out)
	}
	var doc struct {
		Summary logs.Summary     `json:"summary"`
		Entries []map[string]any `json:"entries"`
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Summary.Count != 1 || len(doc.Entries) != 1 || doc.Entries[0]["user_agent"] != "Firefox/128" {
		t.Fatalf("export file: %v\n%s", err, b)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v", fi.Mode())
	}
	if _, err := aula(t, "privacy", "export", "-log-dir", dir, "-name", "Vera Schulz", "-o", file); err == nil {
		t.Error("export overwrote an earlier export")
	}

	out = mustAula(t, "privacy", "hold", "-log-dir", dir, "-meeting", "course-7", "-reason", "complaint 2026/3", "-by", "DPO")
	id := regexp.MustCompile(`hold (h-[0-9a-f]+): 5 entries`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("hold said %q", out)
	}
	if out := mustAula(t, "privacy", "holds", "-log-dir", dir); !strings.Contains(out, id[1]) || !strings.Contains(out, "complaint 2026/3") ||
		!strings.Contains(out, `meeting "course-7"`) {
		t.Errorf("holds: %s", out)
	}
	if out := mustAula(t, "privacy", "erase", "-log-dir", dir, "-user-id", "moodle-42"); out != "erased 1 entries in 1 files; 1 kept: on hold (aula privacy holds)\n" {
		t.Errorf("erase under hold: %q", out)
	}
	if out := mustAula(t, "logs", "purge", "-log-dir", dir); !strings.Contains(out, "purged 0 entries") || !strings.Contains(out, "5 past retention kept: on hold") {
		t.Errorf("purge under hold: %q", out)
	}
	mustAula(t, "privacy", "release", "-log-dir", dir, id[1])
	if out := mustAula(t, "privacy", "holds", "-log-dir", dir); out != "no holds\n" {
		t.Errorf("holds after release: %q", out)
	}
	if out := mustAula(t, "privacy", "erase", "-log-dir", dir, "-ip", "198.51.100.7"); out != "erased 1 entries in 1 files\n" {
		t.Errorf("erase: %q", out)
	}
	if out := mustAula(t, "logs", "purge", "-log-dir", dir); !strings.Contains(out, "purged 4 entries (1 files rewritten, 1 removed)") {
		t.Errorf("purge: %q", out)
	}
	all := readLogDir(t, dir)
	for _, p := range []string{"moodle-42", "Vera", "198.51.100.7", "4930123456789", "complaint", "DPO"} {
		if strings.Contains(all, p) {
			t.Errorf("the log still holds %q:\n%s", p, all)
		}
	}
	for _, msg := range []string{"privacy find", "privacy export", "privacy hold", "privacy holds", "privacy erase", "privacy release", "log purge"} {
		if !strings.Contains(all, `"msg":"`+msg+`"`) {
			t.Errorf("no %q line in the log", msg)
		}
	}
}

func readLogDir(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "aula-*.log"))
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

// The log directory comes from the service's environment file too; a
// missing one is named; mistakes are usage errors.
func TestPrivacyConfiguration(t *testing.T) {
	dir := preparedLog(t)
	env := filepath.Join(t.TempDir(), "aula.env")
	if err := os.WriteFile(env, []byte("AULA_LOG_DIR='"+dir+"'\nAULA_LOG_RETENTION=2400h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustAula(t, "privacy", "find", "-env-file", env, "-user-id", "moodle-42"); !strings.Contains(out, "2 entries") {
		t.Errorf("with -env-file: %s", out)
	}
	// 2400h: the meeting of 40 days ago is not due yet.
	if out := mustAula(t, "logs", "purge", "-env-file", env); !strings.Contains(out, "purged 0 entries") {
		t.Errorf("purge with the file's retention: %s", out)
	}
	if _, err := aula(t, "privacy", "find", "-user-id", "x"); !errors.Is(err, logs.ErrNoDir) {
		t.Errorf("without a log dir: %v", err)
	}
	for _, args := range [][]string{
		{"privacy"}, {"privacy", "forget"}, {"privacy", "find", "-log-dir", dir},
		{"privacy", "find", "-log-dir", dir, "-ip", "nonsense"}, {"privacy", "find", "-log-dir", dir, "-from", "yesterday"},
		{"privacy", "erase", "-log-dir", dir, "-from", "2026-01-01"}, {"privacy", "export", "-log-dir", dir, "-user-id", "x"},
		{"privacy", "hold", "-log-dir", dir, "-user-id", "x"}, {"privacy", "release", "-log-dir", dir},
		{"logs"}, {"logs", "rotate"},
	} {
		if _, err := aula(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("aula %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
	if _, err := aula(t, "privacy", "release", "-log-dir", dir, "h-000000000000"); !errors.Is(err, logs.ErrHoldNotFound) {
		t.Errorf("release of an unknown hold: %v", err)
	}
	if _, err := aula(t, "privacy", "find", "-log-dir", filepath.Join(dir, "missing"), "-user-id", "x"); err == nil {
		t.Error("a missing log directory was searched")
	}
	// The commands are in the binary's table.
	if out, _ := aula(t, "help"); !strings.Contains(out, "privacy") || !strings.Contains(out, "logs") {
		t.Errorf("help: %s", out)
	}
	if privacyNotice == nil {
		if out := mustAula(t, "privacy", "notice", "-lang", "en"); !strings.Contains(out, "not available") {
			t.Errorf("notice: %q", out)
		}
	}
}

// The commands work while the server writes: the real logger appends from
// several goroutines while find, export, holds, erase, hold, release and
// purge read and rewrite the directory; every line the server wrote that no command was to remove is
// there once and whole.
func TestPrivacyWhileServerWrites(t *testing.T) {
	dir := preparedLog(t)
	log, closer, err := logs.New(logs.Options{Dir: dir, Stderr: io.Discard, PurgeEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	// The writers go on until the commands have had their rounds (or a
	// cap of lines, so a slow machine does not grow the files without end).
	var wg sync.WaitGroup
	const writers, maxLines, rounds = 3, 3000, 5
	written := make([]int, writers)
	enough := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range maxLines {
				select {
				case <-enough:
					return
				default:
				}
				written[w] = i + 1
				if i%5 == 0 {
					log.Info("participant connecting", "meeting", "k-new", "participant", fmt.Sprint("x", w, i), "user_id", "moodle-42", "seq", fmt.Sprint(w, "-", i))
				} else {
					log.Info("http", "path", "/", "seq", fmt.Sprint(w, "-", i))
				}
			}
		})
	}
	for range rounds {
		out := mustAula(t, "privacy", "hold", "-log-dir", dir, "-user-id", "nobody", "-reason", "r", "-by", "b")
		id := regexp.MustCompile(`h-[0-9a-f]+`).FindString(out)
		mustAula(t, "privacy", "erase", "-log-dir", dir, "-user-id", "moodle-42")
		mustAula(t, "privacy", "find", "-log-dir", dir, "-name", "Vera Schulz")
		if out := mustAula(t, "privacy", "export", "-log-dir", dir, "-meeting", "course-8", "-o", "-"); !json.Valid([]byte(out)) {
			t.Fatalf("export while writing is no JSON:\n%s", out)
		}
		mustAula(t, "privacy", "holds", "-log-dir", dir)
		mustAula(t, "logs", "purge", "-log-dir", dir)
		mustAula(t, "privacy", "release", "-log-dir", dir, id)
	}
	close(enough)
	wg.Wait()
	mustAula(t, "privacy", "erase", "-log-dir", dir, "-user-id", "moodle-42")
	closer.Close()
	all := readLogDir(t, dir)
	seen := map[string]int{}
	for _, l := range strings.Split(strings.TrimSuffix(all, "\n"), "\n") {
		if e := logs.ParseLine([]byte(l)); !e.OK {
			t.Fatalf("torn line %q", l)
		}
		if strings.Contains(l, "moodle-42") {
			t.Errorf("erased entry remains: %s", l)
		}
		if m := regexp.MustCompile(`"seq":"(\d+-\d+)"`).FindStringSubmatch(l); m != nil {
			seen[m[1]]++
		}
	}
	total := 0
	for w := range writers {
		total += written[w]
		for i := range written[w] {
			if n := seen[fmt.Sprint(w, "-", i)]; i%5 != 0 && n != 1 {
				t.Errorf("server line %d-%d is there %d times", w, i, n)
			}
		}
	}
	t.Logf("%d rounds of commands while %d lines were written", rounds, total)
}
