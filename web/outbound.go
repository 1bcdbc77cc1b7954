package web

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Aula makes HTTP requests of its own to URLs others wrote: the document
// URLs of create's XML body (which BBB does not sign, so anyone who saw
// one create URL can replay it with a URL of their choice), participants'
// avatars and the platform's end callback. Without a guard that is a
// server-side request forgery: the server would fetch from its own
// loopback, the cloud's metadata address or the intranet behind it, and
// its replies would tell which ports answer.
//
// The guard sits in the dialer (net.Dialer.Control), so it judges the
// address actually connected to: after DNS resolution (no rebinding
// trick), for every address Happy Eyeballs tries and on every redirect.
// Proxies from the environment are not used, since the dialer would then
// only see the proxy. What the guard refuses, the operator may open per
// network (AULA_FETCH_ALLOW_NETWORKS), e.g. for a platform on the LAN.

// specialPrefixes are networks that are not the public internet beyond
// what netip's IsPrivate/IsGlobalUnicast already tell (IANA special-
// purpose registries).
var specialPrefixes = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // carrier-grade NAT, often the provider's own hosts
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.88.99.0/24",  // 6to4 relay anycast
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"240.0.0.0/4",     // reserved, and the broadcast address
		"::/96",           // IPv4-compatible (deprecated), :: and ::1
		"64:ff9b:1::/48",  // local-use NAT64: the embedding is the site's own
		"100::/64",        // discard-only
		"2001::/23",       // IETF protocol assignments (Teredo …)
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4: an IPv4 address in disguise
		"3fff::/20",       // documentation
		"fec0::/10",       // site-local (deprecated)
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// nat64 is the well-known NAT64 prefix: on an IPv6-only host DNS64 maps
// every IPv4 destination into it, so its embedded IPv4 address is judged.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// addrGuard decides which addresses outbound requests may connect to.
type addrGuard struct {
	allow []netip.Prefix
}

func newAddrGuard(allow []netip.Prefix) *addrGuard {
	return &addrGuard{allow: allow}
}

// check returns nil for an address outbound requests may reach: one the
// operator allowed, or a public unicast address.
func (g *addrGuard) check(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrFetchRefused)
	}
	// An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address.
	ip = ip.WithZone("").Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		return g.check(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	why := ""
	switch {
	case ip.IsLoopback():
		why = "loopback"
	case ip.IsPrivate():
		why = "private"
	case ip.IsLinkLocalUnicast():
		why = "link-local"
	case ip.IsMulticast():
		why = "multicast"
	case ip.IsUnspecified():
		why = "unspecified"
	case !ip.IsGlobalUnicast():
		why = "not global unicast"
	}
	if why == "" {
		for _, p := range specialPrefixes {
			if p.Contains(ip) {
				why = "special-purpose " + p.String()
				break
			}
		}
	}
	if why != "" {
		return fmt.Errorf("%w: %s is %s", ErrFetchRefused, ip, why)
	}
	return nil
}

// control is the net.Dialer hook: address is the "ip:port" about to be
// connected to.
func (g *addrGuard) control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fmt.Errorf("%w: network %s", ErrFetchRefused, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q is not ip:port", ErrFetchRefused, address)
	}
	return g.check(ap.Addr())
}

// Outbound limits. Each request also has its own deadline (FetchTimeout,
// AvatarTimeout, the end callback's), these bound its single steps.
const (
	outboundDialTimeout   = 10 * time.Second
	outboundHeaderTimeout = 10 * time.Second
	outboundMaxHeader     = 64 << 10
	outboundMaxRedirects  = 5
)

// newOutboundClient is the HTTP client of every request Aula makes: the
// address guard in its dialer, no proxy, no cookie jar, only http(s)
// redirects and at most five.
func newOutboundClient(allow []netip.Prefix) *http.Client {
	g := newAddrGuard(allow)
	d := &net.Dialer{Timeout: outboundDialTimeout, KeepAlive: 30 * time.Second, Control: g.control}
	tr := &http.Transport{
		// A proxy would be the only address the dialer sees.
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  outboundHeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: outboundMaxHeader,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= outboundMaxRedirects {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return errors.New("redirect to a non-http URL")
			}
			return nil
		},
	}
}

// fetchReason is an outbound error as the log may keep it: without the
// URL, whose query may carry the platform's tokens.
func fetchReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// ParseNetworks reads a comma-separated list of CIDR networks or single
// addresses (the allow setting of outbound requests).
func ParseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not a network like 10.0.0.0/8", f)
			}
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or network", f)
		}
		a = a.WithZone("").Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
