package sfu

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

func TestPublishSubscribeAudioVideo(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	alice := newClient(t, r, "alice", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{})
	onTimeout = func() { dump(t, s, alice, bob) }
	alice.publish(pubOpts{kind: KindMic})
	alice.publish(pubOpts{kind: KindCamera})
	bob.publish(pubOpts{kind: KindScreen})

	eventually(t, "bob receives alice's mic and camera", func() bool {
		a, v := bob.received("alice", KindMic), bob.received("alice", KindCamera)
		return a != nil && v != nil && a.packets.Load() >= 20 && v.packets.Load() >= 20
	})
	eventually(t, "alice receives bob's screen", func() bool {
		sc := alice.received("bob", KindScreen)
		return sc != nil && sc.packets.Load() >= 20
	})
	if got := alice.received("alice", KindMic); got != nil {
		t.Errorf("alice receives her own microphone: %+v", got.info)
	}
	// AES-GCM is chosen for SRTP where the peer offers it (Pion does).
	found := 0
	for _, pc := range []*webrtc.PeerConnection{bob.peer.subPC, alice.peer.pubPC} {
		for _, st := range pc.GetStats() {
			if ts, ok := st.(webrtc.TransportStats); ok {
				found++
				if ts.SRTPCipher != "SRTP_AEAD_AES_128_GCM" {
					t.Errorf("SRTP profile %q, want SRTP_AEAD_AES_128_GCM", ts.SRTPCipher)
				}
			}
		}
	}
	if found == 0 {
		t.Error("no transport stats to check the SRTP profile")
	}
	var n uint64
	for _, c := range s.Stats().Latency {
		n += c
	}
	if n == 0 {
		t.Error("no forwarding latency recorded")
	}
	st := alice.peer.Stats()
	if len(st.Published) != 2 || len(st.Received) != 1 {
		t.Errorf("alice stats: %d published, %d received; want 2, 1", len(st.Published), len(st.Received))
	}
}

func TestToggleCameraOffAndOn(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	alice := newClient(t, r, "alice", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{})
	onTimeout = func() { dump(t, s, alice, bob) }
	cam := alice.publish(pubOpts{kind: KindCamera})
	eventually(t, "bob receives the camera", func() bool {
		v := bob.received("alice", KindCamera)
		return v != nil && v.packets.Load() >= 10
	})
	first := bob.received("alice", KindCamera)

	cam.unpublish()
	eventually(t, "the camera leaves bob's subscription", func() bool {
		return !bob.offeredKinds("alice")[KindCamera] && len(bob.peer.Stats().Received) == 0
	})
	stopped := first.packets.Load()

	alice.publish(pubOpts{kind: KindCamera})
	eventually(t, "bob receives the camera again", func() bool {
		v := bob.received("alice", KindCamera)
		return v != nil && v != first && v.packets.Load() >= 10
	})
	if got := first.packets.Load(); got != stopped {
		t.Errorf("the unpublished track kept flowing: %d packets after removal, was %d", got, stopped)
	}
}

func TestSimulcastLayerSwitch(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	alice := newClient(t, r, "alice", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{})
	onTimeout = func() { dump(t, s, alice, bob) }
	cam := alice.publish(pubOpts{kind: KindCamera, simulcast: true})

	// With no display size given, bob gets the top layer (mark 2).
	var v *recvTrack
	eventually(t, "bob receives the top layer", func() bool {
		v = bob.received("alice", KindCamera)
		if v == nil {
			return false
		}
		_, marks := v.snapshot()
		return len(marks) > 10 && marks[len(marks)-1] == 2
	})
	plisBefore := cam.plis[0].Load()

	// Bob shows alice in a small tile: the lowest layer (320x180) suffices.
	if err := bob.peer.SetLayerPreference(v.info.TrackID, 320, 180); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob receives the lowest layer", func() bool {
		_, marks := v.snapshot()
		return len(marks) > 0 && marks[len(marks)-1] == 0 && countTail(marks, 0) >= 10
	})
	if cam.plis[0].Load() == plisBefore {
		t.Error("no keyframe was requested on the new layer")
	}
	seqs, marks := v.snapshot()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("sequence numbers jump at packet %d (layer %d→%d): %d → %d", i, marks[i-1], marks[i], seqs[i-1], seqs[i])
		}
	}
	if s.Stats().LayerSwitches == 0 {
		t.Error("no layer switch counted")
	}
	if err := bob.peer.SetLayerPreference("no-such-track", 1, 1); !errors.Is(err, ErrUnknownTrack) {
		t.Errorf("unknown track: err = %v, want ErrUnknownTrack", err)
	}
}

