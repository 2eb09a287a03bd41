// Package webui is Chronicle's HTTP layer. New builds the one router and
// mounts every area on it, each a sub-package with its own routes and
// middleware: the JSON API (api), the public site (site), git and Git
// LFS over HTTP (githttp) and the operators' endpoints (ops). The
// connection front (front) puts fasthttp before it for rendered pages.
// Authentication (auth), the one error type with its adapter (httperr)
// and the query parameters more than one area reads (params) are shared. Config's defaults are applied here,
// once (WithDefaults).
package webui

import (
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"os/exec"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/webui/admin"
	"github.com/chronicle-cms/chronicle/webui/api"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/forward"
	"github.com/chronicle-cms/chronicle/webui/front"
	"github.com/chronicle-cms/chronicle/webui/githttp"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/oidc"
	"github.com/chronicle-cms/chronicle/webui/ops"
	"github.com/chronicle-cms/chronicle/webui/params"
	"github.com/chronicle-cms/chronicle/webui/site"
)

// Config is what the web layer needs. A nil part turns its area (or the
// part of an area) off: no Pages, no public site; no Git, no git over
// HTTP; no Media, no media routes and no LFS.
type Config struct {
	Catalogue api.Catalogue
	Pages     site.Pages
	Search    params.Searcher
	Writer    api.Writer    // nil on a read-only node
	Git       *GitConfig    // nil: no git over HTTP (a read-only node)
	Revisions api.Revisions // nil on a read-only node
	Audit     api.Audit     // the audit log's projection; nil: GET /api/v1/events answers 503
	Commits   api.Commits   // nil on a read-only node
	Media     *MediaConfig
	Waiter    api.Waiter
	Accounts  *auth.Store
	Tokens    *auth.Tokens
	Ready     func() error      // nil when ready, else why not; default always ready
	Metrics   ops.MetricsConfig // AllowFrom nil: loopback (127.0.0.0/8, ::1)
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for sign-in budgets); none by default.
	TrustedProxies []netip.Prefix
	Registry       *prometheus.Registry // default a new one
	Logger         *slog.Logger         // default discards
	MaxBody        int64                // bytes of a JSON request body; default 1 MiB
	// LoginEvery and LoginBurst limit login attempts per address and per
	// account; defaults one every 6s after a burst of 10.
	LoginEvery time.Duration
	LoginBurst int
	// Admin turns the web admin on (with a Writer): its sessions and the
	// site's Markdown renderer for previews.
	Admin *AdminConfig
	// Security is the security log: account events are recorded to it and
	// admins read it; nil: none.
	Security SecurityLog
	// Forward, on a read node, takes what only the writer answers (API
	// writes, the admin, git and LFS): sent to the writer, or refused
	// when its URL is unknown (webui/forward). nil: not taken.
	Forward *forward.Config
}

// SecurityLog is the security log as the web layer uses it: written by
// sign-ins and account changes, read by admins.
type SecurityLog interface {
	auth.SecurityLog
	api.SecurityEvents
}

// AdminConfig sets up the web admin at /admin/.
type AdminConfig struct {
	Writer      admin.Writer // the same writer as Config.Writer, with what only the admin asks of it
	Sessions    *scs.SessionManager
	Render      func(markdown string) (html template.HTML, summary string) // the site's renderer: preview and description
	Drafts      admin.Drafts                                               // autosaves; nil: none
	Activity    func(limit int) ([]admin.Activity, error)
	Projections func() []admin.ProjectionStatus
	Presence    admin.Presence // who is editing what; nil: not shown
	OIDC        *oidc.Client   // sign-in with an identity provider; nil: passwords only
	// TimeTravel serves the site as it was at a commit, under
	// /admin/at/… (webui/timetravel); nil: not served.
	TimeTravel httperr.HandlerFunc
}

