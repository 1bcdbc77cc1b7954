package sfu

import (
	"sync/atomic"
	"time"
)

// Stats are node-wide counters of the forwarding path. They are cumulative
// since New; the metrics layer turns them into Prometheus counters.
type Stats struct {
	PacketsIn        uint64 // RTP packets read from publishers
	PacketsOut       uint64 // RTP packets handed to subscribers' writers
	BytesOut         uint64 // payload bytes written to subscribers
	Dropped          uint64 // packets dropped for a full subscriber queue
	NACKed           uint64 // sequence numbers subscribers asked for again
	Retransmitted    uint64 // of those, answered from the packet cache
	KeyframeRequests uint64 // PLIs sent to publishers
	LayerSwitches    uint64 // simulcast layer changes of down tracks
	// Latency counts forwarded packets by the time from reading them off
	// the publisher's connection to handing them to the subscriber's
	// (LatencyBuckets are the upper bounds; the last entry is above all).
	Latency [len(LatencyBuckets) + 1]uint64
	// LatencySum is the total of those latencies (a histogram's sum).
	LatencySum time.Duration
	// Loss counts subscribers' receiver reports by the fraction of
	// packets they lost since their previous report (LossBuckets are the
	// upper bounds; the last entry is above all): loss on the way from
	// the SFU to the browsers, as the browsers see it.
	Loss [len(LossBuckets) + 1]uint64
	// LossSum is the total of those fractions (a histogram's sum).
	LossSum float64
	// Connect counts peers by the time from joining the SFU to their
	// first connected PeerConnection (ICE and DTLS done): how long a
	// participant waits for media (ConnectBuckets are the upper bounds).
	Connect [len(ConnectBuckets) + 1]uint64
	// ConnectSum is the total of those times.
	ConnectSum time.Duration
}

// LossBuckets are the upper bounds of Stats.Loss (fractions lost).
var LossBuckets = [...]float64{0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5}

// ConnectBuckets are the upper bounds of Stats.Connect.
var ConnectBuckets = [...]time.Duration{
	250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
	3 * time.Second, 5 * time.Second, 10 * time.Second, 20 * time.Second,
}

// Load is what runs on the SFU now.
type Load struct {
	Rooms  int // open media rooms
	Peers  int // peers (browsers and phones)
	Tracks int // published tracks (up tracks)
}

// Load counts the rooms, peers and tracks of this SFU, for gauges.
func (s *SFU) Load() Load {
	s.mu.Lock()
	rooms := make([]*Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	l := Load{Rooms: len(rooms)}
	for _, r := range rooms {
		r.mu.Lock()
		l.Peers += len(r.peers)
		l.Tracks += len(r.tracks)
		r.mu.Unlock()
	}
	return l
}

// LatencyBuckets are the upper bounds of Stats.Latency.
var LatencyBuckets = [...]time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
}

type counters struct {
	packetsIn, packetsOut, bytesOut, dropped   atomic.Uint64
	nacked, retransmitted, keyframes, switches atomic.Uint64
	latency                                    [len(LatencyBuckets) + 1]atomic.Uint64
	latencySum                                 atomic.Uint64
	loss                                       [len(LossBuckets) + 1]atomic.Uint64
	lossSum                                    atomic.Uint64 // in 1/256 (RTCP's unit)
	connect                                    [len(ConnectBuckets) + 1]atomic.Uint64
	connectSum                                 atomic.Uint64
}

// observeLoss counts one receiver report's fraction lost (in 1/256).
func (c *counters) observeLoss(fraction uint8) {
	c.lossSum.Add(uint64(fraction))
	f := float64(fraction) / 256
	i := 0
	for i < len(LossBuckets) && f > LossBuckets[i] {
		i++
	}
	c.loss[i].Add(1)
}

func (c *counters) observeConnect(d time.Duration) {
	c.connectSum.Add(uint64(max(d, 0)))
	i := 0
	for i < len(ConnectBuckets) && d > ConnectBuckets[i] {
		i++
	}
	c.connect[i].Add(1)
}

func (c *counters) observeLatency(d int64) {
	c.latencySum.Add(uint64(max(d, 0)))
	i := 0
	for i < len(LatencyBuckets) && d > int64(LatencyBuckets[i]) {
		i++
	}
	c.latency[i].Add(1)
}

func (c *counters) snapshot() Stats {
	var lat [len(LatencyBuckets) + 1]uint64
	for i := range lat {
		lat[i] = c.latency[i].Load()
	}
	var loss [len(LossBuckets) + 1]uint64
	for i := range loss {
		loss[i] = c.loss[i].Load()
	}
	var conn [len(ConnectBuckets) + 1]uint64
	for i := range conn {
		conn[i] = c.connect[i].Load()
	}
	return Stats{Latency: lat, LatencySum: time.Duration(c.latencySum.Load()),
		Loss: loss, LossSum: float64(c.lossSum.Load()) / 256, Connect: conn, ConnectSum: time.Duration(c.connectSum.Load()),
		PacketsIn: c.packetsIn.Load(), PacketsOut: c.packetsOut.Load(), BytesOut: c.bytesOut.Load(),
		Dropped: c.dropped.Load(), NACKed: c.nacked.Load(), Retransmitted: c.retransmitted.Load(),
		KeyframeRequests: c.keyframes.Load(), LayerSwitches: c.switches.Load(),
	}
}
