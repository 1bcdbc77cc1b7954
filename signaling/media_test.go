package signaling

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"aula/internal/testenv"
	"aula/room"
	"aula/sfu"
	"aula/store"
)

// newMediaEnv is newEnv with the media extension over a real SFU on
// loopback.
func newMediaEnv(t *testing.T) (*env, *sfu.SFU) {
	e, s, _ := newMediaEnvExt(t)
	return e, s
}

func newMediaEnvExt(t *testing.T) (*env, *sfu.SFU, *Media) {
	t.Helper()
	s, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", IncludeLoopback: true, ICETCPPort: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var m *Media
	e := newEnv(t, func(o *Options, _ *httptest.Server) {
		m = NewMedia(s, "127.0.0.1", nil)
		o.Extensions = []Extension{m}
		o.MaxMessageBytes = 64 << 10 // SDPs are a few kilobytes
	})
	e.mgr.OnEnd(m.CloseRoom)
	// Meetings open their SFU room when they start running (the app's
	// wiring); the env's meeting started before this hook existed.
	e.mgr.OnStart(func(key string) {
		if _, err := s.OpenRoom(key); err != nil {
			t.Errorf("open SFU room: %v", err)
		}
	})
	if _, err := s.OpenRoom(e.mt.Key); err != nil {
		t.Fatal(err)
	}
	return e, s, m
}

// sfuRoom returns the meeting's open SFU room.
func sfuRoom(t *testing.T, s *sfu.SFU, key string) *sfu.Room {
	t.Helper()
	r, err := s.Room(key)
	if err != nil {
		t.Fatalf("SFU room: %v", err)
	}
	return r
}

// enter connects a participant and waits for its welcome and media.config.
func (e *env) enter(key, name string, role room.Role) (*client, Welcome) {
	e.t.Helper()
	c := e.dial(e.joinMeeting(key, name, role))
	w := welcomeOfMsg(e.t, c)
	cfg := decodeData[MediaConfig](e.t, c.expect(TypeMediaConfig, nil))
	if cfg.ICEServers == nil {
		e.t.Errorf("media.config without iceServers list: %+v", cfg)
	}
	return c, w
}

// pionAPI is a browser stand-in that gathers loopback candidates only.
func pionAPI(t *testing.T) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(n string) bool { return n == "lo" })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, waitFor, what, cond)
}

func forwarding(s *sfu.SFU, key, id string, k sfu.TrackKind) bool {
	r, err := s.Room(key)
	if err != nil {
		return false
	}
	p := r.Peer(id)
	return p != nil && p.Forwarding(k)
}

func wantError(t *testing.T, c *client, ref, code string) {
	t.Helper()
	if got := decodeData[Error](t, c.expect(TypeError, errorWithRef(ref))); got.Code != code {
		t.Errorf("%s: code %q (%s), want %q", ref, got.Code, got.Message, code)
	}
}

