package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
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
	onState  atomic.Pointer[func(Target, ConnState)]
	syncDue  atomic.Bool
	downList atomic.Pointer[[]*downTrack] // copy of downs for readers off the queue

	mu      sync.Mutex
	kinds   map[string]TrackKind // mid or msid track ID → kind, from the client
	rids    map[string][]string  // mid → simulcast rids, lowest first
	ups     map[string]*upTrack  // by mid
	stopped [KindScreen + 1]bool // kinds the server does not forward
	closed  bool

	// Owned by subQ's goroutine.
	downs          map[string]*downTrack // by up track ID
	awaitingAnswer bool
	renegotiate    bool
	restartICE     bool
	// Owned by the respective queue's goroutine.
	pendingPub, pendingSub []webrtc.ICECandidateInit

	wg sync.WaitGroup // RTCP loops
}

func newPeer(r *Room, id string, policy Policy) (*Peer, error) {
	p := &Peer{id: id, room: r, policy: policy, log: r.log.With("participant", id),
		kinds: map[string]TrackKind{}, rids: map[string][]string{}, ups: map[string]*upTrack{},
		downs: map[string]*downTrack{}}
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
func (p *Peer) OnSignal(f func(Signal)) { p.onSignal.Store(&f) }

// OnStateChange sets a callback for connection state changes of either
// PeerConnection (e.g. "failed": the client should restart ICE).
func (p *Peer) OnStateChange(f func(Target, ConnState)) { p.onState.Store(&f) }

func (p *Peer) stateChanged(t Target, s webrtc.PeerConnectionState) {
	p.log.Debug("connection state", "pc", t, "state", s.String())
	if f := p.onState.Load(); f != nil {
		(*f)(t, ConnState(s.String()))
	}
}

func (p *Peer) emit(s Signal) {
	if f := p.onSignal.Load(); f != nil {
		(*f)(s)
	}
}

// HandleOffer applies the client's offer on the publish PeerConnection and
// returns the answer, which holds all of the server's ICE candidates (the
// server never trickles). kinds says, by mid or by msid track ID, which
// video is the camera and which the screen; unnamed audio is the
// microphone, unnamed video the camera. A bad offer changes nothing.
func (p *Peer) HandleOffer(offer string, kinds map[string]TrackKind) (string, error) {
	var answer string
	err := p.pubQ.call(func() error {
		var err error
		answer, err = p.handleOffer(offer, kinds)
		return err
	})
	return answer, err
}

func (p *Peer) handleOffer(offer string, kinds map[string]TrackKind) (string, error) {
	rids, err := parseOffer(offer)
	if err != nil {
		return "", err
	}
	if err := p.pubPC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	p.mu.Lock()
	for k, v := range kinds {
		p.kinds[k] = v
	}
	for mid, r := range rids {
		p.rids[mid] = r
	}
	p.mu.Unlock()
	ans, err := p.pubPC.CreateAnswer(nil)
	if err == nil {
		gathered := webrtc.GatheringCompletePromise(p.pubPC)
		if err = p.pubPC.SetLocalDescription(ans); err == nil {
			err = waitGathered(gathered)
		}
	}
	if err != nil {
		_ = p.pubPC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	p.pendingPub = p.applyCandidates(p.pubPC, p.pendingPub)
	return p.pubPC.LocalDescription().SDP, nil
}

func waitGathered(ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("ICE gathering timed out")
	}
}

// HandleAnswer applies the client's answer to the server's last offer on
// the subscribe PeerConnection. A bad answer changes nothing: the offer
// stays outstanding and a corrected answer may follow.
func (p *Peer) HandleAnswer(answer string) error {
	return p.subQ.call(func() error {
		if !p.awaitingAnswer {
			return ErrUnexpectedAnswer
		}
		if _, err := parseOffer(answer); err != nil {
			return err
		}
		if err := p.subPC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
			return fmt.Errorf("%w: %v", ErrBadSDP, err)
		}
		p.awaitingAnswer = false
		p.pendingSub = p.applyCandidates(p.subPC, p.pendingSub)
		if p.renegotiate {
			p.renegotiate = false
			p.negotiate()
		}
		return nil
	})
}

// AddICECandidate adds a client's trickled candidate to the named
// PeerConnection. Candidates that arrive before the matching description
// wait for it. An empty candidate (end of candidates) is accepted.
func (p *Peer) AddICECandidate(c Candidate) error {
	init := webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}
	if c.Candidate == "" {
		return nil
	}
	if !strings.HasPrefix(strings.TrimPrefix(c.Candidate, "a="), "candidate:") {
		return fmt.Errorf("%w: not a candidate line", ErrBadCandidate)
	}
	switch c.Target {
	case TargetPublish:
		return p.pubQ.call(func() error {
			if p.pubPC.RemoteDescription() == nil {
				p.pendingPub = append(p.pendingPub, init)
				return nil
			}
			return addCandidate(p.pubPC, init)
		})
	case TargetSubscribe:
		return p.subQ.call(func() error {
			if p.subPC.RemoteDescription() == nil {
				p.pendingSub = append(p.pendingSub, init)
				return nil
			}
			return addCandidate(p.subPC, init)
		})
	}
	return fmt.Errorf("%w: unknown target %q", ErrBadCandidate, c.Target)
}

