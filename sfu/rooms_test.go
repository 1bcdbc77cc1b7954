package sfu

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"aula/internal/testenv"
)

// The room lifecycle alone opens and closes rooms; lookups never create.
func TestOpenRoomAndRoomLookup(t *testing.T) {
	s := newTestSFU(t, func(c *Config) { c.ICETCPPort = -1 })

	if _, err := s.Room("k1"); !errors.Is(err, ErrNoRoom) || errors.Is(err, ErrClosed) {
		t.Fatalf("Room of a key never opened: err = %v, want ErrNoRoom only", err)
	}
	r := openRoom(t, s, "k1")
	if again := openRoom(t, s, "k1"); again != r {
		t.Fatal("OpenRoom of an open key made a second room")
	}
	if got, err := s.Room("k1"); err != nil || got != r {
		t.Fatalf("Room = %p, %v; want the open room", got, err)
	}

	s.CloseRoom("k1")
	if _, err := s.Room("k1"); !errors.Is(err, ErrNoRoom) || !errors.Is(err, ErrClosed) {
		t.Errorf("Room after CloseRoom: err = %v, want ErrNoRoom and ErrClosed", err)
	}
	if _, err := s.OpenRoom("k1"); !errors.Is(err, ErrClosed) {
		t.Errorf("OpenRoom after CloseRoom: err = %v, want ErrClosed", err)
	}
	if _, err := r.Join("alice", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Join on the closed room: err = %v, want ErrClosed", err)
	}

	// A conference that ended before anyone had media: its key is still
	// refused afterwards.
	s.CloseRoom("k2")
	if _, err := s.OpenRoom("k2"); !errors.Is(err, ErrClosed) {
		t.Errorf("OpenRoom after CloseRoom of an unopened key: err = %v, want ErrClosed", err)
	}

	// Room.Close is CloseRoom.
	r3 := openRoom(t, s, "k3")
	r3.Close()
	if _, err := s.OpenRoom("k3"); !errors.Is(err, ErrClosed) {
		t.Errorf("OpenRoom after Room.Close: err = %v, want ErrClosed", err)
	}

	// The memory of closed keys is bounded: old marks are pruned.
	s.mu.Lock()
	s.ended["k1"] = time.Now().Add(-closedKeyMemory - time.Minute)
	s.pruned = time.Time{}
	s.forget("k4")
	_, kept := s.ended["k1"]
	s.mu.Unlock()
	if kept {
		t.Error("a closed key older than closedKeyMemory was not pruned")
	}

	_ = s.Close()
	if _, err := s.OpenRoom("k5"); !errors.Is(err, ErrClosed) {
		t.Errorf("OpenRoom after SFU.Close: err = %v, want ErrClosed", err)
	}
	if _, err := s.Room("k5"); !errors.Is(err, ErrNoRoom) || !errors.Is(err, ErrClosed) {
		t.Errorf("Room after SFU.Close: err = %v, want ErrNoRoom and ErrClosed", err)
	}
}

// Media messages (joins, offers, candidates, answers, phone audio, a
// lazy OpenRoom) race the end of the conference: afterwards the SFU holds
// no room, the key stays closed, and every goroutine has ended.
func TestCloseRoomRacesMediaMessages(t *testing.T) {
	leaks := testenv.GoroutineCheck(t, 0)
	offer := publishOffer(t)
	s, err := New(Config{ListenIP: "127.0.0.1", IncludeLoopback: true, ICETCPPort: -1, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const key = "racing"
	openRoom(t, s, key)

	var (
		wg      sync.WaitGroup
		ops     atomic.Int64
		applied atomic.Int64 // offers answered before the end
		errMu   sync.Mutex
		badErrs []error
	)
	bad := func(what string, err error, ok ...error) {
		if err == nil {
			return
		}
		for _, o := range ok {
			if errors.Is(err, o) {
				return
			}
		}
		errMu.Lock()
		badErrs = append(badErrs, fmt.Errorf("%s: %w", what, err))
		errMu.Unlock()
	}
	// ended stops the loops even if a regression let the room live on
	// (they would spin forever); the assertions below catch that.
	ended := make(chan struct{})
	over := func() bool {
		select {
		case <-ended:
			return true
		default:
			return false
		}
	}
	mid := "0"
	cand := Candidate{Target: TargetSubscribe, Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 9 typ host", SDPMid: &mid}
	for g := range 9 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !over(); i++ {
				r, err := s.Room(key)
				if err != nil {
					bad("Room", err, ErrNoRoom)
					return
				}
				id := fmt.Sprintf("p%d-%d", g, i%2) // every other join is a reconnect
				switch g % 3 {
				case 0: // a browser publishing
					p, err := r.Join(id, nil)
					if err != nil {
						bad("Join", err, ErrClosed)
						continue
					}
					if _, err = p.HandleOffer(offer, nil); err == nil {
						applied.Add(1)
					}
					bad("HandleOffer", err, ErrClosed)
					bad("AddICECandidate", p.AddICECandidate(cand), ErrClosed)
				case 1: // a browser subscribing, with a broken answer
					p, err := r.Join(id, nil)
					if err != nil {
						bad("Join", err, ErrClosed)
						continue
					}
					p.OnSignal(func(Signal) {})
					bad("HandleAnswer", p.HandleAnswer("v=0\r\n"), ErrClosed, ErrUnexpectedAnswer, ErrBadSDP)
					bad("RestartICE", p.RestartICE(), ErrClosed)
					r.Refresh()
				case 2: // a phone caller speaking
					l, err := r.JoinLocal(id, nil)
					if err != nil {
						bad("JoinLocal", err, ErrClosed)
						continue
					}
					bad("PublishOpus", l.PublishOpus([]byte{0xfc, 1, 2}, 10), ErrClosed)
				}
				ops.Add(1)
			}
		}()
	}
	wg.Add(1)
	go func() { // a lazy opener, as a media message handler might be
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for !over() {
			if _, err := s.OpenRoom(key); err != nil {
				bad("OpenRoom", err, ErrClosed)
				return
			}
			<-tick.C
		}
	}()

	eventually(t, "media operations under way", func() bool { return ops.Load() >= 30 && applied.Load() >= 3 })
	s.CloseRoom(key)
	close(ended)
	wg.Wait()
	for _, err := range badErrs {
		t.Error(err)
	}

	s.mu.Lock()
	left := len(s.rooms)
	s.mu.Unlock()
	if left != 0 {
		t.Errorf("%d rooms left in the SFU after CloseRoom", left)
	}
	if _, err := s.OpenRoom(key); !errors.Is(err, ErrClosed) {
		t.Errorf("OpenRoom after the race: err = %v, want ErrClosed", err)
	}
	if _, err := s.Room(key); !errors.Is(err, ErrNoRoom) {
		t.Errorf("Room after the race: err = %v, want ErrNoRoom", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	leaks()
}

// publishOffer returns a Pion client's offer to publish a microphone.
func publishOffer(t *testing.T) string {
	t.Helper()
	pc, err := clientAPI(t, clientOpts{}).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(tr); err != nil {
		t.Fatal(err)
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-g
	return pc.LocalDescription().SDP
}
