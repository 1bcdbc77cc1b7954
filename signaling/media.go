package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"aula/room"
	"aula/sfu"
)

// Media message types (docs/protocol.md, section "Media"). media.answer
// goes both ways: the server answers the client's publish offer, the client
// answers the server's subscribe offer.
const (
	TypeMediaPublish   = "media.publish"   // client: MediaPublish
	TypeMediaAnswer    = "media.answer"    // both: MediaAnswer
	TypeMediaCandidate = "media.candidate" // client: MediaCandidate
	TypeMediaState     = "media.state"     // client: MediaState
	TypeMediaLayer     = "media.layer"     // client: MediaLayer
	TypeMediaRestart   = "media.restart"   // client: no data
	TypeMediaEcho      = "media.echo"      // client: MediaEcho
	TypeMediaConfig    = "media.config"    // server: MediaConfig
	TypeMediaOffer     = "media.offer"     // server: MediaOffer
	TypeMediaSpeaking  = "media.speaking"  // server: MediaSpeaking
)

// Limits on media payloads: an SDP of a browser with simulcast is a few
// kilobytes; the message cap bounds it anyway.
const (
	maxSDPBytes    = 60 << 10
	maxCandidate   = 1024
	maxVideoPixels = 16384
)

// MediaConfig tells the client how to build its two RTCPeerConnections:
// the built-in TURN server with credentials for this session (empty when
// TURN is off). Sent after every welcome in the room.
type MediaConfig struct {
	ICEServers []sfu.ICEServer `json:"iceServers"`
}

// MediaPublish is the client's offer on its publish PeerConnection. Kinds
// maps a transceiver's mid to "mic", "camera" or "screen".
type MediaPublish struct {
	SDP   string                   `json:"sdp"`
	Kinds map[string]sfu.TrackKind `json:"kinds,omitempty"`
}

// MediaAnswer is an answer: the server's to a publish offer (target
// "publish"), the client's to a subscribe offer (target "subscribe").
type MediaAnswer struct {
	Target sfu.Target `json:"target"`
	SDP    string     `json:"sdp"`
}

// MediaOffer is the server's offer on the subscribe PeerConnection; Tracks
// says whose media each m-line (by mid) carries.
type MediaOffer struct {
	Target sfu.Target      `json:"target"`
	SDP    string          `json:"sdp"`
	Tracks []sfu.TrackInfo `json:"tracks"`
}

// MediaCandidate is one trickled ICE candidate of the client
// (RTCIceCandidate.toJSON() plus the PeerConnection it belongs to).
type MediaCandidate struct {
	Target           sfu.Target `json:"target"`
	Candidate        string     `json:"candidate"`
	SDPMid           *string    `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16    `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string    `json:"usernameFragment,omitempty"`
}

// MediaState is what the participant switched on: microphone, camera,
// screen share. The server records it (refusing what a lock forbids) and
// forwards exactly that.
type MediaState struct {
	Audio  bool `json:"audio"`
	Video  bool `json:"video"`
	Screen bool `json:"screen"`
}