// TestMediaPublishAndSubscribe: a moderator switches the microphone on and
// publishes it; the viewer is offered it, answers, and receives packets.
// Bad input before that is refused and changes nothing.
func TestMediaPublishAndSubscribe(t *testing.T) {
	e, s := newMediaEnv(t)
	key := e.mt.Key
	mod, modW := e.enter(key, "Maria", room.Moderator)
	viewer, _ := e.enter(key, "Vera", room.Viewer)
	modID := modW.Self.ID

	for _, k := range []sfu.TrackKind{sfu.KindMic, sfu.KindCamera, sfu.KindScreen} {
		if forwarding(s, key, modID, k) {
			t.Fatalf("%s forwarded on entry: camera and microphone must start off", k)
		}
	}
	for _, tc := range []struct{ ref, msg string }{
		{"garbage sdp", `{"type":"media.publish","ref":"garbage sdp","data":{"sdp":"v=0\r\nthis is not SDP"}}`},
		{"empty sdp", `{"type":"media.publish","ref":"empty sdp","data":{"sdp":""}}`},
		{"unknown kind", `{"type":"media.publish","ref":"unknown kind","data":{"sdp":"v=0","kinds":{"0":"hologram"}}}`},
		{"unknown field", `{"type":"media.publish","ref":"unknown field","data":{"sdp":"v=0","x":1}}`},
		{"answer for publish", `{"type":"media.answer","ref":"answer for publish","data":{"target":"publish","sdp":"v=0"}}`},
		{"answer without offer", `{"type":"media.answer","ref":"answer without offer","data":{"target":"subscribe","sdp":"v=0"}}`},
		{"candidate target", `{"type":"media.candidate","ref":"candidate target","data":{"target":"sideways","candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host"}}`},
		{"empty candidate", `{"type":"media.candidate","ref":"empty candidate","data":{"target":"publish","candidate":""}}`},
		{"unknown track", `{"type":"media.layer","ref":"unknown track","data":{"trackId":"camera-999","width":320,"height":180}}`},
		{"negative size", `{"type":"media.layer","ref":"negative size","data":{"trackId":"camera-1","width":-1,"height":180}}`},
		{"state types", `{"type":"media.state","ref":"state types","data":{"audio":"yes"}}`},
		{"restart data", `{"type":"media.restart","ref":"restart data","data":{"now":true}}`},
	} {
		mod.sendRaw([]byte(tc.msg))
		wantError(t, mod, tc.ref, CodeBadRequest)
	}
	for _, m := range mod.pending() {
		if m.Type == TypeMediaAnswer || m.Type == TypeParticipantUpdated {
			t.Errorf("refused input caused %s", m.Type)
		}
	}
	if self, _ := e.mgr.Participants(context.Background(), key); len(self) != 2 || self[0].Audio || self[0].Video {
		t.Fatalf("refused input changed the roster: %+v", self)
	}

	// Switch on and publish, as the browser does.
	api := pionAPI(t)
	publishMic(t, api, mod, s, key, modID)

	// The viewer is offered the moderator's microphone and receives it.
	var off MediaOffer
	viewer.expect(TypeMediaOffer, func(m Envelope) bool {
		off = decodeData[MediaOffer](t, m)
		for _, ti := range off.Tracks {
			if ti.ParticipantID == modID && ti.Kind == sfu.KindMic && ti.MID != "" {
				return true
			}
		}
		return false
	})
	sub, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	got := make(chan string, 4)
	sub.OnTrack(func(r *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if _, _, err := r.ReadRTP(); err == nil {
			got <- r.Codec().MimeType
		}
	})
	if err := sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: off.SDP}); err != nil {
		t.Fatal(err)
	}
	ans, err := sub.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g2 := webrtc.GatheringCompletePromise(sub)
	if err := sub.SetLocalDescription(ans); err != nil {
		t.Fatal(err)
	}
	<-g2
	viewer.send(TypeMediaAnswer, "ans", MediaAnswer{Target: sfu.TargetSubscribe, SDP: sub.LocalDescription().SDP})
	viewer.expect(TypeAck, errorWithRef("ans"))
	select {
	case mime := <-got:
		if !strings.EqualFold(mime, webrtc.MimeTypeOpus) {
			t.Errorf("received %s, want Opus", mime)
		}
	case <-time.After(2 * waitFor):
		t.Fatal("the viewer received no audio packet")
	}

	// A viewer cannot mute; a moderator can, and the SFU stops forwarding
	// at once; only the participant switches it on again.
	viewer.send(TypeParticipantMute, "vm", Target{ID: modID})
	wantError(t, viewer, "vm", CodeForbidden)
	if !forwarding(s, key, modID, sfu.KindMic) {
		t.Fatal("a viewer's refused mute stopped the microphone")
	}
	max, _ := e.enter(key, "Max", room.Moderator)
	max.send(TypeParticipantMute, "mm", Target{ID: modID})
	max.expect(TypeAck, errorWithRef("mm"))
	eventually(t, "the muted microphone stops being forwarded", func() bool { return !forwarding(s, key, modID, sfu.KindMic) })
	mod.expect(TypeParticipantUpdated, func(m Envelope) bool {
		p := decodeData[ParticipantMsg](t, m).Participant
		return p.ID == modID && p.Muted && !p.Audio
	})
	mod.send(TypeMediaState, "unmute", MediaState{Audio: true})
	mod.expect(TypeAck, errorWithRef("unmute"))
	if !forwarding(s, key, modID, sfu.KindMic) {
		t.Fatal("switching one's own microphone on again does not resume forwarding")
	}
	mod.send(TypeMediaState, "off", MediaState{})
	mod.expect(TypeAck, errorWithRef("off"))
	if forwarding(s, key, modID, sfu.KindMic) {
		t.Fatal("switching the microphone off does not stop forwarding")
	}
}

