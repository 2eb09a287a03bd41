package webui_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Words are counted as the search counts them: the site language's
// analyzer splits one space-free word into many terms (a-b-c, a run of
// CJK characters), each a term query (fuzzy on the typo-forgiving run), so
// the limit is on those terms, on the page and the API alike.
func TestSearchTermLimitCountsAnalyzedTerms(t *testing.T) {
	r, _ := newHandler(t)
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	for name, q := range map[string]string{
		"hyphenated":            strings.Repeat("bc-", 160) + "bc", // one field, 161 terms
		"slashed":               strings.Repeat("bc/", 100) + "bc",
		"CJK run":               strings.Repeat("漢字検索", 30),
		"hyphenated phrase":     `"` + strings.Repeat("bc-", 40) + `bc"`,
		"few words, many terms": "news " + strings.Repeat("q-", 40) + "q",
	} {
		for _, path := range []string{"/search?q=", "/api/v1/search?q="} {
			w := get(path + url.QueryEscape(q))
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "at most 32 words") {
				t.Errorf("%s %s: %d %.300s", name, path, w.Code, w.Body.String())
			}
		}
	}
	for _, q := range []string{"bc-de-fg", strings.Repeat("bc-", 31) + "bc", "漢字", strings.TrimSpace(strings.Repeat("alpha ", 32))} {
		for _, path := range []string{"/search?q=", "/api/v1/search?q="} {
			if w := get(path + url.QueryEscape(q)); w.Code != http.StatusOK {
				t.Errorf("%q %s: %d %.300s", q, path, w.Code, w.Body.String())
			}
		}
	}
}
