package dialin

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// streamGuard bounds SIP over TCP and TLS, which sipgo serves without any
// timeout: an attacker held 300 half-sent connections for good. Every
// connection is counted (a cap per source address and in total, checked
// on accept) and has deadlines:
//
//   - a message, and a new connection's TLS handshake and first message,
//     must arrive whole within ConnMessageTimeout of its first byte; the
//     deadline is not moved by bytes, only by whole messages, so trickling
//     does not keep a connection;
//   - a connection without a call is closed after ConnIdleTimeout without
//     a whole message; one that carries a call is kept, since its dialog's
//     requests (the BYE) come back on it;
//   - a write must finish within ConnMessageTimeout.
//
// "Whole message" is what sipgo's parser delivers: the transport layer
// reports each one (onMessage) with the connection's remote address.
type streamGuard struct {
	msgTimeout, idle time.Duration
	perSource, total int
	log              *slog.Logger
	stats            *counters
	refusedLog       *logGate
	closedLog        *logGate

	mu       sync.Mutex
	bySource map[netip.Addr]int
	n        int
	conns    map[string]*streamConn // by transport and remote address
}

func newStreamGuard(cfg *Config, log *slog.Logger, stats *counters) *streamGuard {
	return &streamGuard{
		msgTimeout: cfg.ConnMessageTimeout, idle: cfg.ConnIdleTimeout,
		perSource: cfg.MaxConnsPerSource, total: cfg.MaxConns,
		log: log, stats: stats, refusedLog: newLogGate(), closedLog: newLogGate(),
		bySource: map[netip.Addr]int{}, conns: map[string]*streamConn{},
	}
}

// listener is what sipgo serves: l's connections counted and capped,
// with TLS on top when conf is set, and their deadlines kept. transport
// is sipgo's name of it ("TCP", "TLS").
func (g *streamGuard) listener(l net.Listener, transport string, conf *tls.Config) net.Listener {
	var inner net.Listener = &capListener{Listener: l, g: g}
	if conf != nil {
		inner = tls.NewListener(inner, conf)
	}
	return &timedListener{Listener: inner, g: g, transport: transport}
}

// open is the number of connections open.
func (g *streamGuard) open() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// admit counts a new connection from src, or says why it is refused.
func (g *streamGuard) admit(src netip.Addr) (release func(), reason string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.bySource[src] >= g.perSource {
		return nil, "too many connections from this source (" + strconv.Itoa(g.perSource) + ")"
	}
	if g.n >= g.total {
		return nil, "too many connections (" + strconv.Itoa(g.total) + ")"
	}
	g.bySource[src]++
	g.n++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.bySource[src]--; g.bySource[src] <= 0 {
				delete(g.bySource, src)
			}
			g.n--
		})
	}, ""
}

func connKey(transport, remote string) string { return transport + " " + remote }

// onMessage sees every message sipgo parsed (the transport layer's
// handler, called on the connection's read goroutine): on a stream
// connection a whole message resets its deadlines.
func (g *streamGuard) onMessage(msg sip.Message) {
	t := msg.Transport()
	if t != "TCP" && t != "TLS" {
		return
	}
	g.mu.Lock()
	c := g.conns[connKey(t, msg.Source())]
	g.mu.Unlock()
	if c == nil {
		return
	}
	c.mu.Lock()
	c.lastMsg, c.msgStart = time.Now(), time.Time{}
	c.mu.Unlock()
}

// hold marks the connection a request came on as carrying a call until
// the returned func runs; no-op for UDP or a connection already gone.
func (g *streamGuard) hold(transport, source string) (release func()) {
	g.mu.Lock()
	c := g.conns[connKey(transport, source)]
	g.mu.Unlock()
	if c == nil {
		return func() {}
	}
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.calls--
			// The idle time counts from the call's end. The reader may
			// wait without a deadline (it had the call): give it one now,
			// which takes effect on the pending Read.
			c.lastMsg = time.Now()
			dl, _ := c.deadlineLocked()
			c.Conn.SetReadDeadline(dl)
		})
	}
}

// capListener accepts connections within the caps and closes the others
// at once.
type capListener struct {
	net.Listener
	g *streamGuard
}

