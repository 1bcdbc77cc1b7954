package sfu

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// histSize is how many sent sequence numbers a video down track remembers
// to answer NACKs: a power of two above the packet cache size.
const histSize = 512

type histEntry struct {
	out, orig uint16
	ts        uint32
	layer     int8
	ok        bool
}

// binding is what Pion gives a down track when the subscriber's answer is
// applied: where to write and with which SSRC and payload type.
type binding struct {
	ssrc uint32
	pt   uint8
	ws   webrtc.TrackLocalWriter
}

// downTrack is one up track as one subscriber receives it: a
// webrtc.TrackLocal of the subscriber's PeerConnection. It chooses the
// simulcast layer, rewrites SSRC, sequence number and timestamp so the
// subscriber sees one continuous stream across layer switches and drops,
// and hands packets to the subscriber's writer queue.
type downTrack struct {
	up     *upTrack
	sub    *Peer
	w      *writer
	stats  *counters
	sender *webrtc.RTPSender
	bind   atomic.Pointer[binding]
	closed atomic.Bool
	echo   bool // the subscriber is the publisher: the echo test (echo.go)

	// current is the layer being forwarded (-1 none yet); target is the
	// layer wanted, taken over at its next keyframe.
	current, target atomic.Int32
	maxW, maxH      atomic.Int32 // display size the subscriber asked for
	sent            atomic.Uint64

	// Rewrite state, touched by the read loop of the forwarded layer (and
	// at a switch by the new one) and by NACK handling: a lock per down
	// track, never per room.
	mu           sync.Mutex
	started      bool
	resync       bool // renumber at the next packet (after drops or gating)
	layerChanged bool // and move the timestamp base too
	dropUntilKey bool
	seqOff       uint16
	tsOff        uint32
	epochSeq     uint16
	lastSeq      uint16
	lastTS       uint32
	lastAt       int64
	hist         []histEntry
}

func newDownTrack(up *upTrack, sub *Peer) *downTrack {
	d := &downTrack{up: up, sub: sub, w: sub.w, stats: up.stats, echo: up.pub == sub}
	d.current.Store(-1)
	if !up.isVideo {
		d.current.Store(0) // audio has one layer and needs no keyframe
	} else {
		d.hist = make([]histEntry, histSize)
		if len(up.rids) > 1 {
			d.target.Store(-1) // chosen by the subscriber's allocator
		}
	}
	return d
}

// TrackLocal implementation.

// ID is the up track's room-wide ID (the msid track ID the client sees).
func (d *downTrack) ID() string { return d.up.id }

// StreamID groups a participant's tracks (the msid stream ID).
func (d *downTrack) StreamID() string { return streamIDOf(d.up.pub.id) }

// RID is empty: a subscriber receives one layer.
func (d *downTrack) RID() string { return "" }

// Kind is audio or video.
func (d *downTrack) Kind() webrtc.RTPCodecType {
	if d.up.isVideo {
		return webrtc.RTPCodecTypeVideo
	}
	return webrtc.RTPCodecTypeAudio
}

// Bind picks the negotiated codec that matches the publisher's.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, d.up.codec.MimeType) {
			d.bind.Store(&binding{ssrc: uint32(ctx.SSRC()), pt: uint8(c.PayloadType), ws: ctx.WriteStream()})
			if t := d.target.Load(); t >= 0 {
				d.up.requestKeyframe(int(t), true)
			}
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind stops writing.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.bind.Store(nil)
	return nil
}

// forward is called by the read loop of layer idx for every packet.
func (d *downTrack) forward(p *packet, idx int, t int64) {
	if d.bind.Load() == nil || d.closed.Load() {
		return
	}
	// Fast path without the lock: a packet of a layer we neither forward
	// nor switch to at this keyframe.
	if cur := d.current.Load(); int32(idx) != cur && (!p.keyframe || int32(idx) != d.target.Load()) {
		return
	}
	d.mu.Lock()
	kf := d.forwardLocked(p, idx, t)
	d.mu.Unlock()
	if kf {
		d.up.requestKeyframe(idx, false)
	}
}