func addCandidate(pc *webrtc.PeerConnection, c webrtc.ICECandidateInit) error {
	if err := pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %v", ErrBadCandidate, err)
	}
	return nil
}

func (p *Peer) applyCandidates(pc *webrtc.PeerConnection, pending []webrtc.ICECandidateInit) []webrtc.ICECandidateInit {
	for _, c := range pending {
		if err := addCandidate(pc, c); err != nil {
			p.log.Debug("queued candidate rejected", "err", err)
		}
	}
	return nil
}

// RestartICE makes a new subscribe offer with fresh ICE credentials (the
// client restarts the publish side itself with an iceRestart offer).
func (p *Peer) RestartICE() error {
	return p.subQ.push(func() {
		p.restartICE = true
		p.negotiate()
	})
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

// scheduleSync queues one reconciliation of this peer's subscriptions;
// many triggers before it runs coalesce into one.
func (p *Peer) scheduleSync() {
	if !p.syncDue.CompareAndSwap(false, true) {
		return
	}
	if err := p.subQ.push(p.sync); err != nil {
		p.syncDue.Store(false)
		if !errors.Is(err, ErrClosed) {
			p.log.Warn("subscription sync not queued", "err", err)
		}
	}
}

// sync makes the subscribe PeerConnection carry exactly the room's tracks
// this peer may receive, then renegotiates if anything changed.
func (p *Peer) sync() {
	p.syncDue.Store(false)
	want := map[string]*upTrack{}
	for _, u := range p.room.trackList() {
		if u.pub != p && p.policy.CanReceive(p.id, u.pub.id, u.kind) {
			want[u.id] = u
		}
	}
	changed := false
	for id, d := range p.downs {
		if want[id] == d.up {
			continue
		}
		d.close()
		if err := p.subPC.RemoveTrack(d.sender); err != nil {
			p.log.Debug("remove track", "err", err)
		}
		delete(p.downs, id)
		changed = true
	}
	for id, u := range want {
		if p.downs[id] != nil {
			continue
		}
		d := newDownTrack(u, p)
		sender, err := p.subPC.AddTrack(d)
		if err != nil {
			p.log.Warn("add track", "track", id, "err", err)
			continue
		}
		d.sender = sender
		p.downs[id] = d
		u.addDown(d)
		p.wg.Add(1)
		go func() { defer p.wg.Done(); d.rtcpLoop() }()
		changed = true
	}
	if !changed {
		return
	}
	list := make([]*downTrack, 0, len(p.downs))
	for _, d := range p.downs {
		list = append(list, d)
	}
	p.downList.Store(&list)
	p.w.kick()
	p.negotiate()
}

// negotiate sends a new subscribe offer, or remembers to once the
// outstanding one is answered.
func (p *Peer) negotiate() {
	if p.awaitingAnswer {
		p.renegotiate = true
		return
	}
	opts := &webrtc.OfferOptions{ICERestart: p.restartICE}
	p.restartICE = false
	offer, err := p.subPC.CreateOffer(opts)
	if err != nil {
		p.log.Warn("subscribe offer", "err", err)
		return
	}
	gathered := webrtc.GatheringCompletePromise(p.subPC)
	if err := p.subPC.SetLocalDescription(offer); err != nil {
		p.log.Warn("subscribe offer", "err", err)
		return
	}
	if err := waitGathered(gathered); err != nil {
		p.log.Warn("subscribe offer", "err", err)
		return
	}
	mids := map[*webrtc.RTPSender]string{}
	for _, t := range p.subPC.GetTransceivers() {
		if s := t.Sender(); s != nil {
			mids[s] = t.Mid()
		}
	}
	infos := make([]TrackInfo, 0, len(p.downs))
	for _, d := range p.downs {
		infos = append(infos, TrackInfo{TrackID: d.up.id, MID: mids[d.sender], StreamID: d.StreamID(),
			ParticipantID: d.up.pub.id, Kind: d.up.kind})
	}
	p.awaitingAnswer = true
	p.emit(Signal{Type: SignalOffer, Target: TargetSubscribe, SDP: p.subPC.LocalDescription().SDP, Tracks: infos})
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
			Layer: int(d.current.Load()), Packets: d.sent.Load(), Forwarding: !d.up.muted.Load()})
	}
	s.EstimateBps = p.estimate.Load()
	return s
}

