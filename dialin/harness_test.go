package dialin

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/thesyncim/gopus"

	"aula/room"
	"aula/store"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a gateway on loopback over a real room.Manager with the memory
// store and the in-process LoopHub as media.
type env struct {
	t     *testing.T
	store *store.Memory
	mgr   *room.Manager
	hub   *LoopHub
	gw    *Gateway
	log   *syncBuffer
}

func newEnv(t *testing.T, mut func(*Config)) *env {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st := store.NewMemory(nil)
	mgr := room.NewManager(room.Config{Logger: log}, st, nil)
	hub := NewLoopHub()
	cfg := Config{
		Addr: "127.0.0.1:0", RTPPortMin: 30000, RTPPortMax: 39999,
		PINAnswerTime: 20 * time.Millisecond, PINTimeout: 3 * time.Second,
	}
	if mut != nil {
		mut(&cfg)
	}
	gw, err := New(cfg, mgr, hub.Open, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return &env{t: t, store: st, mgr: mgr, hub: hub, gw: gw, log: logs}
}

// meeting creates a meeting with pin; started makes a moderator attach so
// that it runs. It returns the meeting and the moderator's events.
func (e *env) meeting(id, pin string, started bool) (*room.Meeting, *room.Member, *eventLog) {
	e.t.Helper()
	ctx := context.Background()
	mt, _, err := e.mgr.Create(ctx, room.Settings{MeetingID: id, Name: id, PIN: pin})
	if err != nil {
		e.t.Fatal(err)
	}
	evs := &eventLog{}
	if !started {
		return mt, nil, evs
	}
	return mt, e.moderator(mt.Key, evs), evs
}

func (e *env) moderator(key string, evs *eventLog) *room.Member {
	e.t.Helper()
	m, err := e.mgr.Attach(context.Background(), key, room.Identity{ParticipantID: room.NewID(), Name: "Trainer", Role: room.Moderator, Kind: room.Browser}, evs)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// phoneIn returns the meeting's phone participants.
func (e *env) phones(key string) []*room.Participant {
	ps, err := e.mgr.Participants(context.Background(), key)
	if err != nil {
		return nil
	}
	var out []*room.Participant
	for _, p := range ps {
		if p.Kind == room.Phone {
			out = append(out, p)
		}
	}
	return out
}

// eventLog records room events (a room.Listener).
type eventLog struct {
	mu  sync.Mutex
	evs []room.Event
}

func (l *eventLog) Notify(e room.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, e)
	l.mu.Unlock()
}

func (l *eventLog) all() []room.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]room.Event(nil), l.evs...)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not a timing assumption
	}
}

// phone is a SIP phone in the test: a sipgo UAC with its own UDP SIP
// port, and an RTP socket that streams G.711 every 20 ms from a
// generator and records what it receives.
type phone struct {
	t      *testing.T
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	dc     *sipgo.DialogClientCache
	sess   *sipgo.DialogClientSession
	sipPC  net.PacketConn
	rtp    *net.UDPConn
	ulaw   bool
	dtmfPT uint8
	remote netip.AddrPort

	byes chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup

	mu   sync.Mutex
	gen  func(n int) int16 // sample generator, by sample index
	mute bool              // send no RTP at all
	n    int
	seq  uint16
	ts   uint32
	recv []byte // payload bytes received (G.711 of the answer's codec)
}

type dialOpts struct {
	from      string // From user
	display   string
	privacy   string
	codecs    string // m= payload list, default "0 8 101"
	transport string
	noDTMF    bool
	user      string // digest credentials
	pass      string
}

