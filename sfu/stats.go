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
	return Stats{Latency: lat, LatencySum: time.Duration(c.latencySum.Load()),
		PacketsIn: c.packetsIn.Load(), PacketsOut: c.packetsOut.Load(), BytesOut: c.bytesOut.Load(),
		Dropped: c.dropped.Load(), NACKed: c.nacked.Load(), Retransmitted: c.retransmitted.Load(),
		KeyframeRequests: c.keyframes.Load(), LayerSwitches: c.switches.Load(),
	}
}
