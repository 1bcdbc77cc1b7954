// Package dialin is the SIP gateway: callers dial the operator's number,
// type the room's PIN and take part by voice. Each call is a room
// participant named only by the last three digits of the calling number.
//
// sipgo does the SIP signalling; SDP, RTP, G.711, DTMF, the IVR and the
// audio bridge (G.711 8 kHz ⇄ Opus 48 kHz) are here. The room's audio is
// reached through the Media interface, which the SFU implements.
package dialin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"aula/room"
)

// Config configures the gateway. Zero values take the defaults noted.
type Config struct {
	// Addr is where SIP is served over UDP and TCP ("127.0.0.1:5060"; port
	// 0 picks a free one, see Gateway.Addr).
	Addr string
	// TLSAddr serves SIP over TLS (sips) when TLS is set too.
	TLSAddr string
	TLS     *tls.Config
	// Trunks are the source networks of the operator's SIP trunk; calls
	// from there need no authentication. When both Trunks and Username are
	// empty only loopback may call.
	Trunks []netip.Prefix
	// Username and Password, when set, let callers from outside Trunks in
	// with SIP digest authentication (RFC 8760 MD5/SHA-256 as the peer picks).
	Username string
	Password string
	// Realm of the digest challenge ("aula").
	Realm string
	// Language of the prompts: "en" (default) or "de".
	Language string
	// RTPAddr is the local address RTP sockets bind to (default: the host of
	// Addr, or all interfaces if that is unspecified).
	RTPAddr netip.Addr
	// PublicIP is announced in Contact and SDP (NAT 1:1); default the host
	// of Addr, which then must be a specific address.
	PublicIP netip.Addr
	// RTPPortMin and RTPPortMax bound the RTP ports (20000-29999); one even
	// port per call.
	RTPPortMin, RTPPortMax int
	// RTPTimeout ends a call whose caller sent no RTP for this long (30s).
	RTPTimeout time.Duration
	// PINTimeout is how long the caller may take for the PIN and between
	// digits before the attempt counts as failed (10s).
	PINTimeout time.Duration
	// PINTries is how many wrong PINs a call may enter before it is hung
	// up (3).
	PINTries int
	// PINAnswerTime is the fixed time every PIN check takes, found or not,
	// so the answer's timing tells nothing about the store (300ms).
	PINAnswerTime time.Duration
	// CallerLimit rate-limits failed PIN attempts per calling number
	// (keyed hash): 6, then one per 10 minutes.
	CallerLimit RateLimit
	// SourceLimit rate-limits failed PIN attempts per source address (the
	// trunk's address is shared by all its callers): 60, then one per 5s.
	SourceLimit RateLimit
	// MaxCalls is the most concurrent calls (200).
	MaxCalls int
	// Now is the clock of the rate limiters.
	Now func() time.Time
	// Logger receives the gateway's log, including sipgo's.
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.Realm == "" {
		c.Realm = "aula"
	}
	if c.Language == "" {
		c.Language = "en"
	}
	if c.RTPPortMin == 0 && c.RTPPortMax == 0 {
		c.RTPPortMin, c.RTPPortMax = 20000, 29999
	}
	if c.RTPTimeout == 0 {
		c.RTPTimeout = 30 * time.Second
	}
	if c.PINTimeout == 0 {
		c.PINTimeout = 10 * time.Second
	}
	if c.PINTries == 0 {
		c.PINTries = 3
	}
	if c.PINAnswerTime == 0 {
		c.PINAnswerTime = 300 * time.Millisecond
	}
	if c.CallerLimit == (RateLimit{}) {
		c.CallerLimit = RateLimit{Burst: 6, Every: 10 * time.Minute}
	}
	if c.SourceLimit == (RateLimit{}) {
		c.SourceLimit = RateLimit{Burst: 60, Every: 5 * time.Second}
	}
	if c.MaxCalls == 0 {
		c.MaxCalls = 200
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate checks the configuration (after defaults).
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("%w: SIP address %q: %v", ErrConfig, c.Addr, err)
	}
	if c.TLS != nil {
		if _, _, err := net.SplitHostPort(c.TLSAddr); err != nil {
			return fmt.Errorf("%w: SIP TLS address %q: %v", ErrConfig, c.TLSAddr, err)
		}
	}
	if host, _, _ := net.SplitHostPort(c.Addr); !c.PublicIP.IsValid() {
		// Contact and SDP must name an address the trunk can reach.
		if a, err := netip.ParseAddr(host); host == "" || (err == nil && a.IsUnspecified()) {
			return fmt.Errorf("%w: SIP listens on all interfaces (%q); set the public IP to announce", ErrConfig, c.Addr)
		}
	}
	if !slices.Contains(Languages, c.Language) {
		return fmt.Errorf("%w: language %q (want one of %v)", ErrConfig, c.Language, Languages)
	}
	if (c.Username == "") != (c.Password == "") {
		return fmt.Errorf("%w: SIP username and password go together", ErrConfig)
	}
	if c.RTPPortMin < 1024 || c.RTPPortMax > 65535 || c.RTPPortMax-c.RTPPortMin < 1 {
		return fmt.Errorf("%w: RTP port range %d-%d", ErrConfig, c.RTPPortMin, c.RTPPortMax)
	}
	if c.RTPTimeout < 0 || c.PINTimeout < 0 || c.PINTries < 0 || c.PINAnswerTime < 0 || c.MaxCalls < 0 {
		return fmt.Errorf("%w: negative timeout or count", ErrConfig)
	}
	if c.CallerLimit.Burst < 1 || c.SourceLimit.Burst < 1 {
		return fmt.Errorf("%w: rate limit burst must be at least 1", ErrConfig)
	}
	return nil
}

