package loadgen

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// publisher is a client's publish PeerConnection with one synthetic track:
// a microphone (Opus with audio level) or a camera (VP8, three simulcast
// layers).
type publisher struct {
	c      *client
	pc     *webrtc.PeerConnection
	video  bool
	stream uint16
	tracks []*webrtc.TrackLocalStaticRTP // one per layer
	sender *webrtc.RTPSender
	mid    string
	extMid uint8
	extRid uint8
	extLvl uint8

	sending    atomic.Bool // connected
	negotiated atomic.Bool // answer applied, extension IDs known
	keyReq     [3]atomic.Bool
	// Per layer: RTP and stamp sequence numbers, timestamp, frame count,
	// last keyframe. Touched only by the generator's pacing goroutine.
	seq      [3]uint16
	stampSeq [3]uint32
	ts       [3]uint32
	lastKey  [3]time.Time
	stopOnce sync.Once
}

func (g *gen) newPublisher(c *client) (*publisher, error) {
	pc, err := g.pubAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("publish PeerConnection: %w", err)
	}
	p := &publisher{c: c, pc: pc, video: c.role == videoPublisher, stream: uint16(c.idx) * 2}
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: audioClock, Channels: 2}
	rids := []string{""}
	id := fmt.Sprintf("mic-%d", c.idx)
	if p.video {
		p.stream++
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: videoClock}
		rids = nil
		for _, l := range videoLayers {
			rids = append(rids, l.rid)
		}
		id = fmt.Sprintf("cam-%d", c.idx)
	}
	for _, rid := range rids {
		var opts []func(*webrtc.TrackLocalStaticRTP)
		if rid != "" {
			opts = append(opts, webrtc.WithRTPStreamID(rid))
		}
		tr, err := webrtc.NewTrackLocalStaticRTP(codec, id, fmt.Sprintf("stream-%d", c.idx), opts...)
		if err != nil {
			pc.Close()
			return nil, err
		}
		p.tracks = append(p.tracks, tr)
	}
	x, err := pc.AddTransceiverFromTrack(p.tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		pc.Close()
		return nil, err
	}
	p.sender = x.Sender()
	for _, tr := range p.tracks[1:] {
		if err := p.sender.AddEncoding(tr); err != nil {
			pc.Close()
			return nil, err
		}
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			p.sending.Store(true)
		case webrtc.PeerConnectionStateFailed:
			c.fail(fmt.Errorf("%w: publish connection failed", ErrNoMedia))
		}
	})
	for i, rid := range rids {
		go p.readRTCP(i, rid)
	}
	return p, nil
}

// offer publishes the track: media.state, then media.publish with the
// complete offer (all candidates gathered; loopback gathers at once).
func (p *publisher) offer() error {
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return err
	}
	<-gathered
	for _, x := range p.pc.GetTransceivers() {
		if x.Sender() == p.sender {
			p.mid = x.Mid()
		}
	}
	kind := "mic"
	if p.video {
		kind = "camera"
	}
	if err := p.c.ws.send("media.state", mediaState{Audio: !p.video, Video: p.video}); err != nil {
		return err
	}
	return p.c.ws.send("media.publish", mediaPublish{SDP: p.pc.LocalDescription().SDP, Kinds: map[string]string{p.mid: kind}})
}

func (p *publisher) answered(sdpText string) error {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdpText}); err != nil {
		return fmt.Errorf("%w: publish answer: %v", ErrServer, err)
	}
	for _, e := range p.sender.GetParameters().HeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			p.extMid = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			p.extRid = uint8(e.ID)
		case sdp.AudioLevelURI:
			p.extLvl = uint8(e.ID)
		}
	}
	if p.c.role == audioPublisher && p.extLvl == 0 {
		return fmt.Errorf("%w: the server did not accept the audio-level extension", ErrNoMedia)
	}
	p.negotiated.Store(true)
	p.c.markReady()
	return nil
}

// readRTCP drains the sender's RTCP (Pion needs it read) and notes
// keyframe requests.
func (p *publisher) readRTCP(i int, rid string) {
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
		for _, pk := range pkts {
			switch pk.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.keyReq[i].Store(true)
				p.c.g.plis.Add(1)
			}
		}
	}
}

// sendAudio sends one 20 ms Opus frame.
func (p *publisher) sendAudio(now time.Time, buf []byte) {
	if !p.negotiated.Load() || !p.sending.Load() {
		return
	}
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: p.seq[0], Timestamp: p.ts[0]}}
	pkt.Payload = audioFrame(buf, stamp{sent: now.UnixNano(), seq: p.stampSeq[0], stream: p.stream})
	_ = pkt.Header.SetExtension(p.extLvl, []byte{0x80 | audioLevel})
	if p.extMid != 0 {
		_ = pkt.Header.SetExtension(p.extMid, []byte(p.mid))
	}
	p.seq[0]++
	p.stampSeq[0]++
	p.ts[0] += audioClock / 50
	if err := p.tracks[0].WriteRTP(&pkt); err != nil {
		p.c.log.Debug("audio write", "err", err)
	}
}

// sendVideo sends one frame on every layer.
func (p *publisher) sendVideo(now time.Time) {
	if !p.negotiated.Load() || !p.sending.Load() {
		return
	}
	for i, l := range videoLayers {
		key := p.keyReq[i].Swap(false) || now.Sub(p.lastKey[i]) >= p.c.g.o.KeyframeInterval
		if key {
			p.lastKey[i] = now
		}
		payloads := vp8Packets(frameSize(l, key), key, l, stamp{sent: now.UnixNano(), seq: p.stampSeq[i], stream: p.stream, layer: uint8(i)})
		for j, b := range payloads {
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: p.seq[i], Timestamp: p.ts[i], Marker: j == len(payloads)-1}, Payload: b}
			_ = pkt.Header.SetExtension(p.extMid, []byte(p.mid))
			_ = pkt.Header.SetExtension(p.extRid, []byte(l.rid))
			p.seq[i]++
			if err := p.tracks[i].WriteRTP(&pkt); err != nil {
				p.c.log.Debug("video write", "err", err)
			}
		}
		p.stampSeq[i] += uint32(len(payloads))
		p.ts[i] += videoClock / videoFPS
	}
}

func (p *publisher) close() {
	p.stopOnce.Do(func() {
		p.sending.Store(false)
		_ = p.pc.Close()
	})
}
