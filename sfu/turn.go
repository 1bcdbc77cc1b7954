package sfu

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pion/turn/v4"
)

// turnServer is the built-in TURN relay. It only relays to this machine's
// own addresses (the SFU), so it can never be abused as an open relay.
type turnServer struct {
	srv     *turn.Server
	udp     []net.PacketConn
	tcp     []net.Listener
	cfg     TURNConfig
	host    string // address announced in ICE server URLs
	port    int
	tlsPort int             // 0: no TURN over TLS
	allow   map[string]bool // peer IPs a client may relay to
	logger  *slog.Logger
}

// turnListenAddrs are the addresses TURN listens on: the one media
// address, or all of IPv4 and, when the machine has it, IPv6 (clients on
// IPv6-only networks reach TURN then; their relays are IPv4 towards the
// SFU all the same).
func turnListenAddrs(cfg Config) []string {
	if cfg.ListenIP != "" && !net.ParseIP(cfg.ListenIP).IsUnspecified() {
		return []string{cfg.ListenIP}
	}
	return []string{"0.0.0.0", "::"}
}

func newTURNServer(cfg Config, log *slog.Logger, media []net.Addr) (*turnServer, error) {
	t := &turnServer{cfg: cfg.TURN, logger: log.With("sub", "turn"), allow: map[string]bool{}}
	ok := false
	defer func() {
		if !ok {
			t.closeSockets()
		}
	}()
	port := cfg.TURN.Port
	for i, ip := range turnListenAddrs(cfg) {
		network := "udp4"
		if net.ParseIP(ip).To4() == nil {
			network = "udp6"
		}
		udp, err := net.ListenPacket(network, net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil && i > 0 {
			// IPv6 besides IPv4: a machine without IPv6 serves IPv4 only.
			t.logger.Info("TURN without IPv6", "err", err)
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sfu: TURN UDP port: %w", err)
		}
		t.udp = append(t.udp, udp)
		port = udp.LocalAddr().(*net.UDPAddr).Port // 0 became a real port
		tcp, err := net.Listen(strings.Replace(network, "udp", "tcp", 1), net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("sfu: TURN TCP port: %w", err)
		}
		t.tcp = append(t.tcp, tcp)
	}
	t.port = port

	relayIP := cfg.PublicIP
	if relayIP == "" && cfg.ListenIP != "" && !net.ParseIP(cfg.ListenIP).IsUnspecified() {
		relayIP = cfg.ListenIP
	}
	if relayIP == "" {
		for _, b := range cfg.BindIPs {
			if net.ParseIP(b).To4() != nil {
				relayIP = b
				break
			}
		}
	}
	if relayIP == "" {
		relayIP = firstHostIP()
	}
	t.host = relayIP
	for _, ip := range localIPs() {
		t.allow[ip] = true
	}
	if cfg.PublicIP != "" {
		t.allow[net.ParseIP(cfg.PublicIP).String()] = true
	}
	ports := map[int]bool{}
	for _, a := range media {
		if u, ok := a.(*net.UDPAddr); ok {
			ports[u.Port] = true
		}
	}
	relayBind := "0.0.0.0"
	if ip := net.ParseIP(cfg.ListenIP); ip != nil && ip.To4() != nil {
		relayBind = cfg.ListenIP
	}
	var base turn.RelayAddressGenerator = &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP(relayIP), Address: relayBind}
	if cfg.TURN.RelayPortMin > 0 {
		base = &turn.RelayAddressGeneratorPortRange{RelayAddress: net.ParseIP(relayIP), Address: relayBind,
			MinPort: uint16(cfg.TURN.RelayPortMin), MaxPort: uint16(cfg.TURN.RelayPortMax)}
	}
	gen := &relayGuard{RelayAddressGenerator: base, ports: ports}
	sc := turn.ServerConfig{Realm: cfg.TURN.Realm, AuthHandler: t.auth, LoggerFactory: pionLogs{t.logger}}
	for _, c := range t.udp {
		sc.PacketConnConfigs = append(sc.PacketConnConfigs, turn.PacketConnConfig{PacketConn: c, RelayAddressGenerator: gen, PermissionHandler: t.permit})
	}
	for _, l := range t.tcp {
		sc.ListenerConfigs = append(sc.ListenerConfigs, turn.ListenerConfig{Listener: l, RelayAddressGenerator: gen, PermissionHandler: t.permit})
	}
	if l := cfg.TURN.TLSListener; l != nil {
		// Closed by the server with the others; the caller gave it away.
		sc.ListenerConfigs = append(sc.ListenerConfigs, turn.ListenerConfig{Listener: l, RelayAddressGenerator: gen, PermissionHandler: t.permit})
		t.tlsPort = cfg.TURN.TLSPort
		if t.tlsPort == 0 {
			if ta, ok := l.Addr().(*net.TCPAddr); ok {
				t.tlsPort = ta.Port
			}
		}
	}
	srv, err := turn.NewServer(sc)
	if err != nil {
		return nil, fmt.Errorf("sfu: TURN server: %w", err)
	}
	t.srv = srv
	ok = true
	return t, nil
}

