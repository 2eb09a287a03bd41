package api

import (
	"net/http"

	"github.com/chronicle-cms/chronicle/projections/search"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// apiSearch searches published posts: hits with highlighted snippets,
// facets by category, tag and year.
func (h *Handler) apiSearch(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Search == nil {
		return httperr.New(http.StatusServiceUnavailable, "search is not available on this node")
	}
	q, err := params.Search(r)
	if err != nil {
		return err
	}
	res, err := params.RunSearch(h.cfg.Search, q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, searchAnswer{Query: res.Query, Items: nonNilHits(res.Hits), Page: q.Page, PerPage: q.PerPage,
		Total: res.Total, TotalPages: res.TotalPages, Facets: nonNilFacets(res.Facets)})
}

// nonNilFacets answers a facet without terms as [], never null.
func nonNilFacets(f map[string][]search.FacetTerm) map[string][]search.FacetTerm {
	out := make(map[string][]search.FacetTerm, len(f))
	for k, v := range f {
		if v == nil {
			v = []search.FacetTerm{}
		}
		out[k] = v
	}
	return out
}

// searchAnswer is a page of search results in the shape of every list the
// API answers: items, page, per_page, total, total_pages; then the query
// as understood and the facets.
type searchAnswer struct {
	Query      search.Query                  `json:"query"`
	Items      []search.Hit                  `json:"items"`
	Page       int                           `json:"page"`
	PerPage    int                           `json:"per_page"`
	Total      int                           `json:"total"`
	TotalPages int                           `json:"total_pages"`
	Facets     map[string][]search.FacetTerm `json:"facets"`
}

func nonNilHits(h []search.Hit) []search.Hit {
	if h == nil {
		return []search.Hit{}
	}
	return h
}
