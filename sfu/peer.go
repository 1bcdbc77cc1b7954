package sfu

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Target names one of a participant's two PeerConnections. Each has one
// direction, so neither side ever has to resolve an offer collision.
type Target string

// The two PeerConnections of a peer.
const (
	// TargetPublish carries the client's media to the server. The client
	// offers, the server answers (HandleOffer).
	TargetPublish Target = "publish"
	// TargetSubscribe carries everyone else's media to the client. The
	// server offers (Signal), the client answers (HandleAnswer).
	TargetSubscribe Target = "subscribe"
)

// SignalType is the kind of a server-to-client message.
type SignalType string

// Signal types.
const (
	// SignalOffer is a new offer on the subscribe PeerConnection; the
	// client answers it with HandleAnswer. Tracks maps its m-lines to
	// participants and kinds.
	SignalOffer SignalType = "offer"
)

// Signal is a message the signaling layer must deliver to the client.
type Signal struct {
	Type   SignalType  `json:"type"`
	Target Target      `json:"target"`
	SDP    string      `json:"sdp,omitempty"`
	Tracks []TrackInfo `json:"tracks,omitempty"`
}

// TrackInfo tells the client whose media an m-line of the subscribe
// PeerConnection carries. Match on MID (RTCRtpTransceiver.mid): remote
// track IDs are not reliable across browsers.
type TrackInfo struct {
	TrackID       string    `json:"trackId"` // for SetLayerPreference
	MID           string    `json:"mid"`
	StreamID      string    `json:"streamId"`
	ParticipantID string    `json:"participantId"`
	Kind          TrackKind `json:"kind"`
}

// Candidate is an ICE candidate from the client (RTCIceCandidateInit plus
// the PeerConnection it belongs to).
type Candidate struct {
	Target           Target  `json:"target"`
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// ConnState is a PeerConnection's connection state ("connected", "failed"…).
type ConnState string

// Peer is one participant's media: a publish and a subscribe
// PeerConnection, each with one goroutine doing all its SDP and ICE work.
type Peer struct {
	id     string
	room   *Room
	policy Policy
	log    *slog.Logger
	pubPC  *webrtc.PeerConnection
	subPC  *webrtc.PeerConnection
	pubQ   *opQueue
	subQ   *opQueue
	w      *writer

	estimate atomic.Int64 // subscriber's bandwidth estimate in bit/s (REMB), 0 unknown
	onSignal atomic.Pointer[func(Signal)]
	sigMu    sync.Mutex
	early    []Signal // emitted before OnSignal was set
	onState  atomic.Pointer[func(Target, ConnState)]
	onFailed atomic.Pointer[func(error)]
	syncDue  atomic.Bool
	echoOn   atomic.Bool                  // the echo test is on; written on subQ (echo.go)
	downList atomic.Pointer[[]*downTrack] // copy of downs for readers off the queue

	mu      sync.Mutex
	kinds   map[string]TrackKind // mid or msid track ID → kind, from the client
	rids    map[string][]string  // mid → simulcast rids, lowest first
	ups     map[string]*upTrack  // by mid
	stopped [KindScreen + 1]bool // kinds the server does not forward
	closed  bool
	done    chan struct{} // closed when Close has finished

	// Owned by subQ's goroutine.
	downs          map[string]*downTrack // by up track ID
	awaitingAnswer bool
	reoffered      bool   // the outstanding offer was sent again after a timeout
	lastOffer      Signal // the latest offer, for sending it again
	renegotiate    bool
	restartICE     bool
	// Owned by the respective queue's goroutine.
	pendingPub, pendingSub []webrtc.ICECandidateInit

	wg sync.WaitGroup // RTCP loops

	local *LocalPeer // set for a participant without WebRTC (phone)

	// joined is when the peer was made; connected is set at its first
	// connected PeerConnection, which the connect-time metric counts.
	joined    time.Time
	connected atomic.Bool
}

func newPeer(r *Room, id string, policy Policy) (*Peer, error) {
	p := &Peer{id: id, room: r, policy: policy, log: r.log.With("participant", id),
		kinds: map[string]TrackKind{}, rids: map[string][]string{}, ups: map[string]*upTrack{},
		downs: map[string]*downTrack{}, done: make(chan struct{}), joined: time.Now()}
	empty := []*downTrack{}
	p.downList.Store(&empty)
	var err error
	if p.pubPC, err = r.sfu.pubAPI.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return nil, fmt.Errorf("sfu: publish peer connection: %w", err)
	}
	if p.subPC, err = r.sfu.subAPI.NewPeerConnection(webrtc.Configuration{}); err != nil {
		_ = p.pubPC.Close()
		return nil, fmt.Errorf("sfu: subscribe peer connection: %w", err)
	}
	p.pubQ, p.subQ = newOpQueue(), newOpQueue()
	p.w = newWriter(&r.sfu.stats, p.allocate)
	go p.w.run()
	p.pubPC.OnTrack(p.onTrack)
	p.pubPC.OnConnectionStateChange(func(s webrtc.PeerConnectionState) { p.stateChanged(TargetPublish, s) })
	p.subPC.OnConnectionStateChange(func(s webrtc.PeerConnectionState) { p.stateChanged(TargetSubscribe, s) })
	return p, nil
}

