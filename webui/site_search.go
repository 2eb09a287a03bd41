package webui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/projections/search"
)

// siteSearch is the /search page: results with snippets, facets to refine,
// pages.
func (h *Handler) siteSearch(w http.ResponseWriter, r *http.Request) {
	q, err := searchQuery(r)
	if err != nil {
		q = search.Query{Q: r.URL.Query().Get("q"), Page: 1}
	}
	sv := &pages.SearchView{Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if sv.Query != "" || q.Category != "" || q.Tag != "" || q.Year != "" {
		res, err := h.cfg.Search.Search(q)
		if err != nil {
			h.log.Error("search failed", "q", q.Q, "err", err)
			h.servePage(w, r, h.cfg.Pages.RenderSearch(&pages.SearchView{Query: sv.Query}))
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
		sv.SetPager(r.URL.Query(), q.Page, res.TotalPages)
	}
	h.servePage(w, r, h.cfg.Pages.RenderSearch(sv))
}

// searchQuery reads q, category, tag, year, sort, page and per_page.
func searchQuery(r *http.Request) (search.Query, error) {
	v := r.URL.Query()
	q := search.Query{Q: v.Get("q"), Category: v.Get("category"), Tag: v.Get("tag"), Year: v.Get("year"), Sort: v.Get("sort")}
	if len(q.Q) > 500 {
		return q, fieldProblem(http.StatusBadRequest, "q", "at most 500 characters")
	}
	if q.Sort != "" && q.Sort != "relevance" && q.Sort != "date" {
		return q, fieldProblem(http.StatusBadRequest, "sort", "must be \"relevance\" or \"date\"")
	}
	var err error
	if q.Page, err = intParam(r, "page", 1, 1000); err != nil {
		return q, err
	}
	if q.PerPage, err = intParam(r, "per_page", 10, 100); err != nil {
		return q, err
	}
	return q, nil
}
