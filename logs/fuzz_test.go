package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	`{"time":"2026-03-01T10:00:00.123+01:00","level":"INFO","msg":"meeting ended","meeting":"k1","reason":"api"}`,
	`{"time":"2026-03-01T10:00:00Z","msg":"incoming call","component":"dialin","call":"c1","from":"4930123456789"}`,
	`{"time":"2026-03-01T10:00:00Z","msg":"x","meeting":42,"name":{"a":1},"participant":null,"ip":true}`,
	`{"time":"2026-03-01T10:00:00Z","msg":"torn`,
	`{"time":"yesterday","msg":"x"}`,
	`[1,2,3]`, `null`, ``, `   `, "\xff\xfe", `{"time":"2026-03-01T10:00:00Z"}{"time":"2026-03-01T10:00:00Z"}`,
}

// FuzzParseLine: any bytes parse without panic; a line is either a valid
// entry (a JSON object with a time) or malformed, and keeps its bytes.
func FuzzParseLine(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e := ParseLine(b)
		if !bytes.Equal(e.Raw, b) {
			t.Fatal("Raw differs from the line")
		}
		if e.OK && (e.Time.IsZero() && !strings.Contains(string(b), "0001-01-01") || !json.Valid(b)) {
			t.Fatalf("OK line %q: time %v", b, e.Time)
		}
		if !e.OK && (e.Meeting != "" || e.Call != "" || e.UserID != "") {
			t.Fatalf("malformed line %q has attributes %+v", b, e)
		}
	})
}

// FuzzRewrite: whatever a day file holds, a rewrite keeps exactly the
// lines it should, in order, each ending in a newline (a last line
// without one is a torn write, kept or dropped as a line of its own), and
// never fails on content. Malformed lines are preserved unless dropped.
func FuzzRewrite(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s+"\n"+fuzzSeeds[0]+"\n", true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, content string, dropMalformed bool) {
		dir := t.TempDir()
		day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		df := dayFile{name: FileName(day), path: filepath.Join(dir, FileName(day)), day: day}
		if err := os.WriteFile(df.path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		drop := func(e *Entry) bool { return e.OK != dropMalformed }
		var want []string
		dropped := 0
		for _, l := range strings.SplitAfter(content, "\n") {
			if l == "" {
				continue
			}
			if e := ParseLine([]byte(strings.TrimSuffix(l, "\n"))); !drop(&e) {
				want = append(want, strings.TrimSuffix(l, "\n")+"\n")
			} else {
				dropped++
			}
		}
		n, err := rewrite(df, drop)
		if err != nil {
			t.Fatal(err)
		}
		if n != dropped {
			t.Fatalf("rewrite dropped %d lines, want %d", n, dropped)
		}
		got, err := os.ReadFile(df.path)
		if os.IsNotExist(err) {
			got, err = nil, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		removedSome := dropped > 0
		if removedSome && string(got) != strings.Join(want, "") {
			t.Fatalf("content %q\nkept %q\nwant %q", content, got, strings.Join(want, ""))
		}
		if !removedSome && string(got) != content {
			t.Fatalf("unchanged file rewritten: %q → %q", content, got)
		}
	})
}

// What slog writes, ParseLine reads back.
func TestParseWhatSlogWrites(t *testing.T) {
	var buf bytes.Buffer
	when := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	r := slog.NewRecord(when, slog.LevelWarn, "caller joined the room", 0)
	r.Add("component", "dialin", "call", "c1", "meeting", "k1", "participant", "p1", "name", `Vera "V" Schulz <3`, "user_id", 42)
	if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	e := ParseLine(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}))
	if !e.OK || !e.Time.Equal(when) || e.Msg != "caller joined the room" || e.Call != "c1" || e.Meeting != "k1" ||
		e.Participant != "p1" || e.Name != `Vera "V" Schulz <3` || e.UserID != "42" {
		t.Errorf("parsed %+v", e)
	}
}
