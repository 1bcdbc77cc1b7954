package app

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// tlsMux terminates TLS on the HTTPS port and hands each connection to
// the web server or, when it speaks STUN, to the TURN server: browsers
// then reach TURN over TLS on 443 of the same address, the one port that
// school networks let out. Browsers ask for h2 or http/1.1 by ALPN; TURN
// clients ask for "stun.turn" (RFC 7443) or for nothing, and then their
// first byte tells: a STUN message starts with two zero bits, an HTTP
// request with a letter.
type tlsMux struct {
	ln   net.Listener
	conf *tls.Config
	log  *slog.Logger
	http *chanListener
	turn *chanListener // nil: STUN connections are closed
	wg   sync.WaitGroup
}

// muxHandshakeTimeout bounds the handshake and the first byte of a
// connection that says nothing by ALPN.
const muxHandshakeTimeout = 10 * time.Second

func newTLSMux(ln net.Listener, conf *tls.Config, withTURN bool, log *slog.Logger) *tlsMux {
	conf = conf.Clone()
	conf.NextProtos = append(conf.NextProtos, "stun.turn")
	m := &tlsMux{ln: ln, conf: conf, log: log, http: newChanListener(ln.Addr())}
	if withTURN {
		m.turn = newChanListener(ln.Addr())
	}
	m.wg.Add(1)
	go m.run()
	return m
}

func (m *tlsMux) port() int { return portOf(m.ln.Addr()) }

func (m *tlsMux) run() {
	defer m.wg.Done()
	for {
		c, err := m.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.http.fail(err)
			if m.turn != nil {
				m.turn.fail(err)
			}
			return
		}
		go m.dispatch(c)
	}
}

func (m *tlsMux) dispatch(c net.Conn) {
	tc := tls.Server(c, m.conf)
	_ = tc.SetDeadline(time.Now().Add(muxHandshakeTimeout))
	if err := tc.Handshake(); err != nil {
		m.log.Debug("TLS handshake", "err", err)
		_ = c.Close()
		return
	}
	switch tc.ConnectionState().NegotiatedProtocol {
	case "h2", "http/1.1":
		_ = tc.SetDeadline(time.Time{})
		m.http.push(tc) // as *tls.Conn: the server sees TLS and ALPN
		return
	case "stun.turn":
		_ = tc.SetDeadline(time.Time{})
		m.toTURN(tc)
		return
	case "acme-tls/1":
		_ = tc.Close() // the challenge was answered in the handshake
		return
	}
	first := make([]byte, 1)
	if _, err := tc.Read(first); err != nil {
		_ = tc.Close()
		return
	}
	_ = tc.SetDeadline(time.Time{})
	pc := &prefixConn{Conn: tc, pre: first}
	if first[0] < 0x40 {
		m.toTURN(pc)
		return
	}
	m.http.push(pc)
}

func (m *tlsMux) toTURN(c net.Conn) {
	if m.turn == nil {
		_ = c.Close()
		return
	}
	m.turn.push(c)
}

// close stops accepting; the listeners handed out report closed.
func (m *tlsMux) close() {
	_ = m.ln.Close()
	m.wg.Wait()
}

// prefixConn gives back the bytes read to tell the protocol.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(b, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// chanListener is a net.Listener fed by the mux.
type chanListener struct {
	addr  net.Addr
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
	mu    sync.Mutex
	err   error
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// push hands c to Accept, or closes it once the listener is closed.
func (l *chanListener) push(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *chanListener) fail(err error) {
	l.mu.Lock()
	if l.err == nil {
		l.err = err
	}
	l.mu.Unlock()
	_ = l.Close()
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.err != nil {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }
