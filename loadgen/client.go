package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// role is what a simulated participant does.
type role int

const (
	subscriber role = iota
	audioPublisher
	videoPublisher
)

func (r role) String() string {
	switch r {
	case audioPublisher:
		return "audio-publisher"
	case videoPublisher:
		return "video-publisher"
	}
	return "subscriber"
}

// client is one simulated browser: its signaling socket and its two
// PeerConnections (publish and subscribe, as the server has them).
type client struct {
	g     *gen
	idx   int
	role  role
	name  string
	log   *slog.Logger
	ws    *wsConn
	pub   *publisher
	sub   *webrtc.PeerConnection
	subMu sync.Mutex

	joinStart  time.Time
	firstMedia atomic.Int64 // Unix nanos of the first media packet received, 0 none
	lastMedia  atomic.Int64 // Unix nanos of the latest media packet
	maxSilence atomic.Int64 // longest time without any packet while measuring (ns)
	recv       recvCounters
	ready      chan struct{} // closed when the client is in the room with media set up
	readyOnce  sync.Once
	failed     atomic.Pointer[error]
	offers     chan mediaOffer
	layerSent  map[string]bool
	quit       chan struct{}
	wg         sync.WaitGroup
}

func (c *client) fail(err error) {
	if c.failed.CompareAndSwap(nil, &err) {
		c.log.Warn("client failed", "err", err)
	}
	c.markReady()
}

func (c *client) err() error {
	if e := c.failed.Load(); e != nil {
		return *e
	}
	return nil
}

func (c *client) markReady() { c.readyOnce.Do(func() { close(c.ready) }) }

// join enters the room as a browser does and starts the socket loop.
func (c *client) join(ctx context.Context) error {
	c.joinStart = time.Now()
	link, err := c.g.api.join(ctx, c.g.meetingID, c.name, c.role != subscriber)
	if err != nil {
		return err
	}
	sess, err := c.g.api.redeem(ctx, link)
	if err != nil {
		return err
	}
	ws, err := dialWS(ctx, c.g.base, sess)
	if err != nil {
		return err
	}
	c.ws = ws
	c.wg.Add(2)
	go c.readLoop()
	go c.offerLoop()
	return nil
}

// readLoop handles server messages until the socket closes.
func (c *client) readLoop() {
	defer c.wg.Done()
	for {
		e, err := c.ws.read()
		if err != nil {
			if !c.g.stopping.Load() {
				c.fail(fmt.Errorf("%w: socket closed: %v", ErrServer, err))
			}
			return
		}
		if err := c.handle(e); err != nil {
			c.fail(err)
		}
	}
}

func (c *client) handle(e envelope) error {
	switch e.Type {
	case "welcome":
		var w welcomeData
		if err := json.Unmarshal(e.Data, &w); err != nil {
			return fmt.Errorf("%w: welcome: %v", ErrServer, err)
		}
		if !w.Lobby && c.role == subscriber && c.g.publishers == 0 {
			c.markReady() // nothing to receive: in the room is ready
		}
		if !w.Lobby && c.role != subscriber && c.pub == nil {
			p, err := c.g.newPublisher(c)
			if err != nil {
				return err
			}
			c.pub = p
			if err := p.offer(); err != nil {
				return err
			}
		}
	case "media.offer":
		var o mediaOffer
		if err := json.Unmarshal(e.Data, &o); err != nil {
			return fmt.Errorf("%w: media.offer: %v", ErrServer, err)
		}
		if o.Target != "subscribe" {
			return fmt.Errorf("%w: media.offer for %q", ErrServer, o.Target)
		}
		select {
		case c.offers <- o:
		default:
			return fmt.Errorf("%w: too many offers queued", ErrServer)
		}
	case "media.answer":
		var a mediaAnswer
		if err := json.Unmarshal(e.Data, &a); err != nil {
			return fmt.Errorf("%w: media.answer: %v", ErrServer, err)
		}
		if a.Target != "publish" || c.pub == nil {
			return fmt.Errorf("%w: unexpected media.answer for %q", ErrServer, a.Target)
		}
		return c.pub.answered(a.SDP)
	case "error":
		var d errorData
		_ = json.Unmarshal(e.Data, &d)
		return fmt.Errorf("%w: %s: %s (ref %s)", ErrServer, d.Code, d.Message, e.Ref)
	case "meeting.ended", "removed", "replaced":
		if c.g.stopping.Load() {
			return nil
		}
		return fmt.Errorf("%w: %s", ErrServer, e.Type)
	}
	return nil
}

// offerLoop answers subscribe offers one at a time, in order.
func (c *client) offerLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.quit:
			return
		case o := <-c.offers:
			if err := c.answer(o); err != nil {
				c.fail(err)
				return
			}
		}
	}
}

func (c *client) answer(o mediaOffer) error {
	c.subMu.Lock()
	if c.sub == nil {
		pc, err := c.g.subAPI.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			c.subMu.Unlock()
			return fmt.Errorf("subscribe PeerConnection: %w", err)
		}
		pc.OnTrack(c.onTrack)
		pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			if s == webrtc.PeerConnectionStateFailed && !c.g.stopping.Load() {
				c.fail(fmt.Errorf("%w: subscribe connection failed", ErrNoMedia))
			}
		})
		c.sub = pc
	}
	pc := c.sub
	c.subMu.Unlock()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
		return fmt.Errorf("%w: subscribe offer: %v", ErrServer, err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return err
	}
	select {
	case <-gathered:
	case <-c.quit:
		return nil
	}
	if err := c.ws.send("media.answer", mediaAnswer{Target: "subscribe", SDP: pc.LocalDescription().SDP}); err != nil {
		return err
	}
	c.g.offers.Add(1)
	// Tell the server the size we "display" each camera at, as the web
	// client does, so it picks the simulcast layer.
	if w, h, ok := c.g.displaySize(c.idx); ok {
		for _, t := range o.Tracks {
			if t.Kind != "camera" || c.layerSent[t.TrackID] {
				continue
			}
			c.layerSent[t.TrackID] = true
			if err := c.ws.send("media.layer", mediaLayer{TrackID: t.TrackID, Width: w, Height: h}); err != nil {
				return err
			}
		}
	}
	return nil
}

// onTrack reads a received track until it ends: raw RTP into one buffer,
// only the stamp looked at.
func (c *client) onTrack(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	buf := make([]byte, 1600)
	var st streamState
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		t := time.Now()
		payload, ok := rtpPayload(buf[:n])
		if !ok {
			continue
		}
		s, ok := readStamp(payload)
		if !ok {
			continue
		}
		if c.firstMedia.Load() == 0 {
			if c.firstMedia.CompareAndSwap(0, t.UnixNano()) {
				c.markReady()
			}
		}
		measuring := c.g.measuring.Load()
		// Longest silence across all of the subscriber's tracks: tells
		// a stalled connection from scattered loss.
		tn := t.UnixNano()
		if prev := c.lastMedia.Swap(tn); measuring && prev != 0 {
			if gap := tn - prev; gap > c.maxSilence.Load() {
				c.maxSilence.Store(gap)
			}
		}
		st.observe(s, &c.recv, measuring)
		if measuring {
			c.g.latency.observe(t.Sub(time.Unix(0, s.sent)))
		}
	}
}

// close leaves the room and closes everything the client opened.
func (c *client) close() {
	select {
	case <-c.quit:
		return
	default:
	}
	close(c.quit)
	if c.pub != nil {
		c.pub.close()
	}
	c.subMu.Lock()
	if c.sub != nil {
		_ = c.sub.Close()
	}
	c.subMu.Unlock()
	if c.ws != nil {
		c.ws.close()
	}
	c.wg.Wait()
}
