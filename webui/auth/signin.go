package auth

import (
	"sync"
	"time"
)

// SignIns is the one policy for sign-in attempts, used by the API's
// POST /auth/token, git over HTTP and Git LFS alike.
//
// A password attempt for an account from an address is counted against
// three budgets (each Burst at once, then one per Every): the address's,
// the (account, address) pair's, and the account's. The account's budget
// stops a guesser spread over many addresses; so that a stranger cannot
// spend it to lock the owner out, an address that signed in to the
// account before (within KnownFor) skips it and has its own pair budget.
//
// Personal access tokens are too long to guess, so a token is never
// counted against an account and a good one is never refused; a wrong one
// counts against its address, and once the address is over its budget
// wrong tokens are answered "too many" (with the wait) instead of "wrong".
type SignIns struct {
	byAddr, byPair, byAccount *Limiter
	knownFor                  time.Duration

	mu    sync.Mutex
	known map[string]time.Time // pair → until
}

// KnownFor is how long an address that signed in to an account skips the
// account's budget.
const KnownFor = 30 * 24 * time.Hour

const maxKnown = 20000

// NewSignIns returns a policy allowing burst attempts at once, then one
// per every, per address, per pair and per account.
func NewSignIns(every time.Duration, burst int) *SignIns {
	return &SignIns{byAddr: NewLimiter(every, burst), byPair: NewLimiter(every, burst), byAccount: NewLimiter(every, burst),
		knownFor: KnownFor, known: map[string]time.Time{}}
}

func pair(account, addr string) string { return NormalizeEmail(account) + "\x00" + addr }

// Password is asked before a password is checked for account from addr:
// whether to check it now (the attempt is then counted), and if not, how
// long the client should wait.
func (p *SignIns) Password(account, addr string) (bool, time.Duration) {
	account = NormalizeEmail(account)
	known := p.isKnown(account, addr)
	p.mu.Lock() // all budgets or none: a refused attempt spends nothing
	defer p.mu.Unlock()
	wait := max(p.byAddr.Wait(addr), p.byPair.Wait(pair(account, addr)))
	if !known {
		wait = max(wait, p.byAccount.Wait(account))
	}
	if wait > 0 {
		return false, wait
	}
	p.byAddr.Take(addr)
	p.byPair.Take(pair(account, addr))
	if !known {
		p.byAccount.Take(account)
	}
	return true, 0
}

// TokenFailed counts a wrong personal access token from addr against the
// address's budget, and reports whether the address is over it (answer
// 429 rather than 401) and how long it should wait. Once over, failures
// are refused without being counted: a client that keeps failing (a cron
// job with a revoked token behind a shared NAT) never pushes the
// address's sign-ins further out than its budget's window. A good token
// is never refused: there is nothing a stranger can spend to lock out a
// token.
func (p *SignIns) TokenFailed(addr string) (bool, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if wait := p.byAddr.Wait(addr); wait > 0 {
		return true, wait
	}
	p.byAddr.Take(addr)
	return false, 0
}

// Succeeded records that addr signed in to account with its password.
func (p *SignIns) Succeeded(account, addr string) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.known) >= maxKnown {
		for k, until := range p.known {
			if now.After(until) || len(p.known) >= maxKnown {
				delete(p.known, k)
			}
		}
	}
	p.known[pair(account, addr)] = now.Add(p.knownFor)
}

func (p *SignIns) isKnown(account, addr string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	until, ok := p.known[pair(account, addr)]
	return ok && time.Now().Before(until)
}
