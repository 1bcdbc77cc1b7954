package loadgen

import (
	"sort"
	"sync/atomic"
	"time"
)

// histogram counts durations lock-free: 10 µs steps up to 10 ms, then
// 1 ms steps up to 2 s, and one bucket above.
type histogram struct {
	fine   [1000]atomic.Uint64 // [i*10µs, (i+1)*10µs)
	coarse [1990]atomic.Uint64 // [10ms + i*1ms, …)
	over   atomic.Uint64
}

func (h *histogram) observe(d time.Duration) {
	us := d.Microseconds()
	switch {
	case us < 0:
		h.fine[0].Add(1)
	case us < 10_000:
		h.fine[us/10].Add(1)
	case us < 2_000_000:
		h.coarse[(us-10_000)/1000].Add(1)
	default:
		h.over.Add(1)
	}
}

func (h *histogram) count() uint64 {
	var n uint64
	for i := range h.fine {
		n += h.fine[i].Load()
	}
	for i := range h.coarse {
		n += h.coarse[i].Load()
	}
	return n + h.over.Load()
}

// quantile returns the upper edge of the bucket holding quantile q (0..1);
// 0 when empty.
func (h *histogram) quantile(q float64) time.Duration {
	total := h.count()
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	rank = min(max(rank, 1), total)
	var seen uint64
	for i := range h.fine {
		if seen += h.fine[i].Load(); seen >= rank {
			return time.Duration(i+1) * 10 * time.Microsecond
		}
	}
	for i := range h.coarse {
		if seen += h.coarse[i].Load(); seen >= rank {
			return 10*time.Millisecond + time.Duration(i+1)*time.Millisecond
		}
	}
	return 2 * time.Second
}

// streamState follows one received stream (one track of one subscriber):
// loss from gaps in the stamp's sequence within one layer. A layer switch
// or a new stream starts counting afresh, since the new layer's numbers
// are unrelated.
type streamState struct {
	started bool
	stream  uint16
	layer   uint8
	last    uint32
}

// recvCounters are one subscriber's packets and losses while measuring.
type recvCounters struct {
	received atomic.Uint64
	lost     atomic.Int64
	video    [3]atomic.Uint64 // video packets received per simulcast layer
	videoGap [3]atomic.Int64  // of them lost (gaps) per layer
}

// observe records a packet's stamp; counting only while measuring.
func (s *streamState) observe(st stamp, c *recvCounters, measuring bool) {
	if measuring && st.stream%2 == 1 && int(st.layer) < len(c.video) {
		c.video[st.layer].Add(1)
	}
	if !s.started || st.stream != s.stream || st.layer != s.layer {
		s.started, s.stream, s.layer, s.last = true, st.stream, st.layer, st.seq
		if measuring {
			c.received.Add(1)
		}
		return
	}
	d := int32(st.seq - s.last)
	switch {
	case d > 0:
		if measuring {
			c.received.Add(1)
			c.lost.Add(int64(d - 1))
			if st.stream%2 == 1 && d > 1 && int(st.layer) < len(c.videoGap) {
				c.videoGap[st.layer].Add(int64(d - 1))
			}
		}
		s.last = st.seq
	case d < 0 && d > -1000:
		// A late packet fills a gap counted before.
		if measuring {
			c.received.Add(1)
			c.lost.Add(-1)
		}
	}
	// d == 0: a duplicate (a retransmission of something that arrived).
}

// durations summarises a sample of durations (join times).
type durations []time.Duration

func (d durations) quantile(q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append(durations(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