// TestMediaLocks: the room's lock settings hold in the server.
func TestMediaLocks(t *testing.T) {
	e, s := newMediaEnv(t)
	mt, _, err := e.mgr.Create(context.Background(), room.Settings{MeetingID: "locked", Name: "Locked",
		AttendeePW: "a", ModeratorPW: "m", MuteOnStart: true,
		Lock: room.LockSettings{DisableCam: true, WebcamsOnlyForModerator: true}})
	if err != nil {
		t.Fatal(err)
	}
	mod, _ := e.enter(mt.Key, "Maria", room.Moderator)
	viewer, vw := e.enter(mt.Key, "Vera", room.Viewer)
	if !vw.Self.Muted {
		t.Error("muteOnStart: the viewer is not muted on entry")
	}
	viewer.send(TypeMediaState, "cam", MediaState{Video: true})
	wantError(t, viewer, "cam", CodeForbidden)
	if forwarding(s, mt.Key, vw.Self.ID, sfu.KindCamera) {
		t.Error("a locked camera is forwarded")
	}
	for _, m := range viewer.pending() {
		if m.Type == TypeParticipantUpdated {
			t.Errorf("a refused camera changed the roster: %s", m.Data)
		}
	}
	mod.send(TypeMediaState, "modcam", MediaState{Video: true})
	mod.expect(TypeAck, errorWithRef("modcam"))
	viewer.send(TypeMediaState, "mic", MediaState{Audio: true})
	viewer.expect(TypeAck, errorWithRef("mic"))
	if !forwarding(s, mt.Key, vw.Self.ID, sfu.KindMic) {
		t.Error("the viewer's own unmute is not forwarded")
	}
}

// TestMediaWaitsForTheRoom: in the lobby there is no media.
func TestMediaWaitsForTheRoom(t *testing.T) {
	e, _ := newMediaEnv(t)
	viewer := e.dial(e.join("Vera", room.Viewer))
	if w := welcomeOfMsg(t, viewer); !w.Lobby {
		t.Fatal("expected the lobby")
	}
	viewer.send(TypeMediaState, "early", MediaState{Audio: true})
	wantError(t, viewer, "early", CodeNotInRoom)
	viewer.send(TypeMediaEcho, "early echo", MediaEcho{On: ptr(true)})
	wantError(t, viewer, "early echo", CodeNotInRoom)
	for _, m := range viewer.pending() {
		if m.Type == TypeMediaConfig || m.Type == TypeMediaOffer {
			t.Errorf("%s in the lobby", m.Type)
		}
	}
	e.enter(e.mt.Key, "Maria", room.Moderator)
	viewer.expect(TypeLobbyAdmitted, nil)
	viewer.expect(TypeMediaConfig, nil)
	viewer.send(TypeMediaState, "later", MediaState{Audio: true})
	viewer.expect(TypeAck, errorWithRef("later"))
}

// publishMic switches c's microphone on and publishes a Pion audio track
// through the protocol, sending Opus silence every 20 ms until the test ends.
func publishMic(t *testing.T, api *webrtc.API, c *client, s *sfu.SFU, key, id string) {
	t.Helper()
	c.send(TypeMediaState, "on", MediaState{Audio: true})
	c.expect(TypeAck, errorWithRef("on"))
	if !forwarding(s, key, id, sfu.KindMic) {
		t.Fatal("the microphone is not forwarded after media.state switched it on")
	}
	publishMicTrack(t, api, c, id)
}

