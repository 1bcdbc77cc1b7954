package logs

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aula/internal/testenv"
)

// With a log directory, personal data reaches the day file only: stderr
// (journald) gets the line without it, and addresses in error texts and
// messages masked.
func TestStderrWithoutPersonalData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log") // New creates it, 0700
	var stderr testenv.LogBuffer
	log, closer, err := New(Options{Dir: dir, Stderr: &stderr, PurgeEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	call := log.With("component", "dialin", "call", "c1")
	call.Info("incoming call", "from", "4930123456789", "source", "192.0.2.10:5060", "sip_call_id", "a84b4c76e66710@pc33.example.org")
	log.Info("participant connected", "meeting", "k1", "participant", "p1", "user_id", "moodle-42",
		"name", "Vera Schulz", "ip", "2001:db8:1:2::17", "user_agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
	log.Info("meeting created", "meeting", "k1", "meeting_id", "vera-private-room")
	log.Warn("media join", "meeting", "k1", "err", errors.New("dial udp 198.51.100.23:40000: refused"))
	log.Warn("pion says candidate 203.0.113.99:5000 failed")
	log.Info("listening", "addr", "127.0.0.1:8080")
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, FileName(time.Now())))
	if err != nil {
		t.Fatal(err)
	}
	personal := []string{"4930123456789", "192.0.2.10", "a84b4c76e66710", "moodle-42", "Vera Schulz",
		"2001:db8:1:2::17", "Firefox", "vera-private-room", "198.51.100.23", "203.0.113.99"}
	for _, p := range personal {
		if !bytes.Contains(data, []byte(p)) {
			t.Errorf("day file lacks %q", p)
		}
		if strings.Contains(stderr.String(), p) {
			t.Errorf("stderr has %q:\n%s", p, stderr.String())
		}
	}
	for _, op := range []string{"incoming call", "call=c1", "meeting=k1", "participant=p1", "dial udp [addr]:40000",
		"candidate [addr]:5000", "addr=127.0.0.1:8080"} {
		if !strings.Contains(stderr.String(), op) {
			t.Errorf("stderr lacks the operational %q:\n%s", op, stderr.String())
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("log dir mode: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, FileName(time.Now()))); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("day file mode: %v %v", fi, err)
	}
}

// Without a log directory stderr is the only output, and it is beyond
// Aula's purge (journald): no personal data reaches it at all — not a
// caller's number, an address, a name or a browser, not even in an error
// text — while the operational rest of each line does.
func TestStderrOnlyHasNoPersonalData(t *testing.T) {
	var stderr testenv.LogBuffer
	log, closer, err := New(Options{Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	call := log.With("component", "dialin", "call", "c1", "from", "4930123456789")
	call.Info("incoming call", "source", "192.0.2.10:5060", "sip_call_id", "a84b4c76e66710@pc33.example.org")
	log.Info("participant connected", "meeting", "k1", "participant", "p1", "user_id", "moodle-42",
		"name", "Vera Schulz", "ip", "2001:db8:1:2::17", "user_agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
	log.Info("meeting created", "meeting", "k1", "meeting_id", "vera-private-room")
	log.Warn("media join", "meeting", "k1", "err", errors.New("dial udp 198.51.100.23:40000: refused"))
	log.Warn("pion says candidate 203.0.113.99:5000 failed")
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	out := stderr.String()
	for _, p := range []string{"4930123456789", "192.0.2.10", "a84b4c76e66710", "moodle-42", "Vera Schulz",
		"2001:db8:1:2::17", "Mozilla", "Firefox", "vera-private-room", "198.51.100.23", "203.0.113.99",
		"from=", "source=", "ip=", "name=", "user_agent="} {
		if strings.Contains(out, p) {
			t.Errorf("stderr has %q:\n%s", p, out)
		}
	}
	for _, op := range []string{"msg=\"incoming call\"", "component=dialin", "call=c1", "msg=\"participant connected\"",
		"meeting=k1", "participant=p1", "msg=\"meeting created\"", "err=\"dial udp [addr]:40000: refused\"",
		"candidate [addr]:5000 failed"} {
		if !strings.Contains(out, op) {
			t.Errorf("stderr lacks the operational %q:\n%s", op, out)
		}
	}
}

func TestMaskAddrs(t *testing.T) {
	for in, want := range map[string]string{
		"dial tcp 192.0.2.1:443: refused":      "dial tcp [addr]:443: refused",
		"from [2001:db8::1]:5060 bad":          "from [[addr]]:5060 bad",
		"peer ::ffff:192.0.2.1 gone":           "peer [addr] gone",
		"at 10:12:34 and aa:bb:cc:dd:ee:ff":    "at 10:12:34 and aa:bb:cc:dd:ee:ff",
		"version 1.2.3 only":                   "version 1.2.3 only",
		"fe80::1%eth0":                         "[addr]%eth0",
		"2001:db8::5:5060 (v6 with port)":      "[addr] (v6 with port)",
		"nothing here":                         "nothing here",
		"999.1.1.1 is no address":              "999.1.1.1 is no address",
		"two 192.0.2.1 and 198.51.100.2 peers": "two [addr] and [addr] peers",
	} {
		if got := MaskAddrs(in); got != want {
			t.Errorf("MaskAddrs(%q) = %q, want %q", in, got, want)
		}
	}
}

// The purge runs in the server at start and stops with the closer.
func TestPurgeLoop(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-30 * day)
	put(t, dir, old, "http", "path", "/old")
	log, closer, err := New(Options{Dir: dir, Stderr: io.Discard, Level: slog.LevelDebug})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, "the start-up purge", func() bool {
		_, err := os.Stat(filepath.Join(dir, FileName(old)))
		return os.IsNotExist(err)
	})
	log.Info("after")
	if err := closer.Close(); err != nil {
		t.Fatal(err)
	}
	if !has(t, dir, "after") || !has(t, dir, "log purge") {
		t.Errorf("log after purge:\n%s", all(t, dir))
	}
}
