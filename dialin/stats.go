package dialin

import "sync/atomic"

// Stats are the gateway's counters for the operator's metrics. They count
// calls, never who called: no number, PIN or meeting is kept with them.
type Stats struct {
	// Calls is the number of calls in progress.
	Calls int
	// Accepted counts calls answered (200 OK to the INVITE).
	Accepted uint64
	// Refused counts INVITEs turned away: not from an allowed trunk, rate
	// limited, no common codec, busy, no RTP port, shutting down.
	Refused uint64
	// PINFailures counts wrong PIN entries (every try, not every call).
	PINFailures uint64
}

// counters is the gateway's part of Stats, updated without locks.
type counters struct {
	accepted, refused, pinFailures atomic.Uint64
}

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Stats {
	return Stats{
		Calls:       g.Calls(),
		Accepted:    g.stats.accepted.Load(),
		Refused:     g.stats.refused.Load(),
		PINFailures: g.stats.pinFailures.Load(),
	}
}

// Muter is implemented by a Media that can also stop forwarding the
// caller's voice on the room side (the SFU's StopForwarding). The gateway
// stops publishing while the caller is muted; with a Muter the mute also
// holds for frames already on their way and the speaking indicator goes
// out at once.
type Muter interface {
	SetMuted(muted bool)
}