// publishMicTrack publishes a Pion audio track through the protocol, as a
// browser does (for the echo test even with the microphone switched off),
// sending Opus silence every 20 ms until the test ends.
func publishMicTrack(t *testing.T, api *webrtc.API, c *client, id string) {
	t.Helper()
	pub, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", id)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := pub.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
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
	c.send(TypeMediaPublish, "pub", MediaPublish{SDP: pub.LocalDescription().SDP, Kinds: map[string]sfu.TrackKind{tr.Mid(): sfu.KindMic}})
	answer := decodeData[MediaAnswer](t, c.expect(TypeMediaAnswer, nil))
	c.expect(TypeAck, errorWithRef("pub"))
	if answer.Target != sfu.TargetPublish || !strings.Contains(answer.SDP, "127.0.0.1") {
		t.Fatalf("publish answer %q offers no loopback candidate:\n%s", answer.Target, answer.SDP)
	}
	if err := pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				track.WriteSample(media.Sample{Data: []byte{0xf8, 0xff, 0xfe}, Duration: 20 * time.Millisecond})
			}
		}
	}()
}

// receives reports whether sub's SFU peer is sent pub's media of kind k.
func receives(s *sfu.SFU, key, sub, pub string, k sfu.TrackKind) bool {
	r, err := s.Room(key)
	if err != nil {
		return false
	}
	p := r.Peer(sub)
	if p == nil {
		return false
	}
	for _, tr := range p.Stats().Received {
		if tr.ParticipantID == pub && tr.Kind == k {
			return true
		}
	}
	return false
}

// TestMediaHiddenUserList: with "participants cannot see each other" a
// viewer receives only moderators' media; a promotion changes that at
// once, a demotion takes it back.
func TestMediaHiddenUserList(t *testing.T) {
	e, s := newMediaEnv(t)
	mt, _, err := e.mgr.Create(context.Background(), room.Settings{MeetingID: "hidden", Name: "Hidden",
		AttendeePW: "a", ModeratorPW: "m", Lock: room.LockSettings{HideUserList: true}})
	if err != nil {
		t.Fatal(err)
	}
	mod, mw := e.enter(mt.Key, "Maria", room.Moderator)
	vera, vw := e.enter(mt.Key, "Vera", room.Viewer)
	tom, tw := e.enter(mt.Key, "Tom", room.Viewer)
	publishMic(t, pionAPI(t), vera, s, mt.Key, vw.Self.ID)
	eventually(t, "the moderator receives Vera's microphone", func() bool { return receives(s, mt.Key, mw.Self.ID, vw.Self.ID, sfu.KindMic) })
	tom.ping("settle")
	if receives(s, mt.Key, tw.Self.ID, vw.Self.ID, sfu.KindMic) {
		t.Fatal("a viewer receives another viewer's microphone although participants cannot see each other")
	}
	mod.send(TypeRoleSet, "up", RoleSet{ID: tw.Self.ID, Role: room.Moderator})
	mod.expect(TypeAck, errorWithRef("up"))
	eventually(t, "Tom, promoted, receives Vera's microphone", func() bool { return receives(s, mt.Key, tw.Self.ID, vw.Self.ID, sfu.KindMic) })
	mod.send(TypeRoleSet, "down", RoleSet{ID: tw.Self.ID, Role: room.Viewer})
	mod.expect(TypeAck, errorWithRef("down"))
	eventually(t, "Tom, demoted, no longer receives it", func() bool { return !receives(s, mt.Key, tw.Self.ID, vw.Self.ID, sfu.KindMic) })
}

