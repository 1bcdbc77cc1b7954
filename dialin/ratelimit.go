package dialin

import (
	"sync"
	"time"
)

// RateLimit is a token bucket: Burst failed PIN attempts at once, then one
// more every Every.
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
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.gc(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(l.cfg.Burst), at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
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