func countTail(b []byte, v byte) int {
	n := 0
	for i := len(b) - 1; i >= 0 && b[i] == v; i-- {
		n++
	}
	return n
}

// dropper loses the first copy of every 10th video packet on the way in,
// like a lossy link; retransmissions (the same sequence number again) pass.
type dropper struct {
	mu      sync.Mutex
	seen    map[uint16]bool
	dropped atomic.Int64
}

func (d *dropper) NewInterceptor(string) (interceptor.Interceptor, error)         { return d, nil }
func (d *dropper) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader { return r }
func (d *dropper) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter { return w }
func (d *dropper) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	return w
}
func (d *dropper) UnbindLocalStream(*interceptor.StreamInfo)  {}
func (d *dropper) UnbindRemoteStream(*interceptor.StreamInfo) {}
func (d *dropper) Close() error                               { return nil }
func (d *dropper) BindRemoteStream(info *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	if !strings.HasPrefix(info.MimeType, "video/") {
		return r
	}
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, a, err := r.Read(b, a)
			if err != nil || n < 4 {
				return n, a, err
			}
			seq := uint16(b[2])<<8 | uint16(b[3])
			d.mu.Lock()
			drop := seq%10 == 0 && !d.seen[seq]
			d.seen[seq] = true
			d.mu.Unlock()
			if !drop {
				return n, a, nil
			}
			d.dropped.Add(1)
		}
	})
}

func TestNACKRecoveryFromCache(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	drop := &dropper{seen: map[uint16]bool{}}
	alice := newClient(t, r, "alice", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{
		registry: func(ir *interceptor.Registry) { ir.Add(drop) },
		// The dropper sits after SRTP, which has seen the first copy: let
		// the retransmission through as it would after real loss.
		settings: func(se *webrtc.SettingEngine) { se.DisableSRTPReplayProtection(true) },
	})
	onTimeout = func() { dump(t, s, alice, bob) }
	alice.publish(pubOpts{kind: KindCamera})

	eventually(t, "lost packets retransmitted from the SFU's cache", func() bool {
		return drop.dropped.Load() >= 5 && s.Stats().Retransmitted >= 5
	})
	v := bob.received("alice", KindCamera)
	// Every dropped packet but the most recent ones must have arrived again.
	eventually(t, "no hole left in what bob received", func() bool {
		seqs, _ := v.snapshot()
		if len(seqs) < 100 {
			return false
		}
		have := map[uint16]bool{}
		for _, q := range seqs {
			have[q] = true
		}
		first, last := seqs[0], seqs[len(seqs)-1]
		for q := first; q != last-30; q++ {
			if !have[q] {
				return false
			}
		}
		return true
	})
	if st := s.Stats(); st.NACKed == 0 {
		t.Errorf("stats %+v: no NACK counted", st)
	}
}

func TestModeratorMuteStopsForwarding(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	alice := newClient(t, r, "alice", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{})
	onTimeout = func() { dump(t, s, alice, bob) }
	alice.publish(pubOpts{kind: KindMic})
	eventually(t, "bob hears alice", func() bool {
		a := bob.received("alice", KindMic)
		return a != nil && a.packets.Load() >= 10
	})
	up := func() uint64 { return alice.peer.Stats().Published[0].Packets }
	down := func() uint64 { return bob.peer.Stats().Received[0].Packets }

	alice.peer.StopForwarding(KindMic)
	if alice.peer.Forwarding(KindMic) {
		t.Fatal("Forwarding(mic) after StopForwarding")
	}
	// Let the writer drain what was queued before the mute: 20 packets
	// later it has long finished.
	u0 := up()
	eventually(t, "alice keeps sending", func() bool { return up() >= u0+20 })
	sentAtMute, upAtMute := down(), up()
	eventually(t, "alice keeps sending 50 packets", func() bool { return up() >= upAtMute+50 })
	if got := down(); got != sentAtMute {
		t.Fatalf("server forwarded %d packets of muted audio", got-sentAtMute)
	}
	if st := alice.peer.Stats(); st.Published[0].Forwarding {
		t.Error("stats say the muted microphone is forwarded")
	}

	alice.peer.ResumeForwarding(KindMic)
	eventually(t, "bob hears alice again", func() bool { return down() >= sentAtMute+10 })
	// Sequence numbers continue across the mute: no gap the receiver
	// would take for loss.
	seqs, _ := bob.received("alice", KindMic).snapshot()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("audio sequence jumps %d → %d after unmute", seqs[i-1], seqs[i])
		}
	}
}

