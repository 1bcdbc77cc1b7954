package logs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The retention boundaries of the privacy notice, with the clock moved to
// them: a conference's entries go 28 days after its end, entries outside
// conferences 7 days after they were written.
func TestPurgeBoundaries(t *testing.T) {
	d := testDir(t)
	dir := d.Path
	// Conference A ended 27d23h ago: kept, its start 30 days ago included.
	put(t, dir, ago(30*day), "meeting created", "meeting", "kA", "meeting_id", "course-a")
	put(t, dir, ago(29*day), "participant connected", "meeting", "kA", "participant", "pA", "ip", "198.51.100.7")
	put(t, dir, ago(27*day+23*time.Hour), "meeting ended", "meeting", "kA", "reason", "api")
	// Conference B ended exactly 28 days ago: gone, with its SFU lines
	// (older logs name the key "room").
	put(t, dir, ago(29*day), "meeting created", "meeting", "kB")
	put(t, dir, ago(28*day+time.Hour), "peer failed", "component", "sfu", "room", "kB", "participant", "pB")
	put(t, dir, ago(28*day), "meeting ended", "meeting", "kB")
	// Conference C never ended (the node crashed): its last entry counts.
	put(t, dir, ago(40*day), "meeting created", "meeting", "kC")
	put(t, dir, ago(28*day+time.Minute), "caller joined the room", "component", "dialin", "call", "c1", "meeting", "kC", "participant", "pC")
	// Conference D crashed too, its last entry 27 days ago: kept.
	put(t, dir, ago(35*day), "meeting created", "meeting", "kD")
	put(t, dir, ago(27*day), "websocket read", "meeting", "kD")
	// A call's first line, before the PIN, goes with the conference it joined.
	put(t, dir, ago(28*day+2*time.Minute), "incoming call", "component", "dialin", "call", "c1", "from", "4930123456789")
	// Access lines: 6d23h kept, 7d gone.
	put(t, dir, ago(6*day+23*time.Hour), "http", "ip", "203.0.113.0/24", "path", "/kept")
	put(t, dir, ago(7*day), "http", "ip", "203.0.113.0/24", "path", "/gone")
	put(t, dir, ago(20*day), "listening", "addr", "127.0.0.1:8080")

	res, err := d.Purge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		msg  string
		kv   []string
		kept bool
	}{
		{"meeting created", []string{"meeting=kA"}, true},
		{"participant connected", []string{"meeting=kA"}, true},
		{"meeting ended", []string{"meeting=kA"}, true},
		{"meeting created", []string{"meeting=kB"}, false},
		{"peer failed", []string{"room=kB"}, false},
		{"meeting ended", []string{"meeting=kB"}, false},
		{"meeting created", []string{"meeting=kC"}, false},
		{"caller joined the room", nil, false},
		{"incoming call", nil, false},
		{"meeting created", []string{"meeting=kD"}, true},
		{"websocket read", []string{"meeting=kD"}, true},
		{"http", []string{"path=/kept"}, true},
		{"http", []string{"path=/gone"}, false},
		{"listening", nil, false},
	} {
		if got := has(t, dir, want.msg, want.kv...); got != want.kept {
			t.Errorf("%s %v: kept=%v, want %v", want.msg, want.kv, got, want.kept)
		}
	}
	if res.Removed != 8 {
		t.Errorf("removed %d entries, want 8 (%+v)", res.Removed, res)
	}
	// The files of days that lost every entry are gone.
	if _, err := os.Stat(filepath.Join(dir, FileName(ago(40*day)))); !os.IsNotExist(err) {
		t.Errorf("empty day file left: %v", err)
	}
	// The purge logged itself into the directory, without personal data.
	if !has(t, dir, "log purge") {
		t.Error("the purge left no line")
	}
	// Once more: nothing left to do.
	if res, err := d.Purge(context.Background()); err != nil || res.Removed != 0 {
		t.Errorf("second purge: %+v, %v", res, err)
	}
}