// Gateway is the SIP gateway.
type Gateway struct {
	cfg    Config
	mgr    *room.Manager
	media  MediaFactory
	log    *slog.Logger
	prompt prompts

	ua  *sipgo.UserAgent
	srv *sipgo.Server
	// One dialog cache per transport, as sipgo wants: the UDP one's client
	// sends from the listening socket, so the trunk sees BYE come from the
	// address it called.
	dialogs    *sipgo.DialogServerCache
	tcpDialogs *sipgo.DialogServerCache
	tlsDialogs *sipgo.DialogServerCache

	udp   net.PacketConn
	tcp   net.Listener
	tlsL  net.Listener
	addr  netip.AddrPort
	nonce [32]byte

	secrets   *secrets
	hasher    *callerHasher
	callerLim *limiter
	sourceLim *limiter
	stats     counters

	mu     sync.Mutex
	calls  map[string]*call // by dialog ID
	closed bool
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// New builds a gateway that joins callers to mgr's meetings and bridges
// their audio through media (nil: callers join without audio). It binds
// the SIP ports; Start serves them.
func New(cfg Config, mgr *room.Manager, media MediaFactory, log *slog.Logger) (*Gateway, error) {
	if log != nil {
		cfg.Logger = log
	}
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := loadPrompts(cfg.Language)
	if err != nil {
		return nil, err
	}
	if len(cfg.Trunks) == 0 && cfg.Username == "" {
		cfg.Trunks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	g := &Gateway{
		cfg: cfg, mgr: mgr, media: media, log: cfg.Logger.With("component", "dialin"), prompt: p,
		secrets: newSecrets(), hasher: newCallerHasher(),
		callerLim: newLimiter(cfg.CallerLimit, cfg.Now), sourceLim: newLimiter(cfg.SourceLimit, cfg.Now),
		calls: map[string]*call{},
	}
	if _, err := rand.Read(g.nonce[:]); err != nil {
		return nil, err
	}
	if err := g.listen(); err != nil {
		return nil, err
	}
	if !g.cfg.RTPAddr.IsValid() {
		g.cfg.RTPAddr = g.addr.Addr()
	}
	// host is what Via, From and Contact announce: the public address
	// (NAT 1:1) or the specific address SIP is bound to (Validate makes
	// sure one exists).
	host := g.addr.Addr().String()
	if g.cfg.PublicIP.IsValid() {
		host = g.cfg.PublicIP.String()
	}
	// sipgo logs whole messages only with sip.SIPDebug (never set here);
	// still, its layers get Info and above only, since any message carries
	// the calling number, which must reach the log only once.
	sipLog := slog.New(minLevel{g.log.Handler(), slog.LevelInfo})
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("Aula"), sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)))
	if err != nil {
		g.closeListeners()
		return nil, fmt.Errorf("sip user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		ua.Close()
		g.closeListeners()
		return nil, fmt.Errorf("sip server: %w", err)
	}
	udpOpts := []sipgo.ClientOption{sipgo.WithClientLogger(sipLog), sipgo.WithClientHostname(host), sipgo.WithClientPort(int(g.addr.Port()))}
	if !g.addr.Addr().IsUnspecified() {
		udpOpts = append(udpOpts, sipgo.WithClientConnectionAddr(g.addr.String()))
	}
	udpClient, err := sipgo.NewClient(ua, udpOpts...)
	if err != nil {
		ua.Close()
		g.closeListeners()
		return nil, fmt.Errorf("sip client: %w", err)
	}
	tcpClient, err := sipgo.NewClient(ua, sipgo.WithClientLogger(sipLog), sipgo.WithClientHostname(host), sipgo.WithClientPort(int(g.addr.Port())))
	if err != nil {
		ua.Close()
		g.closeListeners()
		return nil, fmt.Errorf("sip client: %w", err)
	}
	g.ua, g.srv = ua, srv
	contact := sip.ContactHeader{Address: sip.Uri{User: "aula", Host: host, Port: int(g.addr.Port())}}
	g.dialogs = sipgo.NewDialogServerCache(udpClient, contact)
	tcpContact := contact
	tcpContact.Address.UriParams = sip.NewParams()
	tcpContact.Address.UriParams.Add("transport", "tcp")
	g.tcpDialogs = sipgo.NewDialogServerCache(tcpClient, tcpContact)
	if g.tlsL != nil {
		tlsContact := contact
		tlsContact.Address.Port = g.tlsL.Addr().(*net.TCPAddr).Port
		tlsContact.Address.UriParams = sip.NewParams()
		tlsContact.Address.UriParams.Add("transport", "tls")
		g.tlsDialogs = sipgo.NewDialogServerCache(tcpClient, tlsContact)
	}
	srv.OnInvite(g.onInvite)
	srv.OnAck(g.onAck)
	srv.OnBye(g.onBye)
	srv.OnCancel(g.onCancel)
	srv.OnOptions(g.onOptions)
	srv.OnInfo(g.onInfo)
	srv.OnUpdate(g.onUpdate)
	// Meeting secrets (the HMAC key of caller identities, the withheld
	// counter) die with the meeting.
	mgr.OnEnd(g.secrets.forget)
	return g, nil
}

