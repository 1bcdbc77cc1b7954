package sfu

import (
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"aula/internal/testenv"
)

// Test harness: in-process Pion clients that publish synthetic Opus and
// VP8 (optionally simulcast) through the SFU on loopback and record what
// they receive.

func testLogger() *slog.Logger {
	if os.Getenv("AULA_TEST_SFU_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newTestSFU(t *testing.T, mod ...func(*Config)) *SFU {
	t.Helper()
	cfg := Config{ListenIP: "127.0.0.1", IncludeLoopback: true, Logger: testLogger()}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(); onTimeout = nil })
	return s
}

// openRoom opens a room as the room lifecycle does.
func openRoom(t *testing.T, s *SFU, key string) *Room {
	t.Helper()
	r, err := s.OpenRoom(key)
	if err != nil {
		t.Fatalf("OpenRoom %s: %v", key, err)
	}
	return r
}

// onTimeout, when set by a test, dumps state before eventually fails.
var onTimeout func()

// eventually polls cond until it holds or 8 s passed.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if onTimeout != nil {
		testenv.Eventually(t, 8*time.Second, what, cond, onTimeout)
		return
	}
	testenv.Eventually(t, 8*time.Second, what, cond)
}

type clientOpts struct {
	policy   Policy
	registry func(*interceptor.Registry) // extra interceptors, added first
	settings func(*webrtc.SettingEngine)
	config   webrtc.Configuration
	ignore   int // subscribe offers to leave unanswered first (a lost message)
}

func clientAPI(t *testing.T, o clientOpts) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{sdp.SDESMidURI, sdp.AudioLevelURI} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	ir := &interceptor.Registry{}
	if o.registry != nil {
		o.registry(ir)
	}
	if err := webrtc.ConfigureNack(m, ir); err != nil {
		t.Fatal(err)
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if o.settings != nil {
		o.settings(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
}

type recvTrack struct {
	mu       sync.Mutex
	info     TrackInfo
	seqs     []uint16
	lastByte []byte // last payload byte per packet (the layer for video)
	packets  atomic.Int64
}

func (r *recvTrack) snapshot() ([]uint16, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uint16(nil), r.seqs...), append([]byte(nil), r.lastByte...)
}

type testClient struct {
	t        *testing.T
	id       string
	peer     *Peer
	pub, sub *webrtc.PeerConnection
	offers   chan Signal
	ignore   int // owned by answerLoop
	quit     chan struct{}
	wg       sync.WaitGroup

	mu      sync.Mutex
	infos   map[string]TrackInfo // by mid, from the latest offer
	recv    map[string]*recvTrack
	byMid   map[string]*atomic.Int64 // every packet per m-line, announced or not
	tracks  []*pubTrack
	offered atomic.Int64
}

func newClient(t *testing.T, r *Room, id string, o clientOpts) *testClient {
	t.Helper()
	peer, err := r.Join(id, o.policy)
	if err != nil {
		t.Fatalf("Join %s: %v", id, err)
	}
	api := clientAPI(t, o)
	c := &testClient{t: t, id: id, peer: peer, offers: make(chan Signal, 16), ignore: o.ignore, quit: make(chan struct{}),
		infos: map[string]TrackInfo{}, recv: map[string]*recvTrack{}, byMid: map[string]*atomic.Int64{}}
	if c.pub, err = api.NewPeerConnection(o.config); err != nil {
		t.Fatal(err)
	}
	if c.sub, err = api.NewPeerConnection(o.config); err != nil {
		t.Fatal(err)
	}
	c.sub.OnTrack(c.onTrack)
	peer.OnSignal(func(s Signal) { c.offers <- s })
	c.wg.Add(1)
	go c.answerLoop()
	t.Cleanup(c.close)
	return c
}

func (c *testClient) answerLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.quit:
			return
		case s := <-c.offers:
			if c.ignore > 0 {
				c.ignore--
				continue
			}
			if err := c.answer(s); err != nil {
				c.t.Errorf("%s: answering offer: %v", c.id, err)
			}
		}
	}
}

func (c *testClient) answer(s Signal) error {
	if err := c.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: s.SDP}); err != nil {
		return err
	}
	c.mu.Lock()
	c.infos = map[string]TrackInfo{}
	for _, ti := range s.Tracks {
		c.infos[ti.MID] = ti
		if c.recv[ti.TrackID] == nil {
			c.recv[ti.TrackID] = &recvTrack{info: ti}
		}
	}
	c.mu.Unlock()
	ans, err := c.sub.CreateAnswer(nil)
	if err != nil {
		return err
	}
	g := webrtc.GatheringCompletePromise(c.sub)
	if err := c.sub.SetLocalDescription(ans); err != nil {
		return err
	}
	<-g
	c.offered.Add(1)
	return c.peer.HandleAnswer(c.sub.LocalDescription().SDP)
}

