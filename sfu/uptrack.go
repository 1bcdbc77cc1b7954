package sfu

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

const (
	maxLayers = 3
	// Cache sizes: video answers NACKs for about a quarter second of the
	// top layer (longer for the lower ones); browsers do not NACK Opus.
	videoCacheSize = 256
	audioCacheSize = 0
	// keyframeThrottle spaces PLIs to one publisher layer, so a room of
	// subscribers with loss cannot make a publisher send only keyframes.
	keyframeThrottle = 500 * time.Millisecond
	// forcedKeyframeGap is the shorter spacing for layer switches, which
	// must always ask (see setTarget).
	forcedKeyframeGap = 50 * time.Millisecond
	// speechLevel: RFC 6464 levels below this (louder than -50 dBov) count
	// as speech; speechHold keeps forwarding through pauses between words.
	speechLevel = 50
	speechHold  = 2 * time.Second
)

// epoch makes monotonic nanosecond stamps that fit an atomic.Int64.
var epoch = time.Now()

func now() int64 { return int64(time.Since(epoch)) }

type codecID uint8

const (
	codecOther codecID = iota
	codecVP8
	codecH264
)

// layer is one simulcast encoding (or the only one) of an up track.
type layer struct {
	idx    int
	rid    string
	ssrc   uint32
	remote *webrtc.TrackRemote
	cache  *packetCache

	width, height atomic.Int32 // from the last VP8 keyframe
	rate          atomic.Int64 // bits per second over the last second
	lastPacket    atomic.Int64 // now() of the last packet
	lastKeyReq    atomic.Int64 // now() of the last PLI sent
}

// upTrack is one track a participant publishes (mic, camera or screen),
// with up to three simulcast layers. Each layer has its own read loop; the
// loops read the subscriber list from a copy-on-write snapshot, so adding
// or removing a subscriber never blocks or locks the packet path.
type upTrack struct {
	id         string // unique in the room; the subscriber-facing track ID
	pub        *Peer
	mid        string
	kind       TrackKind
	codec      webrtc.RTPCodecCapability
	rids       []string // simulcast rids, lowest first; empty without simulcast
	levelExt   uint8    // audio-level header extension ID, 0 when absent
	isVideo    bool
	codecID    codecID // decided once: no string work per packet
	stats      *counters
	layers     [maxLayers]atomic.Pointer[layer]
	downs      atomic.Pointer[[]*downTrack]
	echo       atomic.Pointer[downTrack] // the publisher's own echo test (echo.go), outside the gates
	muted      atomic.Bool               // the server stops forwarding (camera off, moderator mute)
	lastLoud   atomic.Int64              // now() of the last audio packet to forward (speech or unmeasured)
	lastSpeech atomic.Int64              // now() of the last audio packet measured as speech
	received   atomic.Uint64
	wg         sync.WaitGroup // read loops
	mu         sync.Mutex     // guards downs updates and running
	running    int            // read loops still running
	onEnd      func(*upTrack) // called once when the last read loop ends
	endedOnce  sync.Once
}

func newUpTrack(id string, pub *Peer, mid string, kind TrackKind, codec webrtc.RTPCodecCapability, rids []string) *upTrack {
	u := &upTrack{id: id, pub: pub, mid: mid, kind: kind, codec: codec, rids: rids, stats: &pub.room.sfu.stats,
		isVideo: strings.HasPrefix(strings.ToLower(codec.MimeType), "video/")}
	switch strings.ToLower(codec.MimeType) {
	case "video/vp8":
		u.codecID = codecVP8
	case "video/h264":
		u.codecID = codecH264
	}
	empty := []*downTrack{}
	u.downs.Store(&empty)
	return u
}

// layerIndex maps a rid to its layer index, lowest quality first.
func (u *upTrack) layerIndex(rid string) int {
	for i, r := range u.rids {
		if r == rid {
			return i
		}
	}
	return 0
}

// topLayer is the index of the highest layer the publisher announced.
func (u *upTrack) topLayer() int {
	if len(u.rids) == 0 {
		return 0
	}
	return min(len(u.rids), maxLayers) - 1
}

func (u *upTrack) layer(i int) *layer {
	if i < 0 || i >= maxLayers {
		return nil
	}
	return u.layers[i].Load()
}

// addLayer starts the read loop of one received encoding. It returns false
// when that layer already exists (a duplicate OnTrack).
func (u *upTrack) addLayer(remote *webrtc.TrackRemote) bool {
	idx := u.layerIndex(remote.RID())
	if idx >= maxLayers {
		return false
	}
	size := audioCacheSize
	if u.isVideo {
		// Lower layers send fewer packets: a smaller cache covers the same
		// time (about 2 s at 15, 50 and 150 packets/s), for less memory.
		size = max(videoCacheSize>>max(u.topLayer()-idx, 0), 64)
	}
	l := &layer{idx: idx, rid: remote.RID(), ssrc: uint32(remote.SSRC()), remote: remote, cache: newPacketCache(size)}
	if !u.layers[idx].CompareAndSwap(nil, l) {
		return false
	}
	u.mu.Lock()
	u.running++
	u.mu.Unlock()
	u.wg.Add(1)
	go u.readLoop(l)
	return true
}

// readLoop reads one layer until the publisher stops it or its
// PeerConnection closes.
func (u *upTrack) readLoop(l *layer) {
	defer u.wg.Done()
	defer u.loopEnded(l)
	st := readState{windowStart: now()}
	for {
		p := getPacket()
		n, _, err := l.remote.Read(p.buf[:])
		if err != nil {
			p.release()
			return
		}
		p.n = n
		u.ingest(p, l, &st, now())
	}
}

