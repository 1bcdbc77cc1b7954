package sfu

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// sinkWriter stands in for Pion's SRTP write path: it marshals the
// rewritten header and copies the payload into one buffer, as the SRTP
// session does before encrypting, and keeps nothing.
type sinkWriter struct {
	buf [packetMTU + 64]byte
	n   int
}

func (w *sinkWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	hl, err := h.MarshalTo(w.buf[:])
	if err != nil {
		return 0, err
	}
	w.n = hl + copy(w.buf[hl:], payload)
	return w.n, nil
}

func (w *sinkWriter) Write(b []byte) (int, error) { return copy(w.buf[:], b), nil }

// fanout is the forwarding path without Pion's sockets: one up track, n
// subscribers each with a bound down track and a writer.
type fanout struct {
	up    *upTrack
	layer *layer
	subs  []*Peer
	downs []*downTrack
	raw   []byte
	st    readState
}

func newFanout(n int, video bool) *fanout {
	s := &SFU{}
	r := &Room{sfu: s}
	pub := &Peer{id: "pub", room: r}
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000}
	if video {
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	}
	f := &fanout{up: newUpTrack("t", pub, "0", KindCamera, codec, nil)}
	size := audioCacheSize
	if video {
		size = videoCacheSize
	}
	f.layer = &layer{cache: newPacketCache(size)}
	f.up.layers[0].Store(f.layer)
	for i := 0; i < n; i++ {
		sub := &Peer{id: fmt.Sprint("s", i), room: r}
		sub.w = newWriter(&s.stats, func() {})
		d := newDownTrack(f.up, sub)
		d.bind.Store(&binding{ssrc: uint32(1000 + i), pt: 96, ws: &sinkWriter{}})
		d.target.Store(0)
		f.up.addDown(d)
		f.subs = append(f.subs, sub)
		f.downs = append(f.downs, d)
	}
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 1, Timestamp: 1, SSRC: 42, Marker: true},
		Payload: make([]byte, 1100)}
	if video {
		copy(pkt.Payload, vp8Frame(true, 640, 360, 0))
	}
	f.raw, _ = pkt.Marshal()
	return f
}

// step feeds one packet with sequence number seq and drains the writers
// inline, so the measured work is the whole path: parse, cache, fan-out,
// rewrite and write, for every subscriber.
func (f *fanout) step(seq uint16, t int64) {
	p := getPacket()
	p.n = copy(p.buf[:], f.raw)
	p.buf[2], p.buf[3] = byte(seq>>8), byte(seq)
	f.up.ingest(p, f.layer, &f.st, t)
	for _, s := range f.subs {
		for len(s.w.ch) > 0 {
			s.w.write(<-s.w.ch)
		}
	}
}

// BenchmarkForward measures one received packet forwarded to N
// subscribers; ns/fwd is the cost per forwarded packet. It must report
// 0 allocs/op.
func BenchmarkForward(b *testing.B) {
	for _, video := range []bool{false, true} {
		for _, n := range []int{1, 10, 100, 500} {
			kind := "audio"
			if video {
				kind = "video"
			}
			b.Run(fmt.Sprintf("%s/subscribers=%d", kind, n), func(b *testing.B) {
				f := newFanout(n, video)
				// The first packet (a keyframe) starts every down track;
				// the rest fill the packet cache, as in a running room.
				for i := 0; i <= videoCacheSize; i++ {
					f.step(uint16(i), int64(i+1))
				}
				base := f.downs[0].sent.Load()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					f.step(uint16(i+videoCacheSize+1), int64(i+videoCacheSize+2))
				}
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/fwd")
				for _, d := range f.downs {
					if got := d.sent.Load(); got != base+uint64(b.N) {
						b.Fatalf("subscriber got %d packets, want %d", got, base+uint64(b.N))
					}
				}
			})
		}
	}
}

// TestForwardAllocatesNothing keeps the zero-allocation promise in the
// ordinary test run, not only in benchmarks.
func TestForwardAllocatesNothing(t *testing.T) {
	for _, video := range []bool{false, true} {
		f := newFanout(20, video)
		var seq uint16
		for ; seq <= videoCacheSize; seq++ {
			f.step(seq, int64(seq)+1)
		}
		allocs := testing.AllocsPerRun(200, func() {
			seq++
			f.step(seq, int64(seq)+1)
		})
		if allocs != 0 {
			t.Errorf("video=%v: %.1f allocations per forwarded packet, want 0", video, allocs)
		}
	}
}

func TestForwardRewritesPerSubscriber(t *testing.T) {
	f := newFanout(3, true)
	for i := 0; i < 5; i++ {
		f.step(uint16(100+i), int64(i+1))
	}
	for i, d := range f.downs {
		w := d.bind.Load().ws.(*sinkWriter)
		var h rtp.Header
		if _, err := h.Unmarshal(w.buf[:w.n]); err != nil {
			t.Fatal(err)
		}
		if h.SSRC != uint32(1000+i) || h.PayloadType != 96 || h.SequenceNumber != 104 {
			t.Errorf("subscriber %d: ssrc %d pt %d seq %d; want ssrc %d pt 96 seq 104", i, h.SSRC, h.PayloadType, h.SequenceNumber, 1000+i)
		}
		if d.sent.Load() != 5 {
			t.Errorf("subscriber %d got %d packets, want 5", i, d.sent.Load())
		}
	}
}

// BenchmarkForwardQueued is BenchmarkForward with the writers on their own
// goroutines, as in the server: it adds the hand-off through each
// subscriber's queue and the writer wake-ups. Packets are paced so that no
// queue overflows (a benchmark must not measure drops).
func BenchmarkForwardQueued(b *testing.B) {
	for _, n := range []int{10, 100, 500} {
		b.Run(fmt.Sprintf("video/subscribers=%d", n), func(b *testing.B) {
			f := newFanout(n, true)
			for _, s := range f.subs {
				go s.w.run()
			}
			defer func() {
				for _, s := range f.subs {
					s.w.stop()
				}
			}()
			seq := uint16(0)
			feed := func() {
				p := getPacket()
				p.n = copy(p.buf[:], f.raw)
				p.buf[2], p.buf[3] = byte(seq>>8), byte(seq)
				f.up.ingest(p, f.layer, &f.st, int64(seq)+1)
				seq++
			}
			for i := 0; i <= videoCacheSize; i++ {
				feed()
			}
			for f.up.stats.packetsOut.Load()+f.up.stats.dropped.Load() < uint64(videoCacheSize+1)*uint64(n) {
				runtime.Gosched() // the warm-up drains
			}
			base := f.up.stats.packetsOut.Load()
			b.ReportAllocs()
			b.ResetTimer()
			st := f.up.stats
			for i := 0; i < b.N; i++ {
				for _, s := range f.subs {
					for len(s.w.ch) > writerQueue/2 {
						runtime.Gosched()
					}
				}
				feed()
			}
			want := base + uint64(b.N)*uint64(n)
			for st.packetsOut.Load()+st.dropped.Load() < want {
				runtime.Gosched()
			}
			b.StopTimer()
			if d := f.up.stats.dropped.Load(); d != 0 {
				b.Fatalf("%d packets dropped", d)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/fwd")
		})
	}
}