// A torn line (a crash in the middle of a write) is a line of its own: it
// counts as written at the end of its file's day and goes with the
// access lines, never taking a good line with it.
func TestPurgeMalformedLines(t *testing.T) {
	d := testDir(t)
	dir := d.Path
	old := ago(8 * day)
	putRaw(t, dir, old, `{"time":"`+old.Format(time.RFC3339)+`","msg":"torn`)
	put(t, dir, old.Add(time.Minute), "meeting ended", "meeting", "k1") // conference: kept 28 days
	young := ago(6*day + 12*time.Hour)
	putRaw(t, dir, young, "not json at all\n")
	if _, err := d.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := all(t, dir)
	if strings.Contains(got, "torn") {
		t.Error("torn line of 8 days ago kept")
	}
	if !has(t, dir, "meeting ended", "meeting=k1") {
		t.Errorf("the line written after the torn one was lost:\n%s", got)
	}
	// Day 6.5 ago ends 6 days ago: not yet 7 days old at its end.
	if !strings.Contains(got, "not json at all\n") {
		t.Error("malformed line younger than 7 days (by its day's end) removed")
	}
}

// Entries on hold survive the purge until released.
func TestHoldSurvivesPurge(t *testing.T) {
	d := testDir(t)
	dir := d.Path
	put(t, dir, ago(60*day), "meeting created", "meeting", "k1", "meeting_id", "course-1")
	put(t, dir, ago(60*day), "participant connected", "meeting", "k1", "participant", "p1", "user_id", "u-42", "name", "Vera Schulz")
	put(t, dir, ago(60*day), "media join refused", "meeting", "k1", "participant", "p1", "err", "x")
	put(t, dir, ago(60*day), "participant connected", "meeting", "k1", "participant", "p2", "user_id", "u-7", "name", "Tom")
	put(t, dir, ago(59*day), "meeting ended", "meeting", "k1")
	h, n, err := d.AddHold(context.Background(), Criteria{UserID: "u-42"}, "complaint 2026/17", "DPO Müller")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("hold covers %d entries now, want 2", n)
	}
	res, err := d.Purge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Held != 2 || res.Removed != 3 {
		t.Errorf("purge %+v, want 2 held and 3 removed", res)
	}
	if !has(t, dir, "participant connected", "user_id=u-42") || !has(t, dir, "media join refused", "participant=p1") {
		t.Fatal("entries on hold were purged")
	}
	if has(t, dir, "participant connected", "user_id=u-7") {
		t.Error("an entry not on hold survived")
	}
	// The hold's file is private.
	fi, err := os.Stat(filepath.Join(dir, HoldsFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("holds file: %v %v", fi, err)
	}
	if _, err := d.Release(h.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Release(h.ID); err == nil {
		t.Error("released twice")
	}
	res, err = d.Purge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 2 || has(t, dir, "participant connected") {
		t.Errorf("after release: %+v\n%s", res, all(t, dir))
	}
}

// A damaged holds file stops the purge rather than deleting what a hold
// might protect.
func TestDamagedHoldsStopPurge(t *testing.T) {
	d := testDir(t)
	put(t, d.Path, ago(30*day), "http", "path", "/")
	if err := os.WriteFile(filepath.Join(d.Path, HoldsFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Purge(context.Background()); err == nil {
		t.Fatal("purge ran over a damaged holds file")
	}
	if !has(t, d.Path, "http") {
		t.Error("entry purged")
	}
}

// The retention settings are honoured.
func TestPurgeSettings(t *testing.T) {
	d := testDir(t)
	d.Retention, d.AccessRetention = 2*day, time.Hour
	put(t, d.Path, ago(2*day), "meeting ended", "meeting", "k1")
	put(t, d.Path, ago(47*time.Hour), "meeting ended", "meeting", "k2")
	put(t, d.Path, ago(time.Hour), "http", "path", "/a")
	put(t, d.Path, ago(59*time.Minute), "http", "path", "/b")
	if _, err := d.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
	if has(t, d.Path, "meeting ended", "meeting=k1") || !has(t, d.Path, "meeting ended", "meeting=k2") ||
		has(t, d.Path, "http", "path=/a") || !has(t, d.Path, "http", "path=/b") {
		t.Errorf("retention settings not applied:\n%s", all(t, d.Path))
	}
}