// MediaLayer reports the size the client displays a received video at, so
// the SFU sends the smallest simulcast layer that fills it.
type MediaLayer struct {
	TrackID string `json:"trackId"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
}

// MediaEcho switches the echo test on or off: while on (15 s at most) the
// participant receives their own microphone back through the SFU, and
// nobody else hears it. On is required: a message without it is refused
// rather than read as "off".
type MediaEcho struct {
	On *bool `json:"on"`
}

// MediaSpeaking says that a participant started or stopped speaking.
type MediaSpeaking struct {
	ID       string `json:"id"`
	Speaking bool   `json:"speaking"`
}

// Media is the Extension that connects browsers to the SFU: publish and
// subscribe negotiation, ICE, device state, layer preferences and the
// active speaker. One per node.
type Media struct {
	sfu *sfu.SFU
	// iceHost is the name clients reach the TURN server by (the public
	// URL's host).
	iceHost string
	log     *slog.Logger

	mu    sync.Mutex
	rooms map[string]*mediaRoom
}

// NewMedia returns the media extension over s. iceHost is the host name
// browsers reach the server by (the public URL's host), used in TURN URLs.
func NewMedia(s *sfu.SFU, iceHost string, log *slog.Logger) *Media {
	if log == nil {
		log = slog.Default()
	}
	return &Media{sfu: s, iceHost: iceHost, log: log, rooms: map[string]*mediaRoom{}}
}

// Types implements Extension.
func (m *Media) Types() []string {
	return []string{TypeMediaPublish, TypeMediaAnswer, TypeMediaCandidate, TypeMediaState, TypeMediaLayer, TypeMediaRestart,
		TypeMediaEcho}
}

// Open implements Extension: browser participants get a media handler; it
// joins the SFU once the participant is in the room (Welcomed).
func (m *Media) Open(_ context.Context, c Conn) (Handler, error) {
	return &mediaConn{m: m, c: c, id: c.Member().ID(), key: c.Member().MeetingKey(), log: c.Logger()}, nil
}

// CloseRoom forgets an ended meeting and closes its SFU room (all peers).
// The app calls it from room.Manager.OnEnd.
func (m *Media) CloseRoom(key string) {
	m.mu.Lock()
	delete(m.rooms, key)
	m.mu.Unlock()
	m.sfu.CloseRoom(key)
}

// Peers is the number of participants with a media connection on this
// node (the aula_participants gauge).
func (m *Media) Peers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.rooms {
		r.mu.RLock()
		n += len(r.conns)
		r.mu.RUnlock()
	}
	return n
}

// SFUPolicy adapts the meeting's media policy (decided in the room
// domain) to the SFU's question.
func SFUPolicy(p room.MediaPolicy) sfu.Policy {
	return sfu.PolicyFunc(func(sub, pub string, k sfu.TrackKind) bool {
		return p.CanReceive(sub, pub, mediaKind(k))
	})
}

// mediaKind names an SFU track kind in the room domain. The two types
// differ underneath (sfu.TrackKind is a number, room.MediaKind a string):
// a plain conversion room.MediaKind(k) compiles, go vet passes it (the
// number is a byte), and it yields a one-rune string that is no kind at
// all, so "webcams only for moderators" never matched a camera.
func mediaKind(k sfu.TrackKind) room.MediaKind {
	switch k {
	case sfu.KindMic:
		return room.MediaMic
	case sfu.KindCamera:
		return room.MediaCamera
	case sfu.KindScreen:
		return room.MediaScreen
	}
	return room.MediaKind(k.String())
}

// join registers h in its meeting's media room, made on first use over
// the meeting's SFU room, which the meeting's start opened. An ended
// meeting's SFU room is closed for good, so nothing here can revive it.
func (m *Media) join(h *mediaConn, lock room.LockSettings) (*mediaRoom, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rooms[h.key]
	if r == nil {
		sr, err := m.sfu.Room(h.key)
		if err != nil {
			return nil, err
		}
		r = &mediaRoom{sfu: sr, policy: h.c.Member().MediaPolicy(), lock: lock, conns: map[string]*mediaConn{}}
		sr.OnSpeaking(r.speaking)
		m.rooms[h.key] = r
	}
	r.mu.Lock()
	r.conns[h.id] = h
	r.mu.Unlock()
	return r, nil
}

// leave unregisters h (unless a newer connection of the same participant
// took its place) and forgets the room when it is empty.
func (m *Media) leave(h *mediaConn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := h.room
	r.mu.Lock()
	if r.conns[h.id] == h {
		delete(r.conns, h.id)
	}
	empty := len(r.conns) == 0
	r.mu.Unlock()
	if empty && m.rooms[h.key] == r {
		delete(m.rooms, h.key)
	}
}

// mediaRoom is a meeting's media on this node: the connections that hear
// about speakers, and the meeting's policy, which the SFU asks whenever it
// computes what a peer receives.
type mediaRoom struct {
	sfu    *sfu.Room
	policy room.MediaPolicy

	mu    sync.RWMutex
	lock  room.LockSettings // last lock settings the SFU was refreshed for
	conns map[string]*mediaConn
}

// CanReceive implements sfu.Policy with the room domain's policy.
func (r *mediaRoom) CanReceive(sub, pub string, k sfu.TrackKind) bool {
	return r.policy.CanReceive(sub, pub, mediaKind(k))
}

// relock re-checks every peer's subscriptions when the meeting's lock
// settings changed: once per change, however many connections report it.
func (r *mediaRoom) relock(lock room.LockSettings) {
	r.mu.Lock()
	changed := r.lock != lock
	r.lock = lock
	r.mu.Unlock()
	if changed {
		r.sfu.Refresh()
	}
}

// speaking runs on the SFU's speaker goroutine: it tells everyone who may
// see the speaker, without blocking (Send only queues).
func (r *mediaRoom) speaking(id string, on bool) {
	r.mu.RLock()
	to := make([]Conn, 0, len(r.conns))
	for sid, h := range r.conns {
		if r.policy.CanSee(sid, id) {
			to = append(to, h.c)
		}
	}
	r.mu.RUnlock()
	for _, c := range to {
		c.Send(TypeMediaSpeaking, MediaSpeaking{ID: id, Speaking: on})
	}
}

// mediaConn is the media state of one connection. Its methods run in the
// connection's loop, except the SFU callbacks, which only Send.
type mediaConn struct {
	m   *Media
	c   Conn
	id  string
	key string
	log *slog.Logger

	room *mediaRoom
	peer *sfu.Peer // nil until the participant is in the room
	role room.Role
}

// Welcomed joins the SFU when the participant is in the room, or applies a
// new role to the policy.
func (h *mediaConn) Welcomed(_ context.Context, s *room.Snapshot) {
	if !s.Self.InRoom || s.Self.Kind == room.Phone {
		return
	}
	if h.peer != nil {
		if s.Self.Role != h.role {
			// A new role changes what everyone may receive of this
			// participant, and what it may receive.
			h.role = s.Self.Role
			h.room.sfu.Refresh()
		}
		h.apply(s.Self)
		return
	}
	r, err := h.m.join(h, s.Meeting.Lock)
	if err != nil {
		h.log.Info("media join refused", "err", err)
		return
	}
	h.room, h.role = r, s.Self.Role
	peer, err := r.sfu.Join(h.id, r)
	if err != nil {
		h.log.Error("media join", "err", err)
		h.m.leave(h)
		h.room = nil
		return
	}
	// Camera and microphone are off on entry: nothing is forwarded until
	// the participant switches it on (media.state) and the room agrees.
	for _, k := range []sfu.TrackKind{sfu.KindMic, sfu.KindCamera, sfu.KindScreen} {
		peer.StopForwarding(k)
	}
	h.peer = peer
	h.apply(s.Self)
	// The configuration first: the client builds its PeerConnections from
	// it, and a new one means "start afresh" (after a reconnect the old
	// peer is gone). Offers follow.
	h.sendConfig()
	c := h.c
	peer.OnSignal(func(sig sfu.Signal) {
		c.Send(TypeMediaOffer, MediaOffer{Target: sig.Target, SDP: sig.SDP, Tracks: nonNil(sig.Tracks)})
	})
	log := h.log
	peer.OnStateChange(func(t sfu.Target, st sfu.ConnState) {
		log.Debug("media connection", "pc", t, "state", st)
	})
	peer.OnFailed(func(err error) {
		// The client never answered the server's offer (twice): its
		// media connection is closed. It is told so and starts afresh
		// with a new media.config on reconnect.
		log.Info("media connection failed", "err", err)
		c.Send(TypeError, Error{Code: CodeMediaFailed, Message: "the media connection failed: " + err.Error()})
	})
}

func nonNil(t []sfu.TrackInfo) []sfu.TrackInfo {
	if t == nil {
		return []sfu.TrackInfo{}
	}
	return t
}

func (h *mediaConn) sendConfig() {
	servers, err := h.m.sfu.ICEServers(h.m.iceHost, h.id)
	if err != nil && !errors.Is(err, sfu.ErrTURNDisabled) {
		h.log.Error("TURN credentials", "err", err)
	}
	if servers == nil {
		servers = []sfu.ICEServer{}
	}
	h.c.Send(TypeMediaConfig, MediaConfig{ICEServers: servers})
}

// apply makes the SFU forward exactly what the room state allows: the
// microphone while on and not muted, camera and screen while on.
func (h *mediaConn) apply(p room.Public) {
	if h.peer == nil {
		return
	}
	set := func(k sfu.TrackKind, on bool) {
		if on {
			h.peer.ResumeForwarding(k)
		} else {
			h.peer.StopForwarding(k)
		}
	}
	set(sfu.KindMic, p.Audio && !p.Muted)
	set(sfu.KindCamera, p.Video)
	set(sfu.KindScreen, p.Screen)
}

// Handle implements Handler.
func (h *mediaConn) Handle(ctx context.Context, typ string, data json.RawMessage) error {
	if h.peer == nil {
		return fmt.Errorf("%w: media starts once in the room", room.ErrNotInRoom)
	}
	switch typ {
	case TypeMediaPublish:
		var p MediaPublish
		if err := DecodeData(data, &p); err != nil {
			return err
		}
		if err := checkSDP(p.SDP); err != nil {
			return err
		}
		answer, err := h.peer.HandleOffer(p.SDP, p.Kinds)
		if err != nil {
			return sfuError(err)
		}
		h.c.Send(TypeMediaAnswer, MediaAnswer{Target: sfu.TargetPublish, SDP: answer})
		return nil
	case TypeMediaAnswer:
		var p MediaAnswer
		if err := DecodeData(data, &p); err != nil {
			return err
		}
		if p.Target != sfu.TargetSubscribe {
			return fmt.Errorf("%w: the client answers only target %q", ErrBadRequest, sfu.TargetSubscribe)
		}
		if err := checkSDP(p.SDP); err != nil {
			return err
		}
		return sfuError(h.peer.HandleAnswer(p.SDP))
	case TypeMediaCandidate:
		var p MediaCandidate
		if err := DecodeData(data, &p); err != nil {
			return err
		}
		if p.Target != sfu.TargetPublish && p.Target != sfu.TargetSubscribe {
			return fmt.Errorf("%w: target must be %q or %q", ErrBadRequest, sfu.TargetPublish, sfu.TargetSubscribe)
		}
		if p.Candidate == "" || len(p.Candidate) > maxCandidate {
			return fmt.Errorf("%w: candidate must be 1 to %d bytes", ErrBadRequest, maxCandidate)
		}
		return sfuError(h.peer.AddICECandidate(sfu.Candidate{Target: p.Target, Candidate: p.Candidate,
			SDPMid: p.SDPMid, SDPMLineIndex: p.SDPMLineIndex, UsernameFragment: p.UsernameFragment}))
	case TypeMediaState:
		var p MediaState
		if err := DecodeData(data, &p); err != nil {
			return err
		}
		// Switching off takes effect at once, before the room write.
		if !p.Audio {
			h.peer.StopForwarding(sfu.KindMic)
		}
		if !p.Video {
			h.peer.StopForwarding(sfu.KindCamera)
		}
		if !p.Screen {
			h.peer.StopForwarding(sfu.KindScreen)
		}
		err := h.c.Member().SetMedia(ctx, room.MediaState{Audio: p.Audio, Video: p.Video, Screen: p.Screen})
		h.applySelf()
		return err
	case TypeMediaLayer:
		var p MediaLayer
		if err := DecodeData(data, &p); err != nil {
			return err
		}
		if p.TrackID == "" || p.Width < 0 || p.Height < 0 || p.Width > maxVideoPixels || p.Height > maxVideoPixels {
			return fmt.Errorf("%w: trackId and a width and height of 0 to %d", ErrBadRequest, maxVideoPixels)
		}
		return sfuError(h.peer.SetLayerPreference(p.TrackID, p.Width, p.Height))
	case TypeMediaRestart:
		if err := noData(data); err != nil {
			return err
		}
		return sfuError(h.peer.RestartICE())
	case TypeMediaEcho:
		var p MediaEcho
		if err := DecodeData(data, &p); err != nil {
			return err
		}
		if p.On == nil {
			return fmt.Errorf("%w: on must be true or false", ErrBadRequest)
		}
		// Not a room state: the echo goes to the participant only, so
		// neither media.state nor any lock is involved; the SFU ends it
		// by itself after its time limit, and with the peer.
		return sfuError(h.peer.SetEcho(*p.On))
	}
	return fmt.Errorf("%w: %q", ErrUnknownType, typ)
}

// applySelf applies the participant's current room state (the authority,
// whatever order requests and events arrived in).
func (h *mediaConn) applySelf() {
	self, err := h.c.Member().Self()
	if err != nil {
		return
	}
	h.apply(self)
}

func noData(data json.RawMessage) error {
	s := string(data)
	if s != "" && s != "null" && s != "{}" {
		return fmt.Errorf("%w: takes no data", ErrBadRequest)
	}
	return nil
}

func checkSDP(s string) error {
	if s == "" || len(s) > maxSDPBytes {
		return fmt.Errorf("%w: sdp must be 1 to %d bytes", ErrBadRequest, maxSDPBytes)
	}
	return nil
}

// sfuError maps the SFU's sentinels to the protocol's: input the SFU
// refused is a bad request; a flood of negotiation is rate limited.
func sfuError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sfu.ErrBadSDP), errors.Is(err, sfu.ErrBadCandidate), errors.Is(err, sfu.ErrUnexpectedAnswer),
		errors.Is(err, sfu.ErrUnknownTrack), errors.Is(err, sfu.ErrBadTrackKind):
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	case errors.Is(err, sfu.ErrQueueFull):
		return fmt.Errorf("%w: %w", ErrRateLimited, err)
	case errors.Is(err, sfu.ErrClosed):
		return fmt.Errorf("%w: %w", room.ErrEnded, err)
	}
	return err
}

// Event implements Handler: changes of one's own state (a moderator's
// mute, a demotion, a new lock) and of the lock settings take effect in
// the SFU at once.
func (h *mediaConn) Event(_ context.Context, e room.Event) {
	if h.peer == nil {
		return
	}
	switch {
	case e.Type == room.EventMeetingUpdated:
		h.room.relock(e.Meeting.Lock)
		h.applySelf()
	case e.Type == room.EventUpdated && e.Participant != nil && e.Participant.ID == h.id:
		h.applySelf()
	}
}

// Close implements Handler: the participant's media ends with the
// connection; a reconnect publishes again.
func (h *mediaConn) Close() {
	if h.peer == nil {
		return
	}
	h.peer.Close()
	h.m.leave(h)
}
