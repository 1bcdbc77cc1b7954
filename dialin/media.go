package dialin

import (
	"errors"
	"sync"
)

// Media is how a call's audio meets the room; LoopHub implements it in
// process. Over the SFU it is the caller's peer without WebRTC:
//
//   - PublishOpus: the participant's microphone up track (Opus/48000/2 in
//     SDP terms, mono content), one RTP packet per frame with the
//     timestamp advancing 960, the level in the RFC 6464 audio-level
//     extension so active-speaker detection and the speaking indicator
//     work. The gateway stops calling it while the caller is muted (by
//     key 0 or a moderator); the SFU's own StopForwarding still applies.
//   - OnOpus: the payloads of the audio the room's policy lets this
//     participant receive (the active speakers), tagged with their
//     publisher's participant ID; the gateway mixes them and drops its own.
//   - Close: remove both when the call ends.
type Media interface {
	// PublishOpus sends one 20 ms Opus frame (48 kHz mono) of the caller's
	// voice with its RFC 6464 audio level (-dBov, 0 loudest, 127 silence).
	// The frame is only valid during the call.
	PublishOpus(frame []byte, level uint8) error
	// OnOpus registers the callback for every Opus frame of the other
	// participants: (source participant ID, frame). It is called from the
	// media side's goroutines; the frame is only valid during the call.
	OnOpus(func(source string, frame []byte))
	// Close stops publishing and receiving.
	Close() error
}

// MediaFactory opens the media of one caller in a meeting; it is called
// when the caller enters the room (after the PIN, and after the lobby).
type MediaFactory func(meetingKey, participantID string) (Media, error)

// errMediaClosed is returned by a closed LoopHub media.
var errMediaClosed = errors.New("dialin: media closed")

// LoopHub is an in-process audio room: every Media of a meeting hears the
// Opus frames of every other Media of the same meeting. It lets callers of
// one meeting talk without an SFU and is what the tests bridge through.
type LoopHub struct {
	mu    sync.Mutex
	rooms map[string]map[string]*loopMedia
}

// NewLoopHub returns an empty hub.
func NewLoopHub() *LoopHub { return &LoopHub{rooms: map[string]map[string]*loopMedia{}} }

// Open is a MediaFactory.
func (h *LoopHub) Open(meetingKey, participantID string) (Media, error) {
	m := &loopMedia{hub: h, key: meetingKey, id: participantID}
	h.mu.Lock()
	r := h.rooms[meetingKey]
	if r == nil {
		r = map[string]*loopMedia{}
		h.rooms[meetingKey] = r
	}
	if old := r[participantID]; old != nil {
		old.closed = true
	}
	r[participantID] = m
	h.mu.Unlock()
	return m, nil
}

// Members returns how many Media are open in a meeting.
func (h *LoopHub) Members(meetingKey string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.rooms[meetingKey])
}

type loopMedia struct {
	hub     *LoopHub
	key, id string
	// guarded by hub.mu
	cb     func(string, []byte)
	closed bool
}

func (m *loopMedia) PublishOpus(frame []byte, _ uint8) error {
	h := m.hub
	h.mu.Lock()
	if m.closed {
		h.mu.Unlock()
		return errMediaClosed
	}
	var cbs []func(string, []byte)
	for id, o := range h.rooms[m.key] {
		if id != m.id && o.cb != nil {
			cbs = append(cbs, o.cb)
		}
	}
	h.mu.Unlock()
	// Deliver outside the lock; each receiver gets its own copy.
	for _, cb := range cbs {
		cb(m.id, append([]byte(nil), frame...))
	}
	return nil
}

func (m *loopMedia) OnOpus(f func(string, []byte)) {
	m.hub.mu.Lock()
	m.cb = f
	m.hub.mu.Unlock()
}

func (m *loopMedia) Close() error {
	h := m.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	if r := h.rooms[m.key]; r != nil && r[m.id] == m {
		delete(r, m.id)
		if len(r) == 0 {
			delete(h.rooms, m.key)
		}
	}
	return nil
}

// mixer collects the room's Opus frames per source (pushed from the media
// side) and, once per 20 ms tick of the call, decodes one frame of each
// playing source and mixes them into one 8 kHz phone frame. The caller's
// own voice is never mixed back.
type mixer struct {
	self string

	mu      sync.Mutex
	queues  map[string]*srcQueue
	decoder map[string]*opusDecoder // owned by the call loop, not under mu

	acc  [roomFrame]float32
	down downsampler
	out  []int16
}

type srcQueue struct {
	frames  [][]byte
	playing bool
	idle    int
}

const (
	mixPrebuffer = 2   // frames queued before a source starts to play (40 ms)
	mixMaxQueue  = 8   // older frames are dropped beyond this (160 ms)
	mixForget    = 250 // ticks without frames before a source's decoder goes (5 s)
)

func newMixer(self string) *mixer {
	return &mixer{self: self, queues: map[string]*srcQueue{}, decoder: map[string]*opusDecoder{}, out: make([]int16, 0, phoneFrame)}
}

// push is the Media callback.
func (m *mixer) push(source string, frame []byte) {
	if source == m.self || len(frame) == 0 || len(frame) > maxOpusSize {
		return
	}
	cp := append([]byte(nil), frame...)
	m.mu.Lock()
	q := m.queues[source]
	if q == nil {
		q = &srcQueue{}
		m.queues[source] = q
	}
	if len(q.frames) >= mixMaxQueue {
		q.frames = q.frames[1:]
	}
	q.frames = append(q.frames, cp)
	m.mu.Unlock()
}

type srcFrame struct {
	src   string
	frame []byte
}

// frame mixes the next 20 ms and returns 160 samples at 8 kHz (valid until
// the next call); ok is false when nobody was heard.
func (m *mixer) frame() ([]int16, bool) {
	var take []srcFrame
	var gone []string
	m.mu.Lock()
	for src, q := range m.queues {
		if !q.playing && len(q.frames) >= mixPrebuffer {
			q.playing = true
		}
		if !q.playing || len(q.frames) == 0 {
			q.playing = false
			if q.idle++; q.idle > mixForget {
				delete(m.queues, src)
				gone = append(gone, src)
			}
			continue
		}
		q.idle = 0
		take = append(take, srcFrame{src, q.frames[0]})
		q.frames = q.frames[1:]
	}
	m.mu.Unlock()
	for _, src := range gone {
		delete(m.decoder, src)
	}
	clear(m.acc[:])
	heard := false
	for _, t := range take {
		d := m.decoder[t.src]
		if d == nil {
			var err error
			if d, err = newOpusDecoder(); err != nil {
				continue
			}
			m.decoder[t.src] = d
		}
		pcm, err := d.decode(t.frame)
		if err != nil {
			continue // a bad frame from one source must not silence the others
		}
		for i := 0; i < len(pcm) && i < roomFrame; i++ {
			m.acc[i] += pcm[i]
		}
		heard = true
	}
	// The downsampler keeps running through silence so its filter state
	// stays continuous.
	m.out = m.down.process(m.acc[:], m.out[:0])
	return m.out, heard
}
