package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/repo"
)

// bootstrapper is a read node's projections.RecoverFunc: projections
// whose next events the stream dropped (its retention, by age or size,
// while the node was stopped, or its consumer gone for longer) are
// brought past the gap from a clone of the writer's repository
// (bootstrap), then follow the stream again from the commit the clone
// reached; so are those that find the stream off their history (the
// writer restored from a backup, or its data replaced), built again
// from nothing. It runs whenever the runtime finds either, at start or
// later, and is retried (with a backoff) while the writer cannot be
// reached; the node serves what it has meanwhile, not ready. Each
// projection built again is counted in chronicle_projection_resets_total.
func bootstrapper(cfg Config, stream jetstream.Stream, reg prometheus.Registerer, log *slog.Logger) projections.RecoverFunc {
	var node prometheus.Labels
	if cfg.Node != "" {
		node = prometheus.Labels{"node": cfg.Node}
	}
	resets := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chronicle_projection_resets_total", ConstLabels: node,
		Help: "Projections a read node built again from nothing because the writer's repository does not have their history (the writer restored from a backup, or its data replaced)."},
		[]string{"projection"})
	if reg != nil {
		reg.MustRegister(resets)
	}
	return func(ctx context.Context, ps []projections.Projection, why []error, status func(string)) error {
		if cfg.WriterToken == "" {
			return fmt.Errorf("%w: this node needs events the stream no longer holds, or a history it does not follow, and cannot bootstrap from the writer's repository: "+
				"start it with --writer-url, --writer-account and --writer-token (a personal access token of an account whose role may use git)",
				projections.ErrCannotRecover)
		}
		return bootstrap(ctx, cfg, log, stream, resets, ps, why, status)
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
//
// The stream must follow the clone: its last event (read before the
// fetch), and the events that showed projections off their history
// (why), must be on the clone's main. A writer briefly serving another
// repository, or a --writer-url that is not the stream's writer, fails
// the attempt (so it is retried, with the backoff) and leaves the node
// as it is, serving what it has, until the two agree. A projection
// whose checkpoint is not on the clone's main was then built from a
// history the writer no longer has: it is forgotten and built again
// from nothing (readers see it empty meanwhile, and /readyz says so),
// but only once the stream has shown an event of the writer's history,
// never on the writer's word alone. So a node wipes itself only for a
// history that both the writer and the stream have left, never at each
// disagreement; and its media variants, made from an original's bytes
// alone, stay (Forget), so no original is fetched again for them.
func bootstrap(ctx context.Context, cfg Config, log *slog.Logger, stream jetstream.Stream, resets *prometheus.CounterVec,
	ps []projections.Projection, why []error, status func(string)) error {
	start := time.Now()
	wu, err := cfg.writer()
	if err != nil {
		return err
	}
	// What the stream showed of its history: its last event (read
	// first: the writer published it, so its main has it by the time of
	// the fetch, if it is the stream's writer), and the events that
	// showed projections off their own.
	last, _, err := bus.LastPublished(ctx, stream)
	if err != nil {
		return fmt.Errorf("read the stream's last event: %w", err)
	}
	var shown []events.Cursor
	if last.Commit != "" {
		shown = append(shown, last)
	}
	for _, err := range why {
		if de := (*projections.DivergedError)(nil); errors.As(err, &de) {
			shown = append(shown, de.Event)
		}
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
	// The stream must follow this repository: else the node would be
	// built from one history and then fed another's events, which it
	// would find off its history again at once, in a loop.
	for _, c := range shown {
		if ok, err := l.Contains(c); err != nil {
			return fmt.Errorf("find the stream's event of commit %s in the writer's repository: %w", c.Commit, err)
		} else if !ok {
			return fmt.Errorf("the stream does not follow the writer's repository (its event of commit %s at height %d is not on its main; the writer is at height %d): "+
				"this node waits until they agree (is %s the writer that publishes to this stream?)", c.Commit, c.Height, head.Height, wu.Redacted())
		}
	}
	var off []projections.Projection // built from a history the writer does not have
	var names []string
	for _, p := range ps {
		if ok, err := l.Contains(p.Checkpoint().Cursor); err != nil {
			return fmt.Errorf("find projection %s's checkpoint in the writer's repository: %w", p.Name(), err)
		} else if !ok {
			off, names = append(off, p), append(names, p.Name())
		}
	}
	if len(off) > 0 {
		cp := off[0].Checkpoint().Cursor
		if len(shown) == 0 {
			return fmt.Errorf("projections %s were built from a history the writer's repository does not have (commit %s at height %d), "+
				"and the stream holds no event to confirm that it follows the writer: they are built again once it does",
				strings.Join(names, ", "), cp.Commit, cp.Height)
		}
		log.Warn("this node's projections were built from a history the writer's repository does not have (the writer restored from a backup, or its data replaced): "+
			"they are built again from nothing from the writer's repository, which the stream follows", "projections", names,
			"checkpoint", cp.Commit, "height", cp.Height, "writer_head", head.Commit, "writer_height", head.Height)
		status(fmt.Sprintf("building %s again from nothing: the writer's repository does not have their history", strings.Join(names, ", ")))
		for _, p := range off {
			if err := projections.Forget(p); err != nil {
				return fmt.Errorf("reset projection %s: %w", p.Name(), err)
			}
			resets.WithLabelValues(p.Name()).Inc()
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