// readState is what one read loop remembers between packets.
type readState struct {
	gated       bool // packets were skipped on purpose (mute, silence)
	windowStart int64
	windowBytes int64
}

// ingest handles one received packet of layer l and releases it. Per
// packet it takes no lock but the layer cache's own, and allocates
// nothing: the packet comes from a pool and is shared by reference with
// every subscriber's writer.
func (u *upTrack) ingest(p *packet, l *layer, st *readState, t int64) {
	defer p.release()
	if p.parse() != nil || len(p.payload) == 0 {
		return // malformed, or padding only (bandwidth probes)
	}
	p.arrival = t
	u.received.Add(1)
	u.stats.packetsIn.Add(1)
	l.lastPacket.Store(t)
	st.windowBytes += int64(p.n)
	if d := t - st.windowStart; d >= int64(time.Second) {
		l.rate.Store(st.windowBytes * 8 * int64(time.Second) / d)
		st.windowStart, st.windowBytes = t, 0
	}
	if u.isVideo {
		p.keyframe = u.keyframe(p, l)
	} else if u.levelExt != 0 {
		// A packet without a level (some clients never send it) counts
		// as speech: never silence what we cannot measure.
		lvl, _, ok := audioLevel(p.hdr.GetExtension(u.levelExt))
		if !ok || lvl < speechLevel {
			u.lastLoud.Store(t)
		}
		if ok && lvl < speechLevel {
			u.lastSpeech.Store(t)
		}
	}
	l.cache.add(p)

	if e := u.echo.Load(); e != nil {
		// The echo test: the publisher hears itself whatever others may
		// hear, so before the mute and speech gates (and no resync mark:
		// its stream has no gaps).
		e.forward(p, l.idx, t)
	}
	forward := !u.muted.Load()
	if last := u.lastLoud.Load(); forward && !u.isVideo && u.levelExt != 0 && (last == 0 || t-last > int64(speechHold)) {
		forward = false // audio is forwarded for active speakers only
	}
	if !forward {
		st.gated = true
		return
	}
	if st.gated {
		p.resync, st.gated = true, false
	}
	for _, d := range *u.downs.Load() {
		d.forward(p, l.idx, t)
	}
}

func (u *upTrack) keyframe(p *packet, l *layer) bool {
	switch u.codecID {
	case codecVP8:
		key, w, h := vp8Keyframe(p.payload)
		if key && w > 0 && h > 0 {
			l.width.Store(int32(w))
			l.height.Store(int32(h))
		}
		return key
	case codecH264:
		return h264Keyframe(p.payload)
	}
	return false
}

func (u *upTrack) loopEnded(*layer) {
	u.mu.Lock()
	u.running--
	last := u.running == 0
	u.mu.Unlock()
	if last && u.onEnd != nil {
		u.endedOnce.Do(func() { u.onEnd(u) })
	}
}

// addDown and removeDown replace the snapshot; the read loops see the new
// list with their next packet.
func (u *upTrack) addDown(d *downTrack) {
	u.mu.Lock()
	defer u.mu.Unlock()
	old := *u.downs.Load()
	next := make([]*downTrack, len(old), len(old)+1)
	copy(next, old)
	next = append(next, d)
	u.downs.Store(&next)
}

func (u *upTrack) removeDown(d *downTrack) {
	u.mu.Lock()
	defer u.mu.Unlock()
	old := *u.downs.Load()
	next := make([]*downTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	u.downs.Store(&next)
}

// requestKeyframe sends a PLI for one layer to the publisher, at most once
// per keyframeThrottle (forced: per forcedKeyframeGap, for layer switches).
func (u *upTrack) requestKeyframe(idx int, forced bool) {
	if !u.isVideo {
		return
	}
	l := u.layer(idx)
	if l == nil {
		return
	}
	gap := int64(keyframeThrottle)
	if forced {
		gap = int64(forcedKeyframeGap)
	}
	t := now()
	last := l.lastKeyReq.Load()
	if last != 0 && t-last < gap || !l.lastKeyReq.CompareAndSwap(last, t) {
		return
	}
	u.stats.keyframes.Add(1)
	pc := u.pub.pubPC
	if pc == nil {
		return
	}
	_ = pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: l.ssrc}})
}

// available reports whether a layer is being received (packets within the
// last two seconds): publishers drop high layers when their uplink is poor.
func (l *layer) available(t int64) bool {
	return l != nil && t-l.lastPacket.Load() < int64(2*time.Second)
}

// dims returns the layer's size, guessing from the top layer (each lower
// layer half the size, the usual simulcast ladder) or 720p when unknown.
func (u *upTrack) dims(idx int) (w, h int) {
	if l := u.layer(idx); l != nil && l.height.Load() > 0 {
		return int(l.width.Load()), int(l.height.Load())
	}
	top := u.topLayer()
	tw, th := 1280, 720
	if l := u.layer(top); l != nil && l.height.Load() > 0 {
		tw, th = int(l.width.Load()), int(l.height.Load())
	}
	shift := max(top-idx, 0)
	return tw >> shift, th >> shift
}

// close clears the caches; the read loops end when the PeerConnection
// closes.
func (u *upTrack) close() {
	for i := range u.layers {
		if l := u.layers[i].Load(); l != nil {
			l.cache.clear()
		}
	}
}
