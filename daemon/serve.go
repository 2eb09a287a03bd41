package daemon

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/history"
	"github.com/chronicle-cms/chronicle/projections/media"
	"github.com/chronicle-cms/chronicle/projections/reactors/embeds"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/repo/autosave"
	"github.com/chronicle-cms/chronicle/repo/lfs/objectstore"
	"github.com/chronicle-cms/chronicle/webui"
	"github.com/chronicle-cms/chronicle/webui/admin"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/forward"
	"github.com/chronicle-cms/chronicle/webui/front"
	"github.com/chronicle-cms/chronicle/webui/oidc"
	"github.com/chronicle-cms/chronicle/webui/session"
	"github.com/chronicle-cms/chronicle/webui/timetravel"
)

// Serve runs the daemon until ctx ends, then shuts down in order: stop
// accepting and drain requests, stop the outbox and the consumers, close
// NATS, then the projections' files and the repository. ready, if not nil,
// receives the listening address once the server accepts connections.
func Serve(ctx context.Context, cfg Config, log *slog.Logger, ready chan<- string) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	// One process per data directory, decided before anything in it is
	// opened (the NATS store, the projections, the repository).
	unlock, err := lockDataDir(cfg.DataDir, "serve")
	if err != nil {
		return err
	}
	defer unlock()
	// Listening from the start: until the site is up, probes get a 503
	// and what the daemon is doing (starting.go), not a refused connection.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	early := serveStarting(ln.(*net.TCPListener), log)
	defer early.Stop()
	stopDebug, err := debugServer(cfg.DebugAddr, log) // debug.go
	if err != nil {
		return err
	}
	defer stopDebug()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// The repository and the write side (writer node only).
	var (
		r      *repo.Repo
		gitLog *gitlog.GitLog
		writer *command.Writer
		outbox *bus.Outbox
	)
	if !cfg.ReadOnly {
		var err error
		if r, err = repo.Open(cfg.repoDir(), log.With("component", "repo")); err != nil {
			return fmt.Errorf("open repository: %w", err)
		}
		defer func() { r.Close(); log.Info("shutdown: repository closed") }()
		gitLog = gitlog.NewGitLog(r, gitlog.NewDeriver(r, log.With("component", "events"), pictures(cfg)))
		// The head's height (a git rev-list down to the root) is counted
		// while NATS starts and the projections open: the fast start and
		// readiness need it, and the log keeps it (an error is met again
		// there). The repository closes after it.
		counted := make(chan struct{})
		go func() { defer close(counted); gitLog.Head() }()
		defer func() { <-counted }()
	}

	// NATS: embedded, or an external cluster.
	var (
		ns *server.Server
		nc *nats.Conn
	)
	if cfg.NatsURL == "" {
		var err error
		ns, nc, err = bus.StartEmbedded(bus.EmbeddedConfig{StoreDir: cfg.natsDir(), Logger: log})
		if err != nil {
			return fmt.Errorf("start embedded nats: %w", err)
		}
		defer func() { ns.Shutdown(); ns.WaitForShutdown(); log.Info("shutdown: embedded NATS stopped") }()
	} else {
		var err error
		nc, err = nats.Connect(cfg.NatsURL, nats.Name("chronicle-"+cfg.Node), nats.MaxReconnects(-1),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { log.Warn("nats disconnected", "err", err) }),
			nats.ReconnectHandler(func(*nats.Conn) { log.Info("nats reconnected") }))
		if err != nil {
			return fmt.Errorf("connect to %s: %w", cfg.NatsURL, err)
		}
	}
	defer func() { nc.Close(); log.Info("shutdown: NATS connection closed") }()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	var stream jetstream.Stream
	streamCfg := bus.StreamConfig{Replicas: cfg.NatsReplicas, MaxAge: cfg.StreamMaxAge, MaxBytes: cfg.StreamMaxBytes}
	if cfg.ReadOnly {
		stream, err = bus.OpenStream(sctx, js, streamCfg)
	} else {
		stream, err = bus.EnsureStream(sctx, js, streamCfg)
	}
	if err != nil {
		cancel()
		return err
	}
	bodies, err := bus.OpenBodies(sctx, js, bus.BodiesConfig{Replicas: cfg.NatsReplicas, MaxPayload: nc.MaxPayload(), Existing: cfg.ReadOnly})
	if err != nil {
		cancel()
		return err
	}
	// Media originals, shared through an Object Store on a cluster: the
	// writer puts them, read nodes fetch them into a cache of their own.
	var (
		shared    *objectstore.Store
		originals media.Originals // nil: this node's LFS store
	)
	if cfg.NatsURL != "" {
		if shared, err = objectstore.Open(sctx, js, cfg.NatsReplicas); err != nil {
			cancel()
			return err
		}
		if cfg.ReadOnly {
			originals = objectstore.NewCache(shared, cfg.mediaCacheDir(), int64(cfg.MediaCacheMiB)<<20)
		}
	}
	cancel()

	// The read side.
	rs, err := openReadSide(cfg, log, originals)
	if err != nil {
		return err
	}
	defer func() { rs.close(); log.Info("shutdown: projection stores closed") }()
	workers, stopWorkers := context.WithCancel(context.Background())
	defer stopWorkers()

	// Readiness: the projections reached what existed at start.
	var target events.Cursor
	hooked := make(chan error, 1) // installHooks, on the writer node
	if gitLog != nil {
		appended := prometheus.NewCounter(prometheus.CounterOpts{Name: "chronicle_events_appended_total", Help: "Events committed through the daemon."})
		latency := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "chronicle_append_duration_seconds",
			Help: "Time to commit a write durably, from command to moved ref.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
		reg.MustRegister(appended, latency)
		ocfg := bus.OutboxConfig{Interval: cfg.ReconcileInterval, Bodies: bodies}
		if shared != nil {
			ocfg.BeforePublish = shareOriginals(shared, cfg.lfsDir(), log.With("component", "outbox"))
		}
		outbox = bus.NewOutbox(gitLog, js, stream, log.With("component", "outbox"), ocfg)
		writer = command.NewWriter(gitLog, gitlog.NewDeriver(r, log.With("component", "writer"), pictures(cfg)), log.With("component", "writer"),
			command.WriterConfig{OnCommit: func(events.Cursor) { outbox.Kick() }, LFSDir: cfg.lfsDir(),
				Observe: func(d time.Duration, n int) { latency.Observe(d.Seconds()); appended.Add(float64(n)) }})
		// The hook and git's settings for pushes (a git process per
		// setting not made yet: a quarter of a second on a new data
		// directory) are put in place while the projections are built;
		// pushes are not served before that is done, below.
		go func() { hooked <- installHooks(cfg.repoDir()) }()
		stopHooks, err := hookServer(ctx, cfg.hookSocket(), writer, log.With("component", "hooks"))
		if err != nil {
			return err
		}
		defer stopHooks()
		if target, err = gitLog.Head(); err != nil {
			return fmt.Errorf("read head: %w", err)
		}
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "chronicle_publish_lag_commits",
			Help: "Commits on main not yet published to the event stream."}, func() float64 {
			h, err := r.Head()
			if err != nil {
				return 0
			}
			height, err := gitLog.Height(h)
			if err != nil {
				return 0
			}
			return float64(height - outbox.Published().Height)
		}))
	} else {
		c, _, err := bus.LastPublished(ctx, stream)
		if err != nil {
			return err
		}
		target = c
	}
	// The projections (a read node builds its own variants, from the
	// originals in the Object Store), and the embeds reactor, on the
	// writer node only: it records what it resolves as commits.
	ps := rs.all()
	if writer != nil {
		resolver := embeds.NewResolver(embeds.Config{AllowPrivate: cfg.EmbedsAllowPrivate})
		ep, err := embeds.New(cfg.embedsFile(), resolver, writer, log.With("component", "embeds"))
		if err != nil {
			return err
		}
		ps = append(ps, ep)
	}
	if writer != nil {
		// Far behind (empty, say): straight from git first (faststart.go);
		// the consumers then start after what that covered.
		// The memory the build used is returned once the start settled
		// (releaseAfterStart, below).
		if _, err := buildFromGit(ctx, r, gitLog, ps, cfg.FastStartBehind, early.Set, log.With("component", "faststart")); err != nil {
			if ctx.Err() != nil {
				return err
			}
			log.Error("fast start failed; the projections catch up from the stream", "err", err)
		}
		if err := <-hooked; err != nil {
			return fmt.Errorf("install git's hook and settings: %w", err)
		}
	}
	rcfg := projections.RuntimeConfig{Node: cfg.Node, Registry: reg, Bodies: bodies}
	if cfg.ReadOnly { // past a gap in the stream, or onto its history, from the writer's repository
		rcfg.Recover, rcfg.RecoverDiverged = bootstrapper(cfg, stream, reg, log), true
	} else if gitLog != nil { // past a gap in the stream, from its own (faststart.go)
		rcfg.Recover = fromRepository(gitLog, log.With("component", "faststart"))
	}
	rt := projections.NewRuntime(js, stream, log.With("component", "projections"), rcfg, ps...)
	if err := rt.Start(workers); err != nil {
		return err
	}
	defer func() { rt.Wait(); log.Info("shutdown: projection consumers stopped") }()
	defer stopWorkers() // runs before rt.Wait
	if cfg.ReadOnly {
		awaitFirstBootstrap(ctx, rt, rs.all(), early.Set) // bootstrap.go
	}

	readiness := &readiness{rt: rt, outbox: outbox, target: target, log: log,
		readNode: cfg.ReadOnly, maxLag: uint64(cfg.ReadyMaxLag)}

	var wg sync.WaitGroup
	if outbox != nil {
		wg.Add(4)
		// The writer's index of the content (slugs, ids; every post read
		// from git) is made once the projections are built, not beside
		// them: readers come first. Every command brings the index up to
		// date under the writer's lock anyway, so a write arriving
		// meanwhile waits for it, and one that fails says why.
		go func() {
			defer wg.Done()
			if err := writer.Sync(); err != nil {
				log.Error("the writer's index of the content was not made", "err", err)
			}
		}()
		go func() { defer wg.Done(); outbox.Run(workers) }()
		go func() { defer wg.Done(); r.RunRepacker(workers, cfg.RepackInterval, 500) }()
		// Scheduled posts are published by the writer at their time, with
		// no request needed; those due while the daemon was down, now.
		go func() { defer wg.Done(); writer.RunScheduler(workers, time.Second, log.With("component", "scheduler")) }()
		if shared != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				backfillOriginals(workers, shared, cfg.lfsDir(), log.With("component", "media"))
			}()
		}
	}
	defer func() { wg.Wait(); log.Info("shutdown: outbox, repacker and scheduler stopped") }()
	defer stopWorkers()
	go releaseAfterStart(workers, func() bool { // debug.go
		for _, st := range rt.Statuses() {
			if st.Behind > 0 {
				return false
			}
		}
		return readiness.Check() == nil && (outbox == nil || outbox.Published().Height >= target.Height)
	}, log)

	accounts := auth.NewStore(cfg.accountsDir(), cfg.PasswordHash)
	if cfg.NatsURL != "" { // shared by every node (shared.go)
		if accounts, err = sharedAccounts(ctx, cfg, js, log); err != nil {
			return err
		}
	}
	if err := accounts.Prepare(); err != nil { // 0700, tightened if it was not
		return err
	}
	var tokens *auth.Tokens
	if cfg.NatsURL != "" { // the key set every node shares
		tokens, err = auth.NewKVTokens(ctx, js, cfg.tokenKeyFile(), cfg.TokenTTL, cfg.NatsReplicas)
	} else {
		tokens, err = auth.LoadTokens(cfg.tokenKeyFile(), cfg.TokenTTL)
	}
	if err != nil {
		return err
	}
	security, err := openSecurityLog(cfg)
	if err != nil {
		return err
	}
	defer security.Close()
	wcfg := webui.Config{Catalogue: rs.catalogue, Pages: rs.pages, Search: rs.search, Media: &webui.MediaConfig{Store: cfg.lfsDir(), Variants: rs.media,
		MaxBytes: int64(cfg.MediaMaxMiB) << 20, Limits: upload.Limits{MaxPixels: cfg.MediaMaxMegapixels * 1_000_000, MaxSide: cfg.MediaMaxSide}}, Waiter: readiness, Accounts: accounts, Tokens: tokens, Ready: readiness.Check, Audit: rs.audit, Security: security, Registry: reg, Metrics: cfg.metrics(), TrustedProxies: cfg.trustedProxies(), LoginEvery: cfg.SignInEvery, Logger: log}
	if cfg.ReadOnly {
		wu, _ := cfg.writer() // validated
		wcfg.Forward = &forward.Config{Writer: wu, Waiter: readiness, Logger: log.With("component", "forward")}
	}
	if originals != nil {
		wcfg.Media.Originals = originals
	}
	if writer != nil {
		wcfg.Writer, wcfg.Commits = writer, gitLog
		wcfg.Revisions = history.Reader{History: rs.history, Events: gitLog.EventsAt}
		presence, err := session.OpenPresence(ctx, js, time.Minute, cfg.NatsReplicas)
		if err != nil {
			return err
		}
		sessions, closeSessions, err := openSessions(ctx, cfg, js) // shared.go
		if err != nil {
			return err
		}
		defer closeSessions()
		wcfg.Admin = &webui.AdminConfig{Writer: writer, Render: func(src string) (template.HTML, string) {
			d := rs.md.Markdown(src)
			return template.HTML(d.HTML), d.Summary
		},
			Projections: func() []admin.ProjectionStatus {
				var out []admin.ProjectionStatus
				for _, st := range rt.Statuses() {
					ps := admin.ProjectionStatus{Name: st.Projection, Behind: st.Behind, Since: st.Since}
					if st.Halted != nil {
						ps.Halted = "a change could not be applied; operators see why in the log and at /readyz"
					}
					out = append(out, ps)
				}
				return out
			},
			TimeTravel: timetravel.New(timetravel.Config{Repo: r, Deriver: gitlog.NewDeriver(r, log.With("component", "timetravel"), pictures(cfg), gitlog.WithPostCache(25000)),
				Pages: rs.pagesConfig(cfg, log), Logger: log.With("component", "timetravel")}).Serve,
			Drafts: autosave.New(r), Presence: presence, Activity: func(limit int) ([]admin.Activity, error) {
				acts, err := gitLog.RecentActivity(limit)
				out := make([]admin.Activity, len(acts))
				for i, a := range acts {
					out[i] = admin.Activity{Time: a.Time, Actor: a.Actor, Summary: a.Summary, Event: a.Event}
				}
				return out, err
			},
			Sessions: session.NewManager(session.Config{Store: sessions, Secure: strings.HasPrefix(cfg.publicURL(), "https://"), Path: "/admin",
				ErrorFunc: func(w http.ResponseWriter, r *http.Request, err error) {
					log.Error("admin session store failed", "err", err)
					http.Error(w, "500 Internal Server Error: sessions are unavailable", http.StatusInternalServerError)
				}})}
		if cfg.OIDC.Issuer != "" {
			wcfg.Admin.OIDC = oidc.New(cfg.oidc())
		}
		bin := cfg.HookCommand
		if bin == "" {
			if bin, err = os.Executable(); err != nil {
				return fmt.Errorf("find this binary for the git hooks: %w", err)
			}
		}
		wcfg.Git = &webui.GitConfig{Root: cfg.DataDir, PublicURL: cfg.publicURL(), Pushed: outbox.Kick,
			Env: append([]string{"CHRONICLE_HOOK_BIN=" + bin, "CHRONICLE_HOOK_SOCKET=" + cfg.hookSocket()}, cfg.HookEnv...)}
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	refused := prometheus.NewCounter(prometheus.CounterOpts{Name: "chronicle_http_connections_refused_total",
		Help: "Connections closed at once because the daemon or their client address had as many open as allowed."})
	reg.MustRegister(refused)
	maxConns := cfg.maxConns()
	wcfg = wcfg.WithDefaults() // the values in effect: the front's body bound follows the upload limit
	httpFront := front.New(webui.New(wcfg), srv, front.Config{
		MaxBody: int(wcfg.Media.MaxBytes) + 1<<20, MaxHeaderBytes: srv.MaxHeaderBytes, ReadHeaderTimeout: srv.ReadHeaderTimeout,
		ReadTimeout: srv.ReadTimeout, WriteTimeout: srv.WriteTimeout, IdleTimeout: srv.IdleTimeout,
		MaxConns: maxConns, MaxConnsPerClient: cfg.MaxConnsPerClient, Refused: refused.Inc, Logger: log})
	early.Stop()
	log.Info("serving", "addr", ln.Addr().String(), "data", cfg.DataDir, "embedded_nats", cfg.NatsURL == "", "read_only", cfg.ReadOnly, "writer_url", cfg.WriterURL,
		"max_conns", maxConns, "max_conns_per_client", cfg.MaxConnsPerClient)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpFront.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("shutting down: draining requests")
	sctx, cancel = context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpFront.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("http shutdown", "err", err)
	}
	log.Info("shutdown: requests drained")
	// Deferred, in this order: stop outbox and consumers and wait for them,
	// close the projections' stores, close NATS (connection, then embedded server),
	// close the repository.
	return nil
}
