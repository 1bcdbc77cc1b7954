package sfu

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLocalPeerBridgesAudio(t *testing.T) {
	s := newTestSFU(t)
	r := openRoom(t, s, "r1")
	speaking := make(chan string, 16)
	r.OnSpeaking(func(id string, on bool) {
		if on {
			speaking <- id
		}
	})
	phone, err := r.JoinLocal("phone-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		heard = map[string]int{}
		last  []byte
	)
	phone.OnOpus(func(src string, frame []byte) {
		mu.Lock()
		heard[src]++
		last = append(last[:0], frame...)
		mu.Unlock()
	})
	bob := newClient(t, r, "bob", clientOpts{})
	onTimeout = func() { dump(t, s, bob) }
	bob.publish(pubOpts{kind: KindMic})

	// The caller speaks: 20 ms frames with a loud level, as the gateway
	// sends them.
	frame := bytes.Repeat([]byte{0x78}, 80)
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for !stop.Load() {
			if err := phone.PublishOpus(frame, 20); err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("PublishOpus: %v", err)
				return
			}
			<-tick.C
		}
	}()
	defer func() { stop.Store(true); <-done }()

	eventually(t, "bob hears the caller", func() bool {
		a := bob.received("phone-1", KindMic)
		return a != nil && a.packets.Load() >= 10
	})
	eventually(t, "the caller hears bob", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return heard["bob"] >= 10 && len(last) == 40 && last[0] == 0xfc
	})
	waitEvent(t, speaking, "phone-1")
	mu.Lock()
	self := heard["phone-1"]
	mu.Unlock()
	if self != 0 {
		t.Fatal("the caller hears themself")
	}
	if bob.offeredKinds("phone-1")[KindCamera] {
		t.Fatal("a phone offered video")
	}
	if err := phone.PublishOpus(make([]byte, 2000), 0); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized frame: err = %v", err)
	}

	// Muted by a moderator: bob stops hearing the caller.
	phone.StopForwarding(KindMic)
	a := bob.received("phone-1", KindMic)
	r.mu.Lock()
	pp := r.peers["phone-1"]
	r.mu.Unlock()
	up := func() uint64 { return pp.Stats().Published[0].Packets }
	u0 := up()
	eventually(t, "the caller keeps talking", func() bool { return up() >= u0+5 })
	n0 := a.packets.Load()
	u1 := up()
	eventually(t, "and more", func() bool { return up() >= u1+10 })
	if n := a.packets.Load(); n != n0 {
		t.Fatalf("bob heard %d packets of a muted caller", n-n0)
	}

	// Hang-up: the track leaves bob's subscription.
	stop.Store(true)
	<-done
	if err := phone.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the caller's track leaves bob's subscription", func() bool {
		return !bob.offeredKinds("phone-1")[KindMic]
	})
	if err := phone.PublishOpus(frame, 20); !errors.Is(err, ErrClosed) {
		t.Fatalf("PublishOpus after Close: err = %v", err)
	}
}

func TestLocalPublishAllocatesNothing(t *testing.T) {
	s := newTestSFU(t)
	phone, err := openRoom(t, s, "r1").JoinLocal("phone-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	frame := make([]byte, 80)
	_ = phone.PublishOpus(frame, 20)
	if a := testing.AllocsPerRun(100, func() { _ = phone.PublishOpus(frame, 20) }); a != 0 {
		t.Fatalf("%.1f allocations per published frame", a)
	}
}
