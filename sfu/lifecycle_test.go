package sfu

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"aula/internal/testenv"
)

func TestCloseRoomLeavesNoGoroutines(t *testing.T) {
	leaks := testenv.GoroutineCheck(t, 0)
	s, err := New(Config{ListenIP: "127.0.0.1", IncludeLoopback: true, Logger: testLogger(), ICETCPPort: 0,
		TURN: TURNConfig{Enabled: true, Realm: "aula.test", Secret: "0123456789abcdef0123"}})
	if err != nil {
		t.Fatal(err)
	}
	r := openRoom(t, s, "ending")
	alice := newClient(t, r, "alice", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{})
	alice.publish(pubOpts{kind: KindMic})
	alice.publish(pubOpts{kind: KindCamera, simulcast: true})
	bob.publish(pubOpts{kind: KindScreen})
	eventually(t, "media flowing both ways", func() bool {
		a, sc := bob.received("alice", KindCamera), alice.received("bob", KindScreen)
		return a != nil && a.packets.Load() > 5 && sc != nil && sc.packets.Load() > 5
	})

	s.CloseRoom("ending")
	if _, err := r.Join("carol", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after CloseRoom: err = %v, want ErrClosed", err)
	}
	if _, err := alice.peer.HandleOffer("v=0", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("HandleOffer after CloseRoom: err = %v, want ErrClosed", err)
	}
	alice.close()
	bob.close()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	leaks()
}

func TestSpeakingIndicator(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	events := make(chan string, 16)
	r.OnSpeaking(func(id string, on bool) {
		if on {
			events <- id + " speaks"
		} else {
			events <- id + " silent"
		}
	})
	alice := newClient(t, r, "alice", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{})
	onTimeout = func() { dump(t, s, alice, bob) }
	mic := alice.publish(pubOpts{kind: KindMic, level: true})
	up := func() uint64 { return alice.peer.Stats().Published[0].Packets }

	// Silence (level 127) is not forwarded at all.
	eventually(t, "alice sends 50 silent packets", func() bool {
		st := alice.peer.Stats()
		return len(st.Published) == 1 && st.Published[0].Packets >= 50
	})
	eventually(t, "bob subscribed", func() bool { return len(bob.peer.Stats().Received) == 1 })
	if n := bob.peer.Stats().Received[0].Packets; n != 0 {
		t.Fatalf("%d silent packets forwarded", n)
	}

	mic.level.Store(20) // speech, -20 dBov
	waitEvent(t, events, "alice speaks")
	eventually(t, "bob hears alice", func() bool {
		a := bob.received("alice", KindMic)
		return a != nil && a.packets.Load() >= 10
	})
	mic.level.Store(127)
	waitEvent(t, events, "alice silent")
	// After the hold time, silence stops being forwarded.
	var sent uint64
	eventually(t, "forwarding stops after the speech hold", func() bool {
		n := bob.peer.Stats().Received[0].Packets
		if n != sent {
			sent = n
			return false
		}
		u := up()
		eventually(t, "more packets from alice", func() bool { return up() >= u+20 })
		return bob.peer.Stats().Received[0].Packets == sent
	})
}

func waitEvent(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
		case <-timeout:
			t.Fatalf("no event %q", want)
		}
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	p, err := r.Join("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"garbage offer", func() error { _, err := p.HandleOffer("hello", nil); return err }, ErrBadSDP},
		{"offer without media sections", func() error {
			_, err := p.HandleOffer("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", nil)
			return err
		}, ErrBadSDP},
		{"answer without offer", func() error { return p.HandleAnswer("v=0\r\n") }, ErrUnexpectedAnswer},
		{"candidate garbage", func() error {
			return p.AddICECandidate(Candidate{Target: TargetPublish, Candidate: "not a candidate"})
		}, ErrBadCandidate},
		{"candidate unknown target", func() error {
			return p.AddICECandidate(Candidate{Target: "sideways", Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"})
		}, ErrBadCandidate},
		{"unknown track preference", func() error { return p.SetLayerPreference("nope", 10, 10) }, ErrUnknownTrack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if st := p.pubPC.SignalingState(); st != webrtc.SignalingStateStable {
				t.Errorf("publish signaling state %s after bad input, want stable", st)
			}
			if p.pubPC.RemoteDescription() != nil {
				t.Error("a bad offer was applied")
			}
		})
	}
	// A good offer still works after all that.
	c := newClient(t, r, "bob", clientOpts{})
	c.publish(pubOpts{kind: KindMic})
}

func TestConfigValidate(t *testing.T) {
	ok := "0123456789abcdef"
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"udp port", Config{UDPPort: 70000}, "UDPPort"},
		{"tcp port", Config{ICETCPPort: -2}, "ICETCPPort"},
		{"public ip", Config{PublicIP: "example.org"}, "PublicIP"},
		{"listen ip", Config{ListenIP: "300.1.1.1"}, "ListenIP"},
		{"turn secret", Config{TURN: TURNConfig{Enabled: true, Realm: "x", Secret: "short"}}, "TURN.Secret"},
		{"turn realm", Config{TURN: TURNConfig{Enabled: true, Secret: ok}}, "TURN.Realm"},
		{"turn port", Config{TURN: TURNConfig{Enabled: true, Realm: "x", Secret: ok, Port: -1}}, "TURN.Port"},
		{"negotiation timeout", Config{NegotiationTimeout: -time.Second}, "NegotiationTimeout"},
		{"echo timeout", Config{EchoTimeout: -time.Second}, "EchoTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("err = %v, want ErrInvalidConfig naming %s", err, tt.field)
			}
		})
	}
}