func (l *capListener) Accept() (net.Conn, error) {
	var backoff time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			// Out of file descriptors and the like: sipgo stops serving at
			// the first error Accept returns, so wait and try again.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			if ok, _ := l.g.refusedLog.allow(); ok {
				l.g.log.Warn("SIP accept failed, retrying", "err", err, "in", backoff)
			}
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		src := remoteAddr(c)
		release, reason := l.g.admit(src)
		if reason != "" {
			c.Close()
			l.g.stats.connsRefused.Add(1)
			if ok, held := l.g.refusedLog.allow(); ok {
				attrs := []any{"source", src.String(), "reason", reason}
				if held > 0 {
					attrs = append(attrs, "not_logged_before", held)
				}
				l.g.log.Info("SIP connection refused", attrs...)
			}
			continue
		}
		return &countedConn{Conn: c, release: release}, nil
	}
}

func remoteAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// countedConn gives its place back when closed.
type countedConn struct {
	net.Conn
	release func()
}

func (c *countedConn) Close() error {
	c.release()
	return c.Conn.Close()
}

// timedListener wraps each accepted connection (TCP, or TLS over it) in a
// streamConn.
type timedListener struct {
	net.Listener
	g         *streamGuard
	transport string
}

func (l *timedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	sc := &streamConn{Conn: c, g: l.g, key: connKey(l.transport, c.RemoteAddr().String()), src: remoteAddr(c), lastMsg: now, msgStart: now}
	l.g.mu.Lock()
	l.g.conns[sc.key] = sc
	l.g.mu.Unlock()
	return sc, nil
}

// streamConn is one SIP connection with its deadlines. It sits above TLS,
// so it sees SIP's bytes; the deadlines it sets reach the TCP connection
// below (tls.Conn passes them on).
type streamConn struct {
	net.Conn
	g   *streamGuard
	key string
	src netip.Addr

	mu       sync.Mutex
	lastMsg  time.Time // the last whole message (at first: the accept)
	msgStart time.Time // first byte of a message not yet whole; zero between messages
	calls    int
	closed   sync.Once
}

// deadlineLocked is when the connection times out and why; zero for none
// (it carries a call and no message is under way). Caller holds mu.
func (c *streamConn) deadlineLocked() (time.Time, string) {
	var d time.Time
	why := "idle"
	if c.calls == 0 {
		d = c.lastMsg.Add(c.g.idle)
	}
	if !c.msgStart.IsZero() {
		if m := c.msgStart.Add(c.g.msgTimeout); d.IsZero() || m.Before(d) {
			d, why = m, "message not whole in time"
		}
	}
	return d, why
}

func (c *streamConn) Read(b []byte) (int, error) {
	for {
		// Under mu, so that a call's end (hold) setting a new deadline
		// cannot be overwritten by an older one.
		c.mu.Lock()
		dl, why := c.deadlineLocked()
		err := c.Conn.SetReadDeadline(dl)
		c.mu.Unlock()
		if err != nil {
			c.Close()
			return 0, err
		}
		n, err := c.Conn.Read(b)
		if n > 0 {
			c.received(b[:n])
		}
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			// Whatever sipgo makes of it, the connection is done: give its
			// place back now.
			c.Close()
			return n, err
		}
		if n > 0 {
			return n, nil
		}
		// A call may have started on it meanwhile.
		c.mu.Lock()
		next, _ := c.deadlineLocked()
		c.mu.Unlock()
		if next.IsZero() || next.After(time.Now()) {
			continue
		}
		c.g.stats.connsTimedOut.Add(1)
		if ok, held := c.g.closedLog.allow(); ok {
			level := slog.LevelDebug
			if why != "idle" {
				level = slog.LevelInfo
			}
			attrs := []any{"source", c.src.String(), "reason", why}
			if held > 0 {
				attrs = append(attrs, "not_logged_before", held)
			}
			c.g.log.Log(context.Background(), level, "SIP connection closed", attrs...)
		}
		c.Close()
		// EOF: sipgo ends the connection quietly.
		return 0, io.EOF
	}
}

// received notes the start of a message. CRLF keep-alives between
// messages (RFC 5626 §3.5.1) start none.
func (c *streamConn) received(p []byte) {
	if len(bytes.Trim(p, "\r\n")) == 0 {
		return
	}
	c.mu.Lock()
	if c.msgStart.IsZero() {
		c.msgStart = time.Now()
	}
	c.mu.Unlock()
}

func (c *streamConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.g.msgTimeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *streamConn) Close() error {
	c.closed.Do(func() {
		c.g.mu.Lock()
		if c.g.conns[c.key] == c {
			delete(c.g.conns, c.key)
		}
		c.g.mu.Unlock()
	})
	return c.Conn.Close()
}
