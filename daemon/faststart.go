package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/repo"
)

// buildFromGit brings ps up to the repository's head straight from git, as
// rebuild does (the history derived once, the projections fed in
// parallel, no stream), when the furthest behind of them is at least
// minBehind commits behind; otherwise, or if a checkpoint is not on main
// (the runtime halts such a projection, with the reason), it does nothing
// and returns the zero cursor. It returns the position the projections
// reached: their checkpoints carry no stream sequence, and the runtime
// attaches each consumer after the messages they cover, so the backlog the
// outbox publishes afterwards is passed over, and later events arrive over
// the stream as usual. Only a node with the repository can use it.
// status, if not nil, is told how far the build is, for /readyz.
func buildFromGit(ctx context.Context, r *repo.Repo, l *gitlog.GitLog, ps []projections.Projection, minBehind int64, status func(string), log *slog.Logger) (events.Cursor, error) {
	if status == nil {
		status = func(string) {}
	}
	if minBehind <= 0 || len(ps) == 0 {
		return events.Cursor{}, nil
	}
	head, err := l.Head()
	if err != nil {
		return events.Cursor{}, fmt.Errorf("read head: %w", err)
	}
	behind := int64(0)
	for _, p := range ps {
		cp := p.Checkpoint().Cursor
		ok, err := l.Contains(cp)
		if err != nil {
			return events.Cursor{}, fmt.Errorf("find projection %s's checkpoint in the repository: %w", p.Name(), err)
		}
		if !ok {
			log.Warn("fast start not taken: a projection's checkpoint is not on main", "projection", p.Name(), "checkpoint", cp.Commit)
			return events.Cursor{}, nil
		}
		behind = max(behind, head.Height-cp.Height)
	}
	if behind < minBehind {
		return events.Cursor{}, nil
	}
	log.Info("fast start: building the projections from git", "behind", behind, "head", head.Height)
	start := time.Now()
	if n := r.LooseObjects(); n > 1000 {
		// Reading a packed history is faster, and the repository needs it anyway.
		if err := r.Repack(ctx, false); err != nil {
			return events.Cursor{}, fmt.Errorf("repack before building from git: %w", err)
		}
		log.Info("fast start: repacked loose objects", "objects", n, "took", time.Since(start).Round(time.Millisecond))
	}
	status(fmt.Sprintf("building the projections from git: %d commits to read", head.Height))
	reached, err := projections.CatchUp(ctx, ps, l, func(applied int, at events.Cursor) {
		status(fmt.Sprintf("building the projections from git: commit %d of %d", at.Height, head.Height))
	})
	if err != nil {
		return events.Cursor{}, fmt.Errorf("build the projections from git: %w", err)
	}
	log.Info("fast start: projections built from git", "height", reached.Height, "commit", reached.Commit,
		"took", time.Since(start).Round(time.Millisecond))
	return reached, nil
}

// fromRepository is the writer's projections.RecoverFunc: a projection
// whose next events the stream no longer holds (its retention dropped
// them while the writer was stopped, while the projection was halted,
// or its state was deleted) is fed them from the repository, as the
// fast start does, and then follows the stream again. One built from a
// history main does not have is left halted, saying so: the repository
// is the truth, and what to do with the projection is the operator's
// choice.
func fromRepository(l *gitlog.GitLog, log *slog.Logger) projections.RecoverFunc {
	return func(ctx context.Context, ps []projections.Projection, _ []error, status func(string)) error {
		for _, p := range ps {
			cp := p.Checkpoint().Cursor
			if ok, err := l.Contains(cp); err != nil {
				return fmt.Errorf("find projection %s's checkpoint in the repository: %w", p.Name(), err)
			} else if !ok {
				return fmt.Errorf("%w: projection %s was built from a history main does not have (commit %s at height %d): "+
					"stop the daemon and rebuild it from the repository (chronicle rebuild %s)", projections.ErrCannotRecover, p.Name(), cp.Commit, cp.Height, p.Name())
			}
		}
		head, err := l.Head()
		if err != nil {
			return fmt.Errorf("read head: %w", err)
		}
		start := time.Now()
		status(fmt.Sprintf("building from the repository: %d commits", head.Height))
		reached, err := projections.CatchUp(ctx, ps, l, func(_ int, at events.Cursor) {
			status(fmt.Sprintf("building from the repository: commit %d of %d", at.Height, head.Height))
		})
		if err != nil {
			return fmt.Errorf("build from the repository: %w", err)
		}
		log.Info("projections built past the gap in the stream from the repository", "height", reached.Height,
			"took", time.Since(start).Round(time.Millisecond))
		return nil
	}
}
