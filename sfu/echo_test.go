package sfu

import (
	"errors"
	"testing"
	"time"

	"aula/internal/testenv"
)

// allKindsOff does what the signaling layer does on entry: nothing of the
// participant is forwarded to others (their media.state is all off).
func allKindsOff(p *Peer) {
	for _, k := range []TrackKind{KindMic, KindCamera, KindScreen} {
		p.StopForwarding(k)
	}
}

// echoSlots reports how many of p's published tracks feed an echo.
func echoSlots(p *Peer) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, u := range p.ups {
		if u.echo.Load() != nil {
			n++
		}
	}
	return n
}

// receivesFrom reports whether p's subscribe side carries pub's kind k.
func receivesFrom(p *Peer, pub string, k TrackKind) bool {
	for _, tr := range p.Stats().Received {
		if tr.ParticipantID == pub && tr.Kind == k {
			return true
		}
	}
	return false
}

// echoMid returns the m-line alice's echo arrives on, from her latest offer.
func echoMid(t *testing.T, c *testClient) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for mid, ti := range c.infos {
		if ti.ParticipantID == c.id && ti.Kind == KindMic {
			return mid
		}
	}
	t.Fatalf("%s's latest offer announces no echo: %+v", c.id, c.infos)
	return ""
}

// echoStops waits until the echo is gone from c's subscription (offer,
// stats and the up track's slot), then proves that no packet arrives on
// its m-line any more while the reference stream keeps flowing.
func echoStops(t *testing.T, c *testClient, mid string, ref *recvTrack) {
	t.Helper()
	eventually(t, "the echo leaves the subscription", func() bool {
		return !c.offeredKinds(c.id)[KindMic] && !receivesFrom(c.peer, c.id, KindMic) && echoSlots(c.peer) == 0
	})
	onMid := c.midCounter(mid)
	// Packets already on the wire may still land: let them.
	settle := ref.packets.Load() + 10
	eventually(t, "the reference stream flows on", func() bool { return ref.packets.Load() >= settle })
	n := onMid.Load()
	more := ref.packets.Load() + 30
	eventually(t, "the reference stream flows on", func() bool { return ref.packets.Load() >= more })
	if got := onMid.Load(); got != n {
		t.Errorf("%d echo packets arrived after the echo ended", got-n)
	}
}

// TestEchoReturnsOwnMicrophoneOnly: the echo test sends a participant
// their own microphone, published after the echo was switched on, while
// it is forwarded to nobody else; their camera is never echoed. Switched
// off, the track leaves the next offer and no packet follows.
func TestEchoReturnsOwnMicrophoneOnly(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	alice := newClient(t, r, "alice", clientOpts{})
	bob := newClient(t, r, "bob", clientOpts{})
	onTimeout = func() { dump(t, s, alice, bob) }
	allKindsOff(alice.peer)
	if err := alice.peer.SetEcho(true); err != nil {
		t.Fatalf("SetEcho(true): %v", err)
	}
	if !alice.peer.Echo() {
		t.Fatal("Echo() is false after SetEcho(true)")
	}
	alice.publish(pubOpts{kind: KindMic})
	alice.publish(pubOpts{kind: KindCamera})
	bob.publish(pubOpts{kind: KindCamera})

	var echo *recvTrack
	eventually(t, "alice hears herself", func() bool {
		echo = alice.received("alice", KindMic)
		return echo != nil && echo.packets.Load() >= 20
	})
	ref := alice.received("bob", KindCamera)
	eventually(t, "alice sees bob", func() bool {
		ref = alice.received("bob", KindCamera)
		return ref != nil && ref.packets.Load() >= 10
	})
	if got := alice.offeredKinds("alice"); len(got) != 1 || !got[KindMic] {
		t.Errorf("alice is offered her own %v, want her microphone only", got)
	}
	if echo.info.MID == "" || echo.info.TrackID == "" {
		t.Errorf("echo track announced as %+v", echo.info)
	}
	for _, st := range alice.peer.Stats().Published {
		if st.Forwarding {
			t.Errorf("the echo made alice's %s forwarded to others", st.Kind)
		}
	}
	if alice.peer.Forwarding(KindMic) {
		t.Error("the echo resumed forwarding alice's microphone")
	}
	// Bob may receive alice's microphone (the policy allows it) but gets
	// nothing of it: her media.state has it off.
	if a := bob.received("alice", KindMic); a != nil && a.packets.Load() != 0 {
		t.Errorf("bob received %d packets of alice's unforwarded microphone", a.packets.Load())
	}
	for _, st := range bob.peer.Stats().Received {
		if st.ParticipantID == "alice" && st.Packets != 0 {
			t.Errorf("the SFU sent bob %d packets of alice's %s", st.Packets, st.Kind)
		}
	}

	mid := echoMid(t, alice)
	if err := alice.peer.SetEcho(false); err != nil {
		t.Fatalf("SetEcho(false): %v", err)
	}
	if alice.peer.Echo() {
		t.Fatal("Echo() is true after SetEcho(false)")
	}
	echoStops(t, alice, mid, ref)
	if a := bob.received("alice", KindMic); a != nil && a.packets.Load() != 0 {
		t.Errorf("bob received %d packets of alice's microphone", a.packets.Load())
	}
	if err := alice.peer.SetEcho(false); err != nil {
		t.Errorf("SetEcho(false) while off: %v", err)
	}
}