// ID returns the participant ID.
func (p *Peer) ID() string { return p.id }

// OnSignal sets where server-to-client messages go. The callback runs on
// the peer's negotiation goroutine: it must queue the message and return,
// and must not call the Peer's methods synchronously.
// Signals emitted before OnSignal was set (Join's first subscribe offer can
// be ready before the caller had the Peer) are delivered to it then.
func (p *Peer) OnSignal(f func(Signal)) {
	p.sigMu.Lock()
	p.onSignal.Store(&f)
	early := p.early
	p.early = nil
	p.sigMu.Unlock()
	for _, s := range early {
		f(s)
	}
}

// OnStateChange sets a callback for connection state changes of either
// PeerConnection (e.g. "failed": the client should restart ICE).
func (p *Peer) OnStateChange(f func(Target, ConnState)) { p.onState.Store(&f) }

// OnFailed sets a callback for the peer failing on the server's side: so
// far only ErrNegotiationTimeout (wrapped), when the client answered
// neither a subscribe offer nor the re-offer in time. The peer is closed
// and has left the room when it runs (calling Close is harmless); the
// signaling layer tells the client, which may join again. It runs on a
// goroutine of its own and must not block or call SFU.CloseRoom.
func (p *Peer) OnFailed(f func(error)) { p.onFailed.Store(&f) }

// fail closes the peer off its negotiation queue (Close stops the queue
// and waits for it, so it cannot run on it) and then tells the owner. The
// room waits for this goroutine when it closes; a closing room closes the
// peer itself, and nobody needs to hear about the failure then.
func (p *Peer) fail(err error) {
	p.log.Warn("peer failed", "err", err)
	if !p.room.goBusy(func() {
		p.Close()
		if f := p.onFailed.Load(); f != nil {
			(*f)(err)
		}
	}) {
		p.log.Debug("room closing: failure not reported")
	}
}

func (p *Peer) stateChanged(t Target, s webrtc.PeerConnectionState) {
	p.log.Debug("connection state", "pc", t, "state", s.String())
	if s == webrtc.PeerConnectionStateConnected && p.connected.CompareAndSwap(false, true) {
		p.room.sfu.stats.observeConnect(time.Since(p.joined))
	}
	if f := p.onState.Load(); f != nil {
		(*f)(t, ConnState(s.String()))
	}
}

func (p *Peer) emit(s Signal) {
	if f := p.onSignal.Load(); f != nil {
		(*f)(s)
		return
	}
	p.sigMu.Lock()
	f := p.onSignal.Load()
	if f == nil {
		// Kept, not dropped: a lost offer would leave the subscribe side
		// waiting for an answer that never comes.
		p.early = append(p.early, s)
	}
	p.sigMu.Unlock()
	if f != nil {
		(*f)(s)
	}
}

// SetLayerPreference tells the size the client displays a received video
// at; the SFU sends the smallest simulcast layer at least that large (as
// far as the subscriber's bandwidth allows). 0, 0 asks for the best.
func (p *Peer) SetLayerPreference(trackID string, maxWidth, maxHeight int) error {
	for _, d := range *p.downList.Load() {
		if d.up.id == trackID {
			d.maxW.Store(int32(max(maxWidth, 0)))
			d.maxH.Store(int32(max(maxHeight, 0)))
			p.w.kick()
			return nil
		}
	}
	return fmt.Errorf("%w: %q", ErrUnknownTrack, trackID)
}

