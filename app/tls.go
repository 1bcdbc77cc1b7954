package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// certFiles serves a certificate from PEM files and reads them again when
// they change (a renewal by certbot or the like), so that HTTPS and TURN
// never need a restart for a new certificate. A file that cannot be read
// or does not match its key keeps the old certificate in service, with a
// warning: a half-written renewal must not take the server down.
type certFiles struct {
	cert, key string
	log       *slog.Logger
	// every is how often a handshake may look at the files' stamps.
	every time.Duration

	mu      sync.Mutex
	cur     *tls.Certificate
	stamp   string
	checked time.Time
}

// loadCertFiles reads the certificate; it must be good at start.
func loadCertFiles(cert, key string, log *slog.Logger) (*certFiles, error) {
	c := &certFiles{cert: cert, key: key, log: log, every: 10 * time.Second}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// fileStamp identifies the files' versions by modification time and size.
func (c *certFiles) fileStamp() string {
	var b strings.Builder
	for _, f := range []string{c.cert, c.key} {
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%d/%d;", fi.ModTime().UnixNano(), fi.Size())
		}
	}
	return b.String()
}

// Reload reads the files now (SIGHUP, and when their stamps change).
func (c *certFiles) Reload() error {
	stamp := c.fileStamp()
	pair, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return fmt.Errorf("certificate %s with key %s: %w", c.cert, c.key, err)
	}
	c.mu.Lock()
	c.cur, c.stamp, c.checked = &pair, stamp, time.Now()
	c.mu.Unlock()
	if leaf := pair.Leaf; leaf != nil {
		c.log.Info("TLS certificate loaded", "file", c.cert, "names", leaf.DNSNames, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
		if left := time.Until(leaf.NotAfter); left < 14*24*time.Hour {
			c.log.Warn("TLS certificate expires soon", "file", c.cert, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// GetCertificate is tls.Config's hook: the current certificate, read
// again first when the files changed since the last look.
func (c *certFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	due := time.Since(c.checked) >= c.every
	if due {
		c.checked = time.Now()
	}
	cur, stamp := c.cur, c.stamp
	c.mu.Unlock()
	if due && c.fileStamp() != stamp {
		if err := c.Reload(); err != nil {
			c.log.Warn("new TLS certificate not taken; the old one stays in service", "err", err)
		} else {
			c.mu.Lock()
			cur = c.cur
			c.mu.Unlock()
		}
	}
	return cur, nil
}

// leaf is the certificate in service.
func (c *certFiles) leaf() *x509.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.Leaf
}

// tlsSetup holds what serves certificates: files or ACME.
type tlsSetup struct {
	files *certFiles        // AULA_TLS_CERT/KEY
	acme  *autocert.Manager // AULA_ACME_DOMAINS
	turn  *certFiles        // AULA_TURN_TLS_CERT/KEY when different
}

// newTLSSetup reads the certificate files or prepares ACME; nil when Aula
// serves neither HTTPS nor TURN over TLS.
func newTLSSetup(cfg Config, log *slog.Logger) (*tlsSetup, error) {
	t := &tlsSetup{}
	var err error
	if cfg.TLSCert != "" {
		if t.files, err = loadCertFiles(cfg.TLSCert, cfg.TLSKey, log); err != nil {
			return nil, fmt.Errorf("AULA_TLS_CERT: %w", err)
		}
	}
	if domains := cfg.acmeDomains(); len(domains) > 0 {
		dir := cfg.acmeCache()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("AULA_ACME_CACHE: %w", err)
		}
		dirURL := cfg.ACMEDirectory
		if dirURL == "" {
			dirURL = letsEncrypt
		}
		t.acme = &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			HostPolicy: autocert.HostWhitelist(domains...),
			Cache:      autocert.DirCache(dir),
			Email:      cfg.ACMEEmail,
			Client:     &acme.Client{DirectoryURL: dirURL},
		}
	}
	if cfg.TURNTLSCert != "" {
		if t.turn, err = loadCertFiles(cfg.TURNTLSCert, cfg.TURNTLSKey, log); err != nil {
			return nil, fmt.Errorf("AULA_TURN_TLS_CERT: %w", err)
		}
	}
	if t.files == nil && t.acme == nil && t.turn == nil {
		return nil, nil
	}
	return t, nil
}

func baseTLS() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12}
}

// httpsConfig is the HTTPS listener's configuration (HTTP/2, HTTP/1.1
// and, with ACME, its TLS-ALPN challenge), or nil without HTTPS.
func (t *tlsSetup) httpsConfig() *tls.Config {
	switch {
	case t == nil:
		return nil
	case t.acme != nil:
		c := t.acme.TLSConfig()
		c.MinVersion = tls.VersionTLS12
		return c
	case t.files != nil:
		c := baseTLS()
		c.GetCertificate = t.files.GetCertificate
		c.NextProtos = []string{"h2", "http/1.1"}
		return c
	}
	return nil
}

