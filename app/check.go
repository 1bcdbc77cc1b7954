package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"aula/store"
)

// aula check: what would stop or mislead a server with this configuration
// before it is started (BigBlueButton's bbb-conf --check, for Aula). Each
// check gives ok, warn or FAIL and one line that says what to do.

// CheckStatus is a check's verdict.
type CheckStatus int

// The verdicts; any CheckFail makes aula check exit non-zero.
const (
	CheckOK CheckStatus = iota
	CheckWarn
	CheckFail
)

func (s CheckStatus) String() string {
	switch s {
	case CheckOK:
		return "ok"
	case CheckWarn:
		return "warn"
	}
	return "FAIL"
}

// CheckResult is one line of aula check.
type CheckResult struct {
	Status CheckStatus
	Name   string
	Detail string
}

// CheckOptions are what the checks read from outside the configuration.
type CheckOptions struct {
	// Getenv reads the environment the server will run in (systemd).
	Getenv func(string) string
	// Now is the clock (default time.Now); BuildTime the binary's build
	// (default: from the build info, else the start of 2025).
	Now       func() time.Time
	BuildTime time.Time
}

// certWarnBefore: a certificate expiring within this gets a warning.
const certWarnBefore = 14 * 24 * time.Hour

// Check runs every check on cfg, which must have loaded (Load validated
// it). It binds and releases the configured ports, connects to Redis and
// reads the certificate files; it changes nothing.
func Check(ctx context.Context, cfg Config, o CheckOptions) []CheckResult {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BuildTime.IsZero() {
		o.BuildTime = buildTime()
	}
	var out []CheckResult
	add := func(s CheckStatus, name, format string, a ...any) {
		out = append(out, CheckResult{s, name, fmt.Sprintf(format, a...)})
	}
	if err := cfg.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			add(CheckFail, "configuration", "%s", line)
		}
	} else {
		add(CheckOK, "configuration", "every setting valid")
	}
	checkSecret(cfg, o, add)
	checkDir(cfg.DataDir, "data directory", add)
	checkLogDir(cfg, add)
	checkClock(ctx, cfg, o, add)
	checkPublicURL(cfg, add)
	checkCerts(cfg, o.Now(), add)
	checkPorts(ctx, cfg, add)
	return out
}

type addFunc func(s CheckStatus, name, format string, a ...any)

func checkSecret(cfg Config, o CheckOptions, add addFunc) {
	switch {
	case isExampleSecret(cfg.Secret):
		add(CheckFail, "secret", "AULA_SECRET is an example everyone knows: generate one with `openssl rand -hex 24`")
	case RequireSecret(cfg, o.Getenv) != nil:
		add(CheckFail, "secret", "AULA_SECRET is not set and Aula runs under systemd: set it in the env file (0640, root:aula)")
	case cfg.Secret == "":
		add(CheckWarn, "secret", "AULA_SECRET is not set: a new one is made up at every start (fine for a trial only)")
	default:
		add(CheckOK, "secret", "set, %d characters", len(cfg.Secret))
	}
}

// checkDir: the directory exists or can be made, and takes a file.
func checkDir(dir, name string, add addFunc) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		add(CheckFail, name, "%s: %v", dir, err)
		return
	}
	f, err := os.CreateTemp(dir, ".aula-check-*")
	if err != nil {
		add(CheckFail, name, "%s is not writable: %v", dir, err)
		return
	}
	f.Close()
	os.Remove(f.Name())
	add(CheckOK, name, "%s writable", dir)
}

// checkLogDir: the log directory is writable; without one, a warning
// that nothing personal is logged at all (stderr never carries personal
// data, package logs), so fault-finding has no addresses or numbers and
// `aula privacy` finds nothing.
func checkLogDir(cfg Config, add addFunc) {
	if cfg.LogDir == "" {
		add(CheckWarn, "log directory", "AULA_LOG_DIR is not set: the log goes to stderr without any personal data "+
			"(no IP addresses, browsers or callers' numbers), so `aula privacy` has nothing to find; "+
			"set it for the conference log with them, deleted after AULA_LOG_RETENTION (%s)", retentionText(cfg.LogRetention))
		return
	}
	checkDir(cfg.LogDir, "log directory", add)
}

// retentionText names a retention period in days when it is whole days
// ("28 days"), else as Go writes it.
func retentionText(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		if d == day {
			return "1 day"
		}
		return strconv.FormatInt(int64(d/day), 10) + " days"
	}
	return d.String()
}

// buildTime is when the binary was built (VCS commit time), or the start
// of 2025 when unknown: a clock before it is certainly wrong.
func buildTime() time.Time {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					return t
				}
			}
		}
	}
	return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
}

// clockSkewWarn and clockSkewFail bound the difference to Redis's clock:
// meetings' timers run on each node's clock, leases on Redis's.
const (
	clockSkewWarn = 2 * time.Second
	clockSkewFail = time.Minute
)

