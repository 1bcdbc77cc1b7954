package dialin

import (
	"sync"
	"time"
)

// RateLimit is a token bucket: Burst PIN checks at once, then one more
// every Every. A right PIN gives its token back.
type RateLimit struct {
	Burst int
	Every time.Duration
}

// limiter keeps one bucket per key (a keyed hash of the calling number, or
// a source address). Full buckets are dropped so the map stays small.
type limiter struct {
	cfg RateLimit
	now func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(cfg RateLimit, now func() time.Time) *limiter {
	return &limiter{cfg: cfg, now: now, buckets: map[string]*bucket{}}
}

// refill brings b up to date; caller holds mu.
func (l *limiter) refill(b *bucket, now time.Time) {
	if l.cfg.Every > 0 {
		b.tokens += float64(now.Sub(b.at)) / float64(l.cfg.Every)
	}
	if b.tokens > float64(l.cfg.Burst) {
		b.tokens = float64(l.cfg.Burst)
	}
	b.at = now
}

// allowed reports whether key has an attempt left, without taking it.
func (l *limiter) allowed(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		return true
	}
	l.refill(b, l.now())
	return b.tokens >= 1
}

// take uses one attempt of key; false when none was left.
func (l *limiter) take(key string) bool {
	ok, _ := l.takeFull(key)
	return ok
}

// takeFull uses one attempt of key; full tells whether key's bucket was
// full before, that is whether key failed no check lately.
func (l *limiter) takeFull(key string) (ok, full bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(key, l.now())
	full = b.tokens >= float64(l.cfg.Burst)
	if b.tokens < 1 {
		return false, full
	}
	b.tokens--
	return true, full
}

// full reports whether key's bucket is full, without taking from it.
func (l *limiter) full(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		return true
	}
	l.refill(b, l.now())
	return b.tokens >= float64(l.cfg.Burst)
}

// give returns an attempt taken from key (the PIN was right), never
// filling the bucket beyond its burst.
func (l *limiter) give(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		return
	}
	l.refill(b, l.now())
	b.tokens = min(b.tokens+1, float64(l.cfg.Burst))
}

// reserve takes an attempt of key that may not have refilled yet: the
// bucket goes into debt and due is when the attempt will be there. If
// that is more than maxWait away nothing is taken and ok is false. Debt
// is repaid in order, so reservations are served first come, first served.
func (l *limiter) reserve(key string, maxWait time.Duration) (due time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bucketLocked(key, now)
	var wait time.Duration
	if b.tokens < 1 {
		wait = time.Duration((1 - b.tokens) * float64(l.cfg.Every))
	}
	if wait > maxWait {
		return time.Time{}, false
	}
	b.tokens--
	return now.Add(wait), true
}

// bucketLocked returns key's bucket brought up to date, a full one if key
// has none; caller holds mu.
func (l *limiter) bucketLocked(key string, now time.Time) *bucket {
	l.gc(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(l.cfg.Burst), at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	return b
}

// gc drops full buckets once a minute; caller holds mu.
func (l *limiter) gc(now time.Time) {
	if now.Sub(l.sweep) < time.Minute {
		return
	}
	l.sweep = now
	for k, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= float64(l.cfg.Burst) {
			delete(l.buckets, k)
		}
	}
}