// dial calls the gateway. The returned error carries the final response
// code of a refused call as *sipgo.ErrDialogResponse.
func dial(t *testing.T, gw *Gateway, o dialOpts) (*phone, error) {
	t.Helper()
	p := &phone{t: t, byes: make(chan struct{}, 4), stop: make(chan struct{}), gen: func(int) int16 { return 0 }, seq: 1000, ts: 5000}
	var err error
	if p.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
	if p.sipPC, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	sipPort := p.sipPC.LocalAddr().(*net.UDPAddr).Port
	p.ua, _ = sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1"))
	p.srv, _ = sipgo.NewServer(p.ua)
	client, _ := sipgo.NewClient(p.ua, sipgo.WithClientHostname("127.0.0.1"))
	contact := sip.ContactHeader{Address: sip.Uri{User: "phone", Host: "127.0.0.1", Port: sipPort}}
	p.dc = sipgo.NewDialogClientCache(client, contact)
	p.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := p.dc.ReadBye(req, tx); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 481, "No dialog", nil))
			return
		}
		p.byes <- struct{}{}
	})
	go p.srv.ServeUDP(p.sipPC)
	t.Cleanup(p.close)

	codecs := o.codecs
	if codecs == "" {
		codecs = "0 8 101"
	}
	if o.noDTMF {
		codecs = strings.ReplaceAll(codecs, " 101", "")
	}
	port := p.rtp.LocalAddr().(*net.UDPAddr).Port
	sdp := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n", port, codecs)
	from := o.from
	if from == "" {
		from = "anonymous"
	}
	scheme := "sip"
	recipient := sip.Uri{Scheme: scheme, User: "dialin", Host: gw.Addr().Addr().String(), Port: int(gw.Addr().Port())}
	if o.transport == "tcp" {
		recipient.UriParams = sip.NewParams()
		recipient.UriParams.Add("transport", "tcp")
	}
	fromH := &sip.FromHeader{DisplayName: o.display, Address: sip.Uri{Scheme: "sip", User: from, Host: "trunk.example"}, Params: sip.NewParams()}
	fromH.Params.Add("tag", room.NewID()[:10])
	hdrs := []sip.Header{fromH, sip.NewHeader("Content-Type", "application/sdp")}
	if o.privacy != "" {
		hdrs = append(hdrs, sip.NewHeader("Privacy", o.privacy))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := p.dc.Invite(ctx, recipient, []byte(sdp), hdrs...)
	if err != nil {
		return nil, err
	}
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{Username: o.user, Password: o.pass}); err != nil {
		return nil, err
	}
	if err := sess.Ack(ctx); err != nil {
		return nil, err
	}
	p.sess = sess
	ans, err := ParseSDP(sess.InviteResponse.Body())
	if err != nil {
		t.Fatalf("answer SDP: %v", err)
	}
	cd, dtmf, err := ans.Negotiate()
	if err != nil {
		t.Fatalf("answer codec: %v", err)
	}
	p.ulaw = cd.Name == "PCMU"
	if dtmf != nil {
		p.dtmfPT = dtmf.PT
	}
	p.remote = netip.AddrPortFrom(ans.Addr, uint16(ans.Port))
	p.wg.Add(2)
	go p.sendLoop()
	go p.recvLoop()
	return p, nil
}

func (p *phone) close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	if p.sess != nil && p.sess.LoadState() != sip.DialogStateEnded {
		// Hang up politely so the gateway does not wait on a dead phone.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		p.sess.Bye(ctx)
		cancel()
	}
	p.rtp.Close()
	p.wg.Wait()
	if p.sess != nil {
		p.sess.Close()
	}
	p.srv.Close()
	p.ua.Close()
	p.sipPC.Close()
}

// hangup sends BYE.
func (p *phone) hangup() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.sess.Bye(ctx); err != nil {
		p.t.Errorf("bye: %v", err)
	}
}

func (p *phone) setSource(gen func(n int) int16) {
	p.mu.Lock()
	p.gen = gen
	p.mu.Unlock()
}

func (p *phone) encode(s int16) byte {
	return codec{ulaw: p.ulaw}.encode([]int16{s}, nil)[0]
}

