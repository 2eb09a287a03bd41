package webui

import (
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// New returns the HTTP handler of the whole daemon.
func New(cfg Config) http.Handler {
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
	if cfg.Media != nil && cfg.Media.MaxBytes <= 0 {
		cfg.Media.MaxBytes = upload.DefaultMaxMiB << 20
	}
	if cfg.Media != nil && cfg.Media.Limits.MaxPixels <= 0 {
		cfg.Media.Limits.MaxPixels = upload.DefaultLimits.MaxPixels
	}
	if cfg.Media != nil && cfg.Media.Limits.MaxSide <= 0 {
		cfg.Media.Limits.MaxSide = upload.DefaultLimits.MaxSide
	}
	if cfg.Git != nil && cfg.Git.MaxPush <= 0 {
		cfg.Git.MaxPush = 512 << 20
	}
	h := &Handler{cfg: cfg, log: cfg.Logger, creds: gitCreds{ok: map[[32]byte]time.Time{}},
		signIns: auth.NewSignIns(cfg.LoginEvery, cfg.LoginBurst),
		httpDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "chronicle_http_request_duration_seconds",
			Help: "HTTP request latency by route template.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)},
			[]string{"method", "route", "status"})}
	cfg.Registry.MustRegister(h.httpDur)

	r := mux.NewRouter()
	r.Use(h.observe)

	// Operations.
	r.Handle("/healthz", http.HandlerFunc(h.healthz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", http.HandlerFunc(h.readyz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", metrics(cfg.Registry, cfg.Metrics)).Methods(http.MethodGet)

	// Git over smart HTTP: clone, fetch, push.
	if cfg.Git != nil {
		if p, err := exec.LookPath("git"); err == nil {
			h.gitPath = p
		} else {
			h.log.Error("git is not installed: git over HTTP is off", "err", err)
			cfg.Git = nil
		}
	}
	if cfg.Git != nil {
		r.HandleFunc("/git/site.git/info/refs", h.gitHTTP).Methods(http.MethodGet)
		r.HandleFunc("/git/site.git/{service:git-upload-pack|git-receive-pack}", h.gitHTTP).Methods(http.MethodPost)
		if cfg.Media != nil {
			// Signed in first, so LFS answers 429 over the sign-in limit.
			r.HandleFunc("/git/site.git/info/lfs/objects/batch", h.gitSignIn(h.lfsBatch)).Methods(http.MethodPost)
			r.HandleFunc("/git/site.git/info/lfs/objects/{oid:[0-9a-f]{64}}", h.gitSignIn(h.lfsObjectGet)).Methods(http.MethodGet)
			r.HandleFunc("/git/site.git/info/lfs/objects/{oid:[0-9a-f]{64}}", h.gitSignIn(h.lfsObjectPut)).Methods(http.MethodPut)
		}
	}

	// The JSON API.
	api := r.PathPrefix("/api/v1").Subrouter()
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range []struct {
		method, path string
		access       access
		fn           apiFunc
	}{
		{http.MethodPost, "/auth/token", public, h.createToken},
		{http.MethodGet, "/posts", public, h.listPosts},
		{http.MethodPost, "/posts", editor, h.createPost},
		{http.MethodGet, "/posts/{id}", public, h.getPost},
		{http.MethodPut, "/posts/{id}", editor, h.updatePost},
		{http.MethodPatch, "/posts/{id}", editor, h.patchPost},
		{http.MethodDelete, "/posts/{id}", editor, h.deletePost},
		{http.MethodGet, "/categories", public, h.listCategories},
		{http.MethodPost, "/categories", editor, h.createCategory},
		{http.MethodGet, "/categories/{slug}", public, h.getCategory},
		{http.MethodPut, "/categories/{slug}", editor, h.putCategory},
		{http.MethodPatch, "/categories/{slug}", editor, h.patchCategory},
		{http.MethodDelete, "/categories/{slug}", editor, h.deleteCategory},
		{http.MethodGet, "/tags", public, h.listTags},
		{http.MethodGet, "/settings", admin, h.getSettings},
		{http.MethodPut, "/settings", admin, h.putSettings},
		{http.MethodPatch, "/settings", admin, h.patchSettings},
		{http.MethodGet, "/profile", public, h.getProfile},
		{http.MethodPut, "/profile", editor, h.putProfile},
		{http.MethodPatch, "/profile", editor, h.patchProfile},
		{http.MethodGet, "/search", public, h.apiSearch},
		{http.MethodGet, "/events", editor, h.listEvents},
		{http.MethodGet, "/media", editor, h.listMedia},
		{http.MethodPost, "/media", editor, h.uploadMedia},
		{http.MethodGet, "/media/{id}", public, h.getMedia},
		{http.MethodPut, "/media/{id}", editor, h.updateMedia},
		{http.MethodPatch, "/media/{id}", editor, h.patchMedia},
		{http.MethodDelete, "/media/{id}", editor, h.deleteMedia},
		{http.MethodGet, "/tokens", editor, h.listTokens},
		{http.MethodPost, "/tokens", editor, h.createPAT},
		{http.MethodDelete, "/tokens/{id}", editor, h.revokeToken},
		{http.MethodGet, "/openapi.json", public, h.openAPI},
	} {
		api.Handle(rt.path, h.guard(rt.access, h.api(rt.fn))).Methods(rt.method)
		if allowed[rt.path] == nil {
			paths = append(paths, rt.path)
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	// After every path's routes, a route of any method answers 405 with
	// Allow. (A subrouter's MethodNotAllowedHandler is not reliable in
	// gorilla/mux 1.8.1: a later route of another path hides the mismatch.)
	for _, p := range paths {
		api.Handle(p, h.api(h.methodNotAllowed(allowed[p])))
	}
	api.NotFoundHandler = h.api(func(w http.ResponseWriter, r *http.Request) error {
		return problem(http.StatusNotFound, "no such API endpoint: see /api/v1/openapi.json")
	})

	// The public site, served from the pages projection.
	if cfg.Pages != nil {
		get := []string{http.MethodGet, http.MethodHead}
		page := http.HandlerFunc(h.sitePage)
		for _, p := range []string{
			"/", "/page/{n}", "/posts/{slug}", "/about", "/feed.xml", "/rss.xml", "/feed.json", "/sitemap.xml", "/sitemap-{n}.xml", "/robots.txt",
			"/category/{slug}", "/category/{slug}/page/{n}", "/category/{slug}/{feed:feed.xml|rss.xml|feed.json}",
			"/tag/{slug}", "/tag/{slug}/page/{n}", "/tag/{slug}/{feed:feed.xml|rss.xml|feed.json}",
			"/archive/{year}", "/archive/{year}/page/{n}", "/archive/{year}/{month}", "/archive/{year}/{month}/page/{n}",
		} {
			r.Handle(p, page).Methods(get...)
		}
		r.HandleFunc("/search", h.siteSearch).Methods(get...)
		r.HandleFunc("/static/{name}", h.siteStatic).Methods(get...)
		if cfg.Media != nil {
			r.HandleFunc("/media/{id}/{variant}", h.siteMedia).Methods(get...)
		}
		r.NotFoundHandler = http.HandlerFunc(h.notFound)
		return &Router{Router: r, fast: &fastPages{h: h, next: r,
			observe: h.httpDur.WithLabelValues(http.MethodGet, "(rendered page)", "2xx")}}
	}
	return &Router{Router: r}
}

// Router is the daemon's handler: the mux router, behind the fast path
// for rendered public pages.
type Router struct {
	*mux.Router
	fast *fastPages
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

func (h *Handler) methodNotAllowed(methods []string) apiFunc {
	allow := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, r *http.Request) error {
		return problem(http.StatusMethodNotAllowed, "%s is not allowed here; allowed: %s", r.Method, allow).with("Allow", allow)
	}
}