// StopForwarding makes the server stop forwarding this participant's
// tracks of one kind, now and for tracks published later: the camera was
// switched off, or a moderator muted the microphone. Only the participant's
// own request should lead to ResumeForwarding (nobody is unmuted by
// someone else); that rule belongs to the room layer.
func (p *Peer) StopForwarding(k TrackKind) { p.setForwarding(k, false) }

// ResumeForwarding undoes StopForwarding.
func (p *Peer) ResumeForwarding(k TrackKind) { p.setForwarding(k, true) }

// Forwarding reports whether tracks of kind k are forwarded.
func (p *Peer) Forwarding(k TrackKind) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int(k) < len(p.stopped) && !p.stopped[k]
}

func (p *Peer) setForwarding(k TrackKind, on bool) {
	if int(k) >= len(p.stopped) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped[k] = !on
	for _, u := range p.ups {
		if u.kind == k {
			u.muted.Store(!on)
		}
	}
}

// onTrack runs on a Pion goroutine for each received encoding.
func (p *Peer) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	mid := ""
	for _, t := range p.pubPC.GetTransceivers() {
		if t.Receiver() == receiver {
			mid = t.Mid()
			break
		}
	}
	if !p.remoteSends(mid) {
		// A straggler packet of a track the client just removed can make
		// Pion announce it again: never resurrect it.
		p.log.Debug("ignoring a track the client does not send", "mid", mid)
		return
	}
	var levelExt uint8
	for _, e := range receiver.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			levelExt = uint8(e.ID)
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	u := p.ups[mid]
	// A second track on a busy layer means the client replaced the track
	// on this transceiver before the old read loop ended: a new up track.
	isNew := u == nil || u.layer(u.layerIndex(remote.RID())) != nil && u.layer(u.layerIndex(remote.RID())).remote != remote
	if isNew {
		kind := p.kindFor(mid, remote.ID(), remote.Kind())
		u = newUpTrack(p.room.nextTrackID(kind), p, mid, kind, remote.Codec().RTPCodecCapability, p.rids[mid])
		if remote.Kind() == webrtc.RTPCodecTypeAudio {
			u.levelExt = levelExt
		}
		u.muted.Store(p.stopped[kind])
		u.onEnd = p.upEnded
		p.ups[mid] = u
	}
	p.mu.Unlock()
	if !u.addLayer(remote) {
		return
	}
	p.log.Debug("track published", "track", u.id, "kind", u.kind.String(), "rid", remote.RID(), "codec", u.codec.MimeType)
	if isNew {
		p.room.addUp(u)
	}
}

func (p *Peer) kindFor(mid, trackID string, t webrtc.RTPCodecType) TrackKind {
	if k, ok := p.kinds[mid]; ok {
		return k
	}
	if k, ok := p.kinds[trackID]; ok {
		return k
	}
	if t == webrtc.RTPCodecTypeAudio {
		return KindMic
	}
	return KindCamera
}

// upEnded runs when the client stopped sending a track (removed it, or the
// PeerConnection closed): subscribers lose it with their next offer.
func (p *Peer) upEnded(u *upTrack) {
	p.mu.Lock()
	if p.ups[u.mid] == u {
		delete(p.ups, u.mid)
	}
	p.mu.Unlock()
	p.room.removeUp(u)
	u.close()
	p.log.Debug("track unpublished", "track", u.id)
}

// allocate chooses every received video's simulcast layer: at most the
// size the client displays it at, within an equal share of the
// subscriber's bandwidth estimate, and only layers actually arriving. It
// runs on the writer goroutine (periodically and when kicked).
func (p *Peer) allocate() {
	downs := *p.downList.Load()
	var videos int64
	for _, d := range downs {
		if d.up.isVideo {
			videos++
		}
	}
	if videos == 0 {
		return
	}
	share := p.estimate.Load() / videos
	t := now()
	for _, d := range downs {
		u := d.up
		if !u.isVideo {
			continue
		}
		top := u.topLayer()
		if top == 0 {
			d.setTarget(0)
			continue
		}
		want, choice := d.preferredLayer(), -1
		for i := want; i >= 0; i-- {
			l := u.layer(i)
			if !l.available(t) || (share > 0 && i > 0 && l.rate.Load() > share) {
				continue
			}
			choice = i
			break
		}
		for i := want + 1; choice < 0 && i <= top; i++ {
			if u.layer(i).available(t) {
				choice = i
			}
		}
		if choice >= 0 && int32(choice) != d.target.Load() {
			d.setTarget(choice)
		} else if choice >= 0 && d.current.Load() != int32(choice) {
			d.up.requestKeyframe(choice, false) // still waiting for the switch
		}
	}
}

