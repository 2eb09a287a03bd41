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

	"github.com/chronicle-cms/chronicle/events/policy"
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

// Routes lists every route from the one table, with what it needs: a
// test can enumerate them, and the ones below are as the roles say.
func TestRoutesSayWhatTheyNeed(t *testing.T) {
	need := map[string]Route{}
	for _, rt := range Routes() {
		if !strings.HasPrefix(rt.Path, "/admin/") {
			t.Errorf("%s %s is not under /admin/", rt.Method, rt.Path)
		}
		if rt.Open && rt.Needs != "" {
			t.Errorf("%s %s is open to anyone yet needs %s", rt.Method, rt.Path, rt.Needs)
		}
		key := rt.Method + " " + rt.Path
		if _, dup := need[key]; dup {
			t.Errorf("%s is listed twice", key)
		}
		need[key] = rt
	}
	for key, want := range map[string]policy.Capability{
		"GET /admin/categories": policy.EditCategories, "POST /admin/categories/{slug}/delete": policy.EditCategories,
		"GET /admin/settings": policy.EditSettings, "GET /admin/profile": policy.EditProfile,
		"GET /admin/accounts": policy.ManageAccounts, "GET /admin/security": policy.ManageAccounts,
		"GET /admin/audit": policy.ReadAll, "GET /admin/commits/{hash}": policy.ReadAll, "POST /admin/commits/{hash}/revert": policy.Revert,
		"GET /admin/at/{rev}": policy.ReadAll, "POST /admin/rollback": policy.Rollback,
		"POST /admin/media": policy.UploadMedia, "POST /admin/media/{id}/delete": policy.UploadMedia, "GET /admin/media": "",
		"POST /admin/posts": policy.WriteOwnPosts, "POST /admin/posts/{id}": "", "GET /admin/posts/{id}/history": "",
		"GET /admin/review": policy.EditAllPosts, "POST /admin/posts/{id}/review": policy.EditAllPosts,
	} {
		rt, ok := need[key]
		if !ok {
			t.Errorf("no route %s", key)
			continue
		}
		if rt.Open || rt.Needs != want {
			t.Errorf("%s needs %q (open %v), want %q", key, rt.Needs, rt.Open, want)
		}
	}
	if !need["GET /admin/login"].Open || !need["GET /admin/static/{name}"].Open {
		t.Error("the sign-in page and the assets are not open to anyone")
	}
}
