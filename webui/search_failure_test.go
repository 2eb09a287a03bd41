package webui_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/projections/render"
	"github.com/chronicle-cms/chronicle/projections/search"
	"github.com/chronicle-cms/chronicle/webui"
)

// A search that fails is said to have failed — 500 with the id of its log
// line — on the page and in the API, never answered as "no results".
func TestFailingSearchSaysSo(t *testing.T) {
	dir := t.TempDir()
	md := render.New()
	pg, err := pages.Open(pages.Config{Path: filepath.Join(dir, "pages.db"), BaseURL: "http://example.org", Renderer: md})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	ix, err := search.Open(filepath.Join(dir, "search.bleve"), md)
	if err != nil {
		t.Fatal(err)
	}
	ix.Close() // every search now fails
	var logged strings.Builder
	h := webui.New(webui.Config{Pages: pg, Search: ix, Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	for _, path := range []string{"/search?q=harbour", "/api/v1/search?q=harbour"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		body, _ := io.ReadAll(w.Body)
		if w.Code != 500 {
			t.Errorf("%s: %d, want 500", path, w.Code)
		}
		if strings.Contains(string(body), "closed") {
			t.Errorf("%s leaks the cause: %s", path, body)
		}
	}
	if n := strings.Count(logged.String(), "error_id="); n != 2 {
		t.Errorf("%d failures logged with an id, want 2:\n%s", n, logged.String())
	}
}
