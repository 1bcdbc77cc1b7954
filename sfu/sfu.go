package sfu

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// SFU is the media server of one Aula node: one UDP port (and one ICE-TCP
// port) for every room, an optional built-in TURN server, and the rooms.
type SFU struct {
	cfg     Config
	log     *slog.Logger
	pubAPI  *webrtc.API // publish PCs: we answer, receive, send TWCC feedback
	subAPI  *webrtc.API // subscribe PCs: we offer, send, read REMB
	udpMux  ice.UDPMux
	tcpMux  ice.TCPMux
	tcpLn   net.Listener
	udpConn net.PacketConn // only when ListenIP is one address
	turn    *turnServer
	stats   counters

	mu     sync.Mutex
	rooms  map[string]*Room     // open rooms; only OpenRoom adds
	ended  map[string]time.Time // closed keys, never opened again; by closing time
	pruned time.Time            // when ended was last pruned
	closed bool
}

// New starts the SFU's sockets (and the TURN server when enabled).
func New(cfg Config) (*SFU, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log = log.With("component", "sfu")
	if cfg.ListenIP == "" && len(cfg.BindIPs) == 1 {
		cfg.ListenIP, cfg.BindIPs = cfg.BindIPs[0], nil
	}
	if ip := net.ParseIP(cfg.ListenIP); ip != nil && ip.IsLoopback() {
		cfg.IncludeLoopback = true // nothing else could reach it
	}
	if cfg.ListenIP != "" {
		cfg.BindIPs = nil
	}
	for _, b := range cfg.BindIPs {
		if net.ParseIP(b).IsLoopback() {
			cfg.IncludeLoopback = true // asked for by name
		}
	}
	s := &SFU{cfg: cfg, log: log, rooms: map[string]*Room{}, ended: map[string]time.Time{}}
	if err := s.listen(); err != nil {
		s.closeSockets()
		return nil, err
	}
	if err := s.buildAPIs(); err != nil {
		s.closeSockets()
		return nil, err
	}
	if cfg.TURN.Enabled {
		t, err := newTURNServer(cfg, log, s.UDPAddrs())
		if err != nil {
			s.closeSockets()
			return nil, err
		}
		s.turn = t
	}
	return s, nil
}

func (s *SFU) listen() error {
	plog := pionLogs{s.log}.NewLogger("mux")
	ip := net.ParseIP(s.cfg.ListenIP)
	if s.cfg.net != nil {
		c, err := s.cfg.net.ListenUDP("udp4", &net.UDPAddr{IP: ip, Port: s.cfg.UDPPort})
		if err != nil {
			return fmt.Errorf("sfu: media UDP port: %w", err)
		}
		s.udpConn = c
		s.udpMux = webrtc.NewICEUDPMux(plog, c)
		return nil
	}
	if ip != nil && !ip.IsUnspecified() {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: s.cfg.UDPPort})
		if err != nil {
			return fmt.Errorf("sfu: media UDP port: %w", err)
		}
		s.udpConn = c
		s.udpMux = webrtc.NewICEUDPMux(plog, c)
	} else {
		// One socket per interface address (or per bind address), never
		// the wildcard: a reply must leave from the address the browser
		// sent to, which a wildcard socket does not ensure on a machine
		// with several addresses.
		opts := []ice.UDPMuxFromPortOption{ice.UDPMuxFromPortWithLogger(plog)}
		if s.cfg.IncludeLoopback {
			opts = append(opts, ice.UDPMuxFromPortWithLoopback())
		}
		if len(s.cfg.BindIPs) > 0 {
			opts = append(opts, ice.UDPMuxFromPortWithIPFilter(s.bound))
		}
		m, err := ice.NewMultiUDPMuxFromPort(s.cfg.UDPPort, opts...)
		if err != nil {
			return fmt.Errorf("sfu: media UDP port: %w", err)
		}
		s.udpMux = m
		if err := s.checkBound(m.GetListenAddresses()); err != nil {
			return err
		}
	}
	if s.cfg.ICETCPPort >= 0 {
		addr := &net.TCPAddr{Port: s.cfg.ICETCPPort}
		if ip != nil {
			addr.IP = ip
		}
		ln, err := net.ListenTCP("tcp", addr)
		if err != nil {
			return fmt.Errorf("sfu: ICE-TCP port: %w", err)
		}
		s.tcpLn = ln
		s.tcpMux = webrtc.NewICETCPMux(plog, ln, 64)
	}
	return nil
}

// bound reports whether ip is one of BindIPs (all are, without BindIPs).
func (s *SFU) bound(ip net.IP) bool {
	if len(s.cfg.BindIPs) == 0 {
		return true
	}
	for _, b := range s.cfg.BindIPs {
		if net.ParseIP(b).Equal(ip) {
			return true
		}
	}
	return false
}

