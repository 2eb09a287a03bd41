package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
type readiness struct {
	rt     *projections.Runtime
	outbox *bus.Outbox // nil on a read node
	target events.Cursor
	log    *slog.Logger

	caughtUp atomic.Bool
}

// Check is nil when the node is ready, else why it is not.
func (r *readiness) Check() error {
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

// heldBack reports what holds events back: a failing outbox, or a
// projection stopped for longer than grace (a stop shorter than that may
// be a failure retried at once, or a consumer being recreated).
func (r *readiness) heldBack(grace time.Duration) error {
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
