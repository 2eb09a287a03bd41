package timetravel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/projections/render"
	"github.com/chronicle-cms/chronicle/projections/search"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/webui/site"
)

// snapshot is the public site at one commit: the events that build its
// tree from nothing applied to a memory-only pages projection, served by
// the public site's own handlers. A search index is built from the same
// events the first time someone searches.
type snapshot struct {
	commit repo.Hash
	pages  *pages.Pages
	router http.Handler
	md     *render.Renderer
	log    *slog.Logger

	evs        []events.Event // kept for the search index, until it is built
	searchOnce sync.Once
	search     *search.Index
	searchErr  error
}

// build makes the snapshot of commit h, whose site-wide files last
// changed at siteWhen (zero: never).
func build(ctx context.Context, cfg *Config, h repo.Hash, siteWhen time.Time) (*snapshot, error) {
	evs, err := cfg.Deriver.DeriveTree(h)
	if err != nil {
		return nil, fmt.Errorf("derive the tree of %s: %w", h, err)
	}
	if evs, err = dated(cfg.Deriver, cfg.Repo, h, evs, siteWhen); err != nil {
		return nil, err
	}
	pc := cfg.Pages
	pc.Path = ""
	p, err := pages.NewSnapshot(pc)
	if err != nil {
		return nil, fmt.Errorf("snapshot pages: %w", err)
	}
	cp := projections.Checkpoint{Cursor: events.End(h.String(), 0, len(evs))}
	if err := p.Apply(ctx, evs, cp); err != nil {
		return nil, fmt.Errorf("snapshot pages of %s: %w", h, err)
	}
	s := &snapshot{commit: h, pages: p, md: pc.Renderer, log: cfg.Logger, evs: evs}
	r := mux.NewRouter()
	site.Mount(r, site.Config{Pages: p, Search: s, Logger: cfg.Logger})
	s.router = r
	return s, nil
}

// dated gives the events of a whole tree the times the live site gave
// them when they happened, where the site shows a time: the settings',
// profile's and categories' events are dated by the last commit that
// changed any of them (the pages' "updated"), and a post whose file has
// no updated_at is read as it was derived at the last commit that
// changed it (its default is that commit's time, not h's).
func dated(d *gitlog.Deriver, r *repo.Repo, h repo.Hash, evs []events.Event, siteWhen time.Time) ([]events.Event, error) {
	c, err := r.ReadCommit(h)
	if err != nil {
		return nil, err
	}
	// A whole tree's events are all created: only h's own time needs a
	// look, found in the payload's text before decoding it.
	hTime := []byte(`"updated_at":"` + c.Author.When.UTC().Format(time.RFC3339Nano) + `"`)
	for i, e := range evs {
		switch e.Type {
		case events.SettingsChanged, events.ProfileChanged, events.CategoryCreated:
			if !siteWhen.IsZero() {
				evs[i].Time = siteWhen.UTC()
			}
			continue
		case events.PostCreated:
			if !bytes.Contains(e.Data, hTime) {
				continue
			}
		default:
			continue
		}
		pl, err := e.Payload()
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", e.ID, err)
		}
		pd, ok := pl.(events.PostData)
		if !ok || !pd.Post.UpdatedAt.Equal(c.Author.When) {
			continue
		}
		last, err := r.History(h, pd.Post.Path, 1)
		if err != nil || len(last) == 0 {
			return nil, fmt.Errorf("last change of %s: %w", pd.Post.Path, err)
		}
		then, err := d.ReadPost(pd.Post.Path, repo.ParseHash(pd.Post.Blob), last[0].Hash)
		if err != nil || then == nil {
			return nil, fmt.Errorf("%s as derived at %s: %w", pd.Post.Path, last[0].Hash, err)
		}
		then.Revision = last[0].Hash.String()
		pd.Post = *then
		if evs[i], err = events.Encode(e, pd); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

// Search implements params.Searcher over the snapshot, building its
// index the first time (most visits to the past never search).
func (s *snapshot) Search(q search.Query) (search.Result, error) {
	s.searchOnce.Do(func() {
		ix, err := search.OpenMemory(s.md)
		if err == nil {
			err = ix.Apply(context.Background(), s.evs, projections.Checkpoint{Cursor: events.End(s.commit.String(), 0, len(s.evs))})
			if err != nil {
				ix.Close()
				ix = nil
			}
		}
		s.search, s.searchErr, s.evs = ix, err, nil
	})
	if s.searchErr != nil {
		return search.Result{}, fmt.Errorf("search index of %s: %w", s.commit, s.searchErr)
	}
	return s.search.Search(q)
}

// close releases the search index (its in-memory segments have workers).
func (s *snapshot) close() {
	s.searchOnce.Do(func() { s.evs = nil; s.searchErr = errors.New("closed") })
	if s.search != nil {
		if err := s.search.Close(); err != nil {
			s.log.Warn("close a time-travel search index", "commit", s.commit, "err", err)
		}
	}
}
