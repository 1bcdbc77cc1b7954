package e2e

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/thesyncim/gopus"

	"aula/room"
)

// A browser-side participant in Go: it joins through the real BBB API
// (join with redirect=false, the one-time link, the session cookie), talks
// the WebSocket protocol of docs/protocol.md and, with audio, publishes a
// microphone and decodes what it receives, as a browser would. Every
// message it receives is kept, for the privacy checks.

const (
	roomRate  = 48000
	roomFrame = roomRate / 50 // 20 ms
)

// envelope is the protocol's message shape.
type envelope struct {
	Type string          `json:"type"`
	Ref  string          `json:"ref,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

type pionClient struct {
	t    *testing.T
	name string
	ws   *websocket.Conn
	api  *webrtc.API

	wmu  sync.Mutex // one writer on the socket
	refs int

	mu       sync.Mutex
	raw      []string // every message received, as sent
	welcomed bool
	pub      *webrtc.PeerConnection
	sub      *webrtc.PeerConnection
	mic      *webrtc.TrackLocalStaticSample
	pcm      map[string][]float32 // the last 200 ms decoded, by publishing participant
	frames   map[string]int
	mids     map[string]string // subscribe mid → participant

	offers chan string
	quit   chan struct{}
	wg     sync.WaitGroup
}

// joinPion enters meetingID as name; withAudio publishes a microphone
// (silent until speak) and subscribes to what the room sends.
func joinPion(t *testing.T, base, meetingID, name string, role room.Role, withAudio bool) *pionClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	body := apiGet(t, nil, base, "join", url.Values{
		"meetingID": {meetingID}, "fullName": {name}, "role": {string(role)}, "redirect": {"false"},
	})
	var jr struct {
		URL string `xml:"url"`
	}
	if err := xml.Unmarshal(body, &jr); err != nil || jr.URL == "" {
		t.Fatalf("join %s: no url in %s", name, body)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(jr.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("join link: HTTP %d, %v", resp.StatusCode, err)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		cookie = c
	}
	if cookie == nil {
		t.Fatal("join link set no cookie")
	}
	u, _ := url.Parse(base)
	origin := u.Scheme + "://" + u.Host
	u.Scheme = "ws"
	u.Path = strings.TrimSuffix(loc.Path, "/") + "/ws"
	h := http.Header{"Origin": {origin}, "Cookie": {cookie.Name + "=" + cookie.Value}}
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, u.String(), h)
	if err != nil {
		t.Fatalf("websocket: %v", err)
	}
	c := &pionClient{t: t, name: name, ws: ws, pcm: map[string][]float32{}, frames: map[string]int{},
		mids: map[string]string{}, offers: make(chan string, 16), quit: make(chan struct{})}
	if withAudio {
		c.api = pionAPI(t)
	}
	c.wg.Add(2)
	go c.readLoop()
	go c.offerLoop()
	t.Cleanup(c.close)
	return c
}

func pionAPI(t *testing.T) *webrtc.API {
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: roomRate, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	// It decodes no video, but like every browser it accepts VP8 when
	// offered a camera, so its answers are valid.
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		PayloadType:        96,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
}

func (c *pionClient) send(typ string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		c.t.Error(err)
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.refs++
	if err := c.ws.WriteJSON(envelope{Type: typ, Ref: "p" + strconv.Itoa(c.refs), Data: b}); err != nil {
		c.t.Logf("%s: send %s: %v", c.name, typ, err)
	}
}

func (c *pionClient) readLoop() {
	defer c.wg.Done()
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var e envelope
		if err := json.Unmarshal(msg, &e); err != nil {
			c.t.Errorf("%s: not JSON: %s", c.name, msg)
			continue
		}
		c.mu.Lock()
		c.raw = append(c.raw, string(msg))
		c.mu.Unlock()
		switch e.Type {
		case "welcome":
			var w struct {
				Lobby bool `json:"lobby"`
			}
			json.Unmarshal(e.Data, &w)
			c.mu.Lock()
			first := !w.Lobby && !c.welcomed
			if !w.Lobby {
				c.welcomed = true
			}
			c.mu.Unlock()
			if first && c.api != nil {
				c.publish()
			}
		case "media.offer":
			var o struct {
				Target string `json:"target"`
				SDP    string `json:"sdp"`
				Tracks []struct {
					MID           string `json:"mid"`
					ParticipantID string `json:"participantId"`
				} `json:"tracks"`
			}
			if err := json.Unmarshal(e.Data, &o); err != nil || o.Target != "subscribe" {
				c.t.Errorf("%s: bad media.offer %s", c.name, e.Data)
				continue
			}
			c.mu.Lock()
			for _, tr := range o.Tracks {
				c.mids[tr.MID] = tr.ParticipantID
			}
			c.mu.Unlock()
			c.offers <- o.SDP
		case "media.answer":
			var a struct {
				Target string `json:"target"`
				SDP    string `json:"sdp"`
			}
			json.Unmarshal(e.Data, &a)
			c.mu.Lock()
			pc := c.pub
			c.mu.Unlock()
			if a.Target == "publish" && pc != nil {
				if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a.SDP}); err != nil {
					c.t.Errorf("%s: publish answer: %v", c.name, err)
				}
			}
		case "error":
			c.t.Logf("%s: server error: %s", c.name, e.Data)
		}
	}
}

// publish switches the microphone on: media.state, then the offer.
func (c *pionClient) publish() {
	pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		c.t.Error(err)
		return
	}
	mic, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: roomRate, Channels: 2}, "mic", c.name)
	if err != nil {
		c.t.Error(err)
		return
	}
	x, err := pc.AddTransceiverFromTrack(mic, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		c.t.Error(err)
		return
	}
	go func() {
		for {
			if _, _, err := x.Sender().ReadRTCP(); err != nil {
				return
			}
		}
	}()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		c.t.Error(err)
		return
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		c.t.Error(err)
		return
	}
	<-gathered
	c.mu.Lock()
	c.pub, c.mic = pc, mic
	c.mu.Unlock()
	c.send("media.state", map[string]bool{"audio": true, "video": false, "screen": false})
	c.send("media.publish", map[string]any{"sdp": pc.LocalDescription().SDP, "kinds": map[string]string{x.Mid(): "mic"}})
}

// offerLoop answers the server's subscribe offers in order.
func (c *pionClient) offerLoop() {
	defer c.wg.Done()
	for {
		var sdp string
		select {
		case <-c.quit:
			return
		case sdp = <-c.offers:
		}
		if c.api == nil {
			continue // no media on this client: it only listens to the roster
		}
		if c.sub == nil {
			pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
			if err != nil {
				c.t.Error(err)
				return
			}
			pc.OnTrack(c.onTrack)
			c.mu.Lock()
			c.sub = pc
			c.mu.Unlock()
		}
		if err := c.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
			c.t.Errorf("%s: subscribe offer: %v", c.name, err)
			return
		}
		ans, err := c.sub.CreateAnswer(nil)
		if err != nil {
			c.t.Error(err)
			return
		}
		gathered := webrtc.GatheringCompletePromise(c.sub)
		if err := c.sub.SetLocalDescription(ans); err != nil {
			c.t.Error(err)
			return
		}
		<-gathered
		c.send("media.answer", map[string]string{"target": "subscribe", "sdp": c.sub.LocalDescription().SDP})
	}
}

// onTrack decodes a received audio track with a pure-Go Opus decoder and
// keeps the last 200 ms by the publishing participant.
func (c *pionClient) onTrack(tr *webrtc.TrackRemote, x *webrtc.RTPReceiver) {
	dec, err := gopus.NewDecoder(gopus.DefaultDecoderConfig(roomRate, 1))
	if err != nil {
		c.t.Error(err)
		return
	}
	out := make([]float32, roomFrame*6)
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		if len(pkt.Payload) == 0 {
			continue
		}
		n, err := dec.Decode(pkt.Payload, out)
		if err != nil {
			continue
		}
		c.mu.Lock()
		src := ""
		for _, t := range c.sub.GetTransceivers() {
			if t.Receiver() == x {
				src = c.mids[t.Mid()]
			}
		}
		c.pcm[src] = append(c.pcm[src], out[:n]...)
		if l := len(c.pcm[src]); l > roomRate/5 {
			c.pcm[src] = c.pcm[src][l-roomRate/5:]
		}
		c.frames[src]++
		c.mu.Unlock()
	}
}

// heard returns the last 20 ms decoded from participant src and how many
// frames came from it.
func (c *pionClient) heard(src string) ([]float32, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pcm[src]
	if len(p) > roomFrame {
		p = p[len(p)-roomFrame:]
	}
	return append([]float32(nil), p...), c.frames[src]
}

// speak sends a sine tone on the microphone as 20 ms Opus frames until
// the test ends.
func (c *pionClient) speak(freq float64) {
	enc, err := gopus.NewEncoder(gopus.EncoderConfig{SampleRate: roomRate, Channels: 1, Application: gopus.ApplicationAudio})
	if err != nil {
		c.t.Fatal(err)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		pcm := make([]float32, roomFrame)
		buf := make([]byte, 1500)
		n := 0
		for {
			select {
			case <-c.quit:
				return
			case <-tick.C:
			}
			for i := range pcm {
				pcm[i] = float32(0.3 * math.Sin(2*math.Pi*freq*float64(n)/roomRate))
				n++
			}
			k, err := enc.Encode(pcm, buf)
			if err != nil {
				c.t.Error(err)
				return
			}
			c.mu.Lock()
			mic := c.mic
			c.mu.Unlock()
			if mic != nil {
				mic.WriteSample(media.Sample{Data: append([]byte(nil), buf[:k]...), Duration: 20 * time.Millisecond})
			}
		}
	}()
}

// messages returns every message received so far.
func (c *pionClient) messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.raw...)
}

func (c *pionClient) close() {
	select {
	case <-c.quit:
		return
	default:
	}
	close(c.quit)
	c.ws.Close()
	c.mu.Lock()
	pub, sub := c.pub, c.sub
	c.mu.Unlock()
	if pub != nil {
		pub.Close()
	}
	if sub != nil {
		sub.Close()
	}
	c.wg.Wait()
}

// apiGet calls the BBB API and records the reply in rec (if given).
func apiGet(t *testing.T, rec *recorder, base, call string, q url.Values) []byte {
	t.Helper()
	resp, err := http.Get(apiURL(base, call, q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	rec.add(call, string(b))
	return b
}

// recorder keeps everything a party outside the server could see.
type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *recorder) add(what, s string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.seen = append(r.seen, what+": "+s)
	r.mu.Unlock()
}

// find returns the first recorded item containing s.
func (r *recorder) find(s string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.seen {
		if strings.Contains(x, s) {
			return x, true
		}
	}
	return "", false
}

// goertzel is the share of a block's energy at freq: about 1 for a pure
// tone at freq, near 0 for silence, noise or another tone.
func goertzel(x []float64, freq, rate float64) float64 {
	if len(x) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / rate
	coeff := 2 * math.Cos(w)
	var s1, s2, e float64
	for _, v := range x {
		s := v + coeff*s1 - s2
		s2, s1 = s1, s
		e += v * v
	}
	p := s1*s1 + s2*s2 - coeff*s1*s2
	if e == 0 {
		return 0
	}
	return p / (e * float64(len(x)) / 2)
}

func share32(pcm []float32, freq float64) float64 {
	x := make([]float64, len(pcm))
	for i, v := range pcm {
		x[i] = float64(v)
	}
	return goertzel(x, freq, roomRate)
}

func share16(pcm []int16, freq float64) float64 {
	x := make([]float64, len(pcm))
	for i, v := range pcm {
		x[i] = float64(v)
	}
	return goertzel(x, freq, 8000)
}
