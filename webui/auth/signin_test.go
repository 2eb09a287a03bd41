package auth

import (
	"testing"
	"time"
)

// Wrong tokens once an address is over its budget are refused, not
// counted: a cron job with a revoked token behind a shared NAT must not
// push the address's password sign-ins out by one interval per failure.
func TestRefusedTokensDoNotExtendTheWait(t *testing.T) {
	p := NewSignIns(time.Hour, 3)
	const addr = "198.51.100.7"
	for i := 0; i < 3; i++ {
		if over, _ := p.TokenFailed(addr); over {
			t.Fatalf("failure %d already over the budget", i+1)
		}
	}
	for i := 0; i < 500; i++ {
		over, wait := p.TokenFailed(addr)
		if !over || wait > time.Hour {
			t.Fatalf("refused failure %d: over %v, wait %v (at most one interval)", i+1, over, wait)
		}
	}
	if ok, wait := p.Password("ed@example.org", addr); ok || wait > time.Hour {
		t.Fatalf("password sign-in from the address: allowed %v, wait %v; want a wait of at most an hour", ok, wait)
	}
	if w := p.byAddr.Wait(addr); w > time.Hour {
		t.Fatalf("address budget waits %v", w)
	}
}

// A limiter's refused tries are not counted either.
func TestLimiterTakeOverTheLimitCountsNothing(t *testing.T) {
	l := NewLimiter(time.Minute, 2)
	for i := 0; i < 100; i++ {
		l.Take("k")
	}
	if w := l.Wait("k"); w > time.Minute {
		t.Fatalf("wait %v after refused tries, want at most a minute", w)
	}
}
