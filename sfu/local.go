package sfu

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// localLevelExt is the extension ID a local peer's packets carry the audio
// level under; it only has to agree with itself, the packets never leave.
const localLevelExt = 1

// maxOpusFrame bounds one Opus frame (RFC 6716 allows 1275 bytes).
const maxOpusFrame = 1275

// ErrFrameTooLarge is returned by PublishOpus for a frame above 1275 bytes.
var ErrFrameTooLarge = errors.New("sfu: Opus frame too large")

// LocalPeer is a participant whose audio does not travel over WebRTC: a
// phone caller bridged by the SIP gateway. It publishes Opus frames as a
// microphone track (with audio level, so it counts as a speaker like
// anyone) and hears the room's forwarded audio, without DTLS, SRTP or a
// UDP hop. Its method set matches dialin.Media.
type LocalPeer struct {
	p *Peer

	mu     sync.Mutex // serialises PublishOpus
	up     *upTrack
	layer  *layer
	st     readState
	hdr    rtp.Header
	lvl    [1]byte
	start  time.Time
	onOpus atomic.Pointer[func(source string, frame []byte)]
}

// JoinLocal adds a participant without WebRTC. It receives the room's
// audio only (Policy still applies), through OnOpus.
func (r *Room) JoinLocal(participantID string, policy Policy) (*LocalPeer, error) {
	policy, err := r.admit(participantID, policy)
	if err != nil {
		return nil, err
	}
	defer r.busy.Done()
	p := &Peer{id: participantID, room: r, policy: policy, log: r.log.With("participant", participantID, "local", true),
		kinds: map[string]TrackKind{}, rids: map[string][]string{}, ups: map[string]*upTrack{},
		downs: map[string]*downTrack{}, done: make(chan struct{})}
	empty := []*downTrack{}
	p.downList.Store(&empty)
	l := &LocalPeer{p: p, start: time.Now()}
	p.local = l
	p.subQ = newOpQueue()
	p.w = newWriter(&r.sfu.stats, func() {})
	go p.w.run()

	var ssrc [4]byte
	_, _ = rand.Read(ssrc[:])
	l.hdr = rtp.Header{Version: 2, PayloadType: ptOpus, SSRC: binary.BigEndian.Uint32(ssrc[:])}
	l.up = newUpTrack(r.nextTrackID(KindMic), p, "local", KindMic,
		webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, nil)
	l.up.levelExt = localLevelExt
	l.layer = &layer{ssrc: l.hdr.SSRC, cache: newPacketCache(audioCacheSize)}
	l.up.layers[0].Store(l.layer)
	l.up.onEnd = p.upEnded
	l.st.windowStart = now()
	p.ups[l.up.mid] = l.up

	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		p.Close()
		return nil, ErrClosed
	}
	r.peers[participantID] = p
	r.mu.Unlock()
	r.addUp(l.up)
	p.scheduleSync()
	return l, nil
}

// ID returns the participant ID.
func (l *LocalPeer) ID() string { return l.p.id }

// PublishOpus sends one 20 ms Opus frame (48 kHz) of the participant's
// voice with its RFC 6464 level (-dBov: 0 loudest, 127 silence). Frames
// are stamped by the wall clock, so a pause (a muted caller sending
// nothing) keeps the timing right.
func (l *LocalPeer) PublishOpus(frame []byte, level uint8) error {
	if len(frame) > maxOpusFrame {
		return fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, len(frame))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.p.isClosed() {
		return ErrClosed
	}
	ts := uint32(time.Since(l.start) / (time.Second / 48000))
	if d := int32(ts - l.hdr.Timestamp); l.hdr.SequenceNumber != 0 && d < 960 {
		ts = l.hdr.Timestamp + 960
	}
	l.hdr.Timestamp = ts
	l.hdr.SequenceNumber++
	l.lvl[0] = level & 0x7f
	if err := l.hdr.SetExtension(localLevelExt, l.lvl[:]); err != nil {
		return err
	}
	p := getPacket()
	n, err := l.hdr.MarshalTo(p.buf[:])
	if err != nil {
		p.release()
		return err
	}
	p.n = n + copy(p.buf[n:], frame)
	l.up.ingest(p, l.layer, &l.st, now())
	return nil
}

// OnOpus sets the callback for the room's audio: the source participant
// and one Opus frame, valid only during the call. It runs on this peer's
// writer goroutine and must not block for long.
func (l *LocalPeer) OnOpus(f func(source string, frame []byte)) { l.onOpus.Store(&f) }

// StopForwarding mutes the participant (a moderator, or the caller's own
// mute key); ResumeForwarding unmutes.
func (l *LocalPeer) StopForwarding(k TrackKind) { l.p.StopForwarding(k) }

// ResumeForwarding undoes StopForwarding.
func (l *LocalPeer) ResumeForwarding(k TrackKind) { l.p.ResumeForwarding(k) }

// Close leaves the room: subscribers lose the track.
func (l *LocalPeer) Close() error {
	l.p.Close()
	return nil
}

// localSink delivers a down track's packets to the local peer's callback.
type localSink struct {
	l      *LocalPeer
	source string
}

func (s *localSink) WriteRTP(_ *rtp.Header, payload []byte) (int, error) {
	if f := s.l.onOpus.Load(); f != nil {
		(*f)(s.source, payload)
	}
	return len(payload), nil
}

func (s *localSink) Write(b []byte) (int, error) { return len(b), nil }
