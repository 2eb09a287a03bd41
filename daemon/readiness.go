package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/chronicle-cms/chronicle/projections"
)

// readiness answers /readyz and "Prefer: wait". The node is ready once its
// projections reached what the log held at start, and then for as long as
// nothing holds events back from readers: the outbox publishing (on the
// writer) and every projection running. A write waited for is answered at
// once, with the reason, when something does.
//
// A read node is also ready only while each projection is at most maxLag
// events behind the stream, measured at each check: a node left behind
// (a slow disk, a lost connection) leaves the load balancer's pool until
// it caught up, rather than serve an old site.
type readiness struct {
	rt     *projections.Runtime
	outbox *bus.Outbox // nil on a read node
	target events.Cursor
	log    *slog.Logger
	// On a read node: its lag is measured (maxLag is the bound).
	readNode bool
	maxLag   uint64

	caughtUp atomic.Bool
	lagged   atomic.Bool // the last check found the node lagging (logged once per episode)
}

// Check is nil when the node is ready, else why it is not.
func (r *readiness) Check() error {
	if r.readNode {
		if err := r.heldBack(time.Second); err != nil {
			return err
		}
		if err := r.lagging(); err != nil {
			if r.lagged.CompareAndSwap(false, true) {
				r.log.Warn("read node not ready", "reason", err)
			}
			return err
		}
		if r.lagged.CompareAndSwap(true, false) {
			r.log.Info("read node caught up with the stream", "max_lag", r.maxLag)
		}
	}
	if !r.caughtUp.Load() {
		if !r.rt.Reached(r.target) {
			return fmt.Errorf("catching up: the projections have not yet applied the log up to height %d", r.target.Height)
		}
		if r.caughtUp.CompareAndSwap(false, true) {
			r.log.Info("projections caught up", "height", r.target.Height)
		}
	}
	return r.heldBack(time.Second)
}

// heldBack reports what holds events back: a bootstrap, a failing
// outbox, or a projection stopped for longer than grace (a stop shorter
// than that may be a failure retried at once, or a consumer being
// recreated).
func (r *readiness) heldBack(grace time.Duration) error {
	// Projections being brought past a gap in the stream (a read node's
	// bootstrap), or that cannot be: the node serves what it has.
	if err := r.rt.Recovery(); err != nil {
		return err
	}
	if r.outbox != nil {
		if err := r.outbox.Failure(); err != nil {
			return fmt.Errorf("publishing events is failing, later writes wait behind it: %w", err)
		}
	}
	var errs []error
	for _, h := range r.rt.Halted() {
		if time.Since(h.Since) >= grace {
			errs = append(errs, fmt.Errorf("projection %s stopped since %s: %w", h.Projection, h.Since.UTC().Format(time.RFC3339), h.Err))
		}
	}
	return errors.Join(errs...)
}

// WaitFor blocks until every projection applied the events up to c, and
// returns early with the reason when events are held back.
func (r *readiness) WaitFor(ctx context.Context, c events.Cursor) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.heldBack(time.Second); err != nil {
					cancel(err)
					return
				}
			}
		}
	}()
	if err := r.rt.WaitFor(ctx, c); err != nil {
		return context.Cause(ctx)
	}
	return nil
}

// lagging is nil while every projection is within maxLag events of the
// stream's last, else says which are behind and by how much.
func (r *readiness) lagging() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lags, err := r.rt.Lag(ctx)
	if err != nil {
		return fmt.Errorf("cannot measure this node's lag behind the event stream: %w", err)
	}
	var behind []string
	for name, n := range lags {
		if n > r.maxLag {
			behind = append(behind, fmt.Sprintf("%s %d", name, n))
		}
	}
	if len(behind) == 0 {
		return nil
	}
	sort.Strings(behind)
	return fmt.Errorf("lagging: events behind the stream, by projection: %s (ready at %d or fewer)", strings.Join(behind, ", "), r.maxLag)
}
