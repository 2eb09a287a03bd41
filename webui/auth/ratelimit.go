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
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if len(l.keys) > 10000 { // forget idle keys so the map stays bounded
		for k, e := range l.keys {
			if now.Sub(e.seen) > time.Duration(l.burst)*l.every {
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
	r := e.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