// TestMediaReconnectAndEnd: a reconnect gets a fresh media configuration
// and keeps what was switched on; the meeting's end closes all media.
func TestMediaReconnectAndEnd(t *testing.T) {
	e, s, m := newMediaEnvExt(t)
	key := e.mt.Key
	tok := e.join("Maria", room.Moderator)
	mod := e.dial(tok)
	mw := welcomeOfMsg(t, mod)
	mod.expect(TypeMediaConfig, nil)
	viewer, _ := e.enter(key, "Vera", room.Viewer)
	mod.send(TypeMediaState, "on", MediaState{Audio: true})
	mod.expect(TypeAck, errorWithRef("on"))
	first := sfuRoom(t, s, key).Peer(mw.Self.ID)

	mod.ws.Close()
	again := e.dial(tok)
	if w := welcomeOfMsg(t, again); w.Self.ID != mw.Self.ID || !w.Self.Audio {
		t.Fatalf("reconnected as %+v", w.Self)
	}
	again.expect(TypeMediaConfig, nil)
	eventually(t, "a new media peer that forwards the microphone", func() bool {
		p := sfuRoom(t, s, key).Peer(mw.Self.ID)
		return p != nil && p != first && p.Forwarding(sfu.KindMic)
	})
	if m.Peers() != 2 {
		t.Errorf("%d media peers, want 2", m.Peers())
	}

	peer := sfuRoom(t, s, key).Peer(mw.Self.ID)
	again.send(TypeMeetingEnd, "end", nil)
	viewer.expect(TypeMeetingEnded, nil)
	eventually(t, "all media of the meeting closed", func() bool {
		return m.Peers() == 0 && errors.Is(peer.RestartICE(), sfu.ErrClosed)
	})
}

// fakeConn is a Conn for driving a media handler directly.
type fakeConn struct {
	m    *room.Member
	sent chan string
}

func (f *fakeConn) Member() *room.Member { return f.m }
func (f *fakeConn) Send(typ string, _ any) {
	select {
	case f.sent <- typ:
	default:
	}
}
func (f *fakeConn) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// FuzzMediaMessage: whatever a client sends as a media message, the
// handler answers with a protocol error code (never an internal error or
// a panic), and a refused message changes nothing of the participant.
func FuzzMediaMessage(f *testing.F) {
	for _, s := range [][2]string{
		{TypeMediaPublish, `{"sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}`},
		{TypeMediaPublish, `{"sdp":"garbage","kinds":{"0":"mic"}}`},
		{TypeMediaAnswer, `{"target":"subscribe","sdp":"v=0"}`},
		{TypeMediaCandidate, `{"target":"publish","candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0"}`},
		{TypeMediaCandidate, `{"target":"subscribe","candidate":"nonsense","sdpMLineIndex":70000}`},
		{TypeMediaState, `{"audio":true,"video":true,"screen":false}`},
		{TypeMediaLayer, `{"trackId":"camera-1","width":320,"height":180}`},
		{TypeMediaRestart, ``},
		{TypeMediaEcho, `{"on":true}`},
		{TypeMediaEcho, `{"on":"yes"}`},
		{TypeMediaEcho, `{}`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	s, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", IncludeLoopback: true, ICETCPPort: -1})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	mgr := room.NewManager(room.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, store.NewMemory(nil), nil)
	mt, _, err := mgr.Create(ctx, room.Settings{MeetingID: "fuzz", Name: "Fuzz", AttendeePW: "a", ModeratorPW: "m",
		Lock: room.LockSettings{DisableCam: true}})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.OpenRoom(mt.Key); err != nil {
		f.Fatal(err)
	}
	mgr.Attach(ctx, mt.Key, room.Identity{ParticipantID: "mod", Name: "M", Role: room.Moderator}, room.ListenerFunc(func(room.Event) {}))
	member, err := mgr.Attach(ctx, mt.Key, room.Identity{ParticipantID: "vera", Name: "V", Role: room.Viewer}, room.ListenerFunc(func(room.Event) {}))
	if err != nil {
		f.Fatal(err)
	}
	fc := &fakeConn{m: member, sent: make(chan string, 16)}
	media := NewMedia(s, "127.0.0.1", nil)
	h, _ := media.Open(ctx, fc)
	snap, err := member.Snapshot(ctx)
	if err != nil {
		f.Fatal(err)
	}
	h.(Welcomer).Welcomed(ctx, snap)
	defer h.Close()
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		before, _ := member.Self()
		err := h.Handle(ctx, typ, data)
		if err == nil {
			return
		}
		switch code := codeOf(err); code {
		case CodeBadRequest, CodeForbidden, CodeRateLimited, CodeUnknownType:
		default:
			t.Fatalf("%s %q: error %v has code %s", typ, data, err, code)
		}
		if after, _ := member.Self(); after != before {
			t.Fatalf("%s %q refused (%v) but changed %+v to %+v", typ, data, err, before, after)
		}
	})
}

