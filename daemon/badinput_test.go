package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// Every kind of bad input gets a precise problem+json and leaves the
// repository exactly as it was.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	ed, admin := s.token("ed@example.org"), s.token("admin@example.org")
	mustStatus(t, s.do("POST", "/api/v1/categories", ed, map[string]string{"name": "News"}), 201)
	r := s.do("POST", "/api/v1/posts", ed, postBody("Existing", "categories", []string{"news"}))
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)
	stale := r.header.Get("ETag")
	mustStatus(t, s.do("PUT", "/api/v1/posts/"+p.ID, ed, postBody("Existing, edited", "categories", []string{"news"}), "If-Match", stale), 200)

	key, err := os.ReadFile(filepath.Join(data, "secrets", "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(c jwt.Claims, k []byte, m jwt.SigningMethod) string {
		tok, err := jwt.NewWithClaims(m, c).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	claims := func(exp time.Time) auth.Claims {
		return auth.Claims{Role: auth.RoleAdmin, RegisteredClaims: jwt.RegisteredClaims{Issuer: auth.Issuer, Subject: "admin@example.org",
			Audience: jwt.ClaimStrings{auth.Audience}, IssuedAt: jwt.NewNumericDate(exp.Add(-time.Hour)), ExpiresAt: jwt.NewNumericDate(exp)}}
	}
	expired := sign(claims(time.Now().Add(-time.Minute)), key, jwt.SigningMethodHS256)
	forged := sign(claims(time.Now().Add(time.Hour)), []byte(strings.Repeat("k", 32)), jwt.SigningMethodHS256)
	unsafeNone, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(time.Now().Add(time.Hour))).SignedString(jwt.UnsafeAllowNoneSignatureType)

	before := git(t, s.repoDir(), "rev-parse", "main")
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		headers                   []string
		status                    int
		field, detail             string
	}{
		{"malformed JSON", "POST", "/api/v1/posts", ed, `{"title": "x",`, nil, 400, "", "malformed JSON"},
		{"not an object", "POST", "/api/v1/posts", ed, `[1,2]`, nil, 400, "", "must be a JSON object"},
		{"trailing data", "POST", "/api/v1/posts", ed, `{"title":"x"} {}`, nil, 400, "", "unexpected data after the object"},
		{"empty body", "POST", "/api/v1/posts", ed, ``, nil, 400, "", "empty"},
		{"unknown field", "POST", "/api/v1/posts", ed, `{"title":"x","colour":"red"}`, nil, 400, "colour", "unknown field"},
		{"wrong type", "POST", "/api/v1/posts", ed, `{"title":"x","tags":"go"}`, nil, 400, "tags", "must be a list"},
		{"missing title", "POST", "/api/v1/posts", ed, map[string]any{"content": "x"}, nil, 422, "title", "is required"},
		{"10 KB title", "POST", "/api/v1/posts", ed, postBody(strings.Repeat("t", 10<<10)), nil, 422, "title", "at most 200"},
		{"body over 1 MiB", "POST", "/api/v1/posts", ed, postBody("Big", "content", strings.Repeat("x", 1<<20+1)), nil, 413, "", "larger than 1048576 bytes"},
		{"slug ../x", "POST", "/api/v1/posts", ed, postBody("T", "slug", "../x"), nil, 422, "slug", `"../x" is not a slug`},
		{"slug a/b", "POST", "/api/v1/posts", ed, postBody("T", "slug", "a/b"), nil, 422, "slug", `"a/b" is not a slug`},
		{"slug taken", "POST", "/api/v1/posts", ed, postBody("T", "slug", p.Slug), nil, 409, "slug", "already used"},
		{"bad status", "POST", "/api/v1/posts", ed, postBody("T", "status", "live"), nil, 422, "status", `must be "draft", "pending", "scheduled" or "published"`},
		{"bad date", "POST", "/api/v1/posts", ed, postBody("T", "published_at", "tomorrow"), nil, 422, "published_at", `"tomorrow" is not an RFC 3339 date-time`},
		{"bad tag", "POST", "/api/v1/posts", ed, postBody("T", "tags", []string{"  "}), nil, 422, "tags", "is not a tag"},
		{"unknown category", "POST", "/api/v1/posts", ed, postBody("T", "categories", []string{"sport"}), nil, 422, "categories", `no category "sport"`},
		{"javascript embed", "POST", "/api/v1/posts", ed, postBody("T", "embed_url", "javascript:alert(1)"), nil, 422, "embed_url", "not an http or https URL"},
		{"wrong content type", "POST", "/api/v1/posts", ed, nil, []string{"Content-Type", "text/plain"}, 415, "", "application/json"},
		{"stale If-Match", "PUT", "/api/v1/posts/" + p.ID, ed, postBody("Lost update"), []string{"If-Match", stale}, 412, "", "If-Match"},
		{"weak If-Match", "PUT", "/api/v1/posts/" + p.ID, ed, postBody("Lost update"), []string{"If-Match", "W/" + stale}, 400, "", "strong ETag"},
		{"unknown post", "PUT", "/api/v1/posts/nope", ed, postBody("X"), nil, 404, "", "not found"},
		{"stale delete", "DELETE", "/api/v1/posts/" + p.ID, ed, nil, []string{"If-Match", stale}, 412, "", "If-Match"},
		{"category in use", "DELETE", "/api/v1/categories/news", ed, nil, nil, 409, "slug", "used by 1 post:"},
		{"category exists", "POST", "/api/v1/categories", ed, map[string]string{"name": "News"}, nil, 409, "slug", "exists already"},
		{"no token", "POST", "/api/v1/posts", "", postBody("T"), nil, 401, "", "needs an API token"},
		{"expired token", "POST", "/api/v1/posts", expired, postBody("T"), nil, 401, "", "the API token expired at"},
		{"forged token", "POST", "/api/v1/posts", forged, postBody("T"), nil, 401, "", "the API token is invalid"},
		{"alg none token", "POST", "/api/v1/posts", unsafeNone, postBody("T"), nil, 401, "", "the API token is invalid"},
		{"garbage token", "POST", "/api/v1/posts", "not.a.jwt", postBody("T"), nil, 401, "", "the API token is invalid"},
		{"unknown personal token", "POST", "/api/v1/posts", auth.TokenPrefix + "0123456789ab_" + strings.Repeat("A", 43), postBody("T"), nil, 401, "", "unknown or revoked personal access token"},
		{"malformed header", "POST", "/api/v1/posts", "", postBody("T"), []string{"Authorization", "Basic ZWRAZXhhbXBsZS5vcmc6eA=="}, 401, "", "malformed Authorization header"},
		{"editor changes settings", "PUT", "/api/v1/settings", ed, map[string]any{"title": "Mine"}, nil, 403, "", "your role, editor, may not change the site's settings"},
		{"bad settings", "PUT", "/api/v1/settings", admin, map[string]any{"title": "T", "posts_per_page": 0, "analytics": map[string]string{"google_analytics_id": "<script>"}}, nil, 422, "posts_per_page", "between 1 and 100"},
		{"bad profile link", "PUT", "/api/v1/profile", ed, map[string]any{"name": "A", "links": []map[string]string{{"name": "x", "url": "javascript:alert(1)"}}}, nil, 422, "links[0].url", "not an http or https URL"},
		{"bad category slug", "PUT", "/api/v1/categories/Bad_Slug", ed, map[string]string{"name": "X"}, nil, 422, "slug", "is not a slug"},
		{"bad page", "GET", "/api/v1/posts?page=0", "", nil, nil, 400, "page", "whole number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(tc.method, tc.path, tc.token, tc.body, tc.headers...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			detail, fields := r.problem(t)
			if !strings.Contains(detail, tc.detail) {
				t.Errorf("detail %q does not say %q", detail, tc.detail)
			}
			if tc.field != "" && (len(fields) == 0 || fields[0] != tc.field) {
				t.Errorf("fields %v, want %q", fields, tc.field)
			}
			if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	if after := git(t, s.repoDir(), "rev-parse", "main"); after != before {
		t.Fatalf("bad input moved main from %s to %s", before, after)
	}
	git(t, s.repoDir(), "fsck", "--strict", "--no-dangling")
}
