package sfu

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// A subscriber that never answers gets the offer, one re-offer after the
// negotiation timeout, and then fails: closed, out of the room, and told
// through OnFailed.
func TestUnansweredOfferFailsPeer(t *testing.T) {
	s := newTestSFU(t, func(c *Config) { c.NegotiationTimeout = 200 * time.Millisecond })
	r := openRoom(t, s, "r1")
	alice := newClient(t, r, "alice", clientOpts{})
	alice.publish(pubOpts{kind: KindMic})

	bob, err := r.Join("bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		offers []Signal
	)
	bob.OnSignal(func(s Signal) {
		mu.Lock()
		offers = append(offers, s)
		mu.Unlock()
	})
	failed := make(chan error, 2)
	bob.OnFailed(func(err error) { failed <- err })

	var got error
	select {
	case got = <-failed:
	case <-time.After(8 * time.Second):
		t.Fatal("OnFailed not called")
	}
	t.Logf("OnFailed: %v", got)
	if !errors.Is(got, ErrNegotiationTimeout) {
		t.Errorf("OnFailed(%v), want ErrNegotiationTimeout", got)
	}
	mu.Lock()
	n := len(offers)
	for i, o := range offers {
		if o.Type != SignalOffer || o.Target != TargetSubscribe || o.SDP == "" || len(o.Tracks) != 1 {
			t.Errorf("offer %d: %+v, want a subscribe offer carrying alice's mic", i, o)
		}
	}
	if n == 2 && offers[1].SDP != offers[0].SDP {
		t.Error("the re-offer is not the outstanding offer sent again")
	}
	mu.Unlock()
	if n != 2 {
		t.Errorf("%d offers before failing, want 2 (the offer and one re-offer)", n)
	}
	if !bob.isClosed() {
		t.Error("the failed peer is not closed")
	}
	if r.Peer("bob") != nil {
		t.Error("the failed peer is still in the room")
	}
	if err := bob.HandleAnswer("v=0\r\n"); !errors.Is(err, ErrClosed) {
		t.Errorf("HandleAnswer on the failed peer: err = %v, want ErrClosed", err)
	}
	select {
	case err := <-failed:
		t.Errorf("OnFailed called twice (again with %v)", err)
	default:
	}
	// The room goes on for everyone else.
	carol := newClient(t, r, "carol", clientOpts{})
	eventually(t, "carol hears alice", func() bool {
		a := carol.received("alice", KindMic)
		return a != nil && a.packets.Load() >= 10
	})
}

// A subscriber that lost the first offer and answers the re-offer keeps
// working: it receives media, and later renegotiations succeed.
func TestReofferAnsweredKeepsPeer(t *testing.T) {
	s := newTestSFU(t, func(c *Config) { c.NegotiationTimeout = 2 * time.Second })
	r := openRoom(t, s, "r1")
	alice := newClient(t, r, "alice", clientOpts{})
	alice.publish(pubOpts{kind: KindMic})
	bob := newClient(t, r, "bob", clientOpts{ignore: 1})
	failed := make(chan error, 1)
	bob.peer.OnFailed(func(err error) { failed <- err })
	onTimeout = func() { dump(t, s, alice, bob) }

	eventually(t, "bob hears alice after answering the re-offer", func() bool {
		a := bob.received("alice", KindMic)
		return a != nil && a.packets.Load() >= 20
	})
	if n := bob.offered.Load(); n != 1 {
		t.Errorf("bob answered %d offers, want 1 (the re-offer)", n)
	}
	// Nothing is outstanding, so no timeout is armed, and the next
	// timeout starts afresh with a re-offer.
	err := bob.peer.subQ.call(func() error {
		if bob.peer.awaitingAnswer || bob.peer.reoffered || bob.peer.subQ.answer.f != nil {
			return errors.New("negotiation state not reset by the answer")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}

	alice.publish(pubOpts{kind: KindCamera})
	eventually(t, "bob receives alice's camera after renegotiating", func() bool {
		v := bob.received("alice", KindCamera)
		return v != nil && v.packets.Load() >= 20
	})
	select {
	case err := <-failed:
		t.Fatalf("OnFailed(%v) for a subscriber that answers", err)
	default:
	}
	if bob.peer.isClosed() {
		t.Fatal("bob's peer was closed")
	}
}