func (c *testClient) onTrack(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	mid := ""
	for _, x := range c.sub.GetTransceivers() {
		if x.Receiver() == recv {
			mid = x.Mid()
		}
	}
	all := c.midCounter(mid)
	for {
		p, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		all.Add(1)
		c.mu.Lock()
		r := c.recv[c.infos[mid].TrackID]
		c.mu.Unlock()
		if r == nil {
			continue
		}
		r.mu.Lock()
		r.seqs = append(r.seqs, p.SequenceNumber)
		if len(p.Payload) > 0 {
			r.lastByte = append(r.lastByte, p.Payload[len(p.Payload)-1])
		}
		r.mu.Unlock()
		r.packets.Add(1)
	}
}

// midCounter counts every packet arriving on an m-line, also after the
// latest offer stopped announcing it (which received cannot see).
func (c *testClient) midCounter(mid string) *atomic.Int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.byMid[mid]
	if n == nil {
		n = &atomic.Int64{}
		c.byMid[mid] = n
	}
	return n
}

// received returns what arrived of the publisher's track of this kind.
func (c *testClient) received(pubID string, k TrackKind) *recvTrack {
	c.mu.Lock()
	defer c.mu.Unlock()
	var last *recvTrack
	for _, r := range c.recv {
		if r.info.ParticipantID == pubID && r.info.Kind == k {
			if last == nil || r.info.TrackID > last.info.TrackID {
				last = r
			}
		}
	}
	return last
}

// offeredKinds lists what the latest subscribe offer carries.
func (c *testClient) offeredKinds(pubID string) map[TrackKind]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[TrackKind]bool{}
	for _, ti := range c.infos {
		if ti.ParticipantID == pubID {
			out[ti.Kind] = true
		}
	}
	return out
}

func (c *testClient) close() {
	select {
	case <-c.quit:
		return
	default:
	}
	for _, p := range c.tracks {
		p.stopSending()
	}
	close(c.quit)
	c.wg.Wait()
	_ = c.pub.GracefulClose()
	_ = c.sub.GracefulClose()
	c.peer.Close()
}

type pubOpts struct {
	kind      TrackKind
	simulcast bool
	level     bool // send the RFC 6464 audio level extension
	h264      bool // video as H.264 instead of VP8
}

// pubTrack sends synthetic media: Opus-sized audio packets, or VP8 frames
// of one packet each, keyframes on start and on PLI. The last payload byte
// names the simulcast layer.
type pubTrack struct {
	c       *testClient
	o       pubOpts
	rids    []string
	tracks  []*webrtc.TrackLocalStaticRTP
	sender  *webrtc.RTPSender
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
	keyReq  [3]atomic.Bool
	plis    [3]atomic.Int64
	sent    [3]atomic.Int64
	level   atomic.Int32 // audio level to send (0 loud .. 127 silent)
	extIDs  map[string]uint8
	mid     string
}

func (c *testClient) publish(o pubOpts) *pubTrack {
	c.t.Helper()
	p := &pubTrack{c: c, o: o, stop: make(chan struct{}), extIDs: map[string]uint8{}}
	p.level.Store(127)
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	if o.kind == KindMic {
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	} else if o.h264 {
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
	}
	id := o.kind.String() + "-" + c.id
	p.rids = []string{""}
	if o.simulcast {
		p.rids = []string{"q", "h", "f"}
	}
	for _, rid := range p.rids {
		var opts []func(*webrtc.TrackLocalStaticRTP)
		if rid != "" {
			opts = append(opts, webrtc.WithRTPStreamID(rid))
		}
		tr, err := webrtc.NewTrackLocalStaticRTP(codec, id, "stream-"+c.id, opts...)
		if err != nil {
			c.t.Fatal(err)
		}
		p.tracks = append(p.tracks, tr)
	}
	var err error
	if p.sender, err = c.pub.AddTrack(p.tracks[0]); err != nil {
		c.t.Fatal(err)
	}
	for _, tr := range p.tracks[1:] {
		if err := p.sender.AddEncoding(tr); err != nil {
			c.t.Fatal(err)
		}
	}
	c.mu.Lock()
	c.tracks = append(c.tracks, p)
	c.mu.Unlock()
	c.negotiatePub()
	for _, x := range c.pub.GetTransceivers() {
		if x.Sender() == p.sender {
			p.mid = x.Mid()
		}
	}
	for _, e := range p.sender.GetParameters().HeaderExtensions {
		p.extIDs[e.URI] = uint8(e.ID)
	}
	for i, rid := range p.rids {
		p.wg.Add(1)
		go p.readRTCP(i, rid) // ends when the PeerConnection closes
		go p.send(i)
	}
	return p
}