// TrackStat describes one published or received track.
type TrackStat struct {
	TrackID       string    `json:"trackId"`
	ParticipantID string    `json:"participantId"`
	Kind          TrackKind `json:"kind"`
	Layers        int       `json:"layers,omitempty"` // published: layers received
	Layer         int       `json:"layer"`            // received: layer forwarded, -1 none yet
	Packets       uint64    `json:"packets"`          // published: read; received: written
	Forwarding    bool      `json:"forwarding"`
}

// PeerStats is a snapshot of a peer's media.
type PeerStats struct {
	Published   []TrackStat `json:"published"`
	Received    []TrackStat `json:"received"`
	EstimateBps int64       `json:"estimateBps"` // subscriber bandwidth (REMB), 0 unknown
}

// Stats returns a snapshot of the peer's tracks (for the connection-quality
// hint and tests).
func (p *Peer) Stats() PeerStats {
	var s PeerStats
	p.mu.Lock()
	for _, u := range p.ups {
		n := 0
		for i := range u.layers {
			if u.layers[i].Load() != nil {
				n++
			}
		}
		s.Published = append(s.Published, TrackStat{TrackID: u.id, ParticipantID: p.id, Kind: u.kind, Layers: n,
			Packets: u.received.Load(), Forwarding: !u.muted.Load()})
	}
	p.mu.Unlock()
	for _, d := range *p.downList.Load() {
		s.Received = append(s.Received, TrackStat{TrackID: d.up.id, ParticipantID: d.up.pub.id, Kind: d.up.kind,
			Layer: int(d.current.Load()), Packets: d.sent.Load(), Forwarding: d.echo || !d.up.muted.Load()})
	}
	s.EstimateBps = p.estimate.Load()
	return s
}

// Close ends the peer: both PeerConnections, its published tracks (which
// subscribers lose), its subscriptions. It returns when its goroutines are
// gone, also when another Close is already at work. Safe to call more
// than once.
func (p *Peer) Close() {
	p.mu.Lock()
	if p.closed {
		done := p.done
		p.mu.Unlock()
		if done != nil {
			<-done
		}
		return
	}
	p.closed = true
	if p.done != nil {
		defer close(p.done)
	}
	ups := make([]*upTrack, 0, len(p.ups))
	for _, u := range p.ups {
		ups = append(ups, u)
	}
	p.mu.Unlock()
	p.room.removePeer(p)
	p.subQ.stop()
	if p.local == nil {
		p.pubQ.stop()
		if err := p.pubPC.GracefulClose(); err != nil {
			p.log.Debug("close publish", "err", err)
		}
		if err := p.subPC.GracefulClose(); err != nil {
			p.log.Debug("close subscribe", "err", err)
		}
	}
	for _, u := range ups {
		if p.local != nil {
			u.endedOnce.Do(func() { p.upEnded(u) }) // no read loop to end it
		}
		u.wg.Wait() // read loops end with the PeerConnection; upEnded ran
	}
	for _, d := range *p.downList.Load() {
		d.close()
	}
	p.w.stop()
	p.wg.Wait()
}

func (p *Peer) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// remoteSends reports whether the client's current offer sends on mid.
func (p *Peer) remoteSends(mid string) bool {
	rd := p.pubPC.RemoteDescription()
	if rd == nil {
		return false
	}
	// Parse our own copy: rd.Unmarshal would write into Pion's description.
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(rd.SDP); err != nil {
		return false
	}
	for _, m := range sd.MediaDescriptions {
		if v, _ := m.Attribute("mid"); v != mid {
			continue
		}
		if m.MediaName.Port.Value == 0 {
			return false
		}
		for _, a := range m.Attributes {
			switch a.Key {
			case "inactive", "recvonly":
				return false
			}
		}
		return true
	}
	return false
}
