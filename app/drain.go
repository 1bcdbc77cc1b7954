package app

import (
	"context"
	"sync"
	"time"
)

// Draining: on SIGTERM a node stops taking new meetings (create answers
// FAILED, /readyz fails so a load balancer sends new work elsewhere),
// lets the running ones go on until they end by themselves or the drain
// deadline passes, and then ends and wipes what is left. Joins to running
// meetings keep working all along: a lesson is never cut short by an
// upgrade that could wait for it.

// running tracks the meetings that run on this node (started here or
// adopted, not yet ended or moved): the drain waits for them, and the
// meetings gauge counts them.
type running struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

func (r *running) start(key string) {
	r.mu.Lock()
	if r.keys == nil {
		r.keys = map[string]struct{}{}
	}
	r.keys[key] = struct{}{}
	r.mu.Unlock()
}

func (r *running) end(key string) {
	r.mu.Lock()
	delete(r.keys, key)
	r.mu.Unlock()
}

func (r *running) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.keys))
	for k := range r.keys {
		out = append(out, k)
	}
	return out
}

// Draining reports whether Drain was called.
func (a *App) Draining() bool { return a.draining.Load() }

// Meetings is how many meetings run on this node.
func (a *App) Meetings() int { return len(a.running.list()) }

// drainPoll is how often Drain looks whether meetings are left.
const drainPoll = 250 * time.Millisecond

// drainEndTimeout bounds ending and wiping the meetings left at the end
// of a drain (telling everyone, deleting every key and file).
const drainEndTimeout = 30 * time.Second

// Drain stops new meetings and waits until none runs here any more or
// ctx ends (the drain deadline, or a second signal), then ends and wipes
// every meeting still running on this node. The web server keeps
// serving: joins, media and the API of running meetings go on until
// Close.
func (a *App) Drain(ctx context.Context) {
	a.draining.Store(true)
	left := a.running.list()
	attrs := []any{"meetings", len(left)}
	if deadline, ok := ctx.Deadline(); ok {
		attrs = append(attrs, "until", deadline.UTC().Format(time.RFC3339))
	}
	a.log.Info("draining: no new meetings, running ones continue", attrs...)
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	for len(left) > 0 {
		select {
		case <-ctx.Done():
			a.log.Info("drain over: ending the meetings left", "meetings", len(left))
			a.endAll()
			return
		case <-tick.C:
			left = a.running.list()
		}
	}
	a.log.Info("drain over: no meeting runs here any more")
}

// endAll ends and wipes every meeting running here, each told why.
func (a *App) endAll() {
	ctx, cancel := context.WithTimeout(context.Background(), drainEndTimeout)
	defer cancel()
	a.mgr.Shutdown(ctx)
}
