package site

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// siteSearch is the /search page: results with snippets, facets to refine,
// pages. A query over the limits the API has too (params.SearchLimits) is
// not run, and a search that fails is said to have failed: both are
// errors, answered by the site's adapter as the search page with a
// message (searchErrorPage).
func (h *Handler) siteSearch(w http.ResponseWriter, r *http.Request) error {
	q, err := params.Search(r)
	if err != nil {
		return err
	}
	sv := &pages.SearchView{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if sv.Query != "" || q.Category != "" || q.Tag != "" || q.Year != "" {
		res, err := params.RunSearch(h.cfg.Search, q)
		if err != nil {
			return fmt.Errorf("search %q: %w", q.Q, err)
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
		sv.SetPager(r.URL.Query(), q.Page, min(res.TotalPages, params.MaxSearchPage(q.PerPage)))
	}
	ServePage(w, r, h.cfg.Pages.RenderSearch(sv))
	return nil
}

// searchErrorPage is how the site answers an error: the themed search
// page (the site's one page that carries a message) with the error's
// status, what to change for a refused search, the error id for a
// failure — never its cause. A 404 is the themed not-found page.
func (h *Handler) searchErrorPage(w http.ResponseWriter, r *http.Request, e *httperr.Error) {
	if e.Status == http.StatusNotFound {
		h.notFound(w, r)
		return
	}
	sv := &pages.SearchView{Status: e.Status, Problem: "This search cannot be run."}
	switch {
	case e.ErrorID != "":
		sv.Problem = "Search failed on our side; try again in a moment (error " + e.ErrorID + ")."
	case len(e.Errors) > 0:
		sv.Problem = fmt.Sprintf("This search cannot be run — %s: %s.", searchParamName(e.Errors[0].Field), e.Errors[0].Detail)
	}
	if q := r.URL.Query().Get("q"); len(q) <= params.SearchLimits.QueryBytes {
		sv.Query = strings.TrimSpace(q) // shown back only if short
	}
	ServePage(w, r, h.cfg.Pages.RenderSearch(sv))
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
