package web

import (
	"net"
	"net/netip"
	"sync"
)

// LimitListener caps the connections ln hands out: perSource per client
// address and total over all (0: no cap). A connection over a cap is
// closed at once, before a byte of it is read, so that one address
// holding many idle connections cannot use up the server's file
// descriptors. IPv6 clients are counted per /64, the least a subscriber
// gets, as one address of it costs nothing.
//
// Sources in exempt are counted in the total only: a reverse proxy on the
// same host carries everyone's connections from one address. Every
// WebSocket is a connection too, hijacked or not, so perSource must leave
// room for a class behind one NAT address.
func LimitListener(ln net.Listener, perSource, total int, exempt ...netip.Prefix) net.Listener {
	return &limitListener{Listener: ln, perSource: perSource, total: total, exempt: exempt, bySource: map[netip.Prefix]int{}}
}

type limitListener struct {
	net.Listener
	perSource, total int
	exempt           []netip.Prefix

	mu       sync.Mutex
	n        int
	bySource map[netip.Prefix]int
}

// Accept returns the next connection within the caps; the ones over a
// cap are closed here and never reach the server.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		src, counted := l.source(c.RemoteAddr())
		if l.admit(src, counted) {
			return &limitedConn{Conn: c, l: l, src: src, counted: counted}, nil
		}
		c.Close()
	}
}

// source is the counting key of a peer and whether the per-source cap
// applies to it.
func (l *limitListener) source(a net.Addr) (netip.Prefix, bool) {
	var ip netip.Addr
	if ta, ok := a.(*net.TCPAddr); ok {
		ip = ta.AddrPort().Addr()
	} else if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		ip = ap.Addr()
	}
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() {
		return netip.Prefix{}, false
	}
	for _, p := range l.exempt {
		if p.Contains(ip) {
			return netip.Prefix{}, false
		}
	}
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p, l.perSource > 0
}

func (l *limitListener) admit(src netip.Prefix, counted bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total > 0 && l.n >= l.total {
		return false
	}
	if counted && l.bySource[src] >= l.perSource {
		return false
	}
	l.n++
	if counted {
		l.bySource[src]++
	}
	return true
}

func (l *limitListener) release(src netip.Prefix, counted bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	if counted {
		if l.bySource[src] <= 1 {
			delete(l.bySource, src)
		} else {
			l.bySource[src]--
		}
	}
}

// limitedConn gives its place back when closed (once, however often Close
// is called: the HTTP server and a hijacker may both close it).
type limitedConn struct {
	net.Conn
	l       *limitListener
	src     netip.Prefix
	counted bool
	once    sync.Once
}

func (c *limitedConn) Close() error {
	// The place is given back before the peer can see the close, so a
	// client that saw it may connect again at once.
	c.once.Do(func() { c.l.release(c.src, c.counted) })
	return c.Conn.Close()
}