func (p *phone) sendLoop() {
	defer p.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		p.mu.Lock()
		if p.mute {
			p.mu.Unlock()
			continue
		}
		pl := make([]byte, phoneFrame)
		for i := range pl {
			pl[i] = p.encode(p.gen(p.n))
			p.n++
		}
		pt := uint8(8)
		if p.ulaw {
			pt = 0
		}
		p.sendLocked(pt, pl, false)
		p.ts += phoneFrame
		p.mu.Unlock()
	}
}

func (p *phone) sendLocked(pt uint8, payload []byte, marker bool) {
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: 0x1234, Marker: marker}, Payload: payload}
	p.seq++
	b, _ := pkt.Marshal()
	p.rtp.WriteToUDPAddrPort(b, p.remote)
}

// digits4733 sends keys as RFC 4733 events: a start, an update and three
// end packets each, as RFC 4733 phones do.
func (p *phone) digits4733(keys string) {
	for i := 0; i < len(keys); i++ {
		ev, _ := digitEvent(keys[i])
		p.mu.Lock()
		ts := p.ts
		for j, end := range []bool{false, false, true, true, true} {
			pl := []byte{ev, 10, 0, byte(160 * (j + 1))}
			if end {
				pl[1] |= 0x80
			}
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: p.dtmfPT, SequenceNumber: p.seq, Timestamp: ts, SSRC: 0x1234, Marker: j == 0}, Payload: pl}
			p.seq++
			b, _ := pkt.Marshal()
			p.rtp.WriteToUDPAddrPort(b, p.remote)
		}
		p.ts += 800
		p.mu.Unlock()
	}
}

// digitsInfo sends keys as SIP INFO application/dtmf-relay.
func (p *phone) digitsInfo(keys string) {
	for i := 0; i < len(keys); i++ {
		req := sip.NewRequest(sip.INFO, p.sess.InviteRequest.Recipient)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody([]byte(fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", keys[i])))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res, err := p.sess.Do(ctx, req)
		cancel()
		if err != nil || res.StatusCode != 200 {
			p.t.Errorf("INFO %c: %v %v", keys[i], res, err)
		}
	}
}

// digitsInband plays keys as DTMF tones in the audio: 100 ms tone, 100 ms
// pause each.
func (p *phone) digitsInband(keys string) {
	p.mu.Lock()
	start := p.n
	p.mu.Unlock()
	p.setSource(func(n int) int16 {
		i := n - start
		k := i / 1600
		if i < 0 || k >= len(keys) || i%1600 >= 800 {
			return 0
		}
		r, c := keyFreqs(keys[k])
		t := float64(i) / 8000
		return int16(6000*math.Sin(2*math.Pi*r*t) + 6000*math.Sin(2*math.Pi*c*t))
	})
}

func keyFreqs(k byte) (float64, float64) {
	for r := range dtmfKeys {
		for c := range dtmfKeys[r] {
			if dtmfKeys[r][c] == k {
				return dtmfRows[r], dtmfCols[c]
			}
		}
	}
	panic("no key")
}

func tone(freq float64, amp float64) func(int) int16 {
	return func(n int) int16 { return int16(amp * math.Sin(2*math.Pi*freq*float64(n)/8000)) }
}

func (p *phone) recvLoop() {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, err := p.rtp.Read(buf)
		if err != nil {
			return
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		p.mu.Lock()
		p.recv = append(p.recv, pkt.Payload...)
		p.mu.Unlock()
	}
}

func (p *phone) received() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.recv...)
}

// heardPrompt reports whether the phone received (a characteristic piece
// of) the named prompt, in the call's codec.
func (p *phone) heardPrompt(lang, name string) bool {
	pr, err := loadPrompts(lang)
	if err != nil {
		p.t.Fatal(err)
	}
	b := pr[name]
	// A loud 40 ms piece from the first second of the prompt.
	piece := b[len(b)/8 : len(b)/8+320]
	c := codec{ulaw: p.ulaw}
	want := make([]byte, len(piece))
	for i, x := range piece {
		want[i] = c.fromUlaw(x)
	}
	return bytes.Contains(p.received(), want)
}