// turnConfig is TURN over TLS's configuration: its own files, else the
// HTTPS certificate.
func (t *tlsSetup) turnConfig() *tls.Config {
	if t == nil {
		return nil
	}
	c := baseTLS()
	switch {
	case t.turn != nil:
		c.GetCertificate = t.turn.GetCertificate
	case t.files != nil:
		c.GetCertificate = t.files.GetCertificate
	case t.acme != nil:
		c.GetCertificate = t.acme.GetCertificate
	default:
		return nil
	}
	return c
}

// reload reads certificate files again (SIGHUP).
func (t *tlsSetup) reload() error {
	if t == nil {
		return nil
	}
	var errs []error
	for _, f := range []*certFiles{t.files, t.turn} {
		if f != nil {
			errs = append(errs, f.Reload())
		}
	}
	return errors.Join(errs...)
}

// ReloadTLS reads the certificate files again (the server calls it on
// SIGHUP). A bad new file keeps the old certificate and is reported.
func (a *App) ReloadTLS() error { return a.tls.reload() }

// defaultPublicURL is the public URL when none is configured: https with
// the ACME name or the certificate's name when Aula serves TLS itself on
// all addresses, else the listen address.
func (a *App) defaultPublicURL(addr net.Addr) string {
	scheme := "http"
	if a.cfg.tlsOn() {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if d := a.cfg.acmeDomains(); len(d) > 0 {
		host = d[0] // the only name its certificates will have
	} else if ip := net.ParseIP(host); scheme == "https" && (ip == nil || ip.IsUnspecified()) {
		if a.tls != nil && a.tls.files != nil {
			if leaf := a.tls.files.leaf(); leaf != nil && len(leaf.DNSNames) > 0 {
				host = leaf.DNSNames[0]
			}
		}
	}
	if scheme == "https" && port == "443" {
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// startRedirect serves plain HTTP that sends every request to the same
// path under the https public URL (never to a host the request names),
// and, with ACME, answers http-01 challenges.
func (a *App) startRedirect() error {
	if a.cfg.HTTPRedirectAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.HTTPRedirectAddr)
	if err != nil {
		return fmt.Errorf("AULA_HTTP_REDIRECT_ADDR: %w", err)
	}
	base := strings.TrimRight(a.url.String(), "/")
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := http.StatusPermanentRedirect // keeps the method and body
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			code = http.StatusMovedPermanently
		}
		w.Header().Set("Connection", "close")
		http.Redirect(w, r, base+r.URL.RequestURI(), code)
	})
	if a.tls != nil && a.tls.acme != nil {
		h = a.tls.acme.HTTPHandler(h)
	}
	a.redirect = &http.Server{Addr: ln.Addr().String(), Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 30 * time.Second, MaxHeaderBytes: 64 << 10}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.redirect.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("redirect server", "err", err)
		}
	}()
	a.log.Info("redirecting to HTTPS", "addr", ln.Addr().String())
	return nil
}

// sharesHTTPPort reports whether TURN over TLS is to share the HTTPS
// listener (same port, and the same or no host).
func (c *Config) sharesHTTPPort() bool {
	if c.TURNTLSAddr == "" || !c.tlsOn() {
		return false
	}
	th, tp, err1 := net.SplitHostPort(c.TURNTLSAddr)
	hh, hp, err2 := net.SplitHostPort(c.HTTPAddr)
	return err1 == nil && err2 == nil && tp == hp && (th == hh || th == "")
}

// turnTLSListener is the listener of TURN over TLS: the HTTPS port's
// share from the mux, or its own port.
func (a *App) turnTLSListener() (net.Listener, int, error) {
	if a.cfg.TURNTLSAddr == "" {
		return nil, 0, nil
	}
	if a.mux != nil && a.cfg.sharesHTTPPort() {
		return a.mux.turn, a.mux.port(), nil
	}
	conf := a.tls.turnConfig()
	if conf == nil {
		return nil, 0, errors.New("AULA_TURN_TLS_ADDR: no certificate (AULA_TLS_CERT, AULA_TURN_TLS_CERT or AULA_ACME_DOMAINS)")
	}
	ln, err := net.Listen("tcp", a.cfg.TURNTLSAddr)
	if err != nil {
		return nil, 0, fmt.Errorf("AULA_TURN_TLS_ADDR: %w", err)
	}
	return tls.NewListener(ln, conf), ln.Addr().(*net.TCPAddr).Port, nil
}

func portOf(a net.Addr) int {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.Port
	}
	_, p, _ := net.SplitHostPort(a.String())
	n, _ := strconv.Atoi(p)
	return n
}

// tlsShutdown closes the redirect server.
func (a *App) closeRedirect(ctx context.Context) error {
	if a.redirect == nil {
		return nil
	}
	return a.redirect.Shutdown(ctx)
}
