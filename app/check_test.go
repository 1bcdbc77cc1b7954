package app

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"aula/internal/testenv"
)

// freePort returns a TCP port free on loopback now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func results(rs []CheckResult) string {
	var b bytes.Buffer
	PrintCheck(&b, rs)
	return b.String()
}

// find returns the results whose name starts with name.
func find(rs []CheckResult, name string) []CheckResult {
	var out []CheckResult
	for _, r := range rs {
		if strings.HasPrefix(r.Name, name) {
			out = append(out, r)
		}
	}
	return out
}

// TestCheckGoodConfiguration: a sound configuration (HTTPS with a valid
// certificate, fixed free ports, Redis) has no FAIL.
func TestCheckGoodConfiguration(t *testing.T) {
	redisURL := testenv.RedisURL(t)
	cert := testenv.SelfSignedCert(t, time.Time{}, time.Time{}, "meet.example.org")
	cfg := Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Secret = opsSecret
	cfg.RedisURL = redisURL
	cfg.HTTPAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	cfg.PublicURL = "https://meet.example.org"
	cfg.TLSCert, cfg.TLSKey = cert.CertFile, cert.KeyFile
	cfg.RTCUDPPort = testenv.UDPPort(t)
	cfg.RTCTCPPort = freePort(t)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	rs := Check(context.Background(), cfg, CheckOptions{Getenv: env(map[string]string{"INVOCATION_ID": "x"})})
	out := results(rs)
	if Failed(rs) {
		t.Fatalf("a good configuration fails:\n%s", out)
	}
	for _, want := range []string{"configuration", "secret", "data directory", "clock", "redis", "public URL", "HTTPS certificate", "port HTTP", "port media UDP", "port ICE-TCP"} {
		if r := find(rs, want); len(r) == 0 || r[0].Status != CheckOK {
			t.Errorf("%s not ok:\n%s", want, out)
		}
	}
	t.Logf("\n%s", out)
}

// TestCheckBrokenConfiguration: each fault an operator makes is a FAIL
// that says what is wrong.
func TestCheckBrokenConfiguration(t *testing.T) {
	expired := testenv.SelfSignedCert(t, time.Now().Add(-60*24*time.Hour), time.Now().Add(-24*time.Hour), "meet.example.org")
	other := testenv.SelfSignedCert(t, time.Time{}, time.Time{}, "meet.example.org")
	soon := testenv.SelfSignedCert(t, time.Time{}, time.Now().Add(5*24*time.Hour), "meet.example.org")
	busy, err := net.Listen("tcp", "127.0.0.1:0") // another program on the port
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := Defaults()
	cfg.DataDir = t.TempDir()
	cfg.HTTPAddr = busy.Addr().String()
	cfg.RedisURL = "unix:///nonexistent/redis.sock"
	cfg.PublicURL = "https://meet.example.org"
	cfg.TLSCert, cfg.TLSKey = expired.CertFile, expired.KeyFile
	cfg.SIPAddr = "127.0.0.1:" + strconv.Itoa(testenv.UDPPort(t))
	cfg.SIPTLSAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	cfg.SIPTLSCert, cfg.SIPTLSKey = other.CertFile, soon.KeyFile // key of another certificate
	cfg.TURN = "on"
	cfg.TURNTLSAddr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	cfg.TURNTLSCert, cfg.TURNTLSKey = soon.CertFile, soon.KeyFile
	cfg.Secret = "" // under systemd
	rs := Check(context.Background(), cfg, CheckOptions{
		Getenv:    env(map[string]string{"JOURNAL_STREAM": "8:1"}),
		BuildTime: time.Now().Add(72 * time.Hour), // the clock is behind the build
	})
	out := results(rs)
	if !Failed(rs) {
		t.Fatalf("a broken configuration passes:\n%s", out)
	}
	for _, tc := range []struct {
		name   string
		status CheckStatus
		says   string
	}{
		{"secret", CheckFail, "systemd"},
		{"clock", CheckFail, "before this binary was built"},
		{"redis", CheckFail, "not reachable"},
		{"HTTPS certificate", CheckFail, "expired"},
		{"SIP TLS certificate", CheckFail, "private key does not match"},
		{"TURN certificate", CheckWarn, "expires in"},
		{"port HTTP", CheckFail, "in use by another program"},
	} {
		r := find(rs, tc.name)
		if len(r) == 0 || r[0].Status != tc.status || !strings.Contains(r[0].Detail, tc.says) {
			t.Errorf("%s: want %s saying %q:\n%s", tc.name, tc.status, tc.says, out)
		}
	}
	// The example secret is named too.
	cfg.Secret = "change-me-to-a-long-random-secret"
	if r := find(Check(context.Background(), cfg, CheckOptions{Getenv: env(nil)}), "secret"); len(r) == 0 || r[0].Status != CheckFail {
		t.Errorf("example secret: %v", r)
	}
}

// TestCheckOnARunningServer: the ports of a running Aula are reported as
// held by it (a warning), not as a conflict.
func TestCheckOnARunningServer(t *testing.T) {
	a := startApp(t, nil)
	cfg := a.cfg
	cfg.HTTPAddr = a.ln.Addr().String()
	rs := Check(context.Background(), cfg, CheckOptions{Getenv: env(nil)})
	r := find(rs, "port HTTP")
	if len(r) != 1 || r[0].Status != CheckWarn || !strings.Contains(r[0].Detail, "Aula running") {
		t.Fatalf("port of a running Aula:\n%s", results(rs))
	}
}

// TestCheckLogDir: without AULA_LOG_DIR the check warns that no personal
// data is logged (so `aula privacy` finds nothing) and names the variable
// that turns the conference log with its retention on; with it, the
// directory is checked.
func TestCheckLogDir(t *testing.T) {
	cfg := Defaults()
	cfg.DataDir = t.TempDir()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.RTCUDPPort, cfg.RTCTCPPort = 0, 0
	rs := find(Check(context.Background(), cfg, CheckOptions{Getenv: env(nil)}), "log directory")
	if len(rs) != 1 || rs[0].Status != CheckWarn {
		t.Fatalf("without a log directory: %v", rs)
	}
	for _, w := range []string{"AULA_LOG_DIR is not set", "without any personal data", "`aula privacy` has nothing to find", "AULA_LOG_RETENTION (28 days)"} {
		if !strings.Contains(rs[0].Detail, w) {
			t.Errorf("detail %q lacks %q", rs[0].Detail, w)
		}
	}

	cfg.LogDir = t.TempDir()
	cfg.LogRetention = 36 * time.Hour
	rs = find(Check(context.Background(), cfg, CheckOptions{Getenv: env(nil)}), "log directory")
	if len(rs) != 1 || rs[0].Status != CheckOK || !strings.Contains(rs[0].Detail, "writable") {
		t.Fatalf("with a log directory: %v", rs)
	}
	if got := retentionText(36 * time.Hour); got != "36h0m0s" {
		t.Errorf("retentionText(36h) = %q", got)
	}
	if got := retentionText(24 * time.Hour); got != "1 day" {
		t.Errorf("retentionText(24h) = %q", got)
	}
}