func (c *testClient) negotiatePub() {
	c.t.Helper()
	offer, err := c.pub.CreateOffer(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(c.pub)
	if err := c.pub.SetLocalDescription(offer); err != nil {
		c.t.Fatal(err)
	}
	<-g
	kinds := map[string]TrackKind{}
	c.mu.Lock()
	for _, p := range c.tracks {
		kinds[p.o.kind.String()+"-"+c.id] = p.o.kind
	}
	c.mu.Unlock()
	answer, err := c.peer.HandleOffer(c.pub.LocalDescription().SDP, kinds)
	if err != nil {
		c.t.Fatalf("HandleOffer: %v", err)
	}
	if err := c.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		c.t.Fatal(err)
	}
}

// unpublish stops the track as a browser does when the camera is turned
// off: remove it and renegotiate.
func (p *pubTrack) unpublish() {
	p.stopSending()
	if err := p.c.pub.RemoveTrack(p.sender); err != nil {
		p.c.t.Fatal(err)
	}
	p.c.mu.Lock()
	for i, x := range p.c.tracks {
		if x == p {
			p.c.tracks = append(p.c.tracks[:i], p.c.tracks[i+1:]...)
			break
		}
	}
	p.c.mu.Unlock()
	p.c.negotiatePub()
}

func (p *pubTrack) stopSending() {
	p.stopped.Do(func() { close(p.stop) })
	p.wg.Wait()
}

func (p *pubTrack) readRTCP(i int, rid string) {
	for {
		var pkts []rtcp.Packet
		var err error
		if rid == "" {
			pkts, _, err = p.sender.ReadRTCP()
		} else {
			pkts, _, err = p.sender.ReadSimulcastRTCP(rid)
		}
		if err != nil {
			return
		}
		select {
		case <-p.stop:
			return
		default:
		}
		for _, pk := range pkts {
			switch pk.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.plis[i].Add(1)
				p.keyReq[i].Store(true)
			}
		}
	}
}

func (p *pubTrack) send(i int) {
	defer p.wg.Done()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var seq uint16 = uint16(1000 * (i + 1))
	var ts uint32
	frame := 0
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: true}}
		if p.o.kind == KindMic {
			pkt.Payload = make([]byte, 40)
			pkt.Payload[0] = 0xfc
			ts += 240
			if p.o.level {
				_ = pkt.Header.SetExtension(p.extIDs[sdp.AudioLevelURI], []byte{byte(p.level.Load())})
			}
		} else {
			key := frame%200 == 0 || p.keyReq[i].Swap(false)
			pkt.Payload = vp8Frame(key, 320<<i, 180<<i, byte(i))
			if p.o.h264 {
				pkt.Payload = []byte{0x41, 0x9a, 0, byte(i)} // non-IDR slice
				if key {
					pkt.Payload = []byte{0x65, 0x88, 0, byte(i)} // IDR slice
				}
			}
			ts += 450
		}
		if p.rids[i] != "" {
			_ = pkt.Header.SetExtension(p.extIDs[sdp.SDESMidURI], []byte(p.mid))
			_ = pkt.Header.SetExtension(p.extIDs[sdp.SDESRTPStreamIDURI], []byte(p.rids[i]))
		}
		if err := p.tracks[i].WriteRTP(pkt); err != nil {
			continue // not connected yet: try the next packet
		}
		p.sent[i].Add(1)
		seq++
		frame++
	}
}

// vp8Frame builds a one-packet VP8 frame whose last byte is mark.
func vp8Frame(key bool, w, h int, mark byte) []byte {
	if key {
		return []byte{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w >> 8), byte(h), byte(h >> 8), 0, 0, 0, mark}
	}
	return []byte{0x10, 0x01, 0x00, 0x00, 0, 0, 0, 0, mark}
}

// dump logs what the SFU and the clients saw, when a wait times out.
func dump(t *testing.T, s *SFU, cs ...*testClient) {
	t.Logf("sfu stats: %+v", s.Stats())
	for _, c := range cs {
		c.mu.Lock()
		t.Logf("%s infos=%+v", c.id, c.infos)
		for id, r := range c.recv {
			t.Logf("%s recv %s: %d", c.id, id, r.packets.Load())
		}
		c.mu.Unlock()
		t.Logf("%s peer stats %+v", c.id, c.peer.Stats())
	}
}
