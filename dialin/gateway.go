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
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"aula/room"
)

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

	secrets *secrets
	hasher  *callerHasher
	adm     *admission
	streams *streamGuard
	refused *logGate // of the "call refused" lines
	stats   counters

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
		secrets: newSecrets(), hasher: newCallerHasher(), adm: newAdmission(&cfg), refused: newLogGate(),
		calls: map[string]*call{},
	}
	g.streams = newStreamGuard(&g.cfg, g.log, &g.stats)
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
	srv.OnInvite(g.sip20(g.onInvite))
	srv.OnAck(g.sip20(g.onAck))
	srv.OnBye(g.sip20(g.onBye))
	srv.OnCancel(g.sip20(g.onCancel))
	srv.OnOptions(g.sip20(g.onOptions))
	srv.OnInfo(g.sip20(g.onInfo))
	srv.OnUpdate(g.sip20(g.onUpdate))
	srv.OnNoRoute(g.sip20(g.onNoRoute))
	// Every whole message on a TCP or TLS connection resets its timeouts.
	ua.TransportLayer().OnMessage(g.streams.onMessage)
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
		// Plain TCP here: the stream guard counts connections below TLS
		// and puts TLS on top (streamGuard.listener).
		l, err := net.Listen("tcp", g.cfg.TLSAddr)
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
	serve("tcp", func() error { return g.srv.ServeTCP(g.streams.listener(g.tcp, "TCP", nil)) })
	if g.tlsL != nil {
		serve("tls", func() error { return g.srv.ServeTLS(g.streams.listener(g.tlsL, "TLS", g.cfg.TLS)) })
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
	var hdrs []sip.Header
	if errors.Is(err, ErrBusy) || errors.Is(err, ErrTooManyPending) {
		// A place frees up when a call ends or a caller gets in.
		hdrs = append(hdrs, sip.NewHeader("Retry-After", strconv.Itoa(retryAfter)))
	}
	g.respond(req, tx, code, reason, hdrs...)
}

// retryAfter is the Retry-After (seconds) of a call refused for a cap.
const retryAfter = 10

// refuse turns an INVITE away with the status of err and logs why.
func (g *Gateway) refuse(req *sip.Request, tx sip.ServerTransaction, err error) {
	g.logRefusal(req, err)
	g.respondErr(req, tx, err)
}

// logRefusal logs a refused call with its source and the reason (errors
// never carry a calling number or a PIN). A flood of refusals logs a few
// lines a second and counts the rest.
func (g *Gateway) logRefusal(req *sip.Request, err error) {
	ok, held := g.refused.allow()
	if !ok {
		return
	}
	attrs := []any{"source", sourceAddr(req).String(), "transport", req.Transport(), "reason", err}
	if held > 0 {
		attrs = append(attrs, "not_logged_before", held)
	}
	g.log.Info("call refused", attrs...)
}

// sip20 answers a request of another SIP version than 2.0 with 505 before
// h sees it (an ACK gets no answer). The version is case-insensitive
// (RFC 3261 §7.1).
func (g *Gateway) sip20(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if strings.EqualFold(req.SipVersion, "SIP/2.0") {
			h(req, tx)
			return
		}
		err := fmt.Errorf("%w: %.16q", ErrVersion, req.SipVersion)
		if req.IsAck() {
			return
		}
		if req.IsInvite() {
			g.logRefusal(req, err)
			g.stats.refused.Add(1)
		}
		code, reason := sipStatus(err)
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		res.SipVersion = "SIP/2.0" // ours, not the one refused
		if err := tx.Respond(res); err != nil {
			g.log.Debug("respond", "code", code, "err", err)
		}
	}
}

// onNoRoute answers a method the gateway does not handle (REGISTER,
// MESSAGE, SUBSCRIBE …) with 405 and the methods it does.
func (g *Gateway) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	if req.IsAck() {
		return
	}
	g.respond(req, tx, 405, "Method Not Allowed", sip.NewHeader("Allow", allowed))
}

// allowed are the methods the gateway answers.
const allowed = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE"

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
	res.AppendHeader(sip.NewHeader("Allow", allowed))
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
		switch {
		case errors.Is(err, ErrForbidden):
			g.refuse(req, tx, err)
		case req.GetHeader("Authorization") != nil:
			// Challenged again (401 sent): wrong or stale credentials. A
			// first INVITE without any is the normal digest round.
			g.logRefusal(req, err)
			g.stats.refused.Add(1)
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
	// Refuse early whoever could not have a single PIN checked.
	if err := g.adm.mayCall(src, callerKey); err != nil {
		g.refuse(req, tx, err)
		return
	}
	offer, err := ParseSDP(req.Body())
	if err != nil {
		g.refuse(req, tx, err)
		return
	}
	cd, dtmf, err := offer.Negotiate()
	if err != nil {
		g.refuse(req, tx, err)
		return
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		g.refuse(req, tx, ErrClosed)
		return
	}
	if len(g.calls) >= g.cfg.MaxCalls {
		g.mu.Unlock()
		g.refuse(req, tx, ErrBusy)
		return
	}
	g.mu.Unlock()
	leavePending, err := g.adm.enter(src)
	if err != nil {
		g.refuse(req, tx, err)
		return
	}
	defer leavePending()
	rc, err := listenRTP(g.cfg.RTPAddr, g.cfg.RTPPortMin, g.cfg.RTPPortMax)
	if err != nil {
		g.log.Warn("no RTP port", "err", err)
		g.refuse(req, tx, err)
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
	c.leavePending = leavePending
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
	// A call over TCP or TLS keeps its connection open past the idle
	// timeout: requests of its dialog come back on it.
	defer g.streams.hold(req.Transport(), req.Source())()
	// Forgotten before the call reports done, so that Close, which waits
	// for done, finds no call left.
	c.onEnd = func() {
		g.mu.Lock()
		delete(g.calls, dlg.ID)
		g.mu.Unlock()
	}
	ip := g.cfg.PublicIP
	if !ip.IsValid() {
		ip = g.cfg.RTPAddr
	}
	c.answer = answerSDP(ip, rc.port(), uint64(g.cfg.Now().Unix()), cd, dtmf, offer.Direction, offer.Media, offer.Stream)
	c.run()
}