// listen binds UDP and TCP on the same port (and TLS when configured).
func (g *Gateway) listen() error {
	host, port, _ := net.SplitHostPort(g.cfg.Addr)
	for try := 0; try < 20; try++ {
		udp, err := net.ListenPacket("udp", g.cfg.Addr)
		if err != nil {
			return fmt.Errorf("%w: listen udp %s: %v", ErrConfig, g.cfg.Addr, err)
		}
		ap := udp.LocalAddr().(*net.UDPAddr).AddrPort()
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(int(ap.Port()))))
		if err != nil {
			udp.Close()
			if port == "0" {
				continue // the free UDP port is taken for TCP; pick another
			}
			return fmt.Errorf("%w: listen tcp %s: %v", ErrConfig, g.cfg.Addr, err)
		}
		g.udp, g.tcp = udp, tcp
		g.addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		break
	}
	if g.udp == nil {
		return fmt.Errorf("%w: no common free UDP/TCP port", ErrConfig)
	}
	if g.cfg.TLS != nil {
		l, err := tls.Listen("tcp", g.cfg.TLSAddr, g.cfg.TLS)
		if err != nil {
			g.closeListeners()
			return fmt.Errorf("%w: listen tls %s: %v", ErrConfig, g.cfg.TLSAddr, err)
		}
		g.tlsL = l
	}
	return nil
}

func (g *Gateway) closeListeners() {
	if g.udp != nil {
		g.udp.Close()
	}
	if g.tcp != nil {
		g.tcp.Close()
	}
	if g.tlsL != nil {
		g.tlsL.Close()
	}
}

// Addr is the address SIP is served on (UDP and TCP).
func (g *Gateway) Addr() netip.AddrPort { return g.addr }

// TLSAddr is the TLS listener's address, if any.
func (g *Gateway) TLSAddr() net.Addr {
	if g.tlsL == nil {
		return nil
	}
	return g.tlsL.Addr()
}

// Start serves SIP until ctx ends or Close is called.
func (g *Gateway) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		cancel()
		return ErrClosed
	}
	g.cancel = cancel
	g.mu.Unlock()
	serve := func(name string, f func() error) {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			if err := f(); err != nil && ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				g.log.Warn("sip listener stopped", "transport", name, "err", err)
			}
		}()
	}
	serve("udp", func() error { return g.srv.ServeUDP(g.udp) })
	serve("tcp", func() error { return g.srv.ServeTCP(g.tcp) })
	if g.tlsL != nil {
		serve("tls", func() error { return g.srv.ServeTLS(g.tlsL) })
	}
	go func() {
		<-ctx.Done()
		g.Close()
	}()
	g.log.Info("SIP gateway listening", "addr", g.addr.String(), "language", g.cfg.Language)
	return nil
}