// checkBound fails when a bind address got no socket: it is not an
// address of this machine (or its interface is down).
func (s *SFU) checkBound(addrs []net.Addr) error {
	var missing []string
	for _, b := range s.cfg.BindIPs {
		found := false
		for _, a := range addrs {
			if u, ok := a.(*net.UDPAddr); ok && u.IP.Equal(net.ParseIP(b)) {
				found = true
			}
		}
		if !found {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: BindIPs: %v are not addresses of an interface of this machine", ErrInvalidConfig, missing)
	}
	return nil
}

func (s *SFU) settingEngine() (webrtc.SettingEngine, error) {
	var se webrtc.SettingEngine
	se.LoggerFactory = pionLogs{s.log}
	// AES-GCM first: about a fifth of the CPU of AES-CM+HMAC per packet.
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(s.cfg.IncludeLoopback)
	se.SetICEUDPMux(s.udpMux)
	if len(s.cfg.BindIPs) > 0 {
		// ICE-TCP listens on all addresses then: offer it on the bind
		// addresses only.
		se.SetIPFilter(s.bound)
	}
	if s.cfg.net != nil {
		se.SetNet(s.cfg.net)
	}
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if s.tcpMux != nil {
		se.SetICETCPMux(s.tcpMux)
		networks = append(networks, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(networks)
	// Relayed pairs are the last resort; the default 2 s wait before
	// nominating one makes TURN users wait that long for media.
	se.SetRelayAcceptanceMinWait(500 * time.Millisecond)
	// We only accept TCP connections, never dial out.
	se.DisableActiveTCP(true)
	if s.cfg.PublicIP != "" {
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        []string{s.cfg.PublicIP},
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		})
		if err != nil {
			return se, fmt.Errorf("%w: PublicIP: %v", ErrInvalidConfig, err)
		}
	}
	return se, nil
}

// Payload types are fixed so every PeerConnection of the server agrees.
const (
	ptOpus    = 111
	ptVP8     = 96
	ptH264    = 102
	ptH264Alt = 125
)

func mediaEngine(publish bool) (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	videoFB := []webrtc.RTCPFeedback{{Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	var audioFB []webrtc.RTCPFeedback
	if publish {
		// Publishers estimate their uplink from our TWCC feedback.
		videoFB = append(videoFB, webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC})
		audioFB = []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}}
	} else {
		// Subscribers send REMB: it costs nothing on our send path.
		videoFB = append(videoFB, webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBGoogREMB})
	}
	codecs := []struct {
		c webrtc.RTPCodecParameters
		t webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1;usedtx=1", RTCPFeedback: audioFB}, PayloadType: ptOpus}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB}, PayloadType: ptVP8}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", RTCPFeedback: videoFB}, PayloadType: ptH264}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f", RTCPFeedback: videoFB}, PayloadType: ptH264Alt}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.c, c.t); err != nil {
			return nil, err
		}
	}
	exts := []struct {
		uri string
		t   webrtc.RTPCodecType
	}{
		{sdp.SDESMidURI, webrtc.RTPCodecTypeAudio},
		{sdp.SDESMidURI, webrtc.RTPCodecTypeVideo},
		{sdp.AudioLevelURI, webrtc.RTPCodecTypeAudio},
	}
	if publish {
		exts = append(exts,
			struct {
				uri string
				t   webrtc.RTPCodecType
			}{sdp.SDESRTPStreamIDURI, webrtc.RTPCodecTypeVideo},
			struct {
				uri string
				t   webrtc.RTPCodecType
			}{sdp.TransportCCURI, webrtc.RTPCodecTypeVideo},
			struct {
				uri string
				t   webrtc.RTPCodecType
			}{sdp.TransportCCURI, webrtc.RTPCodecTypeAudio},
		)
	}
	for _, e := range exts {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: e.uri}, e.t); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (s *SFU) buildAPIs() error {
	se, err := s.settingEngine()
	if err != nil {
		return err
	}
	pm, err := mediaEngine(true)
	if err != nil {
		return err
	}
	pir := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return err
	}
	pir.Add(gen)
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return err
	}
	pir.Add(rr)
	tw, err := twcc.NewSenderInterceptor()
	if err != nil {
		return err
	}
	pir.Add(tw)
	s.pubAPI = webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(pm), webrtc.WithInterceptorRegistry(pir))

	sm, err := mediaEngine(false)
	if err != nil {
		return err
	}
	sir := &interceptor.Registry{}
	sr, err := report.NewSenderInterceptor()
	if err != nil {
		return err
	}
	sir.Add(sr)
	// No NACK responder interceptor: down tracks answer NACKs from the up
	// track's packet cache, which holds each packet once for all.
	s.subAPI = webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(sm), webrtc.WithInterceptorRegistry(sir))
	return nil
}

