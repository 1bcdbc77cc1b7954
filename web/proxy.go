package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"
)

// Who is asking: the client address behind trusted reverse proxies, and
// the gate of /metrics that depends on it.

// peerAddr is the address of the TCP peer (a proxy or the client itself).
func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

func contains(nets []netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the client's address: the peer's, unless the peer is a
// trusted proxy; then X-Forwarded-For is read from the right, each proxy
// having appended the address it was connected from, and the right-most
// address that is not itself a trusted proxy is the client. Entries left
// of it were written by the client (or anyone before it) and prove
// nothing. An entry that is no address stops the walk: the last trusted
// hop is then the best that is known.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := peerAddr(r)
	if !contains(trusted, peer) {
		return peer
	}
	hops := forwardedFor(r)
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			// "[2001:db8::1]:4711" and "192.0.2.1:4711" appear too.
			ap, perr := netip.ParseAddrPort(hops[i])
			if perr != nil {
				return client
			}
			a = ap.Addr()
		}
		client = a.WithZone("").Unmap()
		if !contains(trusted, client) {
			return client
		}
	}
	return client
}

// forwardedFor lists the X-Forwarded-For entries, all header lines joined
// in order (proxies may add a line instead of extending the last one).
func forwardedFor(r *http.Request) []string {
	var hops []string
	for _, line := range r.Header.Values("X-Forwarded-For") {
		for _, h := range strings.Split(line, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	return hops
}

// forwarded reports whether a proxy says it forwarded the request.
func forwarded(r *http.Request) bool {
	return r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-Ip") != ""
}

// clientIP is the client address as text, for the access log.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	a := clientAddr(r, trusted)
	if !a.IsValid() {
		return r.RemoteAddr
	}
	return a.String()
}

// loopback is the default of Options.MetricsAllow: a Prometheus or an
// agent on the same machine.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// guardMetrics lets a scrape of /metrics through with the bearer token
// (compared in constant time) or from an allowed address; otherwise 401
// when a token would help, 403 when nothing would.
//
// The allowed address is the client's as resolved through trusted
// proxies. A request that a proxy says it forwarded (X-Forwarded-For …)
// but that did not come from a trusted proxy has no known client: it is
// not let in by address, so a reverse proxy on loopback that was not
// declared trusted does not open /metrics to the Internet.
func (s *server) guardMetrics(c *gin.Context) {
	if s.o.MetricsToken != "" {
		if auth := c.GetHeader("Authorization"); auth != "" {
			tok, ok := strings.CutPrefix(auth, "Bearer ")
			if ok && tokenEqual(strings.TrimSpace(tok), s.o.MetricsToken) {
				c.Next()
				return
			}
			s.refuseMetrics(c, http.StatusUnauthorized)
			return
		}
	}
	allow := s.o.MetricsAllow
	if allow == nil {
		allow = loopback
	}
	if !forwarded(c.Request) || contains(s.o.TrustedProxies, peerAddr(c.Request)) {
		if contains(allow, clientAddr(c.Request, s.o.TrustedProxies)) {
			c.Next()
			return
		}
	}
	if s.o.MetricsToken != "" {
		s.refuseMetrics(c, http.StatusUnauthorized)
		return
	}
	s.refuseMetrics(c, http.StatusForbidden)
}

func (s *server) refuseMetrics(c *gin.Context, code int) {
	if code == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="aula metrics"`)
	}
	c.Header("Content-Type", "text/plain; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.String(code, http.StatusText(code)+"\n")
	c.Abort()
}

// tokenEqual compares in constant time; hashing first makes the time
// independent of the lengths too.
func tokenEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