func (t *turnServer) closeSockets() {
	for _, c := range t.udp {
		_ = c.Close()
	}
	for _, l := range t.tcp {
		_ = l.Close()
	}
	if t.cfg.TLSListener != nil {
		_ = t.cfg.TLSListener.Close()
	}
}

func (t *turnServer) close() error {
	return t.srv.Close()
}

// relayGuard hands out relay sockets that send only to the SFU's media
// port: a TURN client can reach the SFU, never another UDP service of
// the machine (a DNS resolver on loopback, say).
type relayGuard struct {
	turn.RelayAddressGenerator
	ports map[int]bool
}

func (g *relayGuard) AllocatePacketConn(network string, port int) (net.PacketConn, net.Addr, error) {
	c, a, err := g.RelayAddressGenerator.AllocatePacketConn(network, port)
	if err != nil {
		return nil, nil, err
	}
	return &guardedConn{PacketConn: c, ports: g.ports}, a, nil
}

type guardedConn struct {
	net.PacketConn
	ports map[int]bool
}

// WriteTo drops datagrams to any other port, silently as a firewall would.
func (c *guardedConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if u, ok := addr.(*net.UDPAddr); !ok || !c.ports[u.Port] {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, addr)
}

// permit lets clients relay only to the SFU's own addresses.
func (t *turnServer) permit(_ net.Addr, peer net.IP) bool {
	return t.allow[peer.String()]
}

// turnPassword is the TURN REST scheme: base64(HMAC-SHA1(secret, username)).
func turnPassword(secret, username string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// auth checks a "expiry:user" username; the password never reaches us in
// clear, Pion checks the message integrity with the key we return.
func (t *turnServer) auth(username, realm string, _ net.Addr) ([]byte, bool) {
	exp, _, ok := strings.Cut(username, ":")
	if !ok {
		return nil, false
	}
	sec, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || time.Now().Unix() > sec {
		return nil, false
	}
	return turn.GenerateAuthKey(username, realm, turnPassword(t.cfg.Secret, username)), true
}

// ICEServer is what a browser puts in RTCConfiguration.iceServers.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ICEServers returns the built-in TURN server with credentials for one
// participant, valid for TURN.CredentialTTL. host is the name or address
// the client reaches the server by (empty: the announced IP). There is no
// STUN entry: the SFU's own candidates are host candidates, and no
// third-party server is ever named.
func (s *SFU) ICEServers(host, user string) ([]ICEServer, error) {
	if s.turn == nil {
		return nil, ErrTURNDisabled
	}
	if host == "" {
		host = s.turn.host
	}
	ttl := s.cfg.TURN.CredentialTTL
	if ttl == 0 {
		ttl = 12 * time.Hour
	}
	// The user part is only a label; keep it free of the separator.
	user = strings.ReplaceAll(user, ":", "_")
	username := strconv.FormatInt(time.Now().Add(ttl).Unix(), 10) + ":" + user
	hp := net.JoinHostPort(host, strconv.Itoa(s.turn.port))
	urls := []string{"turn:" + hp + "?transport=udp", "turn:" + hp + "?transport=tcp"}
	if s.turn.tlsPort != 0 {
		// Browsers check the certificate against host: a name it covers.
		urls = append(urls, "turns:"+net.JoinHostPort(host, strconv.Itoa(s.turn.tlsPort))+"?transport=tcp")
	}
	return []ICEServer{{
		URLs:       urls,
		Username:   username,
		Credential: turnPassword(s.cfg.TURN.Secret, username),
	}}, nil
}

// TURNAddr returns the TURN server's UDP address, or nil when off.
func (s *SFU) TURNAddr() net.Addr {
	if s.turn == nil {
		return nil
	}
	return s.turn.udp[0].LocalAddr()
}

// TURNAddrs returns every TURN socket's address (UDP, TCP, TLS), or nil
// when off.
func (s *SFU) TURNAddrs() []net.Addr {
	if s.turn == nil {
		return nil
	}
	var out []net.Addr
	for _, c := range s.turn.udp {
		out = append(out, c.LocalAddr())
	}
	for _, l := range s.turn.tcp {
		out = append(out, l.Addr())
	}
	if l := s.turn.cfg.TLSListener; l != nil {
		out = append(out, l.Addr())
	}
	return out
}

func localIPs() []string {
	var out []string
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP.String())
		}
	}
	return out
}

func firstHostIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	return "127.0.0.1"
}