// TestEchoEndsByItself: the server ends the echo test after EchoTimeout;
// a new one can start after. Without it, one's own tracks are never
// subscribed, even with a policy that lets one receive oneself.
func TestEchoEndsByItself(t *testing.T) {
	s := newTestSFU(t, func(c *Config) { c.EchoTimeout = 3 * time.Second })
	r := openRoom(t, s, "r1")
	selfToo := PolicyFunc(func(sub, pub string, k TrackKind) bool { return true })
	alice := newClient(t, r, "alice", clientOpts{policy: selfToo})
	bob := newClient(t, r, "bob", clientOpts{})
	onTimeout = func() { dump(t, s, alice, bob) }
	allKindsOff(alice.peer)
	alice.publish(pubOpts{kind: KindMic})
	bob.publish(pubOpts{kind: KindCamera})
	var ref *recvTrack
	eventually(t, "alice sees bob", func() bool {
		ref = alice.received("bob", KindCamera)
		return ref != nil && ref.packets.Load() >= 10 && len(alice.peer.Stats().Published) == 1
	})
	if got := alice.offeredKinds("alice"); len(got) != 0 || receivesFrom(alice.peer, "alice", KindMic) {
		t.Fatalf("without the echo alice is offered her own %v", got)
	}

	if err := alice.peer.SetEcho(true); err != nil {
		t.Fatal(err)
	}
	var echo *recvTrack
	eventually(t, "alice hears herself", func() bool {
		echo = alice.received("alice", KindMic)
		return echo != nil && echo.packets.Load() >= 10
	})
	mid := echoMid(t, alice)
	eventually(t, "the echo ends by itself", func() bool { return !alice.peer.Echo() })
	echoStops(t, alice, mid, ref)

	// A new echo test starts afresh.
	before := echo.packets.Load()
	if err := alice.peer.SetEcho(true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "alice hears herself again", func() bool {
		e := alice.received("alice", KindMic)
		return e != nil && e.packets.Load() >= before+10
	})
	if a := bob.received("alice", KindMic); a != nil && a.packets.Load() != 0 {
		t.Errorf("bob received %d packets of alice's microphone", a.packets.Load())
	}
}

// TestEchoEndsWithTheRoom: an echo test under way (its timer armed)
// leaves no goroutine behind when the room closes, and the closed peer
// refuses a new one.
func TestEchoEndsWithTheRoom(t *testing.T) {
	leaks := testenv.GoroutineCheck(t, 0)
	s, err := New(Config{ListenIP: "127.0.0.1", IncludeLoopback: true, ICETCPPort: -1, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r := openRoom(t, s, "echoing")
	alice := newClient(t, r, "alice", clientOpts{})
	onTimeout = func() { dump(t, s, alice) }
	allKindsOff(alice.peer)
	alice.publish(pubOpts{kind: KindMic})
	if err := alice.peer.SetEcho(true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "alice hears herself", func() bool {
		e := alice.received("alice", KindMic)
		return e != nil && e.packets.Load() >= 10
	})

	s.CloseRoom("echoing")
	if err := alice.peer.SetEcho(true); !errors.Is(err, ErrClosed) {
		t.Errorf("SetEcho after CloseRoom: err = %v, want ErrClosed", err)
	}
	if n := echoSlots(alice.peer); n != 0 {
		t.Errorf("%d echo slots left after CloseRoom", n)
	}
	// CloseRoom waited for the room's goroutines; one may still be on its
	// way out of a deferred Done.
	eventually(t, "no SFU goroutine of the room left", func() bool {
		return len(testenv.Goroutines("aula/sfu.(*opQueue)", "aula/sfu.(*writer)", "aula/sfu.(*upTrack)",
			"aula/sfu.(*downTrack)", "aula/sfu.(*Room)", "aula/sfu.(*Peer)")) == 0
	})
	alice.close()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	onTimeout = nil
	leaks()
}
