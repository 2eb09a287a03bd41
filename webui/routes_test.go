package webui_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/projections/render"
	"github.com/chronicle-cms/chronicle/projections/search"
	"github.com/chronicle-cms/chronicle/webui"
	"github.com/chronicle-cms/chronicle/webui/api"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

func newRouter(t *testing.T) *mux.Router {
	t.Helper()
	h, _ := newHandler(t)
	return h.Router
}

// newHandler returns the daemon's handler on empty projections, and its
// pages projection.
func newHandler(t *testing.T) (*webui.Router, *pages.Pages) {
	t.Helper()
	dir := t.TempDir()
	cat, err := catalogue.Open(filepath.Join(dir, "catalogue.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	tokens, err := auth.LoadTokens(filepath.Join(dir, "token.key"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	md := render.New()
	pg, err := pages.Open(pages.Config{Path: filepath.Join(dir, "pages.db"), BaseURL: "http://example.org", Renderer: md})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	ix, err := search.Open(filepath.Join(dir, "search.bleve"), md)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	h := webui.New(webui.Config{Catalogue: cat, Pages: pg, Search: ix, Git: &webui.GitConfig{Root: dir}, Media: &webui.MediaConfig{Store: dir}, Accounts: auth.NewStore(filepath.Join(dir, "accounts"), auth.Argon2Params{Time: 1, Memory: 1024, Threads: 1}),
		Tokens: tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), LoginBurst: 3, LoginEvery: time.Hour})
	return h.(*webui.Router), pg
}

type endpoint struct{ method, path string }

func endpoints(t *testing.T, r *mux.Router) []endpoint {
	var out []endpoint
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err1 := route.GetPathTemplate()
		methods, err2 := route.GetMethods()
		if err1 != nil || err2 != nil {
			return nil // a subrouter's prefix, not an endpoint
		}
		for _, m := range methods {
			out = append(out, endpoint{m, tmpl})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every route that is not deliberately public refuses an anonymous caller.
func TestProtectedRoutesRefuseAnonymousCallers(t *testing.T) {
	public := map[endpoint]bool{
		{"GET", "/healthz"}: true, {"HEAD", "/healthz"}: true, {"GET", "/readyz"}: true, {"HEAD", "/readyz"}: true,
		{"POST", "/api/v1/auth/token"}: true, {"GET", "/api/v1/openapi.json"}: true,
		{"GET", "/api/v1/posts"}: true, {"GET", "/api/v1/posts/{id}"}: true, {"GET", "/api/v1/categories"}: true,
		{"GET", "/api/v1/categories/{slug}"}: true, {"GET", "/api/v1/tags"}: true, {"GET", "/api/v1/profile"}: true,
		{"GET", "/api/v1/search"}: true, {"GET", "/api/v1/media/{id}"}: true,
	}
	// The public site: every page is for readers.
	for _, p := range []string{"/", "/page/{n}", "/posts/{slug}", "/about", "/feed.xml", "/rss.xml", "/feed.json", "/sitemap.xml",
		"/sitemap-{n}.xml", "/robots.txt", "/category/{slug}", "/category/{slug}/page/{n}", "/category/{slug}/{feed:feed.xml|rss.xml|feed.json}",
		"/tag/{slug}", "/tag/{slug}/page/{n}", "/tag/{slug}/{feed:feed.xml|rss.xml|feed.json}", "/archive/{year}", "/archive/{year}/page/{n}",
		"/archive/{year}/{month}", "/archive/{year}/{month}/page/{n}", "/search", "/static/{name}", "/media/{id}/{variant}"} {
		public[endpoint{"GET", p}], public[endpoint{"HEAD", p}] = true, true
	}
	r := newRouter(t)
	eps := endpoints(t, r)
	if len(eps) < 60 {
		t.Fatalf("only %d endpoints found", len(eps))
	}
	vars := regexp.MustCompile(`\{[^}]+\}`)
	protected := 0
	for _, ep := range eps {
		if public[ep] {
			continue
		}
		protected++
		path := strings.ReplaceAll(ep.path, "{service:git-upload-pack|git-receive-pack}", "git-upload-pack")
		path = strings.ReplaceAll(path, "{oid:[0-9a-f]{64}}", strings.Repeat("ab", 32))
		path = vars.ReplaceAllString(path, "x")
		if strings.HasSuffix(path, "/info/refs") {
			path += "?service=git-upload-pack"
		}
		req := httptest.NewRequest(ep.method, path, strings.NewReader(`{"title":"x","name":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		for _, authz := range []string{"", "Bearer nonsense", "Basic YWRtaW46YWRtaW4="} {
			if authz != "" {
				req.Header.Set("Authorization", authz)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			// Wrong passwords for git and LFS spend the sign-in budget:
			// over it they are refused with 429 and Retry-After.
			overLimit := w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") != "" && strings.HasPrefix(authz, "Basic ")
			if !overLimit && (w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "") {
				t.Errorf("%s %s with %q: %d, want 401 with WWW-Authenticate", ep.method, ep.path, authz, w.Code)
			}
		}
	}
	if protected < 11 {
		t.Fatalf("only %d protected endpoints: the route table lost its guards?", protected)
	}
}

// The OpenAPI document is valid and describes exactly the API's routes.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	b, err := api.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	var documented, routed []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" /api/v1"+path)
		}
	}
	for _, ep := range endpoints(t, newRouter(t)) {
		if strings.HasPrefix(ep.path, "/api/v1/") {
			routed = append(routed, ep.method+" "+ep.path)
		}
	}
	sort.Strings(documented)
	sort.Strings(routed)
	if strings.Join(documented, "\n") != strings.Join(routed, "\n") {
		t.Fatalf("documented:\n%s\n\nrouted:\n%s", strings.Join(documented, "\n"), strings.Join(routed, "\n"))
	}
	w := httptest.NewRecorder()
	newRouter(t).ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || !strings.Contains(w.Body.String(), `"openapi":"3.0.3"`) {
		t.Fatalf("GET openapi.json: %d %s", w.Code, w.Header())
	}
}

func TestUnknownAPIPathsAndMethodsAreProblems(t *testing.T) {
	r := newRouter(t)
	for _, tc := range []struct {
		method, path string
		status       int
	}{{"GET", "/api/v1/nope", 404}, {"PATCH", "/api/v1/posts", 405}} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.status || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: %d %q", tc.method, tc.path, w.Code, w.Header().Get("Content-Type"))
		}
	}
}

func TestLoginIsRateLimited(t *testing.T) {
	r := newRouter(t)
	codes := []int{}
	for i := 0; i < 5; i++ {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/api/v1/auth/token", strings.NewReader(`{"email":"who@example.org","password":"guess number one"}`))
		req.Header.Set("Content-Type", "application/json")
		r.ServeHTTP(w, req)
		codes = append(codes, w.Code)
		if w.Code == 429 && w.Header().Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[0] != 401 || codes[2] != 401 || codes[3] != 429 || codes[4] != 429 {
		t.Fatalf("statuses %v: want three 401s, then 429s", codes)
	}
}
