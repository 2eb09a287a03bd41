package daemon

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/audit"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/projections/history"
	"github.com/chronicle-cms/chronicle/projections/media"
	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/projections/render"
	"github.com/chronicle-cms/chronicle/projections/search"
)

// readSide is every projection of this node.
type readSide struct {
	catalogue *catalogue.Catalogue
	pages     *pages.Pages
	search    *search.Index
	media     *media.Variants
	history   *history.History
	md        *render.Renderer // the site's Markdown renderer, also the admin's preview
	audit     *audit.Log
}

// openReadSide opens the projections' stores in the data directory;
// variants are built from originals (nil: the LFS store in the data
// directory).
func openReadSide(cfg Config, log *slog.Logger, originals media.Originals) (*readSide, error) {
	if msg := cfg.publicURLWarning(); msg != "" && cfg.Addr != "" { // serving (rebuild has no address)
		log.Warn(msg)
	}
	md := render.New()
	rs := &readSide{md: md}
	var err error
	if rs.catalogue, err = catalogue.Open(cfg.catalogueFile()); err != nil {
		return nil, err
	}
	if rs.history, err = history.Open(cfg.historyFile()); err != nil {
		rs.close()
		return nil, err
	}
	if rs.pages, err = pages.Open(rs.pagesConfig(cfg, log)); err != nil {
		rs.close()
		return nil, fmt.Errorf("open pages: %w", err)
	}
	if rs.search, err = search.Open(cfg.searchDir(), md); err != nil {
		rs.close()
		return nil, err
	}
	if rs.media, err = media.OpenVariants(media.Config{Store: cfg.lfsDir(), Originals: originals, Dir: cfg.variantsDir(), Workers: cfg.ImageWorkers,
		Logger: log.With("component", "media")}); err != nil {
		rs.close()
		return nil, fmt.Errorf("open media variants: %w", err)
	}
	if rs.audit, err = audit.Open(cfg.auditFile()); err != nil {
		rs.close()
		return nil, err
	}
	return rs, nil
}

// pagesConfig is the pages projection's configuration, which time
// travel's snapshots of the site share.
func (rs *readSide) pagesConfig(cfg Config, log *slog.Logger) pages.Config {
	return pages.Config{Path: cfg.pagesFile(), ThemeDir: cfg.themeDir(), BaseURL: cfg.publicURL(),
		Renderer: rs.md, Logger: log.With("component", "pages"), CacheBytes: int64(cfg.PageCacheMiB) << 20}
}

func (rs *readSide) all() []projections.Projection {
	return []projections.Projection{rs.catalogue, rs.pages, rs.search, rs.media, rs.history, rs.audit}
}

// named returns the projections called name, or all of them for "".
func (rs *readSide) named(name string) ([]projections.Projection, error) {
	if name == "" {
		return rs.all(), nil
	}
	for _, p := range rs.all() {
		if p.Name() == name {
			return []projections.Projection{p}, nil
		}
	}
	return nil, fmt.Errorf("unknown projection %q; known: %s, %s, %s, %s, %s, %s", name, catalogue.Name, pages.Name, search.Name, media.Name, history.Name, audit.Name)
}

func (rs *readSide) close() error {
	var errs []error
	if rs.audit != nil {
		errs = append(errs, rs.audit.Close())
	}
	if rs.search != nil {
		errs = append(errs, rs.search.Close())
	}
	if rs.pages != nil {
		errs = append(errs, rs.pages.Close())
	}
	if rs.catalogue != nil {
		errs = append(errs, rs.catalogue.Close())
	}
	if rs.history != nil {
		errs = append(errs, rs.history.Close())
	}
	if rs.media != nil {
		errs = append(errs, rs.media.Close())
	}
	return errors.Join(errs...)
}
