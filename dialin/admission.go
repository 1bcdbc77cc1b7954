package dialin

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// admission decides who may start a call and pays for every PIN check.
//
// A check spends its tokens before the PIN is looked up, and a right PIN
// gives them back. So only wrong PINs use a budget up, and calls made in
// parallel can never have more PINs checked than the budgets hold (when
// the budget was only looked at on arrival and spent after a failure, 150
// parallel calls had 210 PINs checked).
//
// Three budgets:
//   - per calling number (keyed hash), strict;
//   - per source address, generous, since a trunk's callers all share it;
//   - a reserve for the whole gateway, for numbers with no failed check
//     lately, once their source's budget is spent: an attacker behind the
//     trunk who rotates numbers cannot lock out an honest caller with a
//     new number, and cannot get more than the reserve's rate either. A
//     check may queue for the reserve (up to FreshWait): slowed, not
//     refused.
//
// And two caps on calls that have not entered a right PIN yet, per source
// and in total, so that such calls (each an RTP port, goroutines, a place
// among MaxCalls) cannot crowd out the gateway.
type admission struct {
	caller, source, fresh *limiter
	freshWait             time.Duration
	perSource, total      int
	now                   func() time.Time

	queued atomic.Int64 // checks waiting for the reserve

	mu       sync.Mutex
	pending  map[netip.Addr]int
	nPending int
}

// freshKey is the reserve's one bucket.
const freshKey = ""

func newAdmission(cfg *Config) *admission {
	return &admission{
		caller:    newLimiter(cfg.CallerLimit, cfg.Now),
		source:    newLimiter(cfg.SourceLimit, cfg.Now),
		fresh:     newLimiter(cfg.FreshLimit, cfg.Now),
		freshWait: cfg.FreshWait,
		perSource: cfg.PendingPerSource,
		total:     cfg.MaxPending,
		now:       cfg.Now,
		pending:   map[netip.Addr]int{},
	}
}

// mayCall turns away at once a caller who could not have a single PIN
// checked: a number whose budget is used up, or one from a source whose
// budget is used up, unless the number is new and may use the reserve.
func (a *admission) mayCall(src netip.Addr, callerKey string) error {
	if callerKey != "" && !a.caller.allowed(callerKey) {
		return fmt.Errorf("%w: no PIN attempts left for this calling number", ErrRateLimited)
	}
	if !a.source.allowed(src.String()) && (callerKey == "" || !a.caller.full(callerKey)) {
		return fmt.Errorf("%w: no PIN attempts left for this source", ErrRateLimited)
	}
	return nil
}

// enter counts a new call as pending (no right PIN yet) if the caps have
// room. leave ends that, once, whichever comes first: the right PIN or
// the end of the call.
func (a *admission) enter(src netip.Addr) (leave func(), err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := a.pending[src]; n >= a.perSource {
		return nil, fmt.Errorf("%w: %d from this source", ErrTooManyPending, n)
	}
	if a.nPending >= a.total {
		return nil, fmt.Errorf("%w: %d in total", ErrTooManyPending, a.nPending)
	}
	a.pending[src]++
	a.nPending++
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			defer a.mu.Unlock()
			if a.pending[src]--; a.pending[src] <= 0 {
				delete(a.pending, src)
			}
			a.nPending--
		})
	}, nil
}

// ticket is what one PIN check spent, to give back if the PIN is right.
type ticket struct {
	caller     string // the number's key, "" if nothing was taken from it
	source     string
	fromSource bool
	fromFresh  bool
}

// spend pays for one PIN check before it is made: a token of the number
// (if not withheld) and one of the source or, for a new number whose
// source has none left, one of the reserve, waiting for it up to
// FreshWait. Nothing is spent when it fails. done ends a wait
// (errAbandoned).
func (a *admission) spend(src netip.Addr, callerKey string, done <-chan struct{}) (ticket, error) {
	t := ticket{source: src.String()}
	fresh := false
	if callerKey != "" {
		ok, full := a.caller.takeFull(callerKey)
		if !ok {
			return ticket{}, fmt.Errorf("%w: no PIN attempts left for this calling number", ErrRateLimited)
		}
		// Taken and checked in one step: two parallel calls of one number
		// cannot both count as new.
		t.caller, fresh = callerKey, full
	}
	if a.source.take(t.source) {
		t.fromSource = true
		return t, nil
	}
	if !fresh {
		a.refund(t)
		return ticket{}, fmt.Errorf("%w: no PIN attempts left for this source", ErrRateLimited)
	}
	due, ok := a.fresh.reserve(freshKey, a.freshWait)
	if !ok {
		a.refund(t)
		return ticket{}, fmt.Errorf("%w: no PIN attempts left for this source, nor in the reserve for new numbers", ErrRateLimited)
	}
	t.fromFresh = true
	if !a.wait(due, done) {
		a.refund(t)
		return ticket{}, errAbandoned
	}
	return t, nil
}

// refund gives back what a check spent: the PIN was right (or the check
// was never made).
func (a *admission) refund(t ticket) {
	if t.caller != "" {
		a.caller.give(t.caller)
	}
	if t.fromSource {
		a.source.give(t.source)
	}
	if t.fromFresh {
		a.fresh.give(freshKey)
	}
}

// wait blocks until the limiters' clock reaches due, or done closes
// (false). It looks at the clock at least every 100ms rather than
// sleeping the whole span, so that a test's clock (Config.Now) moves it.
func (a *admission) wait(due time.Time, done <-chan struct{}) bool {
	a.queued.Add(1)
	defer a.queued.Add(-1)
	for {
		d := due.Sub(a.now())
		if d <= 0 {
			return true
		}
		t := time.NewTimer(min(d, 100*time.Millisecond))
		select {
		case <-t.C:
		case <-done:
			t.Stop()
			return false
		}
	}
}