// Close hangs up every call (BYE), stops serving and waits for the calls
// to finish.
func (g *Gateway) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	calls := make([]*call, 0, len(g.calls))
	for _, c := range g.calls {
		calls = append(calls, c)
	}
	cancel := g.cancel
	g.mu.Unlock()
	for _, c := range calls {
		c.hangup()
	}
	done := make(chan struct{})
	go func() {
		for _, c := range calls {
			<-c.done
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		g.log.Warn("calls did not finish in time on close")
	}
	if cancel != nil {
		cancel()
	}
	err := g.srv.Close()
	g.closeListeners()
	g.ua.Close()
	g.wg.Wait()
	return err
}

// Calls is the number of calls in progress.
func (g *Gateway) Calls() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// respond sends a final response to a request outside a dialog.
func (g *Gateway) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		g.log.Debug("respond", "code", code, "err", err)
	}
}

func (g *Gateway) respondErr(req *sip.Request, tx sip.ServerTransaction, err error) {
	if req.IsInvite() {
		g.stats.refused.Add(1)
	}
	code, reason := sipStatus(err)
	g.respond(req, tx, code, reason)
}

func sourceAddr(req *sip.Request) netip.Addr {
	host, _, err := net.SplitHostPort(req.Source())
	if err != nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// admit checks that a request may use the gateway: from a trunk, or with
// valid digest credentials. A 401 challenge is sent here.
func (g *Gateway) admit(req *sip.Request, tx sip.ServerTransaction) error {
	src := sourceAddr(req)
	for _, p := range g.cfg.Trunks {
		if src.IsValid() && p.Contains(src) {
			return nil
		}
	}
	if g.cfg.Username == "" {
		return ErrForbidden
	}
	if err := g.checkDigest(req); err != nil {
		chal := digest.Challenge{Realm: g.cfg.Realm, Nonce: g.newNonce(), Algorithm: "MD5", QOP: []string{"auth"}}
		g.respond(req, tx, 401, "Unauthorized", sip.NewHeader("WWW-Authenticate", chal.String()))
		return err
	}
	return nil
}

// newNonce is a stateless nonce: a timestamp and its HMAC.
func (g *Gateway) newNonce() string {
	ts := strconv.FormatInt(g.cfg.Now().Unix(), 16)
	return ts + "." + g.nonceMAC(ts)
}

func (g *Gateway) nonceMAC(ts string) string {
	m := hmac.New(sha256.New, g.nonce[:])
	m.Write([]byte(ts))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func (g *Gateway) checkDigest(req *sip.Request) error {
	h := req.GetHeader("Authorization")
	if h == nil {
		return ErrUnauthorized
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil {
		return fmt.Errorf("%w: bad Authorization header", ErrUnauthorized)
	}
	ts, mac, ok := strings.Cut(cred.Nonce, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(g.nonceMAC(ts))) {
		return fmt.Errorf("%w: unknown nonce", ErrUnauthorized)
	}
	sec, err := strconv.ParseInt(ts, 16, 64)
	if err != nil || g.cfg.Now().Sub(time.Unix(sec, 0)) > 5*time.Minute {
		return fmt.Errorf("%w: stale nonce", ErrUnauthorized)
	}
	chal := &digest.Challenge{Realm: g.cfg.Realm, Nonce: cred.Nonce, Algorithm: cred.Algorithm, Opaque: cred.Opaque}
	if cred.QOP != "" {
		chal.QOP = []string{cred.QOP}
	}
	want, err := digest.Digest(chal, digest.Options{
		Method: string(req.Method), URI: cred.URI, Username: g.cfg.Username, Password: g.cfg.Password,
		Cnonce: cred.Cnonce, Count: cred.Nc,
	})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnauthorized, err)
	}
	userOK := subtle.ConstantTimeCompare([]byte(cred.Username), []byte(g.cfg.Username)) == 1
	respOK := subtle.ConstantTimeCompare([]byte(cred.Response), []byte(want.Response)) == 1
	if !userOK || !respOK {
		return fmt.Errorf("%w: wrong credentials", ErrUnauthorized)
	}
	return nil
}

func (g *Gateway) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO"))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp, application/dtmf-relay, application/dtmf"))
	if err := tx.Respond(res); err != nil {
		g.log.Debug("respond options", "err", err)
	}
}

// dialogsFor picks the dialog cache of a request's transport.
func (g *Gateway) dialogsFor(req *sip.Request) *sipgo.DialogServerCache {
	switch {
	case strings.EqualFold(req.Transport(), "udp"):
		return g.dialogs
	case strings.EqualFold(req.Transport(), "tls") && g.tlsDialogs != nil:
		return g.tlsDialogs
	}
	return g.tcpDialogs
}

