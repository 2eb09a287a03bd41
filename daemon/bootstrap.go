package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/repo"
)

// bootstrapper is a read node's projections.RecoverFunc: projections
// whose next events the stream dropped (its retention, by age or size,
// while the node was stopped, or its consumer gone for longer) are
// brought past the gap from a clone of the writer's repository
// (bootstrap), then follow the stream again from the commit the clone
// reached. It runs whenever the runtime finds a gap, at start or later,
// and is retried (with a backoff) while the writer cannot be reached;
// the node serves what it has meanwhile, not ready.
func bootstrapper(cfg Config, log *slog.Logger) projections.RecoverFunc {
	return func(ctx context.Context, ps []projections.Projection, status func(string)) error {
		if cfg.WriterToken == "" {
			return fmt.Errorf("%w: this node needs events the stream no longer holds and cannot bootstrap from the writer's repository: "+
				"start it with --writer-url, --writer-account and --writer-token (a personal access token of an account whose role may use git)",
				projections.ErrCannotRecover)
		}
		return bootstrap(ctx, cfg, log, ps, status)
	}
}

// bootstrap fetches the writer's main over its git endpoint into the
// data directory (a clone the first time, then only what is new) and
// feeds ps from it what is after their own checkpoints, as `chronicle
// rebuild` does from nothing: each batch applied whole, so readers see
// every projection as it was or a later state of it, never one half
// built. Their checkpoints are then the clone's head, with no stream
// sequence: the runtime attaches each consumer just after that position
// in the stream.
func bootstrap(ctx context.Context, cfg Config, log *slog.Logger, ps []projections.Projection, status func(string)) error {
	start := time.Now()
	wu, err := cfg.writer()
	if err != nil {
		return err
	}
	status("fetching the writer's repository (bootstrap)")
	remote := repo.Remote{URL: wu.String() + "/git/site.git", Account: cfg.WriterAccount, Secret: cfg.WriterToken}
	if err := repo.FetchMain(ctx, cfg.bootstrapDir(), remote); err != nil {
		return fmt.Errorf("clone the writer's repository: %w", err)
	}
	fetched := time.Since(start)
	r, err := repo.Open(cfg.bootstrapDir(), log.With("component", "repo"))
	if err != nil {
		return err
	}
	defer r.Close()
	l := gitlog.NewGitLog(r, gitlog.NewDeriver(r, log.With("component", "bootstrap"), pictures(cfg)))
	head, err := l.Head()
	if err != nil {
		return fmt.Errorf("read the clone's head: %w", err)
	}
	for _, p := range ps {
		// Main is never rewritten: a checkpoint off it is another
		// site's state (a data directory reused), which only an
		// operator can sort out.
		if ok, err := l.Contains(p.Checkpoint().Cursor); err != nil {
			return fmt.Errorf("find projection %s's checkpoint in the writer's repository: %w", p.Name(), err)
		} else if !ok {
			return fmt.Errorf("%w: projection %s was built from a history the writer's repository does not have (commit %s at height %d): "+
				"stop this node, delete its data directory and start it again", projections.ErrCannotRecover, p.Name(),
				p.Checkpoint().Cursor.Commit, p.Checkpoint().Cursor.Height)
		}
	}
	status(fmt.Sprintf("building from the writer's repository, %d commits", head.Height))
	if _, err := projections.CatchUp(ctx, ps, l, func(_ int, at events.Cursor) {
		status(fmt.Sprintf("building from the writer's repository: commit %d of %d", at.Height, head.Height))
	}); err != nil {
		return fmt.Errorf("build the projections from the clone: %w", err)
	}
	log.Info("bootstrapped from the writer's repository", "commit", head.Commit, "height", head.Height,
		"fetch", fetched.Round(time.Millisecond), "total", time.Since(start).Round(time.Millisecond))
	return nil
}

// awaitFirstBootstrap holds a read node that has nothing yet (every
// projection empty) in the starting state (503, and what it does at
// /readyz: starting.go) while it bootstraps: an empty site is nothing
// to serve. A node with something serves it meanwhile, and one that
// cannot bootstrap serves, not ready, saying why.
func awaitFirstBootstrap(ctx context.Context, rt *projections.Runtime, ps []projections.Projection, status func(string)) {
	for _, p := range ps {
		if p.Checkpoint().Cursor.Height > 0 {
			return
		}
	}
	status("bootstrapping from the writer's repository")
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		gap := false
		for _, h := range rt.Halted() {
			gap = gap || errors.Is(h.Err, projections.ErrGap)
		}
		err := rt.Recovery()
		if !gap || errors.Is(err, projections.ErrCannotRecover) {
			return
		}
		if err != nil {
			status(err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
