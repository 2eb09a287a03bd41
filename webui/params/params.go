// Package params reads the query parameters that more than one area
// reads, the same way for all of them: positive integers within bounds,
// and search queries with the limits on what one search may cost (the
// API's GET /api/v1/search and the site's /search enforce the same ones).
// A parameter out of bounds is an *httperr.Error naming it.
package params

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/chronicle-cms/chronicle/projections/search"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// SearchLimits bound what one search may cost: the API (GET
// /api/v1/search) and the public page (/search) read queries through
// Search alone, so both enforce these same limits.
var SearchLimits = struct {
	QueryChars int // characters of q
	QueryBytes int // bytes of q: what the characters may take in UTF-8
	Terms      int // words of q (a quoted phrase counts each word), and terms as the analyzer splits them (search.MaxTerms)
	FilterLen  int // bytes of category, tag and year
	PerPage    int // hits per page
	Page       int // page number
	Depth      int // page × per_page: hits ranked to reach a page
}{QueryChars: 500, QueryBytes: 2000, Terms: search.MaxTerms, FilterLen: 100, PerPage: 100, Page: 1000, Depth: 10000}

// Search reads q, category, tag, year, sort, page and per_page, and
// refuses a query over SearchLimits with a problem naming the parameter.
func Search(r *http.Request) (search.Query, error) {
	lim := SearchLimits
	v := r.URL.Query()
	q := search.Query{Q: v.Get("q"), Category: v.Get("category"), Tag: v.Get("tag"), Year: v.Get("year"), Sort: v.Get("sort")}
	if len(q.Q) > lim.QueryBytes || utf8.RuneCountInString(q.Q) > lim.QueryChars {
		return q, httperr.Field(http.StatusBadRequest, "q", "at most %d characters", lim.QueryChars)
	}
	if n := len(strings.Fields(strings.ReplaceAll(q.Q, `"`, " "))); n > lim.Terms {
		return q, httperr.Field(http.StatusBadRequest, "q", "at most %d words, not %d", lim.Terms, n)
	}
	for _, f := range []struct{ name, value string }{{"category", q.Category}, {"tag", q.Tag}, {"year", q.Year}} {
		if len(f.value) > lim.FilterLen {
			return q, httperr.Field(http.StatusBadRequest, f.name, "at most %d characters", lim.FilterLen)
		}
	}
	if q.Sort != "" && q.Sort != "relevance" && q.Sort != "date" {
		return q, httperr.Field(http.StatusBadRequest, "sort", "must be \"relevance\" or \"date\"")
	}
	var err error
	if q.Page, err = Int(r, "page", 1, lim.Page); err != nil {
		return q, err
	}
	if q.PerPage, err = Int(r, "per_page", 10, lim.PerPage); err != nil {
		return q, err
	}
	if q.Page > MaxSearchPage(q.PerPage) {
		return q, httperr.Field(http.StatusBadRequest, "page", "at most %d with per_page %d: search reaches the first %d hits",
			MaxSearchPage(q.PerPage), q.PerPage, lim.Depth)
	}
	return q, nil
}

// Searcher runs searches.
type Searcher interface {
	Search(q search.Query) (search.Result, error)
}

// RunSearch runs q on s. A query whose words the analyzer splits into
// more terms than the limit (one word "a-b-c-…", a run of CJK
// characters) is refused as Search refuses too many words: an error
// naming q. Without a searcher (nil) the answer is 503.
func RunSearch(s Searcher, q search.Query) (search.Result, error) {
	if s == nil {
		return search.Result{}, httperr.New(http.StatusServiceUnavailable, "search is not available on this node")
	}
	res, err := s.Search(q)
	var tm *search.TooManyTermsError
	if errors.As(err, &tm) {
		return res, httperr.Field(http.StatusBadRequest, "q", "at most %d words, not %d (a-b-c counts as three)", tm.Max, tm.Terms)
	}
	return res, err
}

// MaxSearchPage is the last page a search may reach with perPage hits a
// page.
func MaxSearchPage(perPage int) int {
	return min(SearchLimits.Page, max(1, SearchLimits.Depth/max(1, perPage)))
}

// Clip shortens what a client sent for quoting it back in a message.
func Clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Int reads a positive integer query parameter within [1, max], def when
// it is absent.
func Int(r *http.Request, name string, def, max int) (int, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, httperr.Field(http.StatusBadRequest, name, "must be a whole number from 1 to %d, not %q", max, Clip(v))
	}
	return n, nil
}
