package signaling

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"aula/room"
	"aula/sfu"
)

// subscriber is a Pion stand-in for a browser's subscribe PeerConnection:
// it answers every media.offer of its client and counts the packets
// arriving per m-line.
type subscriber struct {
	t  *testing.T
	c  *client
	pc *webrtc.PeerConnection

	mu     sync.Mutex
	tracks []sfu.TrackInfo // of the latest offer
	counts map[string]*atomic.Int64
	acked  map[string]bool
}

func newSubscriber(t *testing.T, api *webrtc.API, c *client) *subscriber {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	s := &subscriber{t: t, c: c, pc: pc, counts: map[string]*atomic.Int64{}, acked: map[string]bool{}}
	pc.OnTrack(func(r *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		mid := ""
		for _, x := range pc.GetTransceivers() {
			if x.Receiver() == recv {
				mid = x.Mid()
			}
		}
		n := s.count(mid)
		for {
			if _, _, err := r.ReadRTP(); err != nil {
				return
			}
			n.Add(1)
		}
	})
	return s
}

func (s *subscriber) count(mid string) *atomic.Int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.counts[mid]
	if n == nil {
		n = &atomic.Int64{}
		s.counts[mid] = n
	}
	return n
}

// track returns the latest offer's m-line carrying pub's kind k.
func (s *subscriber) track(pub string, k sfu.TrackKind) (sfu.TrackInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ti := range s.tracks {
		if ti.ParticipantID == pub && ti.Kind == k {
			return ti, true
		}
	}
	return sfu.TrackInfo{}, false
}

// until reads the client's messages, answering every media.offer and
// noting acks, until cond holds. The server sends a media.offer caused by
// a request before the request's ack, so both must be read in one loop.
func (s *subscriber) until(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.After(waitFor)
	for !cond() {
		select {
		case m := <-s.c.msgs:
			switch m.Type {
			case TypeAck:
				s.mu.Lock()
				s.acked[m.Ref] = true
				s.mu.Unlock()
			case TypeError:
				s.t.Fatalf("waiting for %s: error %s", what, m.Data)
			case TypeMediaOffer:
				s.answer(decodeData[MediaOffer](s.t, m))
			}
		case err := <-s.c.closed:
			s.t.Fatalf("waiting for %s: connection ended: %v", what, err)
		case <-deadline:
			s.t.Fatalf("waiting for %s: not within %v", what, waitFor)
		}
	}
}

func (s *subscriber) answer(off MediaOffer) {
	s.t.Helper()
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: off.SDP}); err != nil {
		s.t.Fatal(err)
	}
	ans, err := s.pc.CreateAnswer(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(s.pc)
	if err := s.pc.SetLocalDescription(ans); err != nil {
		s.t.Fatal(err)
	}
	<-g
	s.mu.Lock()
	s.tracks = off.Tracks
	s.mu.Unlock()
	s.c.send(TypeMediaAnswer, "", MediaAnswer{Target: sfu.TargetSubscribe, SDP: s.pc.LocalDescription().SDP})
}

func (s *subscriber) wasAcked(ref string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked[ref]
}

