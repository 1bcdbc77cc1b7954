package signaling

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"aula/room"
	"aula/sfu"
)

// simulcastAPI is pionAPI with the mid and rid header extensions a
// browser sends with simulcast.
func simulcastAPI(t *testing.T) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
}

// publishCamera switches c's camera on and publishes a VP8 camera as the
// browser does (web/static/js/media.js): one sendonly transceiver with the
// simulcast encodings q, h and f, announced as "camera" by its mid. Each
// layer sends a one-packet frame every 10 ms (a keyframe every 50) until
// the test ends.
func publishCamera(t *testing.T, c *client, s *sfu.SFU, key, id string) {
	t.Helper()
	c.send(TypeMediaState, "cam on", MediaState{Video: true})
	c.expect(TypeAck, errorWithRef("cam on"))
	if !forwarding(s, key, id, sfu.KindCamera) {
		t.Fatal("the camera is not forwarded after media.state switched it on")
	}
	pub, err := simulcastAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	rids := []string{"q", "h", "f"}
	var tracks []*webrtc.TrackLocalStaticRTP
	for _, rid := range rids {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			"camera", id, webrtc.WithRTPStreamID(rid))
		if err != nil {
			t.Fatal(err)
		}
		tracks = append(tracks, tr)
	}
	x, err := pub.AddTransceiverFromTrack(tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range tracks[1:] {
		if err := x.Sender().AddEncoding(tr); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pub.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pub)
	if err := pub.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	if sd := pub.LocalDescription().SDP; !strings.Contains(sd, "a=simulcast:send q;h;f") {
		t.Fatalf("the camera offer announces no simulcast:\n%s", sd)
	}
	c.send(TypeMediaPublish, "cam pub", MediaPublish{SDP: pub.LocalDescription().SDP, Kinds: map[string]sfu.TrackKind{x.Mid(): sfu.KindCamera}})
	answer := decodeData[MediaAnswer](t, c.expect(TypeMediaAnswer, nil))
	c.expect(TypeAck, errorWithRef("cam pub"))
	if err := pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
		t.Fatal(err)
	}
	ext := map[string]uint8{}
	for _, e := range x.Sender().GetParameters().HeaderExtensions {
		ext[e.URI] = uint8(e.ID)
	}
	mid := x.Mid()
	stop := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var seq [3]uint16
		var ts uint32
		for frame := 0; ; frame++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			ts += 900
			for i, tr := range tracks {
				w, h := 320<<i, 180<<i
				payload := []byte{0x10, 0x01, 0x00, 0x00, 0, 0, 0, 0, byte(i)}
				if frame%50 == 0 {
					payload = []byte{0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w >> 8), byte(h), byte(h >> 8), 0, 0, 0, byte(i)}
				}
				pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq[i], Timestamp: ts, Marker: true}, Payload: payload}
				_ = pkt.Header.SetExtension(ext[sdp.SDESMidURI], []byte(mid))
				_ = pkt.Header.SetExtension(ext[sdp.SDESRTPStreamIDURI], []byte(rids[i]))
				if tr.WriteRTP(pkt) == nil {
					seq[i]++
				}
			}
		}
	}()
}

