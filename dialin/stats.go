package dialin

import "sync/atomic"

// Stats are the gateway's counters for the operator's metrics. They count
// calls, never who called: no number, PIN or meeting is kept with them.
type Stats struct {
	// Calls is the number of calls in progress.
	Calls int
	// Accepted counts calls answered (200 OK to the INVITE).
	Accepted uint64
	// Refused counts INVITEs turned away: not from an allowed trunk, wrong
	// credentials, rate limited, no common codec or no enabled audio, busy,
	// too many calls entering a PIN, no RTP port, another SIP version,
	// shutting down.
	Refused uint64
	// PINFailures counts wrong PIN entries (every try, not every call).
	PINFailures uint64
	// PINChecks counts PINs looked up (right or wrong); PINLimited counts
	// entries refused unchecked because their budget was spent.
	PINChecks, PINLimited uint64
	// PINQueued is the number of checks waiting for the fresh-number
	// reserve to refill.
	PINQueued int
	// Conns is the number of open SIP connections over TCP and TLS.
	Conns int
	// ConnsRefused counts connections closed at once for being over a
	// cap; ConnsTimedOut counts connections closed for a timeout.
	ConnsRefused, ConnsTimedOut uint64
}

// counters is the gateway's part of Stats, updated without locks.
type counters struct {
	accepted, refused, pinFailures atomic.Uint64
	pinChecks, pinLimited          atomic.Uint64
	connsRefused, connsTimedOut    atomic.Uint64
}

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Stats {
	return Stats{
		Calls:         g.Calls(),
		PINQueued:     int(g.adm.queued.Load()),
		Conns:         g.streams.open(),
		Accepted:      g.stats.accepted.Load(),
		Refused:       g.stats.refused.Load(),
		PINFailures:   g.stats.pinFailures.Load(),
		PINChecks:     g.stats.pinChecks.Load(),
		PINLimited:    g.stats.pinLimited.Load(),
		ConnsRefused:  g.stats.connsRefused.Load(),
		ConnsTimedOut: g.stats.connsTimedOut.Load(),
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
