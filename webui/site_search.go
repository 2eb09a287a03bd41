package webui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/projections/search"
)

// siteSearch is the /search page: results with snippets, facets to refine,
// pages. A query over the limits the API has too (searchLimits) is not
// run: the page says what to change, with the problem's status.
func (h *Handler) siteSearch(w http.ResponseWriter, r *http.Request) {
	q, err := searchQuery(r)
	if err != nil {
		h.searchRefused(w, r, q, err)
		return
	}
	sv := &pages.SearchView{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if sv.Query != "" || q.Category != "" || q.Tag != "" || q.Year != "" {
		res, err := h.search(q)
		var p *Problem
		if errors.As(err, &p) {
			h.searchRefused(w, r, q, err)
			return
		}
		if err != nil {
			// The reader is told it failed (not shown "no results"), with
			// the id of the one log line that says why.
			id := errorID()
			h.log.Error("search failed", "q", q.Q, "error_id", id, "err", err)
			h.servePage(w, r, h.cfg.Pages.RenderSearch(&pages.SearchView{Query: sv.Query, Status: http.StatusInternalServerError,
				Problem: "Search failed on our side; try again in a moment (error " + id + ")."}))
			return
		}
		sv.Total = res.Total
		if sv.Query == "" {
			sv.Query = strings.TrimSpace(strings.Join([]string{q.Category, q.Tag, q.Year}, " "))
		}
		for _, hit := range res.Hits {
			sv.Hits = append(sv.Hits, pages.NewSearchHit(hit.Slug, hit.TitleHTML, hit.Snippet, hit.PublishedAt))
		}
		for _, f := range []struct{ key, param, name string }{{"categories", "category", "Categories"}, {"tags", "tag", "Tags"}, {"year", "year", "Years"}} {
			facet := pages.Facet{Name: f.name}
			for _, t := range res.Facets[f.key] {
				v := url.Values{}
				for k, vs := range r.URL.Query() {
					if k != "page" {
						v[k] = vs
					}
				}
				v.Set(f.param, t.Term)
				name := t.Term
				switch f.key {
				case "categories":
					name = h.cfg.Pages.CategoryName(t.Term)
				case "tags":
					name = h.cfg.Pages.TagName(t.Term)
				}
				facet.Terms = append(facet.Terms, pages.FacetTerm{Term: name, Href: "/search?" + v.Encode(), Count: t.Count,
					Current: r.URL.Query().Get(f.param) == t.Term})
			}
			if len(facet.Terms) > 0 {
				sv.Facets = append(sv.Facets, facet)
			}
		}
		sv.SetPager(r.URL.Query(), q.Page, min(res.TotalPages, maxSearchPage(q.PerPage)))
	}
	h.servePage(w, r, h.cfg.Pages.RenderSearch(sv))
}

// searchRefused is the page for a search over the limits: what to change,
// with the problem's status.
func (h *Handler) searchRefused(w http.ResponseWriter, r *http.Request, q search.Query, err error) {
	sv := &pages.SearchView{Status: http.StatusBadRequest, Problem: "This search cannot be run."}
	var p *Problem
	if errors.As(err, &p) {
		sv.Status = p.Status
		if len(p.Errors) > 0 {
			sv.Problem = fmt.Sprintf("This search cannot be run — %s: %s.", searchParamName(p.Errors[0].Field), p.Errors[0].Detail)
		}
	}
	if len(q.Q) <= searchLimits.QueryBytes {
		sv.Query = strings.TrimSpace(q.Q) // shown back only if short
	}
	h.servePage(w, r, h.cfg.Pages.RenderSearch(sv))
}

// searchParamName names a query parameter for readers.
func searchParamName(field string) string {
	switch field {
	case "q":
		return "the search"
	case "per_page":
		return "results a page"
	}
	return "the " + field
}