// GitConfig sets up git over smart HTTP at /git/site.git.
type GitConfig struct {
	Root    string   // the folder holding site.git
	Env     []string // more environment for git http-backend and the hooks it runs
	MaxPush int64    // bytes of one push; default 512 MiB
	// Pushed is called after each push has been answered, whether main
	// moved or not (nil: nothing is).
	Pushed func()
	// PublicURL is the site's address as clients reach it: LFS links are
	// built on it, never on a request's Host.
	PublicURL string
}

// MediaConfig sets up uploads and media serving.
type MediaConfig struct {
	Store     string         // the LFS store: originals by SHA-256
	Originals site.Originals // where originals are read from; nil: the LFS store in Store
	Variants  site.Variants  // built variants; nil: originals only
	MaxBytes  int64          // one upload; default upload.DefaultMaxMiB
	Limits    upload.Limits  // pixels; default upload.DefaultLimits
}

// WithDefaults returns cfg with every default filled in: the one place
// they are set. New applies it; the daemon reads the values in effect
// from it (the front's body bound follows the upload limit).
func (cfg Config) WithDefaults() Config {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.LoginEvery <= 0 {
		cfg.LoginEvery = 6 * time.Second
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = 10
	}
	if cfg.Ready == nil {
		cfg.Ready = func() error { return nil }
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Metrics.AllowFrom == nil {
		cfg.Metrics.AllowFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Media != nil {
		m := *cfg.Media
		if m.MaxBytes <= 0 {
			m.MaxBytes = upload.DefaultMaxMiB << 20
		}
		if m.Limits.MaxPixels <= 0 {
			m.Limits.MaxPixels = upload.DefaultLimits.MaxPixels
		}
		if m.Limits.MaxSide <= 0 {
			m.Limits.MaxSide = upload.DefaultLimits.MaxSide
		}
		cfg.Media = &m
	}
	if cfg.Git != nil && cfg.Git.MaxPush <= 0 {
		g := *cfg.Git
		g.MaxPush = 512 << 20
		cfg.Git = &g
	}
	return cfg
}

// New returns the HTTP handler of the whole daemon: every area, mounted
// on one router behind the shared observing middleware.
func New(cfg Config) http.Handler {
	cfg = cfg.WithDefaults()
	log := cfg.Logger
	authn := &auth.Authenticator{Accounts: cfg.Accounts, Tokens: cfg.Tokens, SignIns: auth.NewSignIns(cfg.LoginEvery, cfg.LoginBurst),
		TrustedProxies: cfg.TrustedProxies, Log: log}
	if cfg.Security != nil {
		authn.Security = cfg.Security
	}
	obs := newObserver(cfg.Registry, log)

	r := mux.NewRouter()
	r.Use(obs.middleware)

	// Operations: /healthz, /readyz, /metrics.
	ops.Mount(r, ops.Config{Ready: cfg.Ready, Registry: cfg.Registry, Metrics: cfg.Metrics})

	// On a read node, before the areas it stands in for: writes, the
	// admin and git go to the writer.
	if cfg.Forward != nil {
		fc := *cfg.Forward
		if fc.Logger == nil {
			fc.Logger = log
		}
		forward.Mount(r, fc)
	}

	// Git over smart HTTP (clone, fetch, push) and Git LFS: /git/site.git/….
	if cfg.Git != nil {
		if gitPath, err := exec.LookPath("git"); err != nil {
			log.Error("git is not installed: git over HTTP is off", "err", err)
		} else {
			gc := githttp.Config{Root: cfg.Git.Root, Env: cfg.Git.Env, MaxPush: cfg.Git.MaxPush, PublicURL: cfg.Git.PublicURL, Pushed: cfg.Git.Pushed,
				GitPath: gitPath, Auth: authn, Logger: log}
			if cfg.Media != nil {
				gc.Media = &githttp.MediaConfig{Store: cfg.Media.Store, MaxBytes: cfg.Media.MaxBytes, Limits: cfg.Media.Limits}
			}
			githttp.Mount(r, gc)
		}
	}

	// The web admin: /admin/….
	if cfg.Admin != nil && cfg.Admin.Writer != nil {
		acfg := admin.Config{Catalogue: cfg.Catalogue, Writer: cfg.Admin.Writer, Revisions: cfg.Revisions, Commits: cfg.Commits, Undo: cfg.Writer, Activity: cfg.Admin.Activity, Projections: cfg.Admin.Projections, Waiter: cfg.Waiter,
			Render: cfg.Admin.Render, Sessions: cfg.Admin.Sessions, Auth: authn, Ready: cfg.Ready, Logger: log,
			Media: adminMedia(cfg.Media), Drafts: cfg.Admin.Drafts, Presence: cfg.Admin.Presence, OIDC: cfg.Admin.OIDC, Audit: cfg.Audit,
			ExportEvents: api.EventsExport(api.Config{Audit: cfg.Audit, Logger: log}), TimeTravel: cfg.Admin.TimeTravel}
		if cfg.Security != nil {
			acfg.Security, acfg.ExportSecurity = cfg.Security, api.SecurityExport(api.Config{Security: cfg.Security, Logger: log})
		}
		admin.Mount(r, acfg)
	}

	// The JSON API: /api/v1/….
	ac := api.Config{Catalogue: cfg.Catalogue, Search: cfg.Search, Writer: cfg.Writer, Revisions: cfg.Revisions, Commits: cfg.Commits, Waiter: cfg.Waiter,
		Auth: authn, MaxBody: cfg.MaxBody, Logger: log, Audit: cfg.Audit}
	if cfg.Security != nil {
		ac.Security = cfg.Security
	}
	if cfg.Media != nil {
		ac.Media = &api.MediaConfig{Store: cfg.Media.Store, MaxBytes: cfg.Media.MaxBytes, Limits: cfg.Media.Limits, Variants: cfg.Media.Variants}
	}
	api.Mount(r.PathPrefix("/api/v1").Subrouter(), ac)

	// The public site, served from the pages projection: /, /posts/…,
	// feeds, /search, /static/…, /media/…, and the themed 404.
	if cfg.Pages == nil {
		return &Router{Router: r}
	}
	sc := site.Config{Pages: cfg.Pages, Search: cfg.Search, Logger: log}
	if cfg.Media != nil {
		sc.Media = &site.MediaConfig{Store: cfg.Media.Store, Originals: cfg.Media.Originals, Catalog: cfg.Catalogue, Variants: cfg.Media.Variants}
	}
	site.Mount(r, sc)
	fastObs := obs.httpDur.WithLabelValues(http.MethodGet, "(rendered page)", "2xx")
	return &Router{Router: r, pages: cfg.Pages, fastObs: fastObs, fast: site.FastPages(cfg.Pages, r, fastObs)}
}

// Router is the daemon's handler: the mux router, behind the fast path
// for rendered public pages.
type Router struct {
	*mux.Router
	pages   site.Pages // nil: no public site
	fastObs prometheus.Observer
	fast    http.Handler
}

var _ front.PageSource = (*Router)(nil)

// FastPages gives the front the rendered pages it may answer itself.
func (rt *Router) FastPages() (front.Pages, prometheus.Observer) {
	if rt.pages == nil {
		return nil, nil
	}
	return rt.pages, rt.fastObs
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.ContentLength != 0 || len(r.TransferEncoding) > 0) {
		// No route that reads takes a body (the front refuses the same on
		// its side); close, since the body would follow.
		w.Header().Set("Connection", "close")
		http.Error(w, "413 Content Too Large: a GET or HEAD request carries no body", http.StatusRequestEntityTooLarge)
		return
	}
	if rt.fast != nil {
		rt.fast.ServeHTTP(w, r)
		return
	}
	rt.Router.ServeHTTP(w, r)
}

func adminMedia(m *MediaConfig) *admin.MediaConfig {
	if m == nil {
		return nil
	}
	return &admin.MediaConfig{Store: m.Store, MaxBytes: m.MaxBytes, Limits: m.Limits}
}
