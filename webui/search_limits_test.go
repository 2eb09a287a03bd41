package webui_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// The public search page and the search API refuse the same over-limit
// queries, the page with a themed message and a 4xx, before searching.
func TestSearchLimitsOnPageAndAPI(t *testing.T) {
	r, _ := newHandler(t)
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	big := strings.Repeat("word ", 56<<10/5) // the 56 KB query of the report
	many := strings.TrimSpace(strings.Repeat("alpha ", 33))
	for _, tc := range []struct{ name, query, says string }{
		{"56 KB query", "q=" + url.QueryEscape(big), "at most 500 characters"},
		{"501 characters", "q=" + strings.Repeat("é", 501), "at most 500 characters"},
		{"33 words", "q=" + url.QueryEscape(many), "at most 32 words"},
		{"33 words as a phrase", "q=" + url.QueryEscape(`"`+many+`"`), "at most 32 words"},
		{"long tag", "q=go&tag=" + strings.Repeat("t", 101), "at most 100 characters"},
		{"page 1001", "q=go&page=1001", "from 1 to 1000"},
		{"per_page 101", "q=go&per_page=101", "from 1 to 100"},
		{"too deep", "q=go&per_page=100&page=101", "at most 100 with per_page 100"},
		{"bad sort", "q=go&sort=random", "relevance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := get("/search?" + tc.query)
			body := w.Body.String()
			if w.Code != http.StatusBadRequest || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("page: %d %s", w.Code, w.Header().Get("Content-Type"))
			}
			if !strings.Contains(body, tc.says) || !strings.Contains(body, `class="problem" role="alert"`) || !strings.Contains(body, "<h1>Search</h1>") {
				t.Errorf("page does not say %q in the theme:\n%s", tc.says, body)
			}
			if len(body) > 32<<10 || strings.Contains(body, "word word word") || strings.Contains(body, "No posts match") {
				t.Errorf("page of %d bytes echoes the query or searched", len(body))
			}
			w = get("/api/v1/search?" + tc.query)
			if w.Code != http.StatusBadRequest || w.Header().Get("Content-Type") != "application/problem+json" || !strings.Contains(w.Body.String(), tc.says) {
				t.Errorf("API: %d %s", w.Code, w.Body.String())
			}
		})
	}
	// Within the limits both search.
	for _, q := range []string{"q=" + url.QueryEscape(strings.TrimSpace(strings.Repeat("alpha ", 32))), "q=go&per_page=100&page=100", "q=" + strings.Repeat("é", 500)} {
		if w := get("/search?" + q); w.Code != http.StatusOK || strings.Contains(w.Body.String(), `class="problem"`) {
			t.Errorf("page %s: %d", q, w.Code)
		}
		if w := get("/api/v1/search?" + q); w.Code != http.StatusOK {
			t.Errorf("API %s: %d %s", q, w.Code, w.Body.String())
		}
	}
}
