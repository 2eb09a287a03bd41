package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/repo"
)

// prepareReadNode makes sure a read node's projections can follow the
// stream: those whose next events the stream dropped (its retention, by
// age or size) are built again from a clone of the writer's repository
// (bootstrap), and then follow the stream from the commit the clone
// reached. The error it returns is why the node cannot start (no way to
// bootstrap, or the bootstrap failed): the node then serves, not ready,
// with that reason at /readyz. A second error is a failure to look.
func prepareReadNode(ctx context.Context, cfg Config, log *slog.Logger, rs *readSide, stream jetstream.Stream) (blocked, err error) {
	// Again after a bootstrap: the stream may have dropped more while
	// the projections were built (a very short retention, a busy writer).
	for range 3 {
		var gaps []projections.Projection
		var why error
		for _, p := range rs.all() {
			switch err := projections.Missing(ctx, stream, p.Checkpoint()); {
			case errors.Is(err, projections.ErrGap):
				gaps, why = append(gaps, p), err
			case err != nil:
				return nil, err
			}
		}
		if len(gaps) == 0 {
			return nil, nil
		}
		if cfg.WriterToken == "" {
			blocked = fmt.Errorf("this node needs events the stream no longer holds (%w) and cannot bootstrap from the writer's repository: "+
				"start it with --writer-url, --writer-account and --writer-token (a personal access token of an account whose role may use git)", why)
			log.Error("read node cannot start", "reason", blocked)
			return blocked, nil
		}
		log.Info("bootstrapping from the writer's repository: the stream no longer holds the events this node needs", "projections", len(gaps), "reason", why)
		if err := bootstrap(ctx, cfg, log, gaps); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			blocked = fmt.Errorf("this node needs events the stream no longer holds, and its bootstrap from the writer's repository failed (restart it to try again): %w", err)
			log.Error("read node cannot start", "reason", blocked)
			return blocked, nil
		}
	}
	return errors.New("the stream dropped the events after the writer's repository faster than this node could be built from it: " +
		"lengthen --stream-max-age or --stream-max-bytes on the writer"), nil
}

// bootstrap fetches the writer's main over its git endpoint into the
// data directory (a clone the first time, then only what is new) and
// rebuilds ps from it as `chronicle rebuild` does. Their checkpoints are
// then the clone's head, with no stream sequence: the runtime attaches
// each consumer just after that position in the stream.
func bootstrap(ctx context.Context, cfg Config, log *slog.Logger, ps []projections.Projection) error {
	start := time.Now()
	wu, err := cfg.writer()
	if err != nil {
		return err
	}
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
	if err := projections.Rebuild(ctx, ps, l, nil); err != nil {
		return fmt.Errorf("build the projections from the clone: %w", err)
	}
	log.Info("bootstrapped from the writer's repository", "commit", head.Commit, "height", head.Height,
		"fetch", fetched.Round(time.Millisecond), "total", time.Since(start).Round(time.Millisecond))
	return nil
}
