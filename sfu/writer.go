package sfu

import (
	"time"

	"github.com/pion/rtp"
)

// writerQueue bounds each subscriber's backlog: about half a second of a
// 720p stream plus audio. A full queue drops (see downTrack.forwardLocked).
const writerQueue = 512

// allocInterval is how often a subscriber's simulcast layers are re-chosen
// from its bandwidth estimate and the layers actually received.
const allocInterval = 500 * time.Millisecond

type writeItem struct {
	d   *downTrack
	p   *packet
	seq uint16
	ts  uint32
	rtx bool // a retransmission: its age is no forwarding latency
}

// writer is the one goroutine that writes to one subscriber's
// PeerConnection. Read loops hand it packets through a bounded channel and
// never wait for it, so a subscriber on a stalled TCP path or a slow link
// only loses its own packets.
type writer struct {
	ch      chan writeItem
	realloc chan struct{}
	quit    chan struct{}
	done    chan struct{}
	hdr     rtp.Header // reused for every packet: no allocation per write
	stats   *counters
	alloc   func()
}

func newWriter(stats *counters, alloc func()) *writer {
	return &writer{
		ch: make(chan writeItem, writerQueue), realloc: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{}), stats: stats, alloc: alloc,
	}
}

func (w *writer) enqueue(it writeItem) bool {
	select {
	case w.ch <- it:
		return true
	default:
		return false
	}
}

// kick asks for a layer allocation soon (a preference changed).
func (w *writer) kick() {
	select {
	case w.realloc <- struct{}{}:
	default:
	}
}

func (w *writer) run() {
	defer close(w.done)
	tick := time.NewTicker(allocInterval)
	defer tick.Stop()
	for {
		select {
		case it := <-w.ch:
			w.write(it)
		case <-w.realloc:
			w.alloc()
		case <-tick.C:
			w.alloc()
		case <-w.quit:
			for {
				select {
				case it := <-w.ch:
					it.p.release()
				default:
					return
				}
			}
		}
	}
}

func (w *writer) write(it writeItem) {
	if b := it.d.bind.Load(); b != nil && !it.d.closed.Load() {
		w.hdr = it.p.hdr
		// Extension IDs are per PeerConnection: the publisher's mean
		// nothing to the subscriber, so none are forwarded.
		w.hdr.Extension, w.hdr.Extensions, w.hdr.ExtensionProfile = false, nil, 0
		w.hdr.CSRC, w.hdr.Padding, w.hdr.PaddingSize = nil, false, 0
		w.hdr.SSRC, w.hdr.PayloadType = b.ssrc, b.pt
		w.hdr.SequenceNumber, w.hdr.Timestamp = it.seq, it.ts
		if _, err := b.ws.WriteRTP(&w.hdr, it.p.payload); err == nil {
			if !it.rtx {
				w.stats.observeLatency(now() - it.p.arrival)
			}
			w.stats.packetsOut.Add(1)
			w.stats.bytesOut.Add(uint64(len(it.p.payload)))
			it.d.sent.Add(1)
		}
	}
	it.p.release()
}

func (w *writer) stop() {
	close(w.quit)
	<-w.done
}