func TestICEOverTCP(t *testing.T) {
	s := newTestSFU(t)
	if s.TCPAddr() == nil {
		t.Fatal("no ICE-TCP listener")
	}
	r := openRoom(t, s, "r1")
	tcpOnly := func(se *webrtc.SettingEngine) {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	}
	alice := newClient(t, r, "alice", clientOpts{settings: tcpOnly})
	bob := newClient(t, r, "bob", clientOpts{settings: tcpOnly})
	onTimeout = func() { dump(t, s, alice, bob) }
	alice.publish(pubOpts{kind: KindMic})
	eventually(t, "audio over ICE-TCP", func() bool {
		a := bob.received("alice", KindMic)
		return a != nil && a.packets.Load() >= 20
	})
	assertPair(t, bob.sub, "tcp")
}

func TestTURNRelay(t *testing.T) {
	s := newTestSFU(t, func(c *Config) {
		c.TURN = TURNConfig{Enabled: true, Realm: "aula.test", Secret: "0123456789abcdef0123"}
	})
	r := openRoom(t, s, "r1")
	relayOnly := func(id string) clientOpts {
		servers, err := s.ICEServers("127.0.0.1", id)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range servers[0].URLs {
			if strings.HasPrefix(u, "stun:") {
				t.Fatalf("STUN server offered: %s", u)
			}
		}
		return clientOpts{settings: func(se *webrtc.SettingEngine) { se.SetRelayAcceptanceMinWait(0) }, config: webrtc.Configuration{
			ICETransportPolicy: webrtc.ICETransportPolicyRelay,
			ICEServers:         []webrtc.ICEServer{{URLs: servers[0].URLs[:1], Username: servers[0].Username, Credential: servers[0].Credential}},
		}}
	}
	alice := newClient(t, r, "alice", relayOnly("alice"))
	bob := newClient(t, r, "bob", relayOnly("bob"))
	onTimeout = func() { dump(t, s, alice, bob) }
	alice.publish(pubOpts{kind: KindMic})
	eventually(t, "audio through the TURN relay", func() bool {
		a := bob.received("alice", KindMic)
		return a != nil && a.packets.Load() >= 20
	})
	assertPair(t, bob.sub, "relay")
}

func TestTURNCredentials(t *testing.T) {
	ts := &turnServer{cfg: TURNConfig{Secret: "0123456789abcdef0123"}, allow: map[string]bool{"127.0.0.1": true}}
	future := time.Now().Add(time.Hour).Unix()
	good := itoa(future) + ":alice"
	tests := []struct {
		name, user string
		ok         bool
	}{
		{"valid", good, true},
		{"expired", itoa(time.Now().Add(-time.Minute).Unix()) + ":alice", false},
		{"no expiry", "alice", false},
		{"bad expiry", "soon:alice", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ok := ts.auth(tt.user, "aula.test", &net.UDPAddr{})
			if ok != tt.ok {
				t.Fatalf("auth(%q) = %v, want %v", tt.user, ok, tt.ok)
			}
		})
	}
	// The key depends on the secret: another server's credentials fail
	// Pion's integrity check.
	k1, _ := ts.auth(good, "aula.test", nil)
	other := &turnServer{cfg: TURNConfig{Secret: "another-secret-0123456"}}
	k2, _ := other.auth(good, "aula.test", nil)
	if string(k1) == string(k2) {
		t.Fatal("credentials do not depend on the secret")
	}
	if ts.permit(nil, net.ParseIP("192.0.2.1")) {
		t.Fatal("TURN relays to a foreign address")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// assertPair checks the selected ICE candidate pair's local type/protocol.
func assertPair(t *testing.T, pc *webrtc.PeerConnection, want string) {
	t.Helper()
	eventually(t, "a selected candidate pair of kind "+want, func() bool {
		for _, st := range pc.GetStats() {
			if p, ok := st.(webrtc.ICECandidatePairStats); ok && p.Nominated {
				for _, s2 := range pc.GetStats() {
					if c, ok := s2.(webrtc.ICECandidateStats); ok && c.ID == p.LocalCandidateID {
						return string(c.CandidateType.String()) == want || c.Protocol == want
					}
				}
			}
		}
		return false
	})
}

func TestTURNRelaysOnlyToMedia(t *testing.T) {
	got := make(chan []byte, 1)
	other, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	media, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer media.Close()
	go func() {
		b := make([]byte, 64)
		n, _, err := media.ReadFrom(b)
		if err == nil {
			got <- b[:n]
		}
	}()
	relay, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &guardedConn{PacketConn: relay, ports: map[int]bool{media.LocalAddr().(*net.UDPAddr).Port: true}}
	defer g.Close()
	if _, err := g.WriteTo([]byte("dns?"), other.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if _, err := g.WriteTo([]byte("media"), media.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "media" {
		t.Fatalf("media port got %q", b)
	}
	_ = other.SetReadDeadline(time.Now()) // nothing may be waiting there
	if n, _, err := other.ReadFrom(make([]byte, 64)); err == nil {
		t.Fatalf("relay sent %d bytes to a port that is not the SFU's", n)
	}
}

func TestRejoinReplacesPeer(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	old, err := r.Join("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	alice := newClient(t, r, "alice", clientOpts{}) // the reconnect
	bob := newClient(t, r, "bob", clientOpts{})
	if _, err := old.HandleOffer("v=0", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("old peer after rejoin: err = %v, want ErrClosed", err)
	}
	if r.Peer("alice") != alice.peer {
		t.Fatal("the room does not hold the new peer")
	}
	alice.publish(pubOpts{kind: KindMic})
	eventually(t, "bob hears the reconnected alice", func() bool {
		a := bob.received("alice", KindMic)
		return a != nil && a.packets.Load() >= 10
	})
}
