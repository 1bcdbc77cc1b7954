package app

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"aula/web"
)

// OpsSettings are what an operator needs to run Aula on the Internet:
// TLS (certificate files or ACME), a reverse proxy in front, framing by
// course platforms, metrics access, drain on SIGTERM, media bind
// addresses and TURN's name and TLS port.
type OpsSettings struct {
	// TLSCert and TLSKey make the web server speak HTTPS itself (PEM
	// files, the chain first). They are read again when they change on
	// disk and on SIGHUP, so a renewed certificate needs no restart.
	TLSCert string `name:"tls-cert" json:"tls_cert" help:"HTTPS certificate chain file (PEM); with tls-key the web server serves HTTPS"`
	TLSKey  string `name:"tls-key" json:"tls_key" help:"HTTPS private key file (PEM)"`
	// ACMEDomains get certificates automatically from an ACME CA (Let's
	// Encrypt) instead of files; the CA must reach this server on port
	// 443 (TLS-ALPN) or 80 (HTTPRedirectAddr, http-01).
	ACMEDomains string `name:"acme-domains" json:"acme_domains" help:"host names to get certificates for from Let's Encrypt (comma-separated); instead of tls-cert"`
	// ACMEEmail is given to the CA for expiry notices (optional).
	ACMEEmail string `name:"acme-email" json:"acme_email" help:"e-mail address for the ACME account (expiry notices)"`
	// ACMECache keeps the account key and certificates; default
	// <data-dir>/acme (not swept: it holds no meeting).
	ACMECache string `name:"acme-cache" json:"acme_cache" help:"directory of ACME account and certificates (default <data-dir>/acme)"`
	// ACMEDirectory is the CA's directory URL (default Let's Encrypt's
	// production one; its staging URL for trials).
	ACMEDirectory string `name:"acme-directory" json:"acme_directory" help:"ACME directory URL (default Let's Encrypt)"`
	// HTTPRedirectAddr serves plain HTTP that redirects to the https
	// public URL (and answers ACME http-01 challenges), e.g. :80.
	HTTPRedirectAddr string `name:"http-redirect-addr" json:"http_redirect_addr" help:"listen address of the HTTP to HTTPS redirect (and ACME http-01), e.g. :80"`
	// TrustedProxies are the reverse proxies whose X-Forwarded-For counts
	// (comma-separated CIDRs or addresses); empty: the TCP peer is the
	// client.
	TrustedProxies string `name:"trusted-proxies" json:"trusted_proxies" help:"reverse proxies whose X-Forwarded-For is believed (comma-separated CIDRs)"`
	// FrameAncestors are the origins that may embed Aula in a frame, as
	// CSP sources (comma- or space-separated), e.g. https://moodle.example.org.
	FrameAncestors string `name:"frame-ancestors" json:"frame_ancestors" help:"origins that may embed Aula in an iframe, e.g. https://moodle.example.org (default: none but Aula)"`
	// MetricsToken lets Prometheus scrape /metrics from anywhere with
	// "Authorization: Bearer <token>".
	MetricsToken string `name:"metrics-token" json:"metrics_token" help:"bearer token for /metrics (at least 16 characters)"`
	// MetricsAllow are the networks that may read /metrics without the
	// token; "none" for none.
	MetricsAllow string `name:"metrics-allow" json:"metrics_allow" help:"networks that may read /metrics without the token (comma-separated CIDRs, or none)"`
	// DrainTimeout is how long SIGTERM lets running meetings go on (no
	// new ones) before ending and wiping them; 0 ends them at once.
	DrainTimeout time.Duration `name:"drain-timeout" json:"drain_timeout" help:"how long running meetings may continue after SIGTERM (0: end at once)"`
	// RTCBind are the local addresses media listens on (comma-separated);
	// empty: every interface address (not loopback, unless Aula is only
	// reachable on loopback).
	RTCBind string `name:"rtc-bind" json:"rtc_bind" help:"local IP addresses media listens on (comma-separated; default every interface address)"`
	// TURNHost is the name browsers reach TURN by (default the public
	// URL's host); for turns: it must be a name the certificate covers.
	TURNHost string `name:"turn-host" json:"turn_host" help:"host name or address browsers reach TURN by (default the public URL's host)"`
	// TURNTLSAddr serves TURN over TLS (turns:) there, e.g. :5349, or the
	// HTTPS address itself (then both share the port: one IP, 443 only).
	TURNTLSAddr string `name:"turn-tls-addr" json:"turn_tls_addr" help:"listen address of TURN over TLS (turns:), e.g. :5349 or the HTTPS address to share it"`
	// TURNTLSCert and TURNTLSKey are TURN's certificate when Aula does
	// not serve HTTPS itself (default: the HTTPS certificate).
	TURNTLSCert string `name:"turn-tls-cert" json:"turn_tls_cert" help:"TURN over TLS certificate file (default: tls-cert or ACME)"`
	TURNTLSKey  string `name:"turn-tls-key" json:"turn_tls_key" help:"TURN over TLS key file (default: tls-key)"`
	// TURNRelayPorts bounds TURN's relay sockets, e.g. 49152-49999;
	// empty: any free port. Relays only talk to this machine's SFU.
	TURNRelayPorts string `name:"turn-relay-ports" json:"turn_relay_ports" help:"UDP port range of TURN relays, e.g. 49152-49999 (default any)"`
}

