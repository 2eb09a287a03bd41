package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrCannotRecover marks a Recover error that no retry mends (the node
// has no way to reach the repository, say): its projections stay halted
// with it.
var ErrCannotRecover = errors.New("the projections cannot be recovered from a repository")

// RecoverFunc brings ps, whose next events the stream no longer holds
// (ErrGap), or whose history the stream does not follow (ErrDiverged,
// with RuntimeConfig.RecoverDiverged), past that from elsewhere (a read
// node: a clone of the writer's repository), applying to them directly
// as the stream would, batch by batch (CatchUp), so that readers see
// each projection as it was or a later state of it, never one half
// built; a projection off the repository's history is Forgotten first.
// why[i] is what halted ps[i] (a *DivergedError names the stream's
// event that showed it off its history). The runtime holds their
// consumers meanwhile, and resumes each after its new checkpoint.
// status says what it is doing now.
type RecoverFunc func(ctx context.Context, ps []Projection, why []error, status func(string)) error

// Rewinder is a Projection part of whose state holds whatever the
// history (the media variants, kept by their original's SHA-256):
// Rewind drops its checkpoint and keeps that part, so that built again
// from another history it makes only what it lacks.
type Rewinder interface {
	Rewind() error
}

// Forget makes p start again from nothing, to be built from another
// history: Rewind where p has state that holds in any, else Reset.
func Forget(p Projection) error {
	if rw, ok := p.(Rewinder); ok {
		return rw.Rewind()
	}
	return p.Reset()
}

// recovery runs Recover for the runners that found a gap: those found
// within gather of each other together (the history is read once),
// retried after a backoff until it succeeds.
type recovery struct {
	rt       *Runtime
	fn       RecoverFunc
	reqs     chan recoverReq
	attempts *prometheus.CounterVec // by result

	mu      sync.Mutex
	names   []string  // the projections of the round in progress
	why     error     // the gap that started it
	attempt int       // of the round in progress; 0: none
	since   time.Time // the round's start
	status  string    // what the attempt is doing, or its failure
	failed  error     // a failure that no retry mends
}

type recoverReq struct {
	r    *runner
	why  error
	done chan error // nil: recovered; else it cannot be
}

// gather is how long a round waits for the other projections' gaps:
// they find them at about the same time, each after its own consumer.
const gather = 100 * time.Millisecond

// recoverGap hands r, halted on the gap why, to the recovery and waits
// until it is past the gap (true), or ctx ended (false). A projection
// that cannot be recovered stays halted until ctx ends.
func (rt *Runtime) recoverGap(ctx context.Context, r *runner, why error) bool {
	r.halt(why)
	done := make(chan error, 1)
	select {
	case rt.recovery.reqs <- recoverReq{r: r, why: why, done: done}:
	case <-ctx.Done():
		return false
	}
	select {
	case err := <-done:
		if err != nil {
			r.halt(err)
			<-ctx.Done()
			return false
		}
		// Recover applied to the projection itself: its stored
		// checkpoint is where it stands now, behind the old one if it
		// was built again from another history.
		r.rewind(r.p.Checkpoint())
		return true
	case <-ctx.Done():
		return false
	}
}

// run serves rounds of recovery until ctx ends.
func (rc *recovery) run(ctx context.Context) {
	for {
		var round []recoverReq
		select {
		case <-ctx.Done():
			return
		case q := <-rc.reqs:
			round = append(round, q)
		}
		round, ok := rc.takeIn(ctx, gather, round)
		if !ok || !rc.round(ctx, round) {
			return
		}
	}
}

// round recovers the projections of reqs, retrying with a backoff (and
// taking in gaps found meanwhile) until it succeeds, fails for good, or
// ctx ends (false). Each attempt is logged once.
func (rc *recovery) round(ctx context.Context, reqs []recoverReq) bool {
	rt := rc.rt
	rc.mu.Lock()
	rc.attempt, rc.since, rc.why, rc.status = 0, time.Now(), reqs[0].why, "starting"
	rc.mu.Unlock()
	defer func() {
		rc.mu.Lock()
		rc.attempt, rc.names = 0, nil
		rc.mu.Unlock()
	}()
	wait := time.Duration(0)
	for {
		ps := make([]Projection, len(reqs))
		names := make([]string, len(reqs))
		why := make([]error, len(reqs))
		for i, q := range reqs {
			ps[i], names[i], why[i] = q.r.p, q.r.p.Name(), q.why
		}
		rc.mu.Lock()
		rc.attempt++
		rc.names, rc.status = names, "starting"
		attempt := rc.attempt
		rc.mu.Unlock()
		rt.logger.Info("recovering projections from the repository", "projections", names, "attempt", attempt, "why", reqs[0].why)
		start := time.Now()
		err := rc.fn(ctx, ps, why, func(s string) {
			rc.mu.Lock()
			rc.status = s
			rc.mu.Unlock()
		})
		if ctx.Err() != nil {
			return false
		}
		result := "ok"
		if err != nil {
			result = "failed"
		}
		rc.attempts.WithLabelValues(result).Inc()
		if err == nil {
			rt.logger.Info("projections recovered; they follow the stream again", "projections", names, "attempt", attempt,
				"took", time.Since(start).Round(time.Millisecond))
			for _, q := range reqs {
				q.done <- nil
			}
			return true
		}
		if errors.Is(err, ErrCannotRecover) {
			rt.logger.Error("projections cannot recover", "projections", names, "err", err)
			rc.mu.Lock()
			rc.failed = err
			rc.mu.Unlock()
			for _, q := range reqs {
				q.done <- err
			}
			return true
		}
		wait = min(max(2*wait, rt.backoff[0]), rt.backoff[1])
		rt.logger.Error("recovering projections failed; trying again", "projections", names,
			"attempt", attempt, "retry_in", wait, "err", err)
		rc.mu.Lock()
		rc.status = fmt.Sprintf("failed (%v), trying again at %s", err, time.Now().Add(wait).UTC().Format(time.TimeOnly))
		rc.mu.Unlock()
		var ok bool
		if reqs, ok = rc.takeIn(ctx, wait, reqs); !ok { // found meanwhile: in the next attempt
			return false
		}
	}
}

// takeIn adds to reqs the requests that arrive within d; false if ctx
// ended first.
func (rc *recovery) takeIn(ctx context.Context, d time.Duration, reqs []recoverReq) ([]recoverReq, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return reqs, false
		case q := <-rc.reqs:
			reqs = append(reqs, q)
		case <-t.C:
			return reqs, true
		}
	}
}

// Recovery is nil unless projections are being recovered past a gap in
// the stream or onto its history (or cannot be), else says which, why
// and how it goes.
func (rt *Runtime) Recovery() error {
	rc := rt.recovery
	if rc == nil {
		return nil
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.failed != nil {
		return rc.failed
	}
	if rc.attempt == 0 {
		return nil
	}
	return fmt.Errorf("recovering %s from the repository since %s (%w): attempt %d: %s",
		strings.Join(rc.names, ", "), rc.since.UTC().Format(time.RFC3339), rc.why, rc.attempt, rc.status)
}
