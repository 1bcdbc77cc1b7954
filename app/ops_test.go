package app

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"aula/internal/testenv"
	"aula/store"
)

const opsSecret = "ops-test-secret-0123456789"

// startApp starts an App on loopback with cfg changed by mod; its log
// is shown when the test fails.
func startApp(t *testing.T, mod func(*Config)) *App {
	t.Helper()
	cfg := Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Demo = false
	cfg.Secret = opsSecret
	if mod != nil {
		mod(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &testenv.LogBuffer{}
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return a
}

// api signs a BBB call as a platform does.
func api(base, call string, params url.Values) string {
	q := params.Encode()
	sum := sha1.Sum([]byte(call + q + opsSecret))
	return base + "/bigbluebutton/api/" + call + "?" + q + "&checksum=" + hex.EncodeToString(sum[:])
}

func fetch(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestOpsSettingsAreChecked(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"AULA_TLS_CERT": "/x.pem"}, "AULA_TLS_CERT"},
		{map[string]string{"AULA_TLS_CERT": "/x.pem", "AULA_TLS_KEY": "/k.pem", "AULA_ACME_DOMAINS": "meet.example.org"}, "AULA_ACME_DOMAINS"},
		{map[string]string{"AULA_ACME_DOMAINS": "*.example.org"}, "AULA_ACME_DOMAINS"},
		{map[string]string{"AULA_ACME_DOMAINS": "meet.example.org", "AULA_PUBLIC_URL": "http://meet.example.org"}, "AULA_PUBLIC_URL"},
		{map[string]string{"AULA_HTTP_REDIRECT_ADDR": ":80"}, "AULA_HTTP_REDIRECT_ADDR"},
		{map[string]string{"AULA_TRUSTED_PROXIES": "the proxy"}, "AULA_TRUSTED_PROXIES"},
		{map[string]string{"AULA_FRAME_ANCESTORS": "https://lms.example; script-src *"}, "AULA_FRAME_ANCESTORS"},
		{map[string]string{"AULA_FRAME_ANCESTORS": "https://lms.example/course"}, "AULA_FRAME_ANCESTORS"},
		{map[string]string{"AULA_METRICS_TOKEN": "short"}, "AULA_METRICS_TOKEN"},
		{map[string]string{"AULA_METRICS_ALLOW": "everyone"}, "AULA_METRICS_ALLOW"},
		{map[string]string{"AULA_DRAIN_TIMEOUT": "-1m"}, "AULA_DRAIN_TIMEOUT"},
		{map[string]string{"AULA_RTC_BIND": "0.0.0.0"}, "AULA_RTC_BIND"},
		{map[string]string{"AULA_TURN_HOST": "turn.example.org:3478"}, "AULA_TURN_HOST"},
		{map[string]string{"AULA_TURN_TLS_ADDR": ":5349"}, "AULA_TURN_TLS_ADDR"},
		{map[string]string{"AULA_TURN": "on", "AULA_TURN_TLS_ADDR": ":5349"}, "AULA_TURN_TLS_ADDR"},
		{map[string]string{"AULA_TURN_RELAY_PORTS": "50000"}, "AULA_TURN_RELAY_PORTS"},
		{map[string]string{"AULA_SECRET": "change-me-to-a-long-random-secret"}, "AULA_SECRET"},
	} {
		tc.env["AULA_DATA_DIR"] = dir
		_, err := Load(nil, env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one naming %s", tc.env, err, tc.want)
		}
	}
	cfg, err := Load(nil, env(map[string]string{"AULA_DATA_DIR": dir, "AULA_FRAME_ANCESTORS": "https://moodle.example.org, https://*.lms.example:8443 'self'",
		"AULA_TRUSTED_PROXIES": "10.0.0.0/8,::1", "AULA_METRICS_ALLOW": "none", "AULA_RTC_BIND": "127.0.0.1", "AULA_TURN_RELAY_PORTS": "49152-49999"}))
	if err != nil {
		t.Fatal(err)
	}
	if fa, _ := cfg.frameAncestors(); len(fa) != 3 {
		t.Errorf("frame ancestors %v", fa)
	}
	if ma, _ := cfg.metricsAllow(); ma == nil || len(ma) != 0 {
		t.Errorf("metrics allow none: %v", ma)
	}
	if cfg.DrainTimeout != 2*time.Hour {
		t.Errorf("drain timeout default %v", cfg.DrainTimeout)
	}
}

