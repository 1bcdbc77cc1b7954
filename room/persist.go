package room

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// A running meeting's state lives in memory on its owner node: every change
// is made under the meeting's lock and handed, in the same critical section,
// to the meeting's persister, which writes it to the store afterwards, in
// order, outside the lock. A slow or failing store therefore never stalls
// the meeting: chat, hands, joins and leaves reach everyone at memory
// speed, and the store catches up.
//
// Repeated writes of one thing (a participant's record, the meeting record,
// a feature's state blob) coalesce while they wait: only the latest is
// written, at the place of the first. Appends (chat lines, log entries)
// never coalesce. A failed write is retried with backoff, blocking the ones
// behind it so the store never sees them out of order. When writes wait
// too long (the store has failed for DownAfter) or too many (MaxPending),
// the meeting refuses new changes with ErrUnavailable, a clear error to
// clients, rather than piling up memory; it accepts them again once the
// store catches up.

// op is one pending store write. key coalesces: a later op with the same
// non-empty key replaces this one's write while it waits.
type op struct {
	key string
	run func(ctx context.Context, st Store) error
}

// PersistStats are a node's persister counters (for metrics).
type PersistStats struct {
	// Writes is the number of store writes done, Errors the failed
	// attempts (each retried), Coalesced the writes saved by coalescing.
	Writes, Errors, Coalesced uint64
	// Pending is the writes now waiting; Unavailable the meetings that
	// refuse changes because their store writes are stuck.
	Pending, Unavailable int
}

// persistCounters are shared by all persisters of a Manager.
type persistCounters struct {
	writes, errors, coalesced atomic.Uint64
}

type persistConfig struct {
	MaxPending int
	DownAfter  time.Duration
	OpTimeout  time.Duration
	BackoffMin time.Duration
	BackoffMax time.Duration
	counters   *persistCounters
	onNotFound func() // the store lost the meeting: write it back
	log        *slog.Logger
	meetingKey string
	store      Store
	// now is real time: backoff and DownAfter run on real timers, not
	// the Manager's (test-driven) clock.
	now func() time.Time
}

type persister struct {
	cfg persistConfig

	mu           sync.Mutex
	queue        []*op
	byKey        map[string]*op
	busy         bool // an op is being written
	failingSince time.Time
	stopped      bool
	waiters      []chan struct{} // flush: closed when idle

	wake chan struct{}
	quit chan struct{}
	done chan struct{}
}

func newPersister(cfg persistConfig) *persister {
	p := &persister{cfg: cfg, byKey: map[string]*op{}, wake: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

// accepting reports whether the meeting may take a new change: ErrUnavailable
// while its writes are stuck.
func (p *persister) accepting() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.downLocked() {
		return ErrUnavailable
	}
	return nil
}

func (p *persister) downLocked() bool {
	if len(p.queue) >= p.cfg.MaxPending {
		return true
	}
	return !p.failingSince.IsZero() && p.cfg.now().Sub(p.failingSince) >= p.cfg.DownAfter
}

// down reports the same as accepting, as a bool (metrics).
func (p *persister) down() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.downLocked()
}

// pending is the number of writes waiting.
func (p *persister) pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.queue)
	if p.busy {
		n++
	}
	return n
}

// add queues writes in order. The caller holds the meeting's lock, so
// writes reach the queue in the order the changes were made.
func (p *persister) add(ops ...op) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	for i := range ops {
		o := ops[i]
		if o.key != "" {
			if old := p.byKey[o.key]; old != nil {
				old.run = o.run
				p.cfg.counters.coalesced.Add(1)
				continue
			}
		}
		n := &op{key: o.key, run: o.run}
		p.queue = append(p.queue, n)
		if n.key != "" {
			p.byKey[n.key] = n
		}
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// next takes the first waiting write, or nil when there is none. The op
// leaves byKey, so a newer write of the same thing queues behind it
// instead of changing it mid-write.
func (p *persister) next() *op {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 {
		p.busy = false
		for _, w := range p.waiters {
			close(w)
		}
		p.waiters = nil
		return nil
	}
	o := p.queue[0]
	p.queue[0] = nil
	p.queue = p.queue[1:]
	if o.key != "" && p.byKey[o.key] == o {
		delete(p.byKey, o.key)
	}
	p.busy = true
	return o
}

func (p *persister) loop() {
	defer close(p.done)
	backoff := p.cfg.BackoffMin
	for {
		o := p.next()
		if o == nil {
			select {
			case <-p.wake:
				continue
			case <-p.quit:
				return
			}
		}
		for {
			ctx, cancel := context.WithTimeout(context.Background(), p.cfg.OpTimeout)
			err := o.run(ctx, p.cfg.store)
			cancel()
			if err == nil {
				p.cfg.counters.writes.Add(1)
				p.mu.Lock()
				if !p.failingSince.IsZero() {
					p.cfg.log.Info("store writes recovered", "meeting", p.cfg.meetingKey,
						"after", p.cfg.now().Sub(p.failingSince).Round(time.Millisecond))
				}
				p.failingSince = time.Time{}
				p.mu.Unlock()
				backoff = p.cfg.BackoffMin
				break
			}
			if errors.Is(err, ErrNotFound) {
				// The record is gone while the meeting runs here: the
				// store lost its data. This write is void; the whole
				// state is written back behind it.
				p.cfg.log.Warn("store lost a running meeting, writing it back", "meeting", p.cfg.meetingKey)
				if p.cfg.onNotFound != nil {
					p.cfg.onNotFound()
				}
				break
			}
			p.cfg.counters.errors.Add(1)
			p.mu.Lock()
			first := p.failingSince.IsZero()
			if first {
				p.failingSince = p.cfg.now()
			}
			p.mu.Unlock()
			if first {
				p.cfg.log.Warn("store write failed, retrying", "meeting", p.cfg.meetingKey, "err", err)
			}
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-p.quit:
				t.Stop()
				return
			}
			backoff = min(2*backoff, p.cfg.BackoffMax)
		}
	}
}

// flush waits until every write queued so far is done (tests, and the
// write-back after a restore), or ctx ends.
func (p *persister) flush(ctx context.Context) error {
	p.mu.Lock()
	if !p.busy && len(p.queue) == 0 {
		p.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop ends the persister: the write in progress finishes (bounded by the
// op timeout), the rest is dropped. The meeting is ending and its keys are
// about to be wiped; a write finishing after the wipe would bring keys
// back.
func (p *persister) stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		<-p.done
		return
	}
	p.stopped = true
	p.queue, p.byKey = nil, map[string]*op{}
	for _, w := range p.waiters {
		close(w)
	}
	p.waiters = nil
	p.mu.Unlock()
	close(p.quit)
	<-p.done
}
