package sfu

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// speakingHold is how long after the last loud audio packet a participant
// still counts as speaking (bridges the pauses between words).
const speakingHold = time.Second

// speakerTick is how often the room looks at its audio levels.
const speakerTick = 100 * time.Millisecond

// Room is the media side of one conference: its peers and their published
// tracks. The lock guards membership only; packets never take it.
type Room struct {
	sfu *SFU
	key string
	log *slog.Logger
	seq atomic.Uint64 // track ID counter

	mu         sync.Mutex
	peers      map[string]*Peer
	tracks     map[string]*upTrack
	onSpeaking func(participantID string, speaking bool)
	closed     bool
	// busy counts work that may still create or close a peer: joins in
	// progress and failing peers (Peer.fail). Added to only under mu while
	// the room is open; Close waits for it, so that no peer outlives it.
	busy sync.WaitGroup

	quit chan struct{}
	done chan struct{}
}

func newRoom(s *SFU, key string) *Room {
	r := &Room{sfu: s, key: key, log: s.log.With("meeting", key),
		peers: map[string]*Peer{}, tracks: map[string]*upTrack{},
		quit: make(chan struct{}), done: make(chan struct{})}
	go r.speakerLoop()
	return r
}

// admit prepares a (re)join: it refuses a closed room, closes the
// participant's old peer (a reconnect) and defaults the policy. On success
// the join counts as busy: the caller must call r.busy.Done when the new
// peer is in the room or closed.
func (r *Room) admit(participantID string, policy Policy) (Policy, error) {
	if policy == nil {
		policy = AllowAll{}
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	r.busy.Add(1)
	old := r.peers[participantID]
	r.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return policy, nil
}

// Join adds a participant's media peer. A second Join with the same ID (a
// reconnect) closes the old peer first. policy decides what this peer
// receives; nil means AllowAll.
func (r *Room) Join(participantID string, policy Policy) (*Peer, error) {
	policy, err := r.admit(participantID, policy)
	if err != nil {
		return nil, err
	}
	defer r.busy.Done()
	p, err := newPeer(r, participantID, policy)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		p.Close()
		return nil, ErrClosed
	}
	r.peers[participantID] = p
	r.mu.Unlock()
	p.scheduleSync()
	return p, nil
}

// Peer returns a joined WebRTC participant's peer, or nil (also for a
// LocalPeer).
func (r *Room) Peer(participantID string) *Peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.peers[participantID]; p != nil && p.local == nil {
		return p
	}
	return nil
}

// OnSpeaking sets the callback for active-speaker changes. It is called
// from the room's speaker goroutine and must not block.
func (r *Room) OnSpeaking(f func(participantID string, speaking bool)) {
	r.mu.Lock()
	r.onSpeaking = f
	r.mu.Unlock()
}

// Refresh asks every peer to re-check its subscriptions against its Policy
// (after a role change or a lock setting changed).
func (r *Room) Refresh() {
	for _, p := range r.peerList() {
		p.scheduleSync()
	}
}

func (r *Room) peerList() []*Peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Peer, 0, len(r.peers))
	for _, p := range r.peers {
		out = append(out, p)
	}
	return out
}

func (r *Room) trackList() []*upTrack {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*upTrack, 0, len(r.tracks))
	for _, u := range r.tracks {
		out = append(out, u)
	}
	return out
}

func (r *Room) nextTrackID(k TrackKind) string {
	return fmt.Sprintf("%s-%d", k, r.seq.Add(1))
}

func (r *Room) addUp(u *upTrack) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.tracks[u.id] = u
	r.mu.Unlock()
	for _, p := range r.peerList() {
		if p != u.pub || p.wantsOwn(u) {
			p.scheduleSync()
		}
	}
}

func (r *Room) removeUp(u *upTrack) {
	r.mu.Lock()
	if r.tracks[u.id] == u {
		delete(r.tracks, u.id)
	}
	r.mu.Unlock()
	for _, p := range r.peerList() {
		// The publisher too, when its echo test is on or echoes the
		// track: its sync drops the echo of a track that left.
		if p != u.pub || p.wantsOwn(u) || u.echo.Load() != nil {
			p.scheduleSync()
		}
	}
}

func (r *Room) removePeer(p *Peer) {
	r.mu.Lock()
	if r.peers[p.id] == p {
		delete(r.peers, p.id)
	}
	r.mu.Unlock()
}

// goBusy runs f on a goroutine the room's Close waits for. It refuses
// (false) once the room is closing: Close closes every peer itself.
func (r *Room) goBusy(f func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.busy.Add(1)
	go func() {
		defer r.busy.Done()
		f()
	}()
	return true
}

// Close closes the room as SFU.CloseRoom does: its key can never be
// opened again.
func (r *Room) Close() {
	s := r.sfu
	s.mu.Lock()
	if s.rooms[r.key] == r {
		delete(s.rooms, r.key)
	}
	s.forget(r.key)
	s.mu.Unlock()
	r.close()
}

// close closes every peer and stops the room's goroutines; it returns when
// they are gone. The SFU has forgotten the room already.
func (r *Room) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.done
		return
	}
	r.closed = true
	r.mu.Unlock()
	// Joins in progress finish (and see the room closed) and failing
	// peers finish closing; nothing adds to busy any more.
	r.busy.Wait()
	r.mu.Lock()
	peers := make([]*Peer, 0, len(r.peers))
	for _, p := range r.peers {
		peers = append(peers, p)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() { defer wg.Done(); p.Close() }()
	}
	wg.Wait()
	close(r.quit)
	<-r.done
}

// speakerLoop turns the audio levels the read loops record into speaking
// on/off events, off the packet path.
func (r *Room) speakerLoop() {
	defer close(r.done)
	tick := time.NewTicker(speakerTick)
	defer tick.Stop()
	speaking := map[string]bool{}
	for {
		select {
		case <-r.quit:
			return
		case <-tick.C:
		}
		t := now()
		loud := map[string]bool{}
		for _, u := range r.trackList() {
			if u.isVideo || u.levelExt == 0 {
				continue
			}
			if last := u.lastSpeech.Load(); last != 0 && t-last < int64(speakingHold) && !u.muted.Load() {
				loud[u.pub.id] = true
			} else if !loud[u.pub.id] {
				loud[u.pub.id] = false
			}
		}
		r.mu.Lock()
		cb := r.onSpeaking
		r.mu.Unlock()
		for id, now := range loud {
			if speaking[id] != now {
				speaking[id] = now
				if cb != nil {
					cb(id, now)
				}
			}
		}
		for id, was := range speaking {
			if _, ok := loud[id]; !ok {
				delete(speaking, id)
				if was && cb != nil {
					cb(id, false)
				}
			}
		}
	}
}