// TestMediaConfigTURN: with the built-in TURN server on, each participant
// gets its own short-lived credentials for it, and no other server.
func TestMediaConfigTURN(t *testing.T) {
	var s *sfu.SFU
	var err error
	// The TURN server takes an ephemeral UDP port and the same number for
	// TCP, which another process may hold: try again on a clash.
	for range 5 {
		s, err = sfu.New(sfu.Config{ListenIP: "127.0.0.1", IncludeLoopback: true, ICETCPPort: -1,
			TURN: sfu.TURNConfig{Enabled: true, Realm: "127.0.0.1", Secret: "0123456789abcdef0123"}})
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := newEnv(t, func(o *Options, _ *httptest.Server) {
		o.Extensions = []Extension{NewMedia(s, "meet.example.org", nil)}
	})
	if _, err := s.OpenRoom(e.mt.Key); err != nil {
		t.Fatal(err)
	}
	var creds []string
	for _, name := range []string{"Maria", "Vera"} {
		role := room.Viewer
		if name == "Maria" {
			role = room.Moderator
		}
		c := e.dial(e.join(name, role))
		welcomeOfMsg(t, c)
		cfg := decodeData[MediaConfig](t, c.expect(TypeMediaConfig, nil))
		if len(cfg.ICEServers) != 1 || cfg.ICEServers[0].Username == "" || cfg.ICEServers[0].Credential == "" {
			t.Fatalf("media.config %+v: want one TURN server with credentials", cfg)
		}
		for _, u := range cfg.ICEServers[0].URLs {
			if !strings.HasPrefix(u, "turn:meet.example.org:") {
				t.Errorf("ICE server URL %q does not name this server", u)
			}
		}
		creds = append(creds, cfg.ICEServers[0].Username)
	}
	if creds[0] == creds[1] {
		t.Errorf("two participants share TURN credentials %q", creds[0])
	}
}

// TestSpeakingRespectsHiddenList: media.speaking reaches only those who
// may see the speaker, by the meeting's policy at the moment.
func TestSpeakingRespectsHiddenList(t *testing.T) {
	for _, hidden := range []bool{false, true} {
		e := newEnv(t, nil)
		ctx := context.Background()
		mt, _, err := e.mgr.Create(ctx, room.Settings{MeetingID: "speakers", Name: "S", AttendeePW: "ap", ModeratorPW: "mp",
			Lock: room.LockSettings{HideUserList: hidden}})
		if err != nil {
			t.Fatal(err)
		}
		r := &mediaRoom{conns: map[string]*mediaConn{}}
		got := map[string]*fakeConn{}
		ids := map[string]string{}
		for _, who := range []struct {
			name string
			role room.Role
		}{{"m", room.Moderator}, {"a", room.Viewer}, {"b", room.Viewer}} {
			_, sess, err := e.mgr.NewSession(ctx, mt.Key, room.Identity{Name: who.name, Role: who.role})
			if err != nil {
				t.Fatal(err)
			}
			m, err := e.mgr.Attach(ctx, mt.Key, sess.Identity, room.ListenerFunc(func(room.Event) {}))
			if err != nil {
				t.Fatal(err)
			}
			r.policy = m.MediaPolicy()
			ids[who.name] = m.ID()
			got[who.name] = &fakeConn{sent: make(chan string, 4)}
			r.conns[m.ID()] = &mediaConn{c: got[who.name], id: m.ID()}
		}
		r.speaking(ids["a"], true)
		for name, want := range map[string]bool{"m": true, "a": true, "b": !hidden} {
			if n := len(got[name].sent); (n == 1) != want {
				t.Errorf("hidden list %v: %s got %d media.speaking about a viewer, want %v", hidden, name, n, want)
			}
		}
	}
}

// TestMediaLockChangesLive: a moderator changes the lock settings in the
// meeting: a viewer's camera stops being forwarded at once, and hiding the
// user list stops viewers receiving each other's microphones and resends
// their welcome without the others. A viewer forging lock.set is refused
// and changes nothing.
func TestMediaLockChangesLive(t *testing.T) {
	e, s := newMediaEnv(t)
	mt, _, err := e.mgr.Create(context.Background(), room.Settings{MeetingID: "relock", Name: "Relock", AttendeePW: "a", ModeratorPW: "m"})
	if err != nil {
		t.Fatal(err)
	}
	mod, mw := e.enter(mt.Key, "Maria", room.Moderator)
	vera, vw := e.enter(mt.Key, "Vera", room.Viewer)
	tom, tw := e.enter(mt.Key, "Tom", room.Viewer)
	publishMic(t, pionAPI(t), vera, s, mt.Key, vw.Self.ID)
	eventually(t, "Tom receives Vera's microphone", func() bool { return receives(s, mt.Key, tw.Self.ID, vw.Self.ID, sfu.KindMic) })
	vera.send(TypeMediaState, "cam", MediaState{Audio: true, Video: true})
	vera.expect(TypeAck, errorWithRef("cam"))
	if !forwarding(s, mt.Key, vw.Self.ID, sfu.KindCamera) {
		t.Fatal("the viewer's camera is not forwarded before the lock")
	}

	tom.send(TypeLockSet, "forged", LockSet{Lock: &room.LockSettings{DisableCam: true}})
	wantError(t, tom, "forged", CodeForbidden)
	if !forwarding(s, mt.Key, vw.Self.ID, sfu.KindCamera) {
		t.Fatal("a viewer's forged lock.set stopped a camera")
	}

	mod.send(TypeLockSet, "lock", LockSet{Lock: &room.LockSettings{DisableCam: true}})
	mod.expect(TypeAck, errorWithRef("lock"))
	eventually(t, "the viewer's camera stops", func() bool { return !forwarding(s, mt.Key, vw.Self.ID, sfu.KindCamera) })
	if got := decodeData[MeetingUpdated](t, vera.expect(TypeMeetingUpdated, nil)); !got.Lock.DisableCam {
		t.Fatalf("meeting.updated %+v", got)
	}
	vera.expect(TypeParticipantUpdated, func(m Envelope) bool {
		p := decodeData[ParticipantMsg](t, m).Participant
		return p.ID == vw.Self.ID && !p.Video
	})
	if !forwarding(s, mt.Key, vw.Self.ID, sfu.KindMic) {
		t.Fatal("the camera lock stopped the microphone")
	}

	mod.send(TypeLockSet, "hide", LockSet{Lock: &room.LockSettings{DisableCam: true, HideUserList: true}})
	mod.expect(TypeAck, errorWithRef("hide"))
	w := welcomeOfMsg(t, tom)
	for _, p := range w.Roster {
		if p.ID == vw.Self.ID {
			t.Fatal("Tom's new welcome still lists Vera")
		}
	}
	eventually(t, "Tom stops receiving Vera's microphone", func() bool { return !receives(s, mt.Key, tw.Self.ID, vw.Self.ID, sfu.KindMic) })
	if !receives(s, mt.Key, mw.Self.ID, vw.Self.ID, sfu.KindMic) {
		t.Fatal("the moderator stopped receiving Vera")
	}
}
