package webui

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/chronicle-cms/chronicle/projections/search"
)

// searchLimits bound what one search may cost: the API (GET
// /api/v1/search) and the public page (/search) read queries through
// searchQuery alone, so both enforce these same limits.
var searchLimits = struct {
	QueryChars int // characters of q
	QueryBytes int // bytes of q: what the characters may take in UTF-8
	Terms      int // words of q (a quoted phrase counts each word), and terms as the analyzer splits them (search.MaxTerms)
	FilterLen  int // bytes of category, tag and year
	PerPage    int // hits per page
	Page       int // page number
	Depth      int // page × per_page: hits ranked to reach a page
}{QueryChars: 500, QueryBytes: 2000, Terms: search.MaxTerms, FilterLen: 100, PerPage: 100, Page: 1000, Depth: 10000}

// apiSearch searches published posts: hits with highlighted snippets,
// facets by category, tag and year.
func (h *Handler) apiSearch(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Search == nil {
		return problem(http.StatusServiceUnavailable, "search is not available on this node")
	}
	q, err := searchQuery(r)
	if err != nil {
		return err
	}
	res, err := h.search(q)
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

// searchQuery reads q, category, tag, year, sort, page and per_page, and
// refuses a query over searchLimits with a problem naming the parameter.
func searchQuery(r *http.Request) (search.Query, error) {
	lim := searchLimits
	v := r.URL.Query()
	q := search.Query{Q: v.Get("q"), Category: v.Get("category"), Tag: v.Get("tag"), Year: v.Get("year"), Sort: v.Get("sort")}
	if len(q.Q) > lim.QueryBytes || utf8.RuneCountInString(q.Q) > lim.QueryChars {
		return q, fieldProblem(http.StatusBadRequest, "q", "at most %d characters", lim.QueryChars)
	}
	if n := len(strings.Fields(strings.ReplaceAll(q.Q, `"`, " "))); n > lim.Terms {
		return q, fieldProblem(http.StatusBadRequest, "q", "at most %d words, not %d", lim.Terms, n)
	}
	for _, f := range []struct{ name, value string }{{"category", q.Category}, {"tag", q.Tag}, {"year", q.Year}} {
		if len(f.value) > lim.FilterLen {
			return q, fieldProblem(http.StatusBadRequest, f.name, "at most %d characters", lim.FilterLen)
		}
	}
	if q.Sort != "" && q.Sort != "relevance" && q.Sort != "date" {
		return q, fieldProblem(http.StatusBadRequest, "sort", "must be \"relevance\" or \"date\"")
	}
	var err error
	if q.Page, err = intParam(r, "page", 1, lim.Page); err != nil {
		return q, err
	}
	if q.PerPage, err = intParam(r, "per_page", 10, lim.PerPage); err != nil {
		return q, err
	}
	if q.Page > maxSearchPage(q.PerPage) {
		return q, fieldProblem(http.StatusBadRequest, "page", "at most %d with per_page %d: search reaches the first %d hits",
			maxSearchPage(q.PerPage), q.PerPage, lim.Depth)
	}
	return q, nil
}

// search runs q. A query whose words the analyzer splits into more terms
// than the limit (one word "a-b-c-…", a run of CJK characters) is refused
// as searchQuery refuses too many words: a problem naming q.
func (h *Handler) search(q search.Query) (search.Result, error) {
	res, err := h.cfg.Search.Search(q)
	var tm *search.TooManyTermsError
	if errors.As(err, &tm) {
		return res, fieldProblem(http.StatusBadRequest, "q", "at most %d words, not %d (a-b-c counts as three)", tm.Max, tm.Terms)
	}
	return res, err
}

// maxSearchPage is the last page a search may reach with perPage hits a
// page.
func maxSearchPage(perPage int) int {
	return min(searchLimits.Page, max(1, searchLimits.Depth/max(1, perPage)))
}