func TestPolicyDeniesTrack(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	// "Participants cannot see each other": viewers get only the
	// moderator's media; here bob may not receive carol's camera.
	deny := PolicyFunc(func(sub, pub string, k TrackKind) bool { return !(sub == "bob" && pub == "carol") })
	carol := newClient(t, r, "carol", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{policy: deny})
	dave := newClient(t, r, "dave", clientOpts{})
	onTimeout = func() { dump(t, s, carol, bob, dave) }
	carol.publish(pubOpts{kind: KindCamera})
	dave.publish(pubOpts{kind: KindMic})

	eventually(t, "dave receives carol's camera and bob dave's mic", func() bool {
		v, a := dave.received("carol", KindCamera), bob.received("dave", KindMic)
		return v != nil && v.packets.Load() >= 20 && a != nil && a.packets.Load() >= 20
	})
	if got := bob.received("carol", KindCamera); got != nil {
		t.Fatalf("bob received carol's camera (%d packets) against the policy", got.packets.Load())
	}
	if bob.offeredKinds("carol")[KindCamera] {
		t.Fatal("bob was offered carol's camera")
	}
}

func TestREMBLowersLayer(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	alice := newClient(t, r, "alice", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{})
	onTimeout = func() { dump(t, s, alice, bob) }
	alice.publish(pubOpts{kind: KindCamera, simulcast: true})
	var v *recvTrack
	eventually(t, "bob receives the top layer", func() bool {
		v = bob.received("alice", KindCamera)
		if v == nil {
			return false
		}
		_, marks := v.snapshot()
		return countTail(marks, 2) >= 10
	})
	// Bob's browser estimates its downlink at 20 kbit/s: less than any
	// layer, so the SFU falls back to the lowest.
	var ssrc uint32
	for _, x := range bob.sub.GetTransceivers() {
		if x.Receiver() != nil && x.Mid() == v.info.MID {
			ssrc = uint32(x.Receiver().Track().SSRC())
		}
	}
	remb := &rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: 20_000, SSRCs: []uint32{ssrc}}
	eventually(t, "bob's estimate reaches the SFU and the layer drops", func() bool {
		if err := bob.sub.WriteRTCP([]rtcp.Packet{remb}); err != nil {
			t.Fatal(err)
		}
		_, marks := v.snapshot()
		return bob.peer.Stats().EstimateBps == 20_000 && countTail(marks, 0) >= 10
	})
}

func TestH264Accepted(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	alice := newClient(t, r, "alice", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{})
	onTimeout = func() { dump(t, s, alice, bob) }
	alice.publish(pubOpts{kind: KindCamera, h264: true})
	eventually(t, "bob receives H.264", func() bool {
		v := bob.received("alice", KindCamera)
		return v != nil && v.packets.Load() >= 20
	})
	for _, x := range bob.sub.GetTransceivers() {
		if r := x.Receiver(); r != nil && r.Track() != nil && r.Track().Kind() == webrtc.RTPCodecTypeVideo {
			if mt := r.Track().Codec().MimeType; !strings.EqualFold(mt, webrtc.MimeTypeH264) {
				t.Fatalf("bob receives %s, want H.264", mt)
			}
		}
	}
}

func TestSubscribeICERestart(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	alice := newClient(t, r, "alice", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{})
	onTimeout = func() { dump(t, s, alice, bob) }
	alice.publish(pubOpts{kind: KindMic})
	eventually(t, "bob hears alice", func() bool {
		a := bob.received("alice", KindMic)
		return a != nil && a.packets.Load() >= 10
	})
	ufrag := func() string {
		for _, l := range strings.Split(bob.sub.RemoteDescription().SDP, "\n") {
			if strings.HasPrefix(l, "a=ice-ufrag:") {
				return strings.TrimSpace(l)
			}
		}
		return ""
	}
	before, offers := ufrag(), bob.offered.Load()
	if err := bob.peer.RestartICE(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a new subscribe offer with fresh ICE credentials", func() bool {
		return bob.offered.Load() > offers && ufrag() != before
	})
	n := bob.received("alice", KindMic).packets.Load()
	eventually(t, "media still flows after the restart", func() bool {
		return bob.received("alice", KindMic).packets.Load() >= n+20
	})
}
