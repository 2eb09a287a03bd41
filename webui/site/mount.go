// Package site is the public site: pages pre-rendered by the pages
// projection (home, posts, lists, archives, feeds, sitemap), the search
// page, media with their variants, and the theme's static files. It reads
// projections only — no Markdown and no git here. Unknown paths get the
// themed 404 page; errors are answered through the one adapter
// (httperr) as a themed page.
package site

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections/media"
	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/repo/lfs"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// Pages is the public site's read model.
type Pages interface {
	Lookup(path string) *pages.Page
	Cached(path string) *pages.Page
	NotFound() *pages.Page
	RenderSearch(s *pages.SearchView) *pages.Page
	Asset(name string) (pages.Asset, bool)
	CategoryName(slug string) string
	TagName(slug string) string
	Settings() content.Settings
}

// MediaLookup finds a media item's metadata.
type MediaLookup interface {
	Media(id string) (content.Media, bool)
}

// Variants lists the variants built for an original.
type Variants interface {
	List(sha256 string) []media.Variant
	// Complete is true once the original's whole set is built, so that
	// what a variant's URL answers is final.
	Complete(sha256 string) bool
	// Want says a reader asked for width w of an original whose set is
	// not complete: it is made next.
	Want(sha256 string, w int)
}

// Originals finds an original on this node's disk by its SHA-256,
// fetching it first if it lives elsewhere.
type Originals interface {
	Path(ctx context.Context, sha256 string) (string, error)
}

// MediaConfig says where media are served from.
type MediaConfig struct {
	Store     string      // the LFS store: originals by SHA-256, when Originals is nil
	Originals Originals   // nil: the LFS store in Store
	Catalog   MediaLookup // the media items
	Variants  Variants    // built variants; nil: originals only
}

// Config is what the site needs; Pages and Logger are required.
type Config struct {
	Pages  Pages
	Search params.Searcher // nil: the search page answers 503
	Media  *MediaConfig    // nil: no /media routes
	Logger *slog.Logger
}

// Handler holds the dependencies of the site's handlers.
type Handler struct {
	cfg       Config
	originals Originals
	log       *slog.Logger
	err       httperr.Adapter
}

// Mount routes the site on r, the root router (the site owns its 404).
func Mount(r *mux.Router, cfg Config) {
	h := &Handler{cfg: cfg, log: cfg.Logger}
	if cfg.Media != nil {
		h.originals = cfg.Media.Originals
		if h.originals == nil {
			h.originals = lfs.Local(cfg.Media.Store)
		}
	}
	h.err = httperr.Adapter{Log: cfg.Logger, Render: h.searchErrorPage}
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
	r.Handle("/search", h.err.Handle(h.siteSearch)).Methods(get...)
	r.HandleFunc("/static/{name}", h.siteStatic).Methods(get...)
	if cfg.Media != nil {
		r.HandleFunc("/media/{id}/{variant}", h.siteMedia).Methods(get...)
	}
	r.NotFoundHandler = http.HandlerFunc(h.notFound)
}
