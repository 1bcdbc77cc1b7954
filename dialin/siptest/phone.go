// Package siptest is a scriptable SIP phone for tests and load generation:
// it dials the gateway over UDP or TCP with an SDP offer (PCMU, PCMA,
// telephone-event), streams G.711 audio from a generator every 20 ms,
// types keys as RFC 4733 events, SIP INFO or in-band tones, records the
// audio it receives, and answers the gateway's BYE.
package siptest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// Options of a call.
type Options struct {
	// From is the user part of the From URI: the calling number, or
	// "anonymous" (the default).
	From    string
	Display string
	// Privacy is sent as the Privacy header when set ("id").
	Privacy string
	// Codecs is the offer's payload type list ("0 8 101": PCMU, PCMA,
	// telephone-event).
	Codecs string
	// Transport is "udp" (default), "tcp" or "tls" (target is then the
	// TLS address; any certificate is trusted).
	Transport string
	// Username and Password answer a digest challenge.
	Username, Password string
	// EditOffer, when set, rewrites the SDP offer before it is sent (a
	// test of offers the gateway must refuse).
	EditOffer func(sdp string) string
}

// Phone is one call.
type Phone struct {
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	dc     *sipgo.DialogClientCache
	sess   *sipgo.DialogClientSession
	sipPC  net.PacketConn
	conn   *net.UDPConn
	ulaw   bool
	dtmfPT uint8
	remote netip.AddrPort

	byes chan struct{}
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup

	mu   sync.Mutex
	gen  func(n int) int16
	mute bool
	n    int
	seq  uint16
	ts   uint32
	recv []byte
}

// maxRecv bounds the recorded audio (60 s of G.711).
const maxRecv = 60 * 8000

// StatusOf returns the SIP status of a refused call's error, or 0.
func StatusOf(err error) int {
	var re *sipgo.ErrDialogResponse
	if errors.As(err, &re) {
		return re.Res.StatusCode
	}
	return 0
}

// Dial calls target (the gateway's SIP address) and, once answered,
// starts streaming silence. A refused call returns an error for which
// StatusOf gives the status code.
func Dial(ctx context.Context, target netip.AddrPort, o Options) (_ *Phone, err error) {
	p := &Phone{byes: make(chan struct{}, 4), stop: make(chan struct{}), gen: func(int) int16 { return 0 }, seq: 1000, ts: 5000}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if p.conn, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
		return nil, err
	}
	if p.sipPC, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	sipPort := p.sipPC.LocalAddr().(*net.UDPAddr).Port
	uaOpts := []sipgo.UserAgentOption{sipgo.WithUserAgentHostname("127.0.0.1")}
	if strings.EqualFold(o.Transport, "tls") {
		// A test phone trusts any certificate.
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(&tls.Config{InsecureSkipVerify: true}))
	}
	if p.ua, err = sipgo.NewUA(uaOpts...); err != nil {
		return nil, err
	}
	if p.srv, err = sipgo.NewServer(p.ua); err != nil {
		return nil, err
	}
	client, err := sipgo.NewClient(p.ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		return nil, err
	}
	p.dc = sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{User: "phone", Host: "127.0.0.1", Port: sipPort}})
	p.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := p.dc.ReadBye(req, tx); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
		select {
		case p.byes <- struct{}{}:
		default:
		}
	})
	go p.srv.ServeUDP(p.sipPC)

	codecs := o.Codecs
	if codecs == "" {
		codecs = "0 8 101"
	}
	port := p.conn.LocalAddr().(*net.UDPAddr).Port
	sdp := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP %s\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"+
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n", port, codecs)
	if o.EditOffer != nil {
		sdp = o.EditOffer(sdp)
	}
	from := o.From
	if from == "" {
		from = "anonymous"
	}
	recipient := sip.Uri{Scheme: "sip", User: "dialin", Host: target.Addr().String(), Port: int(target.Port())}
	if t := strings.ToLower(o.Transport); t == "tcp" || t == "tls" {
		recipient.UriParams = sip.NewParams()
		recipient.UriParams.Add("transport", t)
	}
	fromH := &sip.FromHeader{DisplayName: o.Display, Address: sip.Uri{Scheme: "sip", User: from, Host: "trunk.invalid"}, Params: sip.NewParams()}
	fromH.Params.Add("tag", sip.GenerateTagN(10))
	hdrs := []sip.Header{fromH, sip.NewHeader("Content-Type", "application/sdp")}
	if o.Privacy != "" {
		hdrs = append(hdrs, sip.NewHeader("Privacy", o.Privacy))
	}
	sess, err := p.dc.Invite(ctx, recipient, []byte(sdp), hdrs...)
	if err != nil {
		return nil, err
	}
	// At the deadline give up at once rather than wait out the CANCEL.
	wctx, wcancel := context.WithCancelCause(context.Background())
	defer wcancel(nil)
	stopAfter := context.AfterFunc(ctx, func() { wcancel(sipgo.WaitAnswerForceCancelErr) })
	defer stopAfter()
	if err := sess.WaitAnswer(wctx, sipgo.AnswerOptions{Username: o.Username, Password: o.Password}); err != nil {
		sess.Close()
		return nil, err
	}
	if err := sess.Ack(ctx); err != nil {
		sess.Close()
		return nil, err
	}
	p.sess = sess
	if err := p.readAnswer(sess.InviteResponse.Body()); err != nil {
		return nil, err
	}
	p.wg.Add(2)
	go p.sendLoop()
	go p.recvLoop()
	return p, nil
}

