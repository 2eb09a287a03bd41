package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter limits login attempts per key (an address, an account). Each key
// gets Burst attempts at once, then one per Every.
type Limiter struct {
	every time.Duration
	burst int

	mu   sync.Mutex
	keys map[string]*entry
}

type entry struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter returns a limiter.
func NewLimiter(every time.Duration, burst int) *Limiter {
	return &Limiter{every: every, burst: burst, keys: map[string]*entry{}}
}

// Allow reports whether key may try now, and if not, how long to wait.
// A try that is allowed is counted.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if d := l.wait(key, now); d > 0 {
		return false, d
	}
	l.get(key, now).lim.AllowN(now, 1)
	return true, 0
}

// Wait is how long key must wait before its next try (0: it may try
// now), without counting a try.
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wait(key, time.Now())
}

// Take counts a try for key (a failure seen after the fact). A try while
// key is over its limit is not counted: refused tries never push the wait
// past one interval, so whoever keeps failing cannot extend a shared
// key's wait (an address behind NAT) for hours.
func (l *Limiter) Take(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.wait(key, now) > 0 {
		return
	}
	l.get(key, now).lim.AllowN(now, 1)
}

func (l *Limiter) wait(key string, now time.Time) time.Duration {
	e, ok := l.keys[key]
	if !ok {
		return 0
	}
	e.seen = now
	tokens := e.lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(l.every))
}

func (l *Limiter) get(key string, now time.Time) *entry {
	if len(l.keys) > 10000 { // forget idle keys so the map stays bounded
		for k, e := range l.keys {
			if now.Sub(e.seen) > time.Duration(l.burst+1)*l.every {
				delete(l.keys, k)
			}
		}
	}
	e := l.keys[key]
	if e == nil {
		e = &entry{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.keys[key] = e
	}
	e.seen = now
	return e
}