// secretInDocs finds shared secrets in example configurations and docs:
// env files, compose files, JSON and command lines.
var secretInDocs = regexp.MustCompile(`(?:AULA_SECRET\s*[=:]\s*|"secret"\s*:\s*|-secret[ =])["']?([^"'\s$<>{}]+)`)

// TestExampleSecretsAreRefused: every secret that the repository's
// examples and docs show is refused at start, so a copied example can
// never run in production.
func TestExampleSecretsAreRefused(t *testing.T) {
	root := filepath.Join("..")
	var files []string
	for _, d := range []string{"deploy", "docs"} {
		_ = filepath.WalkDir(filepath.Join(root, d), func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				files = append(files, p)
			}
			return nil
		})
	}
	files = append(files, filepath.Join(root, "README.md"))
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range secretInDocs.FindAllStringSubmatch(string(b), -1) {
			s := strings.TrimRight(m[1], `",;\`)
			if s == "" || strings.HasPrefix(s, "$") {
				continue
			}
			found++
			if !isExampleSecret(s) {
				t.Errorf("%s shows the secret %q, which is not in exampleSecrets", f, s)
			}
			if _, err := Load([]string{"-secret", s, "-data-dir", t.TempDir()}, env(nil)); err == nil || !strings.Contains(err.Error(), "AULA_SECRET") {
				t.Errorf("the example secret %q from %s is accepted: %v", s, f, err)
			}
		}
	}
	if found == 0 {
		t.Fatal("no example secret found in deploy/, docs/ or README: the search is broken")
	}
}

func TestNoSecretUnderSystemd(t *testing.T) {
	cfg := Defaults()
	for _, e := range []map[string]string{{"INVOCATION_ID": "0123abcd"}, {"JOURNAL_STREAM": "8:12345"}} {
		err := RequireSecret(cfg, env(e))
		if err == nil || !strings.Contains(err.Error(), "AULA_SECRET") || !strings.Contains(err.Error(), "0640") {
			t.Errorf("%v: %v", e, err)
		}
	}
	if err := RequireSecret(cfg, env(nil)); err != nil {
		t.Errorf("go run (no systemd): %v", err)
	}
	cfg.Secret = opsSecret
	if err := RequireSecret(cfg, env(map[string]string{"INVOCATION_ID": "x"})); err != nil {
		t.Errorf("with a secret under systemd: %v", err)
	}
}

// TestHTTPS: with certificate files Aula serves HTTPS (HTTP/2) with HSTS,
// its public URL and cookie follow, the redirect listener sends plain
// HTTP there, and a renewed certificate is served without a restart.
func TestHTTPS(t *testing.T) {
	cert := testenv.SelfSignedCert(t, time.Time{}, time.Time{}, "127.0.0.1")
	a := startApp(t, func(c *Config) {
		c.TLSCert, c.TLSKey = cert.CertFile, cert.KeyFile
		c.HTTPRedirectAddr = "127.0.0.1:0"
	})
	if !strings.HasPrefix(a.URL(), "https://127.0.0.1:") {
		t.Fatalf("public URL %s", a.URL())
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool}, ForceAttemptHTTP2: true}
	c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, body := fetch(t, c, a.URL()+"/healthz")
	if resp.StatusCode != 200 || body != "ok\n" || resp.ProtoMajor != 2 {
		t.Fatalf("healthz over HTTPS: %d %q %s", resp.StatusCode, body, resp.Proto)
	}
	if !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS: %v", resp.Header)
	}
	// The session cookie is Secure.
	fetch(t, c, api(a.URL(), "create", url.Values{"meetingID": {"tls"}, "name": {"TLS"}}))
	resp, _ = fetch(t, c, api(a.URL(), "join", url.Values{"meetingID": {"tls"}, "fullName": {"Tess"}, "role": {"VIEWER"}}))
	if sc := resp.Header.Get("Set-Cookie"); !strings.Contains(sc, "Secure") {
		t.Errorf("cookie over HTTPS not Secure: %q", sc)
	}
	// Plain HTTP on the redirect port goes to the same path under the
	// public URL, whatever Host the request names.
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, "http://"+a.redirect.Addr+"/r/abc/?lang=de", nil)
	req.Host = "evil.example"
	resp, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != a.URL()+"/r/abc/?lang=de" {
		t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	serial := func() string {
		tc, err := tls.Dial("tcp", a.ln.Addr().String(), &tls.Config{RootCAs: cert.Pool, ServerName: "127.0.0.1"})
		if err != nil {
			return "dial: " + err.Error()
		}
		defer tc.Close()
		return tc.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	first := serial()
	// A renewal writes new files: SIGHUP (ReloadTLS) takes them at once.
	renewed := testenv.SelfSignedCert(t, time.Time{}, time.Time{}, "127.0.0.1")
	cert.Pool.AddCert(renewed.Leaf)
	copyFile(t, renewed.CertFile, cert.CertFile)
	copyFile(t, renewed.KeyFile, cert.KeyFile)
	if err := a.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if got := serial(); got != renewed.Leaf.SerialNumber.String() || got == first {
		t.Fatalf("after reload the server shows %s, want %s", got, renewed.Leaf.SerialNumber)
	}
	// Without a signal: a handshake notices the changed files.
	again := testenv.SelfSignedCert(t, time.Time{}, time.Time{}, "127.0.0.1")
	cert.Pool.AddCert(again.Leaf)
	a.tls.files.mu.Lock()
	a.tls.files.every = 0
	a.tls.files.mu.Unlock()
	copyFile(t, again.CertFile, cert.CertFile)
	copyFile(t, again.KeyFile, cert.KeyFile)
	testenv.Eventually(t, 5*time.Second, "the changed certificate served", func() bool { return serial() == again.Leaf.SerialNumber.String() })
	// A broken renewal keeps the good certificate in service.
	if err := os.WriteFile(cert.KeyFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.ReloadTLS(); err == nil {
		t.Error("a broken key file was taken")
	}
	if got := serial(); got != again.Leaf.SerialNumber.String() {
		t.Errorf("after a broken renewal: %s", got)
	}
}

// TestACMEWiring: with ACME the public URL takes the ACME name, the
// account cache lives under the data directory, the redirect port hands
// http-01 challenges to ACME and redirects the rest, and no certificate is
// asked for a name that is not configured. (No CA is reachable here: the
// one given answers nothing.)
func TestACMEWiring(t *testing.T) {
	ca := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no CA here", 500) }))
	defer ca.Close()
	dataDir := t.TempDir()
	a := startApp(t, func(c *Config) {
		c.DataDir = dataDir
		c.ACMEDomains = "meet.example.org"
		c.ACMEDirectory = ca.URL + "/directory"
		c.HTTPRedirectAddr = "127.0.0.1:0"
	})
	if !strings.HasPrefix(a.URL(), "https://meet.example.org:") {
		t.Errorf("public URL %s, want the ACME name", a.URL())
	}
	if fi, err := os.Stat(filepath.Join(dataDir, "acme")); err != nil || !fi.IsDir() {
		t.Errorf("no ACME cache under the data directory: %v", err)
	}
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, "http://"+a.redirect.Addr+"/.well-known/acme-challenge/unknown-token", nil)
	req.Host = "meet.example.org"
	resp, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("challenge path: %d, want ACME's 404 for an unknown token", resp.StatusCode)
	}
	resp, _ = fetch(t, plain, "http://"+a.redirect.Addr+"/bigbluebutton/api")
	if resp.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(resp.Header.Get("Location"), "https://meet.example.org:") {
		t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, err = tls.Dial("tcp", a.ln.Addr().String(), &tls.Config{ServerName: "other.example.org", InsecureSkipVerify: true}) //nolint:gosec
	if err == nil {
		t.Error("a handshake for a name not in AULA_ACME_DOMAINS succeeded")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	// Written aside and renamed, as certbot's symlink swap is atomic.
	tmp := to + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

// TestTURNSharesTheHTTPSPort: with AULA_TURN_TLS_ADDR on the HTTPS
// address, browsers get a turns: URL on that port, a TURN client
// allocates through it, and HTTPS keeps working there.
func TestTURNSharesTheHTTPSPort(t *testing.T) {
	cert := testenv.SelfSignedCert(t, time.Time{}, time.Time{}, "127.0.0.1", "localhost")
	a := startApp(t, func(c *Config) {
		c.TLSCert, c.TLSKey = cert.CertFile, cert.KeyFile
		c.TURN = "on"
		c.TURNTLSAddr = c.HTTPAddr
		c.TURNHost = "localhost"
	})
	port := portOf(a.ln.Addr())
	servers, err := a.SFU().ICEServers("localhost", "p1")
	if err != nil {
		t.Fatal(err)
	}
	want := "turns:localhost:" + itoa(port) + "?transport=tcp"
	if !strings.Contains(strings.Join(servers[0].URLs, " "), want) {
		t.Fatalf("ICE servers %v lack %s", servers[0].URLs, want)
	}
	tc, err := tls.Dial("tcp", a.ln.Addr().String(), &tls.Config{RootCAs: cert.Pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	// A STUN binding request (type 1, magic cookie) over the TLS
	// connection: the TURN server answers it, so the mux handed it over.
	req := []byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := tc.Write(req); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 20)
	if _, err := io.ReadFull(tc, head); err != nil {
		t.Fatalf("no STUN answer on the HTTPS port: %v", err)
	}
	if head[0] != 0x01 || head[1] != 0x01 || string(head[8:]) != string(req[8:]) {
		t.Fatalf("not a binding success: % x", head)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool}}}
	if resp, body := fetch(t, c, a.URL()+"/healthz"); resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("HTTPS next to TURN: %d %q", resp.StatusCode, body)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestDrain (real Redis): SIGTERM's drain refuses new meetings but keeps
// running ones answering, fails /readyz, and at the deadline ends the
// meeting and wipes every key of it; a meeting that ends earlier ends
// the drain earlier.
func TestDrain(t *testing.T) {
	redisURL := testenv.RedisURL(t)
	a := startApp(t, func(c *Config) { c.RedisURL = redisURL })
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	id := "drain-" + time.Now().Format("150405.000000")
	if _, body := fetch(t, c, api(a.URL(), "create", url.Values{"meetingID": {id}, "name": {"Lesson"}})); !strings.Contains(body, "SUCCESS") {
		t.Fatalf("create: %s", body)
	}
	mt, err := a.Manager().Meeting(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	keys := func() []string {
		dump, err := store.Dump(context.Background(), a.Store())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for k, v := range dump {
			if strings.Contains(k, mt.Key) || k == store.KeyPIN(mt.PIN) || strings.Contains(v, mt.Key) {
				out = append(out, k)
			}
		}
		return out
	}
	if len(keys()) == 0 {
		t.Fatal("no key of the meeting in Redis: the wipe check would prove nothing")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { a.Drain(ctx); close(done) }()
	testenv.Eventually(t, 5*time.Second, "draining", a.Draining)
	if _, body := fetch(t, c, api(a.URL(), "create", url.Values{"meetingID": {id + "-new"}, "name": {"New"}})); !strings.Contains(body, "FAILED") || !strings.Contains(body, "shutting down") {
		t.Errorf("new meeting while draining: %s", body)
	}
	if _, body := fetch(t, c, api(a.URL(), "create", url.Values{"meetingID": {id}, "name": {"Lesson"}})); !strings.Contains(body, "SUCCESS") {
		t.Errorf("create of the running meeting while draining: %s", body)
	}
	if resp, _ := fetch(t, c, api(a.URL(), "join", url.Values{"meetingID": {id}, "fullName": {"Late"}, "role": {"VIEWER"}})); resp.StatusCode != http.StatusFound {
		t.Errorf("join while draining: %d", resp.StatusCode)
	}
	if resp, body := fetch(t, c, a.URL()+"/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining: %d %q", resp.StatusCode, body)
	}
	if _, body := fetch(t, c, a.URL()+"/metrics"); !strings.Contains(body, "aula_draining 1") {
		t.Errorf("metrics do not say draining")
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("drain did not end at its deadline")
	}
	if left := keys(); len(left) != 0 {
		t.Fatalf("keys of the meeting left after the drain deadline: %v", left)
	}
	if a.Meetings() != 0 {
		t.Fatalf("%d meetings still run", a.Meetings())
	}
	// The server still answers until Close.
	if resp, _ := fetch(t, c, a.URL()+"/healthz"); resp.StatusCode != 200 {
		t.Errorf("healthz after the drain: %d", resp.StatusCode)
	}

	// A drain ends as soon as the last meeting ends, long before its deadline.
	b := startApp(t, func(c *Config) { c.RedisURL = redisURL })
	fetch(t, c, api(b.URL(), "create", url.Values{"meetingID": {id + "-b"}, "name": {"Short"}}))
	long, cancelLong := context.WithTimeout(context.Background(), time.Hour)
	defer cancelLong()
	done = make(chan struct{})
	go func() { b.Drain(long); close(done) }()
	testenv.Eventually(t, 5*time.Second, "draining", b.Draining)
	fetch(t, c, api(b.URL(), "end", url.Values{"meetingID": {id + "-b"}}))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("drain went on after the last meeting ended")
	}
}

// TestOpsMetrics: /metrics has the operator's gauges and histograms and
// names no meeting and no person.
func TestOpsMetrics(t *testing.T) {
	a := startApp(t, nil)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const name, id, person = "Secret Biology Course", "course-4711-xyz", "Petra Personal"
	fetch(t, c, api(a.URL(), "create", url.Values{"meetingID": {id}, "name": {name}}))
	fetch(t, c, api(a.URL(), "join", url.Values{"meetingID": {id}, "fullName": {person}, "role": {"MODERATOR"}, "userID": {"u-4711"}}))
	mt, err := a.Manager().Meeting(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	_, body := fetch(t, c, a.URL()+"/metrics")
	for _, want := range []string{"aula_meetings 1", `aula_meeting_participants{kind="browser",place="`, "aula_sfu_tracks 0",
		"aula_media_connect_seconds_bucket", "aula_sfu_subscriber_loss_ratio_bucket", "aula_conversions_waiting",
		"aula_conversions_running", "aula_draining 0", "aula_store_write_errors_total", "aula_sfu_bytes_forwarded_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, secret := range []string{name, id, person, "u-4711", mt.Key, mt.PIN, "Biology", "Petra"} {
		if strings.Contains(body, secret) {
			t.Errorf("metrics contain %q", secret)
		}
	}

	// With a token and no allowed network even loopback must show it.
	b := startApp(t, func(c *Config) { c.MetricsToken = "metrics-token-0123456789"; c.MetricsAllow = "none" })
	if resp, _ := fetch(t, c, b.URL()+"/metrics"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("metrics without the token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, b.URL()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer metrics-token-0123456789")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("metrics with the token: %d", resp.StatusCode)
	}
}
