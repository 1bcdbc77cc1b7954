package sfu

import "sync/atomic"

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
}

type counters struct {
	packetsIn, packetsOut, bytesOut, dropped   atomic.Uint64
	nacked, retransmitted, keyframes, switches atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		PacketsIn: c.packetsIn.Load(), PacketsOut: c.packetsOut.Load(), BytesOut: c.bytesOut.Load(),
		Dropped: c.dropped.Load(), NACKed: c.nacked.Load(), Retransmitted: c.retransmitted.Load(),
		KeyframeRequests: c.keyframes.Load(), LayerSwitches: c.switches.Load(),
	}
}