// Close ends the peer: both PeerConnections, its published tracks (which
// subscribers lose), its subscriptions. It returns when its goroutines are
// gone. Safe to call more than once.
func (p *Peer) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	ups := make([]*upTrack, 0, len(p.ups))
	for _, u := range p.ups {
		ups = append(ups, u)
	}
	p.mu.Unlock()
	p.room.removePeer(p)
	p.pubQ.stop()
	p.subQ.stop()
	if err := p.pubPC.GracefulClose(); err != nil {
		p.log.Debug("close publish", "err", err)
	}
	if err := p.subPC.GracefulClose(); err != nil {
		p.log.Debug("close subscribe", "err", err)
	}
	for _, u := range ups {
		u.wg.Wait() // read loops end with the PeerConnection; upEnded ran
	}
	for _, d := range *p.downList.Load() {
		d.close()
	}
	p.w.stop()
	p.wg.Wait()
}

// parseOffer checks that s is a usable session description (offer or
// answer) and returns each
// m-section's simulcast rids (send direction), lowest quality first.
func parseOffer(s string) (map[string][]string, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	// Pion moves the signaling state before it finds these missing, and
	// cannot roll back a remote offer: check first, so that a bad
	// description changes nothing.
	if len(sd.MediaDescriptions) == 0 {
		return nil, fmt.Errorf("%w: no media sections", ErrBadSDP)
	}
	for _, key := range []string{"ice-ufrag", "ice-pwd", "fingerprint"} {
		if _, ok := sd.Attribute(key); ok {
			continue
		}
		for i, m := range sd.MediaDescriptions {
			if _, ok := m.Attribute(key); !ok && m.MediaName.Port.Value != 0 {
				return nil, fmt.Errorf("%w: media section %d has no %s", ErrBadSDP, i, key)
			}
		}
	}
	out := map[string][]string{}
	for _, m := range sd.MediaDescriptions {
		mid, _ := m.Attribute("mid")
		var rids []string
		for _, a := range m.Attributes {
			if a.Key != "rid" {
				continue
			}
			f := strings.Fields(a.Value)
			if len(f) >= 2 && f[1] == "send" {
				rids = append(rids, f[0])
			}
		}
		if len(rids) > 0 {
			out[mid] = orderRids(rids)
		}
	}
	return out, nil
}

// orderRids puts the usual rid names in quality order (q < h < f, or
// l < m < h, or 0 < 1 < 2); unknown names keep the client's order, which
// must then be lowest first.
func orderRids(rids []string) []string {
	rank := map[string]int{"q": 0, "l": 0, "0": 0, "low": 0, "m": 1, "1": 1, "mid": 1, "f": 2, "2": 2, "high": 2}
	set := map[string]bool{}
	for _, r := range rids {
		set[r] = true
	}
	if set["h"] {
		if set["q"] || set["f"] {
			rank["h"] = 1
		} else {
			rank["h"] = 2
		}
	}
	for _, r := range rids {
		if _, ok := rank[r]; !ok {
			return rids
		}
	}
	out := append([]string(nil), rids...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && rank[out[j]] < rank[out[j-1]]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// streamIDOf turns a participant ID into an msid stream ID (token
// characters only).
func streamIDOf(id string) string {
	b := []byte(id)
	for i, c := range b {
		ok := c == '!' || c >= '#' && c <= '\'' || c == '*' || c == '+' || c == '-' || c == '.' ||
			c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= '^' && c <= '~'
		if !ok {
			b[i] = '_'
		}
	}
	return "p-" + string(b)
}

// opQueue runs one PeerConnection's negotiation steps one at a time.
type opQueue struct {
	ch   chan func()
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

func newOpQueue() *opQueue {
	q := &opQueue{ch: make(chan func(), 64), quit: make(chan struct{}), done: make(chan struct{})}
	go q.run()
	return q
}

func (q *opQueue) run() {
	defer close(q.done)
	for {
		select {
		case f := <-q.ch:
			f()
		case <-q.quit:
			return
		}
	}
}

func (q *opQueue) push(f func()) error {
	select {
	case <-q.quit:
		return ErrClosed
	default:
	}
	select {
	case q.ch <- f:
		return nil
	default:
		return ErrQueueFull
	}
}

// call runs f on the queue and waits for its result.
func (q *opQueue) call(f func() error) error {
	res := make(chan error, 1)
	if err := q.push(func() { res <- f() }); err != nil {
		return err
	}
	select {
	case err := <-res:
		return err
	case <-q.done:
		select {
		case err := <-res:
			return err
		default:
			return ErrClosed
		}
	}
}

func (q *opQueue) stop() {
	q.once.Do(func() { close(q.quit) })
	<-q.done
}
