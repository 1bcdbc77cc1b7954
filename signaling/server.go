// Package signaling is Aula's WebSocket protocol for the browser client:
// one envelope with typed payloads (protocol.go, docs/protocol.md), one
// actor per connection (conn.go) between a socket and a room.Member.
package signaling

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"aula/room"
)

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	Manager *room.Manager
	// AllowedOrigins are the origins (scheme://host[:port]) a browser may
	// open the socket from: the public URL's origin. Other Origins get 403.
	// Empty: the Origin must match the request's Host.
	AllowedOrigins []string
	Logger         *slog.Logger
	// MaxMessageBytes caps one client message (64 KiB). A larger one gets a
	// too_large error and is skipped; one beyond 16× the cap closes the
	// socket, so a client cannot make the server read without end.
	MaxMessageBytes int
	// PingInterval between WebSocket pings (20s). A client silent for two
	// intervals is considered gone.
	PingInterval time.Duration
	// WriteTimeout for one write to the socket (10s).
	WriteTimeout time.Duration
	// QueueSize bounds the outbound messages and room events waiting for a
	// connection (256). A client that lets it overflow is disconnected; its
	// participant keeps its place for the reconnect grace.
	QueueSize int
	// ChatBurst and ChatPerSecond: the token bucket for chat lines (10, 2/s).
	ChatBurst     int
	ChatPerSecond float64
	// FrameBurst and FramePerSecond: the token bucket every frame a client
	// sends is counted against before it is even decoded (200, 100/s); a
	// client that sends FrameBurst more frames past it is disconnected.
	FrameBurst     int
	FramePerSecond float64
	// MsgBurst and MsgPerSecond: the token bucket for the protocol's own
	// messages (60, 20/s). Each extension has a budget of its own
	// (Budgeted, else the same defaults).
	MsgBurst     int
	MsgPerSecond float64
	// Extensions add message types for later features (see Extension).
	Extensions []Extension
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 64 << 10
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 20 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.ChatBurst <= 0 {
		o.ChatBurst = 10
	}
	if o.ChatPerSecond <= 0 {
		o.ChatPerSecond = 2
	}
	if o.FrameBurst <= 0 {
		o.FrameBurst = 200
	}
	if o.FramePerSecond <= 0 {
		o.FramePerSecond = 100
	}
	if o.MsgBurst <= 0 {
		o.MsgBurst = 60
	}
	if o.MsgPerSecond <= 0 {
		o.MsgPerSecond = 20
	}
}

// Server accepts WebSocket connections of sessions that package web has
// already authenticated.
type Server struct {
	opt      Options
	log      *slog.Logger
	up       websocket.Upgrader
	extTypes map[string]int // extension message type → index in opt.Extensions

	mu      sync.Mutex
	conns   map[*conn]struct{}
	closing bool
	wg      sync.WaitGroup
}

// New returns a Server. It panics when extensions' types clash: a
// programming error that must not reach a running server.
func New(o Options) *Server {
	o.defaults()
	s := &Server{opt: o, log: o.Logger, conns: map[*conn]struct{}{}, extTypes: extensionTypes(o.Extensions)}
	s.up = websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		// The Origin was checked before Upgrade, with a 403 the browser can show.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return s
}

// originAllowed protects against cross-site WebSocket hijacking: a browser
// always sends Origin, so a page of another site cannot ride on the
// session cookie. Non-browser clients send none and need the cookie anyway.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if len(s.opt.AllowedOrigins) == 0 {
		u, err := url.Parse(origin)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
	for _, a := range s.opt.AllowedOrigins {
		if strings.EqualFold(strings.TrimRight(a, "/"), origin) {
			return true
		}
	}
	return false
}

// ServeWS upgrades the request and runs the connection until it ends. The
// session s was resolved from the cookie by the caller.
func (s *Server) ServeWS(w http.ResponseWriter, r *http.Request, sess *room.Session) {
	if !s.originAllowed(r) {
		s.log.Warn("websocket origin refused", "origin", r.Header.Get("Origin"))
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	ws, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has answered the client already.
		s.log.Debug("websocket upgrade", "err", err)
		return
	}
	c := newConn(s, ws, sess)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		c.goingAway()
	} else {
		s.conns[c] = struct{}{}
		s.mu.Unlock()
	}
	c.serve(r.Context())
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Close drains: new connections are refused, open ones are closed with
// "going away" (clients reconnect, possibly to another node) and their
// participants keep their places. It waits up to the write timeout.
func (s *Server) Close() {
	s.mu.Lock()
	s.closing = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.goingAway()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.opt.WriteTimeout + time.Second):
		s.log.Warn("signaling drain timed out")
	}
}