// opsDefaults are the defaults of OpsSettings.
func opsDefaults() OpsSettings {
	return OpsSettings{
		MetricsAllow: "127.0.0.0/8,::1",
		// A lesson (two periods, 90 minutes) started just before the
		// signal ends on its own; longer would hold an upgrade for hours.
		DrainTimeout: 2 * time.Hour,
	}
}

// letsEncrypt is the default ACME directory.
const letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// tlsOn reports whether the web server serves HTTPS itself.
func (c *Config) tlsOn() bool { return c.TLSCert != "" || c.ACMEDomains != "" }

// acmeDomains lists the ACME host names.
func (c *Config) acmeDomains() []string { return splitList(c.ACMEDomains) }

// acmeCache is the ACME cache directory.
func (c *Config) acmeCache() string {
	if c.ACMECache != "" {
		return c.ACMECache
	}
	return filepath.Join(c.DataDir, "acme")
}

// turnTLSFiles are TURN's certificate files (empty: ACME or none).
func (c *Config) turnTLSFiles() (cert, key string) {
	if c.TURNTLSCert != "" {
		return c.TURNTLSCert, c.TURNTLSKey
	}
	return c.TLSCert, c.TLSKey
}

// metricsAllow reads MetricsAllow; "none" is an empty (non-nil) list.
func (c *Config) metricsAllow() ([]netip.Prefix, error) {
	if strings.EqualFold(strings.TrimSpace(c.MetricsAllow), "none") {
		return []netip.Prefix{}, nil
	}
	p, err := web.ParseNetworks(c.MetricsAllow)
	if p == nil && err == nil {
		p = []netip.Prefix{}
	}
	return p, err
}

// frameAncestors reads FrameAncestors into CSP sources.
func (c *Config) frameAncestors() ([]string, error) {
	srcs := strings.FieldsFunc(c.FrameAncestors, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	for _, s := range srcs {
		if err := checkSource(s); err != nil {
			return nil, err
		}
	}
	return srcs, nil
}

// checkSource accepts a CSP source that may stand in frame-ancestors:
// 'self', 'none', a scheme (https:) or a host with optional scheme, port
// and leading wildcard label. Nothing that could end the directive.
func checkSource(s string) error {
	switch s {
	case "'self'", "'none'", "https:", "http:":
		return nil
	}
	if strings.ContainsAny(s, ";,'\"") {
		return fmt.Errorf("%q is not an origin like https://moodle.example.org", s)
	}
	raw := s
	if !strings.Contains(s, "://") {
		raw = "https://" + s
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("%q is not an origin like https://moodle.example.org", s)
	}
	host := strings.TrimPrefix(u.Hostname(), "*.")
	if host == "" || strings.Contains(host, "*") {
		return fmt.Errorf("%q: only a leading *. may be a wildcard", s)
	}
	return nil
}

// rtcBind reads RTCBind.
func (c *Config) rtcBind() ([]string, error) {
	var out []string
	for _, s := range splitList(c.RTCBind) {
		ip := net.ParseIP(s)
		if ip == nil || ip.IsUnspecified() {
			return nil, fmt.Errorf("%q is not an IP address of this machine (the wildcard is not allowed)", s)
		}
		out = append(out, ip.String())
	}
	return out, nil
}

// relayPorts reads TURNRelayPorts ("lo-hi"); zeros when empty.
func (c *Config) relayPorts() (lo, hi int, err error) {
	if strings.TrimSpace(c.TURNRelayPorts) == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(strings.TrimSpace(c.TURNRelayPorts), "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || lo > hi {
		return 0, 0, fmt.Errorf("%q is not a port range like 49152-49999", c.TURNRelayPorts)
	}
	return lo, hi, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// validateOps checks OpsSettings (called from Validate).
func (c *Config) validateOps(bad func(name, format string, a ...any)) {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls-cert", "set AULA_TLS_CERT and AULA_TLS_KEY together")
	}
	if c.TLSCert != "" && c.ACMEDomains != "" {
		bad("acme-domains", "use either ACME or certificate files (AULA_TLS_CERT), not both")
	}
	for _, d := range c.acmeDomains() {
		if strings.ContainsAny(d, "*/: ") || net.ParseIP(d) != nil || !strings.Contains(d, ".") {
			bad("acme-domains", "%q is not a host name (ACME gives no wildcard or IP certificates here)", d)
		}
	}
	if c.ACMEEmail != "" && !strings.Contains(c.ACMEEmail, "@") {
		bad("acme-email", "%q is not an e-mail address", c.ACMEEmail)
	}
	if c.ACMEDirectory != "" {
		if u, err := url.Parse(c.ACMEDirectory); err != nil || u.Scheme != "https" || u.Host == "" {
			bad("acme-directory", "%q must be an https URL", c.ACMEDirectory)
		}
	}
	if c.tlsOn() && c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "https://") {
		bad("public-url", "must be https:// when Aula serves HTTPS itself")
	}
	if c.HTTPRedirectAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPRedirectAddr); err != nil {
			bad("http-redirect-addr", "%q is not host:port", c.HTTPRedirectAddr)
		} else if !c.tlsOn() && !strings.HasPrefix(c.PublicURL, "https://") {
			bad("http-redirect-addr", "redirects to HTTPS: serve it (AULA_TLS_CERT, AULA_ACME_DOMAINS) or set an https AULA_PUBLIC_URL")
		}
	}
	if _, err := web.ParseNetworks(c.TrustedProxies); err != nil {
		bad("trusted-proxies", "%v", err)
	}
	if _, err := c.frameAncestors(); err != nil {
		bad("frame-ancestors", "%v", err)
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		bad("metrics-token", "must be at least 16 characters")
	}
	if _, err := c.metricsAllow(); err != nil {
		bad("metrics-allow", "%v (or none)", err)
	}
	if c.DrainTimeout < 0 {
		bad("drain-timeout", "must not be negative (0 ends meetings at once)")
	}
	if _, err := c.rtcBind(); err != nil {
		bad("rtc-bind", "%v", err)
	}
	if h := c.TURNHost; h != "" && (strings.ContainsAny(h, "/:@ ") && net.ParseIP(h) == nil) {
		bad("turn-host", "%q: give a host name or an IP address, without port", h)
	}
	if (c.TURNTLSCert == "") != (c.TURNTLSKey == "") {
		bad("turn-tls-cert", "set AULA_TURN_TLS_CERT and AULA_TURN_TLS_KEY together")
	}
	if c.TURNTLSAddr != "" {
		on, _, _ := c.turnPort()
		cert, _ := c.turnTLSFiles()
		switch {
		case !on:
			bad("turn-tls-addr", "needs the TURN server (AULA_TURN=on)")
		case cert == "" && c.ACMEDomains == "":
			bad("turn-tls-addr", "needs a certificate: AULA_TLS_CERT, AULA_TURN_TLS_CERT or AULA_ACME_DOMAINS")
		}
		if _, _, err := net.SplitHostPort(c.TURNTLSAddr); err != nil {
			bad("turn-tls-addr", "%q is not host:port", c.TURNTLSAddr)
		}
	}
	if _, _, err := c.relayPorts(); err != nil {
		bad("turn-relay-ports", "%v", err)
	}
	if isExampleSecret(c.Secret) {
		bad("secret", "is an example from Aula's documentation, known to everyone: generate one with `openssl rand -hex 24`")
	}
}