// forwardLocked returns whether a keyframe must be requested (after a drop).
func (d *downTrack) forwardLocked(p *packet, idx int, t int64) bool {
	cur := d.current.Load()
	switch {
	case int32(idx) != cur:
		if !p.keyframe || int32(idx) != d.target.Load() {
			return false
		}
		if cur >= 0 {
			d.stats.switches.Add(1)
		}
		d.current.Store(int32(idx))
		d.layerChanged, d.resync, d.dropUntilKey = true, true, false
	case d.dropUntilKey:
		if !p.keyframe {
			// Keep asking while waiting: the first request may have been
			// swallowed by the per-layer throttle (a keyframe had just
			// passed for another subscriber) or lost on the way, and
			// browsers send keyframes only when asked. The throttle keeps
			// this to one PLI per layer and window.
			return true
		}
		d.dropUntilKey, d.resync = false, true
	}
	if p.resync {
		d.resync = true
	}
	seq, ts := p.hdr.SequenceNumber, p.hdr.Timestamp
	if !d.started || d.resync {
		if d.started {
			// Continue where the subscriber's stream left off.
			d.seqOff = d.lastSeq + 1 - seq
			if d.layerChanged {
				delta := uint32(uint64(max(t-d.lastAt, 0)) * uint64(d.up.codec.ClockRate) / 1e9)
				d.tsOff = d.lastTS + max(delta, 1) - ts
			}
		} else {
			d.lastSeq = seq + d.seqOff - 1
		}
		d.epochSeq, d.started, d.resync, d.layerChanged = seq, true, false, false
	} else if int16(seq-d.epochSeq) < 0 {
		return false // older than the switch point: not part of this stream
	}
	outSeq, outTS := seq+d.seqOff, ts+d.tsOff
	p.retain()
	if !d.w.enqueue(writeItem{d: d, p: p, seq: outSeq, ts: outTS}) {
		// The subscriber is too slow: drop rather than stall the publisher.
		p.release()
		d.stats.dropped.Add(1)
		if d.up.isVideo {
			d.dropUntilKey = true
			return true
		}
		d.resync = true
		return false
	}
	if int16(outSeq-d.lastSeq) > 0 {
		d.lastSeq, d.lastTS, d.lastAt = outSeq, outTS, t
		// Keep the floor for late packets near the newest, so that
		// sequence numbers wrapping around stay in the stream.
		if int16(seq-d.epochSeq) > 1024 {
			d.epochSeq = seq - 1024
		}
	}
	if d.hist != nil {
		d.hist[outSeq%histSize] = histEntry{out: outSeq, orig: seq, ts: outTS, layer: int8(idx), ok: true}
	}
	return false
}

// retransmit answers a NACK for an outgoing sequence number from the up
// track's packet cache.
func (d *downTrack) retransmit(seq uint16) {
	d.stats.nacked.Add(1)
	d.mu.Lock()
	if d.hist == nil {
		d.mu.Unlock()
		return
	}
	h := d.hist[seq%histSize]
	d.mu.Unlock()
	if !h.ok || h.out != seq {
		return
	}
	l := d.up.layer(int(h.layer))
	if l == nil {
		return
	}
	p := l.cache.get(h.orig)
	if p == nil {
		return
	}
	if !d.w.enqueue(writeItem{d: d, p: p, seq: seq, ts: h.ts, rtx: true}) {
		p.release()
		return
	}
	d.stats.retransmitted.Add(1)
}

// setTarget chooses the layer to forward; a change asks the publisher for
// a keyframe on the new layer at once, since the switch waits for one.
func (d *downTrack) setTarget(idx int) {
	d.target.Store(int32(idx))
	if d.current.Load() != int32(idx) {
		d.up.requestKeyframe(idx, true)
	}
}

// preferredLayer maps the subscriber's display size to the smallest layer
// at least about that large; no size asked means the top layer.
func (d *downTrack) preferredLayer() int {
	mw, mh := int(d.maxW.Load()), int(d.maxH.Load())
	top := d.up.topLayer()
	if mw <= 0 && mh <= 0 {
		return top
	}
	for i := 0; i < top; i++ {
		w, h := d.up.dims(i)
		if (mw <= 0 || w >= mw*9/10) && (mh <= 0 || h >= mh*9/10) {
			return i
		}
	}
	return top
}

// rtcpLoop reads the subscriber's RTCP for this track: keyframe requests go
// to the publisher (throttled), NACKs are answered from the cache, REMB
// feeds the subscriber's bandwidth estimate.
func (d *downTrack) rtcpLoop() {
	buf := make([]byte, packetMTU)
	for {
		n, _, err := d.sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pk := range pkts {
			switch v := pk.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if cur := d.current.Load(); cur >= 0 {
					d.up.requestKeyframe(int(cur), false)
				}
			case *rtcp.TransportLayerNack:
				for _, pair := range v.Nacks {
					pair.Range(func(seq uint16) bool {
						d.retransmit(seq)
						return true
					})
				}
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				d.sub.estimate.Store(int64(v.Bitrate))
			case *rtcp.ReceiverReport:
				// A compound report may reach every sender of the
				// connection: count only the block about this track.
				if b := d.bind.Load(); b != nil {
					for _, rr := range v.Reports {
						if rr.SSRC == b.ssrc {
							d.stats.observeLoss(rr.FractionLost)
						}
					}
				}
			}
		}
	}
}

// attach makes the up track's read loops feed d: the subscriber list, or
// for the echo test the up track's echo slot, which the read loops serve
// before the forwarding gates.
func (d *downTrack) attach() {
	if d.echo {
		d.up.echo.Store(d)
		return
	}
	d.up.addDown(d)
}

func (d *downTrack) close() {
	d.closed.Store(true)
	if d.echo {
		d.up.echo.CompareAndSwap(d, nil)
		return
	}
	d.up.removeDown(d)
}