// readAnswer takes the media address, codec and telephone-event type from
// the answer SDP.
func (p *Phone) readAnswer(body []byte) error {
	var addr netip.Addr
	port, codec := -1, -1
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "c=IN IP"):
			f := strings.Fields(line)
			if len(f) == 3 {
				addr, _ = netip.ParseAddr(f[2])
			}
		case strings.HasPrefix(line, "m=audio "):
			f := strings.Fields(line)
			if len(f) >= 4 {
				port, _ = strconv.Atoi(f[1])
				codec, _ = strconv.Atoi(f[3])
			}
		case strings.HasPrefix(line, "a=rtpmap:") && strings.Contains(strings.ToLower(line), "telephone-event"):
			n, _ := strconv.Atoi(strings.TrimPrefix(strings.Fields(line)[0], "a=rtpmap:"))
			p.dtmfPT = uint8(n)
		}
	}
	if !addr.IsValid() || port <= 0 || (codec != 0 && codec != 8) {
		return fmt.Errorf("siptest: unusable answer SDP:\n%s", body)
	}
	p.remote = netip.AddrPortFrom(addr, uint16(port))
	p.ulaw = codec == 0
	return nil
}

// ULaw reports whether the call uses PCMU (else PCMA).
func (p *Phone) ULaw() bool { return p.ulaw }

// Byes delivers one value per BYE received from the gateway.
func (p *Phone) Byes() <-chan struct{} { return p.byes }

// Hangup sends BYE.
func (p *Phone) Hangup(ctx context.Context) error { return p.sess.Bye(ctx) }

// Close stops the media and, if the call still runs, hangs up (briefly).
func (p *Phone) Close() {
	p.once.Do(func() {
		close(p.stop)
		if p.sess != nil && p.sess.LoadState() != sip.DialogStateEnded {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			p.sess.Bye(ctx)
			cancel()
		}
		if p.conn != nil {
			p.conn.Close()
		}
		p.wg.Wait()
		if p.sess != nil {
			p.sess.Close()
		}
		if p.srv != nil {
			p.srv.Close()
		}
		if p.ua != nil {
			p.ua.Close()
		}
		if p.sipPC != nil {
			p.sipPC.Close()
		}
	})
}

// SetSource sets the microphone: a sample generator by sample index at 8 kHz.
func (p *Phone) SetSource(gen func(n int) int16) {
	p.mu.Lock()
	p.gen = gen
	p.mu.Unlock()
}

// Mute stops (or resumes) sending RTP altogether.
func (p *Phone) Mute(on bool) {
	p.mu.Lock()
	p.mute = on
	p.mu.Unlock()
}

func (p *Phone) encode(s int16) byte {
	if p.ulaw {
		return g711.EncodeUlawFrame(s)
	}
	return g711.EncodeAlawFrame(s)
}

func (p *Phone) sendLoop() {
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
		if !p.mute {
			pl := make([]byte, 160)
			for i := range pl {
				pl[i] = p.encode(p.gen(p.n))
				p.n++
			}
			pt := uint8(8)
			if p.ulaw {
				pt = 0
			}
			p.sendLocked(pt, p.ts, pl, false)
			p.ts += 160
		}
		p.mu.Unlock()
	}
}