// TestMediaWebcamsOnlyForModeratorLive: a moderator sets "webcams only for
// moderators" while a viewer's simulcast camera is being received: another
// viewer is offered the camera no more and stops receiving it, the
// moderator keeps receiving it, and lifting the lock gives it back.
func TestMediaWebcamsOnlyForModeratorLive(t *testing.T) {
	e, s := newMediaEnv(t)
	mt, _, err := e.mgr.Create(context.Background(), room.Settings{MeetingID: "webcams", Name: "Webcams", AttendeePW: "a", ModeratorPW: "m"})
	if err != nil {
		t.Fatal(err)
	}
	key := mt.Key
	mod, mw := e.enter(key, "Maria", room.Moderator)
	vera, vw := e.enter(key, "Vera", room.Viewer)
	tom, tw := e.enter(key, "Tom", room.Viewer)
	veraID := vw.Self.ID
	api := pionAPI(t)
	msub := newSubscriber(t, api, mod)
	tsub := newSubscriber(t, api, tom)
	publishCamera(t, vera, s, key, veraID)

	// camera returns the m-line of Vera's camera in sub's latest offer.
	camera := func(sub *subscriber) (string, bool) {
		ti, ok := sub.track(veraID, sfu.KindCamera)
		return ti.MID, ok
	}
	// flowing waits until sub is offered Vera's camera (answering
	// offers meanwhile) and then receives 20 packets more of it.
	flowing := func(sub *subscriber, who string) {
		t.Helper()
		var mid string
		sub.until(who+" is offered Vera's camera", func() bool {
			var ok bool
			mid, ok = camera(sub)
			return ok
		})
		base := sub.count(mid).Load()
		eventually(t, who+" receives Vera's camera", func() bool { return sub.count(mid).Load() > base+20 })
	}
	flowing(msub, "the moderator")
	flowing(tsub, "Tom")
	tomMID, _ := camera(tsub)

	mod.send(TypeLockSet, "lock", LockSet{Lock: &room.LockSettings{WebcamsOnlyForModerator: true}})
	msub.until("the lock acknowledged", func() bool { return msub.wasAcked("lock") })
	tsub.until("Tom is offered Vera's camera no more", func() bool {
		_, ok := camera(tsub)
		return !ok
	})
	eventually(t, "the SFU stops sending Tom Vera's camera", func() bool { return !receives(s, key, tw.Self.ID, veraID, sfu.KindCamera) })
	// Packets still in flight arrive while the moderator receives 20
	// more; none may follow while she receives another 20.
	flowing(msub, "the moderator, under the lock,")
	before := tsub.count(tomMID).Load()
	flowing(msub, "the moderator, still")
	if after := tsub.count(tomMID).Load(); after != before {
		t.Errorf("Tom received %d packets of Vera's camera under the lock", after-before)
	}
	if !receives(s, key, mw.Self.ID, veraID, sfu.KindCamera) {
		t.Error("the moderator stopped receiving Vera's camera")
	}
	if !forwarding(s, key, veraID, sfu.KindCamera) {
		t.Error("the lock switched Vera's camera off: it only limits who receives it")
	}

	mod.send(TypeLockSet, "unlock", LockSet{Lock: &room.LockSettings{}})
	msub.until("the unlock acknowledged", func() bool { return msub.wasAcked("unlock") })
	flowing(tsub, "Tom, after the lock was lifted,")
}

// TestSFUPolicyKinds: the SFU's track kinds reach the room's media policy
// as the room's kinds of the same wire name, so that a policy on one kind
// ("webcams only for moderators") holds in the SFU.
func TestSFUPolicyKinds(t *testing.T) {
	for k, want := range map[sfu.TrackKind]room.MediaKind{sfu.KindMic: room.MediaMic, sfu.KindCamera: room.MediaCamera, sfu.KindScreen: room.MediaScreen} {
		if got := mediaKind(k); got != want || string(got) != k.String() {
			t.Errorf("%s is %q in the room, want %q", k, got, want)
		}
	}
	e := newEnv(t, nil)
	ctx := context.Background()
	mt, _, err := e.mgr.Create(ctx, room.Settings{MeetingID: "kinds", Name: "K", AttendeePW: "a", ModeratorPW: "m",
		Lock: room.LockSettings{WebcamsOnlyForModerator: true}})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	var pol room.MediaPolicy
	for name, role := range map[string]room.Role{"mod": room.Moderator, "vera": room.Viewer, "tom": room.Viewer} {
		_, sess, err := e.mgr.NewSession(ctx, mt.Key, room.Identity{Name: name, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		m, err := e.mgr.Attach(ctx, mt.Key, sess.Identity, room.ListenerFunc(func(room.Event) {}))
		if err != nil {
			t.Fatal(err)
		}
		ids[name], pol = m.ID(), m.MediaPolicy()
	}
	r := &mediaRoom{policy: pol}
	for _, p := range []sfu.Policy{SFUPolicy(pol), r} {
		for _, tc := range []struct {
			sub, pub string
			k        sfu.TrackKind
			want     bool
		}{
			{"tom", "vera", sfu.KindCamera, false},
			{"tom", "vera", sfu.KindMic, true},
			{"tom", "vera", sfu.KindScreen, true},
			{"mod", "vera", sfu.KindCamera, true},
			{"tom", "mod", sfu.KindCamera, true},
		} {
			if got := p.CanReceive(ids[tc.sub], ids[tc.pub], tc.k); got != tc.want {
				t.Errorf("%T: %s may receive %s's %s: %v, want %v", p, tc.sub, tc.pub, tc.k, got, tc.want)
			}
		}
	}
}