func (p *phone) waitPrompt(lang, name string) {
	p.t.Helper()
	eventually(p.t, 15*time.Second, "prompt "+name, func() bool { return p.heardPrompt(lang, name) })
}

func (p *phone) waitBye(d time.Duration) {
	p.t.Helper()
	select {
	case <-p.byes:
	case <-time.After(d):
		p.t.Fatalf("no BYE from the gateway within %v", d)
	}
}

// lastPCM decodes the last n received samples.
func (p *phone) lastPCM(n int) []int16 {
	r := p.received()
	if len(r) > n {
		r = r[len(r)-n:]
	}
	return codec{ulaw: p.ulaw}.decode(r, nil)
}

// toneShare is the share of a block's energy at freq (see relPower).
func toneShare(pcm []int16, freq, rate float64) float64 {
	f := make([]float64, len(pcm))
	var e float64
	for i, s := range pcm {
		f[i] = float64(s)
		e += f[i] * f[i]
	}
	return relPower(f, freq, rate, e)
}

func toneShare32(pcm []float32, freq, rate float64) float64 {
	f := make([]float64, len(pcm))
	var e float64
	for i, s := range pcm {
		f[i] = float64(s)
		e += f[i] * f[i]
	}
	return relPower(f, freq, rate, e)
}

// roomEar is a test participant on the room side of the LoopHub: it
// decodes every Opus frame it hears and keeps the last 100 ms per source.
type roomEar struct {
	media Media
	mu    sync.Mutex
	dec   map[string]*gopus.Decoder
	pcm   map[string][]float32
	n     map[string]int
}

func newRoomEar(t *testing.T, hub *LoopHub, key, id string) *roomEar {
	m, err := hub.Open(key, id)
	if err != nil {
		t.Fatal(err)
	}
	e := &roomEar{media: m, dec: map[string]*gopus.Decoder{}, pcm: map[string][]float32{}, n: map[string]int{}}
	m.OnOpus(func(src string, frame []byte) {
		e.mu.Lock()
		defer e.mu.Unlock()
		d := e.dec[src]
		if d == nil {
			d, _ = gopus.NewDecoder(gopus.DefaultDecoderConfig(roomRate, 1))
			e.dec[src] = d
		}
		out := make([]float32, roomFrame*6)
		n, err := d.Decode(frame, out)
		if err != nil {
			t.Errorf("room side cannot decode the caller's Opus: %v", err)
			return
		}
		e.pcm[src] = append(e.pcm[src], out[:n]...)
		if len(e.pcm[src]) > 4800 {
			e.pcm[src] = e.pcm[src][len(e.pcm[src])-4800:]
		}
		e.n[src]++
	})
	t.Cleanup(func() { m.Close() })
	return e
}

func (e *roomEar) last(src string) ([]float32, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]float32(nil), e.pcm[src]...), e.n[src]
}

// speak publishes a tone into the room as 20 ms Opus frames until stop.
func speak(t *testing.T, m Media, freq float64, stop <-chan struct{}) {
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: roomRate, Channels: 1, Application: gopus.ApplicationAudio})
	if err != nil {
		t.Error(err)
		return
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pcm := make([]float32, roomFrame)
	buf := make([]byte, maxOpusSize)
	n := 0
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for i := range pcm {
			pcm[i] = float32(0.3 * math.Sin(2*math.Pi*freq*float64(n)/roomRate))
			n++
		}
		k, err := enc.Encode(pcm, buf)
		if err != nil {
			t.Error(err)
			return
		}
		if err := m.PublishOpus(buf[:k], 10); err != nil && !errors.Is(err, errMediaClosed) {
			t.Error(err)
		}
	}
}

var _ = binary.BigEndian