func (p *Phone) sendLocked(pt uint8, ts uint32, payload []byte, marker bool) {
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: p.seq, Timestamp: ts, SSRC: 0x1234, Marker: marker}, Payload: payload}
	p.seq++
	b, _ := pkt.Marshal()
	p.conn.WriteToUDPAddrPort(b, p.remote)
}

const keys = "0123456789*#ABCD"

// Digits4733 types keys as RFC 4733 events: a start, an update and three
// end packets each, as RFC 4733 phones do.
func (p *Phone) Digits4733(ks string) {
	for i := 0; i < len(ks); i++ {
		ev := strings.IndexByte(keys, ks[i])
		if ev < 0 {
			continue
		}
		p.mu.Lock()
		ts := p.ts
		for j, end := range []bool{false, false, true, true, true} {
			pl := []byte{byte(ev), 10, 0, byte(160 * (j + 1))}
			if end {
				pl[1] |= 0x80
			}
			p.sendLocked(p.dtmfPT, ts, pl, j == 0)
		}
		p.ts += 800
		p.mu.Unlock()
	}
}

// DigitsINFO types keys as SIP INFO application/dtmf-relay.
func (p *Phone) DigitsINFO(ctx context.Context, ks string) error {
	for i := 0; i < len(ks); i++ {
		req := sip.NewRequest(sip.INFO, p.sess.InviteRequest.Recipient)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody([]byte(fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", ks[i])))
		res, err := p.sess.Do(ctx, req)
		if err != nil {
			return err
		}
		if res.StatusCode != 200 {
			return fmt.Errorf("siptest: INFO %c: %d %s", ks[i], res.StatusCode, res.Reason)
		}
	}
	return nil
}

// KeyFreqs are the two DTMF frequencies of a key.
func KeyFreqs(k byte) (row, col float64, ok bool) {
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	pad := [4]string{"123A", "456B", "789C", "*0#D"}
	for r, line := range pad {
		if c := strings.IndexByte(line, k); c >= 0 {
			return rows[r], cols[c], true
		}
	}
	return 0, 0, false
}

// DigitsInband plays keys as DTMF tones in the audio (100 ms tone, 100 ms
// pause each), replacing the source.
func (p *Phone) DigitsInband(ks string) {
	p.mu.Lock()
	start := p.n
	p.mu.Unlock()
	p.SetSource(func(n int) int16 {
		i := n - start
		k := i / 1600
		if i < 0 || k >= len(ks) || i%1600 >= 800 {
			return 0
		}
		r, c, _ := KeyFreqs(ks[k])
		t := float64(i) / 8000
		return int16(6000*math.Sin(2*math.Pi*r*t) + 6000*math.Sin(2*math.Pi*c*t))
	})
}

// Tone is a sine source for SetSource.
func Tone(freq, amp float64) func(int) int16 {
	return func(n int) int16 { return int16(amp * math.Sin(2*math.Pi*freq*float64(n)/8000)) }
}

func (p *Phone) recvLoop() {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, err := p.conn.Read(buf)
		if err != nil {
			return
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		p.mu.Lock()
		p.recv = append(p.recv, pkt.Payload...)
		if len(p.recv) > maxRecv {
			p.recv = append(p.recv[:0], p.recv[len(p.recv)-maxRecv/2:]...)
		}
		p.mu.Unlock()
	}
}

// Received is the G.711 audio received so far (the last 30-60 s).
func (p *Phone) Received() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.recv...)
}

// LastPCM decodes the last n received samples.
func (p *Phone) LastPCM(n int) []int16 {
	r := p.Received()
	if len(r) > n {
		r = r[len(r)-n:]
	}
	out := make([]int16, len(r))
	for i, b := range r {
		if p.ulaw {
			out[i] = g711.DecodeUlawFrame(b)
		} else {
			out[i] = g711.DecodeAlawFrame(b)
		}
	}
	return out
}

// Request sends an in-dialog request (re-INVITE, UPDATE …) with an
// optional body and returns the final response.
func (p *Phone) Request(ctx context.Context, method sip.RequestMethod, contentType string, body []byte) (*sip.Response, error) {
	req := sip.NewRequest(method, p.sess.InviteRequest.Recipient)
	if body != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
		req.SetBody(body)
	}
	return p.sess.Do(ctx, req)
}

// Offer is the SDP the phone offered.
func (p *Phone) Offer() []byte { return p.sess.InviteRequest.Body() }
