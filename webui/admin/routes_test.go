package admin

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/session"
)

// Every admin route but the sign-in page and the assets sends an
// anonymous browser to the sign-in page, whatever its method; the
// routes come from the one list Mount routes.
func TestEveryRouteNeedsASignIn(t *testing.T) {
	dir := t.TempDir()
	store, err := session.OpenBolt(filepath.Join(dir, "sessions.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cfg := Config{Sessions: session.NewManager(session.Config{Store: store, Path: "/admin"}),
		Auth:   &auth.Authenticator{Accounts: auth.NewStore(filepath.Join(dir, "accounts"), auth.Argon2Params{Time: 1, Memory: 1024, Threads: 1}), SignIns: auth.NewSignIns(time.Second, 5)},
		Render: func(string) (template.HTML, string) { return "", "" }}
	r := mux.NewRouter()
	Mount(r, cfg)
	h := newHandler(cfg)
	signedInRoutes := 0
	for _, rt := range h.routes() {
		path := "/admin" + strings.NewReplacer("{id}", "some-post", "{name}", "admin.css", "{slug}", "some-category", "{revision}", "0123456789abcdef0123456789abcdef01234567",
			"{rev}", "2026-01-01T00:00:00Z", "{path:.*}", "posts/x", "{hash}", "0123456789abcdef0123456789abcdef01234567").Replace(rt.path)
		req := httptest.NewRequest(rt.method, path, strings.NewReader("title=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rt.access == anyone {
			if rec.Code == http.StatusSeeOther && strings.HasPrefix(rec.Header().Get("Location"), "/admin/login") {
				t.Errorf("%s %s is open to anyone but redirects to sign in", rt.method, rt.path)
			}
			continue
		}
		signedInRoutes++
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/admin/login") {
			t.Errorf("%s %s anonymous: %d %q, want a redirect to the sign-in page", rt.method, rt.path, rec.Code, rec.Header().Get("Location"))
		}
	}
	if signedInRoutes < 8 {
		t.Fatalf("only %d routes checked", signedInRoutes)
	}
	// A page that does not exist says so only to someone signed in.
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/no-such-page", nil))
	if rec.Code != http.StatusSeeOther {
		t.Errorf("unknown admin page, anonymous: %d", rec.Code)
	}
}