func (g *Gateway) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if err := g.dialogsFor(req).ReadAck(req, tx); err != nil {
		g.log.Debug("ack outside dialog", "err", err)
	}
}

func (g *Gateway) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := g.dialogsFor(req).ReadBye(req, tx); err != nil {
		if errors.Is(err, sipgo.ErrDialogDoesNotExists) {
			g.respond(req, tx, 481, "Call/Transaction Does Not Exist")
			return
		}
		g.log.Debug("bye", "err", err)
	}
}

// onCancel sees only CANCELs that matched no INVITE transaction (sipgo
// answers matching ones itself with 200 and 487).
func (g *Gateway) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	g.respond(req, tx, 481, "Call/Transaction Does Not Exist")
}

// onUpdate answers an in-dialog UPDATE (RFC 3311, used for session-timer
// refreshes) with 200 and keeps the media as it is.
func (g *Gateway) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	if g.callOf(req) == nil {
		g.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	g.respond(req, tx, 200, "OK")
}

// callOf finds the running call of an in-dialog request.
func (g *Gateway) callOf(req *sip.Request) *call {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls[id]
}

func (g *Gateway) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := g.callOf(req)
	if c == nil {
		g.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	d, err := ParseInfoDTMF(ct, req.Body())
	if err != nil {
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/dtmf") {
			g.respond(req, tx, 415, "Unsupported Media Type", sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
			return
		}
		g.respondErr(req, tx, err)
		return
	}
	c.infoDigit(d)
	g.respond(req, tx, 200, "OK")
}

// onInvite answers a call and runs it until it ends.
func (g *Gateway) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if err := g.admit(req, tx); err != nil {
		if errors.Is(err, ErrForbidden) {
			g.respondErr(req, tx, err)
		}
		return
	}
	if c := g.callOf(req); c != nil {
		// A re-INVITE inside a running call (hold, session refresh): keep
		// the media as is and answer with the same SDP.
		c.reinvite(req, tx)
		return
	}
	src := sourceAddr(req)
	digits, withheld := callerNumber(req)
	callerKey := ""
	if !withheld {
		callerKey = g.hasher.sum(digits)
	}
	// Refuse early whoever has used up their PIN attempts.
	if (callerKey != "" && !g.callerLim.allowed(callerKey)) || !g.sourceLim.allowed(src.String()) {
		g.log.Info("call refused: too many failed PIN attempts", "source", src.String())
		g.respondErr(req, tx, ErrRateLimited)
		return
	}
	offer, err := ParseSDP(req.Body())
	if err != nil {
		g.respondErr(req, tx, err)
		return
	}
	cd, dtmf, err := offer.Negotiate()
	if err != nil {
		g.respondErr(req, tx, err)
		return
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		g.respondErr(req, tx, ErrClosed)
		return
	}
	if len(g.calls) >= g.cfg.MaxCalls {
		g.mu.Unlock()
		g.respondErr(req, tx, ErrBusy)
		return
	}
	g.mu.Unlock()
	rc, err := listenRTP(g.cfg.RTPAddr, g.cfg.RTPPortMin, g.cfg.RTPPortMax)
	if err != nil {
		g.log.Warn("no RTP port", "err", err)
		g.respondErr(req, tx, err)
		return
	}
	rc.setRemote(netip.AddrPortFrom(offer.Addr.Unmap(), uint16(offer.Port)), src)
	dlg, err := g.dialogsFor(req).ReadInvite(req, tx)
	if err != nil {
		rc.close()
		g.respond(req, tx, 400, "Bad Request")
		return
	}
	c := newCall(g, dlg, rc, cd, dtmf, src, callerKey, digits, withheld)
	// The one place the full calling number is written: the server log,
	// with the call ID, for operation and fault-finding.
	number := digits
	if withheld {
		number = "withheld"
	}
	c.log.Info("incoming call", "from", number, "source", src.String(), "sip_call_id", req.CallID().Value(), "codec", cd.Name, "rfc4733", dtmf != nil)
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		rc.close()
		dlg.Respond(503, "Service Unavailable", nil)
		return
	}
	g.calls[dlg.ID] = c
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.calls, dlg.ID)
		g.mu.Unlock()
	}()
	ip := g.cfg.PublicIP
	if !ip.IsValid() {
		ip = g.cfg.RTPAddr
	}
	c.answer = answerSDP(ip, rc.port(), uint64(g.cfg.Now().Unix()), cd, dtmf, offer.Direction)
	c.run()
}

// minLevel drops records below a level, whatever the wrapped handler allows.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