// TestMediaEcho: a participant whose microphone is published but switched
// off (nobody hears it) asks for the echo test: they are offered their
// own microphone and receive its packets; another participant, offered
// the same microphone, receives none, and the participant's room state
// does not change. Bad requests are refused and change nothing;
// switching the echo off takes the track out of the next offer.
func TestMediaEcho(t *testing.T) {
	e, s := newMediaEnv(t)
	key := e.mt.Key
	mod, mw := e.enter(key, "Maria", room.Moderator)
	viewer, _ := e.enter(key, "Vera", room.Viewer)
	modID := mw.Self.ID
	peer := sfuRoom(t, s, key).Peer(modID)

	for _, tc := range []struct{ ref, msg string }{
		{"no data", `{"type":"media.echo","ref":"no data"}`},
		{"null", `{"type":"media.echo","ref":"null","data":null}`},
		{"no on", `{"type":"media.echo","ref":"no on","data":{}}`},
		{"on string", `{"type":"media.echo","ref":"on string","data":{"on":"yes"}}`},
		{"on null", `{"type":"media.echo","ref":"on null","data":{"on":null}}`},
		{"array", `{"type":"media.echo","ref":"array","data":[true]}`},
		{"unknown field", `{"type":"media.echo","ref":"unknown field","data":{"on":true,"seconds":60}}`},
	} {
		mod.sendRaw([]byte(tc.msg))
		wantError(t, mod, tc.ref, CodeBadRequest)
	}
	if peer.Echo() {
		t.Fatal("a refused media.echo switched the echo on")
	}

	api := pionAPI(t)
	publishMicTrack(t, api, mod, modID) // published, but media.state has it off
	if forwarding(s, key, modID, sfu.KindMic) {
		t.Fatal("a microphone switched off is forwarded")
	}
	for _, m := range mod.pending() {
		if m.Type == TypeMediaOffer {
			t.Fatalf("the moderator is offered %s without the echo", m.Data)
		}
	}
	// The viewer may receive the moderator's microphone: offered, and
	// answered, so that a packet would arrive if one were sent.
	vsub := newSubscriber(t, api, viewer)
	vsub.until("the viewer is offered the microphone", func() bool {
		_, ok := vsub.track(modID, sfu.KindMic)
		return ok
	})

	msub := newSubscriber(t, api, mod)
	mod.send(TypeMediaEcho, "echo on", MediaEcho{On: ptr(true)})
	msub.until("the echo offered and acknowledged", func() bool {
		_, ok := msub.track(modID, sfu.KindMic)
		return ok && msub.wasAcked("echo on")
	})
	echo, _ := msub.track(modID, sfu.KindMic)
	if echo.MID == "" || echo.TrackID == "" {
		t.Fatalf("echo track announced as %+v", echo)
	}
	if len(msub.tracks) != 1 {
		t.Errorf("the echo offer carries %+v, want the own microphone only", msub.tracks)
	}
	eventually(t, "the moderator hears herself", func() bool { return msub.count(echo.MID).Load() >= 20 })
	vtrack, _ := vsub.track(modID, sfu.KindMic)
	if n := vsub.count(vtrack.MID).Load(); n != 0 {
		t.Errorf("the viewer received %d packets of the echo", n)
	}
	if forwarding(s, key, modID, sfu.KindMic) {
		t.Error("the echo resumed forwarding the microphone")
	}
	ps, err := e.mgr.Participants(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.ID == modID && (p.Audio || p.Muted) {
			t.Errorf("the echo changed the moderator's room state: %+v", p)
		}
	}

	// Refused input changes nothing while it is on, either.
	mod.sendRaw([]byte(`{"type":"media.echo","ref":"bad off","data":{"on":0}}`))
	wantError(t, mod, "bad off", CodeBadRequest)
	if !peer.Echo() {
		t.Fatal("a refused media.echo switched the echo off")
	}

	mod.send(TypeMediaEcho, "echo off", MediaEcho{On: ptr(false)})
	msub.until("the echo withdrawn and acknowledged", func() bool {
		_, ok := msub.track(modID, sfu.KindMic)
		return !ok && msub.wasAcked("echo off")
	})
	if peer.Echo() {
		t.Error("media.echo off left the echo on")
	}
	if n := vsub.count(vtrack.MID).Load(); n != 0 {
		t.Errorf("the viewer received %d packets of the moderator's microphone", n)
	}
}

// TestMediaEchoEndsWithTheConnection: the echo belongs to the media
// peer; when the connection closes the peer and its echo are gone.
func TestMediaEchoEndsWithTheConnection(t *testing.T) {
	e, s := newMediaEnv(t)
	key := e.mt.Key
	tok := e.join("Maria", room.Moderator)
	mod := e.dial(tok)
	mw := welcomeOfMsg(t, mod)
	mod.expect(TypeMediaConfig, nil)
	peer := sfuRoom(t, s, key).Peer(mw.Self.ID)
	mod.send(TypeMediaEcho, "on", MediaEcho{On: ptr(true)})
	mod.expect(TypeAck, errorWithRef("on"))
	if !peer.Echo() {
		t.Fatal("media.echo on did not reach the SFU")
	}
	mod.ws.Close()
	eventually(t, "the media peer closed", func() bool { return sfuRoom(t, s, key).Peer(mw.Self.ID) == nil })
	if err := peer.SetEcho(true); err == nil {
		t.Error("the closed peer accepts an echo test")
	}
}
