package sfu

import (
	"sync"
	"testing"

	"github.com/pion/rtp"
)

// recSink records the sequence numbers written; while gate is set, every
// write waits for it, like a subscriber on a stalled TCP path.
type recSink struct {
	mu   sync.Mutex
	seqs []uint16
	gate chan struct{}
}

func (s *recSink) WriteRTP(h *rtp.Header, _ []byte) (int, error) {
	s.mu.Lock()
	g := s.gate
	s.mu.Unlock()
	if g != nil {
		<-g
	}
	s.mu.Lock()
	s.seqs = append(s.seqs, h.SequenceNumber)
	s.mu.Unlock()
	return 0, nil
}

func (s *recSink) Write(b []byte) (int, error) { return len(b), nil }

func (s *recSink) got() []uint16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint16(nil), s.seqs...)
}

// stallFirst binds a recording sink to every subscriber of f and starts
// their writers; the first subscriber's writes block until gate closes.
func stallFirst(t *testing.T, f *fanout) ([]*recSink, chan struct{}) {
	sinks := make([]*recSink, len(f.downs))
	for i, d := range f.downs {
		sinks[i] = &recSink{}
		d.bind.Store(&binding{ssrc: uint32(i + 1), pt: 96, ws: sinks[i]})
		go f.subs[i].w.run()
		t.Cleanup(f.subs[i].w.stop)
	}
	gate := make(chan struct{})
	sinks[0].mu.Lock()
	sinks[0].gate = gate
	sinks[0].mu.Unlock()
	return sinks, gate
}

// vp8Packets returns a marshalled VP8 keyframe and inter-frame packet.
func vp8Packets() (key, delta []byte) {
	key, _ = (&rtp.Packet{Header: rtp.Header{Version: 2}, Payload: vp8Frame(true, 640, 360, 0)}).Marshal()
	delta, _ = (&rtp.Packet{Header: rtp.Header{Version: 2}, Payload: vp8Frame(false, 0, 0, 0)}).Marshal()
	return key, delta
}

func TestSlowSubscriberDropsAndNeverBlocks(t *testing.T) {
	f := newFanout(3, true)
	sinks, gate := stallFirst(t, f)
	slow := sinks[0]
	key, delta := vp8Packets()
	var seq uint16 = 1
	send := func(raw []byte, n int) {
		for i := 0; i < n; i++ {
			p := getPacket()
			p.n = copy(p.buf[:], raw)
			p.buf[2], p.buf[3] = byte(seq>>8), byte(seq)
			f.up.ingest(p, f.layer, &f.st, int64(seq)*1000)
			seq++
			if i%100 == 99 { // let the healthy writers keep up
				want := uint64(seq - 1)
				eventually(t, "healthy subscribers keep up", func() bool {
					return f.downs[1].sent.Load() == want && f.downs[2].sent.Load() == want
				})
			}
		}
	}
	// 2000 packets: the slow subscriber's queue fills, the publisher's
	// read loop (this goroutine) never waits for it.
	send(key, 1)
	send(delta, 1999)
	if f.up.stats.dropped.Load() == 0 {
		t.Fatal("nothing dropped for the stalled subscriber")
	}
	// Unstall: the slow subscriber drains its queue, then gets nothing
	// until a keyframe.
	slow.mu.Lock()
	slow.gate = nil
	slow.mu.Unlock()
	close(gate)
	eventually(t, "the slow queue drains", func() bool { return len(f.subs[0].w.ch) == 0 })
	before := len(slow.got())
	send(delta, 100)
	eventually(t, "healthy subscribers got the deltas", func() bool { return f.downs[1].sent.Load() == uint64(seq-1) })
	if n := len(slow.got()); n != before {
		t.Fatalf("slow subscriber got %d inter frames before a keyframe", n-before)
	}
	send(key, 1)
	send(delta, 10)
	eventually(t, "slow subscriber resumes at the keyframe", func() bool { return len(slow.got()) == before+11 })
	s := slow.got()
	for i := 1; i < len(s); i++ {
		if s[i] != s[i-1]+1 {
			t.Fatalf("slow subscriber's sequence jumps %d → %d", s[i-1], s[i])
		}
	}
	// The healthy writers deliver asynchronously: wait for the last
	// packets, then check that none is missing or extra.
	for _, h := range sinks[1:] {
		eventually(t, "healthy subscribers get every packet", func() bool { return len(h.got()) >= int(seq-1) })
		if n := len(h.got()); n != int(seq-1) {
			t.Fatalf("a healthy subscriber got %d of %d packets", n, seq-1)
		}
	}
}

// TestWaitingSubscriberKeepsAskingForKeyframe: a subscriber that dropped
// video waits for a keyframe. If the publisher does not answer the first
// request (throttled because a keyframe just passed for someone else, or
// lost), the subscriber must keep asking, or its video freezes until the
// publisher's next unsolicited keyframe — which browsers never send.
func TestWaitingSubscriberKeepsAskingForKeyframe(t *testing.T) {
	f := newFanout(2, true)
	sinks, gate := stallFirst(t, f)
	slow := sinks[0]
	key, delta := vp8Packets()
	var seq uint16 = 1
	send := func(raw []byte) {
		p := getPacket()
		p.n = copy(p.buf[:], raw)
		p.buf[2], p.buf[3] = byte(seq>>8), byte(seq)
		f.up.ingest(p, f.layer, &f.st, int64(seq)*1000)
		seq++
	}
	send(key)
	for f.up.stats.dropped.Load() == 0 && seq < 5000 {
		send(delta)
	}
	if f.up.stats.dropped.Load() == 0 {
		t.Fatal("nothing dropped for the stalled subscriber")
	}
	asked := f.up.stats.keyframes.Load()
	if asked == 0 {
		t.Fatal("no keyframe requested after the drop")
	}
	slow.mu.Lock()
	slow.gate = nil
	slow.mu.Unlock()
	close(gate)
	// The publisher never answers: the inter frames keep coming, and the
	// waiting subscriber must ask again once the throttle allows it.
	eventually(t, "the waiting subscriber asks for a keyframe again", func() bool {
		send(delta)
		return f.up.stats.keyframes.Load() > asked
	})
}
