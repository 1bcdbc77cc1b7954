package sfu

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Negotiation: everything that touches SDP and ICE, each step on the
// queue of its PeerConnection.

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
	offer = stripSimulcastSSRCs(offer)
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
		p.reoffered = false
		p.subQ.answer.cancel()
		p.pendingSub = p.applyCandidates(p.subPC, p.pendingSub)
		if p.renegotiate {
			p.renegotiate = false
			_ = p.negotiate() // logged; the answer itself was fine
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
		_ = p.negotiate() // logged
	})
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
		if p.local != nil && u.kind != KindMic {
			continue // a phone hears the room, it sees nothing
		}
		if u.pub == p {
			if p.wantsOwn(u) {
				want[u.id] = u // the echo test
			}
			continue
		}
		if p.policy.CanReceive(p.id, u.pub.id, u.kind) {
			want[u.id] = u
		}
	}
	changed := false
	for id, d := range p.downs {
		if want[id] == d.up {
			continue
		}
		d.close()
		if p.local != nil {
			delete(p.downs, id)
			changed = true
			continue
		}
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
		if p.local != nil {
			d.bind.Store(&binding{ws: &localSink{l: p.local, source: u.pub.id}})
			p.downs[id] = d
			d.attach()
			changed = true
			continue
		}
		sender, err := p.subPC.AddTrack(d)
		if err != nil {
			p.log.Warn("add track", "track", id, "err", err)
			continue
		}
		d.sender = sender
		p.downs[id] = d
		d.attach()
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
	if p.local == nil {
		_ = p.negotiate() // logged
	}
}

// negotiate sends a new subscribe offer, or remembers to once the
// outstanding one is answered. The offer must be answered within the
// negotiation timeout (offerTimedOut). A failure is logged and returned.
func (p *Peer) negotiate() error {
	if p.awaitingAnswer {
		p.renegotiate = true
		return nil
	}
	err := p.offer()
	if err != nil {
		p.log.Warn("subscribe offer", "err", err)
	}
	return err
}

func (p *Peer) offer() error {
	opts := &webrtc.OfferOptions{ICERestart: p.restartICE}
	p.restartICE = false
	offer, err := p.subPC.CreateOffer(opts)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(p.subPC)
	if err := p.subPC.SetLocalDescription(offer); err != nil {
		return err
	}
	if err := waitGathered(gathered); err != nil {
		return err
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
	p.lastOffer = Signal{Type: SignalOffer, Target: TargetSubscribe, SDP: p.subPC.LocalDescription().SDP, Tracks: infos}
	p.subQ.answer.arm(p.room.sfu.negotiationTimeout(), p.offerTimedOut)
	p.emit(p.lastOffer)
	return nil
}

// offerTimedOut runs on the subscribe queue when the outstanding offer
// was not answered in time. The message may have been lost (or the
// client stalled): offer once more; if that one times out too, the
// client is not negotiating any more and the peer fails, rather than
// keep its subscriptions frozen for good.
//
// The re-offer is the outstanding offer sent again, SDP and track list
// as they were: Pion (v4.2) can neither replace a pending local offer nor
// roll it back, and an identical offer keeps a late answer to the first
// copy valid too. Changes made meanwhile follow in the next offer, after
// the answer, as usual.
func (p *Peer) offerTimedOut() {
	if !p.awaitingAnswer {
		return
	}
	timeout := p.room.sfu.negotiationTimeout()
	if p.reoffered {
		p.fail(fmt.Errorf("%w: offer and re-offer unanswered for %s each", ErrNegotiationTimeout, timeout))
		return
	}
	p.log.Info("subscribe offer not answered: offering again", "timeout", timeout)
	p.reoffered = true
	p.subQ.answer.arm(timeout, p.offerTimedOut)
	again := p.lastOffer
	again.Tracks = slices.Clone(again.Tracks) // the callback may keep the first
	p.emit(again)
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

// opQueue runs one PeerConnection's negotiation steps one at a time. It
// also owns the peer's timeouts (answer, echo), which fire on the queue
// like any step, so that a timeout's work never races the step that armed
// it and needs no goroutine of its own: it ends with the queue.
type opQueue struct {
	ch   chan func()
	quit chan struct{}
	done chan struct{}
	once sync.Once

	// Owned by the queue's goroutine (the steps run on it).
	answer queueTimer // the outstanding subscribe offer (offerTimedOut)
	echo   queueTimer // the echo test's end (echoTimedOut)
}

// queueTimer is one timeout of an opQueue. arm and cancel only from a
// step running on the queue.
type queueTimer struct {
	t *time.Timer
	f func() // nil: not armed
}

func newQueueTimer() queueTimer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return queueTimer{t: t}
}

// arm makes f run on the queue once d has passed, unless cancel or
// another arm comes first.
func (qt *queueTimer) arm(d time.Duration, f func()) {
	qt.f = f
	qt.t.Reset(d)
}

// cancel disarms the timeout.
func (qt *queueTimer) cancel() {
	qt.f = nil
	qt.t.Stop()
}

// fire runs the armed function once. Since Go 1.23 Stop and Reset drain
// the channel, so a tick seen here belongs to the timeout armed last.
func (qt *queueTimer) fire() {
	if f := qt.f; f != nil {
		qt.f = nil
		f()
	}
}

func newOpQueue() *opQueue {
	q := &opQueue{ch: make(chan func(), 64), quit: make(chan struct{}), done: make(chan struct{}),
		answer: newQueueTimer(), echo: newQueueTimer()}
	go q.run()
	return q
}

func (q *opQueue) run() {
	defer close(q.done)
	defer q.answer.t.Stop()
	defer q.echo.t.Stop()
	for {
		select {
		case f := <-q.ch:
			f()
		case <-q.answer.t.C:
			q.answer.fire()
		case <-q.echo.t.C:
			q.echo.fire()
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

// stripSimulcastSSRCs drops a=ssrc and a=ssrc-group lines from m-sections
// that announce rids. Browsers send rid simulcast without them; Pion
// clients (the load generator) declare both, and then Pion on our side
// races the SSRC path against the rid path and may lose layers.
func stripSimulcastSSRCs(s string) string {
	lines := strings.SplitAfter(s, "\n")
	hasRid := make([]bool, len(lines)) // per line: its m-section has rids
	start := 0
	mark := func(end int) {
		rid := false
		for _, l := range lines[start:end] {
			if strings.HasPrefix(l, "a=rid:") {
				rid = true
			}
		}
		for i := start; i < end; i++ {
			hasRid[i] = rid
		}
	}
	for i, l := range lines {
		if strings.HasPrefix(l, "m=") {
			mark(i)
			start = i
		}
	}
	mark(len(lines))
	var b strings.Builder
	b.Grow(len(s))
	for i, l := range lines {
		if hasRid[i] && (strings.HasPrefix(l, "a=ssrc:") || strings.HasPrefix(l, "a=ssrc-group:")) {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}