// UDPAddrs returns the local addresses of the media UDP port.
func (s *SFU) UDPAddrs() []net.Addr {
	if s.udpMux == nil {
		return nil
	}
	return s.udpMux.GetListenAddresses()
}

// TCPAddr returns the ICE-TCP listener's address, or nil when off.
func (s *SFU) TCPAddr() net.Addr {
	if s.tcpLn == nil {
		return nil
	}
	return s.tcpLn.Addr()
}

// closedKeyMemory is how long the SFU remembers a closed room's key to
// refuse opening it again. Keys are unique per conference incarnation, so
// a later OpenRoom is always a straggler (a media message or a phone call
// racing the end); hours cover any straggler while bounding the memory.
const closedKeyMemory = 6 * time.Hour

// OpenRoom opens the media room of a conference incarnation; the room
// lifecycle calls it (and CloseRoom when the conference ends), media
// messages only look rooms up (Room). Opening an open room returns it. A
// key that was closed before is refused with ErrClosed, so that a message
// racing the end of a conference cannot bring its room back (and leak its
// goroutines); so is every key after Close.
func (s *SFU) OpenRoom(key string) (*Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if r, ok := s.rooms[key]; ok {
		return r, nil
	}
	if _, ok := s.ended[key]; ok {
		return nil, fmt.Errorf("%w: room %q was closed", ErrClosed, key)
	}
	r := newRoom(s, key)
	s.rooms[key] = r
	return r, nil
}

// Room returns the open media room with this key. It never creates one:
// a key that was never opened gives ErrNoRoom, a closed one (or any key
// after Close) an error that is both ErrNoRoom and ErrClosed.
func (s *SFU) Room(key string) (*Room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.rooms[key]; ok {
		return r, nil
	}
	if _, ok := s.ended[key]; ok || s.closed {
		return nil, fmt.Errorf("%w: %w: %q", ErrNoRoom, ErrClosed, key)
	}
	return nil, fmt.Errorf("%w: %q", ErrNoRoom, key)
}

// CloseRoom closes every peer of the room and waits for its goroutines;
// from then on OpenRoom refuses the key and Room does not find it. The
// room lifecycle calls it when a conference ends, also for a key that
// was never opened (nobody had media yet), so that a late OpenRoom
// still fails.
func (s *SFU) CloseRoom(key string) {
	s.mu.Lock()
	r := s.rooms[key]
	delete(s.rooms, key)
	s.forget(key)
	s.mu.Unlock()
	if r != nil {
		r.close()
	}
}

// forget marks key as closed for good and prunes expired marks, at most
// once a minute so that CloseRoom stays cheap. Called with s.mu held.
func (s *SFU) forget(key string) {
	t := time.Now()
	if s.ended == nil {
		s.ended = map[string]time.Time{}
	}
	s.ended[key] = t
	if t.Sub(s.pruned) < time.Minute {
		return
	}
	s.pruned = t
	for k, at := range s.ended {
		if t.Sub(at) > closedKeyMemory {
			delete(s.ended, k)
		}
	}
}

// Close closes every room, the TURN server and the media sockets.
func (s *SFU) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	rooms := s.rooms
	s.rooms = map[string]*Room{}
	s.mu.Unlock()
	for _, r := range rooms {
		r.close()
	}
	var errs []error
	if s.turn != nil {
		errs = append(errs, s.turn.close())
	}
	errs = append(errs, s.closeSockets())
	return errors.Join(errs...)
}

// negotiationTimeout is the configured NegotiationTimeout or its default.
func (s *SFU) negotiationTimeout() time.Duration {
	if s.cfg.NegotiationTimeout > 0 {
		return s.cfg.NegotiationTimeout
	}
	return DefaultNegotiationTimeout
}

// echoTimeout is the configured EchoTimeout or its default.
func (s *SFU) echoTimeout() time.Duration {
	if s.cfg.EchoTimeout > 0 {
		return s.cfg.EchoTimeout
	}
	return DefaultEchoTimeout
}

func (s *SFU) closeSockets() error {
	var errs []error
	if s.udpMux != nil {
		errs = append(errs, s.udpMux.Close())
	}
	if s.udpConn != nil {
		_ = s.udpConn.Close() // closed by the mux already; be sure
	}
	if s.tcpMux != nil {
		errs = append(errs, s.tcpMux.Close())
	}
	if s.tcpLn != nil {
		_ = s.tcpLn.Close()
	}
	return errors.Join(errs...)
}

// Stats returns the node-wide counters (for metrics and tests).
func (s *SFU) Stats() Stats { return s.stats.snapshot() }