func checkClock(ctx context.Context, cfg Config, o CheckOptions, add addFunc) {
	now := o.Now()
	if now.Before(o.BuildTime.Add(-24 * time.Hour)) {
		add(CheckFail, "clock", "it is %s here, before this binary was built (%s): set the clock (systemd-timesyncd, chrony)",
			now.UTC().Format(time.RFC3339), o.BuildTime.UTC().Format("2006-01-02"))
	} else {
		add(CheckOK, "clock", "%s", now.UTC().Format(time.RFC3339))
	}
	if cfg.RedisURL == "" {
		add(CheckOK, "redis", "not configured: the in-memory store (one node)")
		return
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := store.Open(rctx, cfg.RedisURL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		add(CheckFail, "redis", "not reachable: %v", err)
		return
	}
	defer st.Close()
	r, ok := st.(*store.Redis)
	if !ok {
		add(CheckOK, "redis", "reachable")
		return
	}
	before := time.Now()
	rt, err := r.Time(rctx)
	if err != nil {
		add(CheckFail, "redis", "reachable, but TIME failed: %v", err)
		return
	}
	// The server's time is compared with the middle of the round trip.
	local := before.Add(time.Since(before) / 2)
	skew := rt.Sub(local)
	if skew < 0 {
		skew = -skew
	}
	switch {
	case skew >= clockSkewFail:
		add(CheckFail, "redis", "reachable; its clock differs from this machine's by %s: synchronise both", skew.Round(time.Millisecond))
	case skew >= clockSkewWarn:
		add(CheckWarn, "redis", "reachable; its clock differs from this machine's by %s", skew.Round(time.Millisecond))
	default:
		add(CheckOK, "redis", "reachable, clocks agree within %s", clockSkewWarn)
	}
}

func checkPublicURL(cfg Config, add addFunc) {
	if cfg.PublicURL == "" {
		if cfg.tlsOn() {
			add(CheckOK, "public URL", "https, from the certificate and AULA_HTTP_ADDR")
		} else {
			add(CheckWarn, "public URL", "not set: join links use http://%s (set AULA_PUBLIC_URL to the https URL browsers use)", cfg.HTTPAddr)
		}
		return
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil {
		return // Validate said so
	}
	if u.Scheme != "https" && !isLoopbackHost(u.Hostname()) {
		add(CheckWarn, "public URL", "%s is not https: the session cookie is not Secure and browsers refuse camera and microphone", cfg.PublicURL)
		return
	}
	add(CheckOK, "public URL", "%s", cfg.PublicURL)
}

// checkCerts reads every certificate file: readable, matching its key,
// valid now and for two more weeks, and naming the host it serves.
func checkCerts(cfg Config, now time.Time, add addFunc) {
	host := ""
	if u, err := url.Parse(cfg.PublicURL); err == nil {
		host = u.Hostname()
	}
	turnHost := cfg.TURNHost
	if turnHost == "" {
		turnHost = host
	}
	for _, c := range []struct{ name, cert, key, host string }{
		{"HTTPS certificate", cfg.TLSCert, cfg.TLSKey, host},
		{"TURN certificate", cfg.TURNTLSCert, cfg.TURNTLSKey, turnHost},
		{"SIP TLS certificate", cfg.SIPTLSCert, cfg.SIPTLSKey, ""},
	} {
		if c.cert == "" {
			continue
		}
		pair, err := tls.LoadX509KeyPair(c.cert, c.key)
		if err != nil {
			add(CheckFail, c.name, "%s with %s: %v", c.cert, c.key, err)
			continue
		}
		checkLeaf(pair.Leaf, c.name, c.cert, c.host, now, add)
	}
	if d := cfg.acmeDomains(); len(d) > 0 {
		checkDir(cfg.acmeCache(), "ACME cache", add)
		_, port, _ := net.SplitHostPort(cfg.HTTPAddr)
		_, rport, _ := net.SplitHostPort(cfg.HTTPRedirectAddr)
		if port != "443" && rport != "80" {
			add(CheckWarn, "ACME", "the CA checks on port 443 (TLS-ALPN) or 80 (http-01): listen on :443 or set AULA_HTTP_REDIRECT_ADDR=:80")
		} else {
			add(CheckOK, "ACME", "certificates for %s from %s", strings.Join(d, ", "), orDefault(cfg.ACMEDirectory, letsEncrypt))
		}
	}
}

func checkLeaf(leaf *x509.Certificate, name, file, host string, now time.Time, add addFunc) {
	if leaf == nil {
		add(CheckFail, name, "%s: no certificate in the file", file)
		return
	}
	exp := leaf.NotAfter.UTC().Format("2006-01-02")
	switch {
	case now.After(leaf.NotAfter):
		add(CheckFail, name, "%s expired on %s", file, exp)
		return
	case now.Before(leaf.NotBefore):
		add(CheckFail, name, "%s is valid only from %s (or the clock is wrong)", file, leaf.NotBefore.UTC().Format(time.RFC3339))
		return
	}
	if host != "" && !isLoopbackHost(host) {
		if err := leaf.VerifyHostname(host); err != nil {
			add(CheckWarn, name, "%s does not name %s (it names %s)", file, host, strings.Join(leaf.DNSNames, ", "))
			return
		}
	}
	if left := leaf.NotAfter.Sub(now); left < certWarnBefore {
		add(CheckWarn, name, "%s expires in %d days (%s): renew it", file, int(left.Hours()/24), exp)
		return
	}
	add(CheckOK, name, "%s valid until %s", file, exp)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// port is one socket the server would open.
type port struct {
	name, network, addr string
}

// ports lists the sockets of cfg; ports picked at start (0) are left out.
func ports(cfg Config) []port {
	var ps []port
	addTCPUDP := func(name, addr string, udp bool) {
		if addr == "" {
			return
		}
		if _, p, err := net.SplitHostPort(addr); err != nil || p == "0" {
			return
		}
		ps = append(ps, port{name, "tcp", addr})
		if udp {
			ps = append(ps, port{name, "udp", addr})
		}
	}
	addTCPUDP("HTTP", cfg.HTTPAddr, false)
	addTCPUDP("redirect", cfg.HTTPRedirectAddr, false)
	binds, _ := cfg.rtcBind()
	if len(binds) == 0 {
		binds = []string{""}
	}
	if cfg.RTCUDPPort > 0 {
		for _, b := range binds {
			ps = append(ps, port{"media UDP", "udp", net.JoinHostPort(b, strconv.Itoa(cfg.RTCUDPPort))})
		}
	}
	if cfg.RTCTCPPort > 0 {
		b := ""
		if len(binds) == 1 {
			b = binds[0]
		}
		ps = append(ps, port{"ICE-TCP", "tcp", net.JoinHostPort(b, strconv.Itoa(cfg.RTCTCPPort))})
	}
	if on, p, _ := cfg.turnPort(); on {
		addTCPUDP("TURN", net.JoinHostPort("", strconv.Itoa(p)), true)
		if !cfg.sharesHTTPPort() {
			addTCPUDP("TURN over TLS", cfg.TURNTLSAddr, false)
		}
	}
	addTCPUDP("SIP", cfg.SIPAddr, true)
	addTCPUDP("SIP TLS", cfg.SIPTLSAddr, false)
	return ps
}

// checkPorts binds every port for a moment. A port in use is fine when a
// running Aula holds it (this check on a live server), a failure else.
func checkPorts(ctx context.Context, cfg Config, add addFunc) {
	var running *bool
	aulaRunning := func() bool {
		if running == nil {
			r := probeAula(ctx, cfg)
			running = &r
		}
		return *running
	}
	for _, p := range ports(cfg) {
		err := tryBind(p.network, p.addr)
		switch {
		case err == nil:
			add(CheckOK, "port "+p.name, "%s %s free", p.network, p.addr)
		case errors.Is(err, syscall.EADDRINUSE) && aulaRunning():
			add(CheckWarn, "port "+p.name, "%s %s in use, by the Aula running there (stop it to check)", p.network, p.addr)
		case errors.Is(err, syscall.EADDRINUSE):
			add(CheckFail, "port "+p.name, "%s %s in use by another program", p.network, p.addr)
		case errors.Is(err, syscall.EACCES):
			add(CheckFail, "port "+p.name, "%s %s: permission denied (ports below 1024 need CAP_NET_BIND_SERVICE, e.g. AmbientCapabilities= in the unit)", p.network, p.addr)
		default:
			add(CheckFail, "port "+p.name, "%s %s: %v", p.network, p.addr, err)
		}
	}
}

func tryBind(network, addr string) error {
	if network == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

// probeAula asks the configured HTTP address whether an Aula answers:
// /healthz says ok and the API root names a bbbVersion.
func probeAula(ctx context.Context, cfg Config) bool {
	host, p, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		return false
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if cfg.tlsOn() {
		scheme = "https"
	}
	base := scheme + "://" + net.JoinHostPort(host, p)
	// Only whether something answers like Aula is asked: its certificate
	// is checked above, by file.
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec
	get := func(path string) string {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return ""
		}
		resp, err := c.Do(req)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return string(b)
	}
	return get("/healthz") == "ok\n" && strings.Contains(get("/bigbluebutton/api"), "<bbbVersion>")
}

// Failed reports whether any result is a FAIL.
func Failed(rs []CheckResult) bool {
	for _, r := range rs {
		if r.Status == CheckFail {
			return true
		}
	}
	return false
}

// PrintCheck writes one line per result.
func PrintCheck(w io.Writer, rs []CheckResult) {
	for _, r := range rs {
		fmt.Fprintf(w, "%-4s  %-22s %s\n", r.Status, r.Name, r.Detail)
	}
}
