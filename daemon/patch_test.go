package daemon

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

const mergePatch = "application/merge-patch+json"

// patch sends a JSON Merge Patch.
func (s *site) patch(path, tok string, body any, headers ...string) response {
	s.t.Helper()
	return s.do("PATCH", path, tok, body, append([]string{"Content-Type", mergePatch}, headers...)...)
}

// PATCH changes only the fields it names, on posts, categories, settings,
// profile and media; PUT still replaces; If-Match works on both; bad
// patches are refused naming the field and change nothing.
func TestPatchChangesOnlyWhatItNames(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	ed, admin := s.token("ed@example.org"), s.token("admin@example.org")
	mustStatus(t, s.do("POST", "/api/v1/categories", ed, map[string]string{"name": "News", "description": "What happened"}), 201)
	r := s.do("POST", "/api/v1/posts", ed, postBody("Hello, world", "status", "published", "categories", []string{"news"},
		"tags", []string{"Meta"}, "excerpt", "Short", "meta", map[string]string{"description": "Card text"}))
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)
	url := "/api/v1/posts/" + p.ID

	// The README's update: only a title. Everything else stays.
	r = s.patch(url, ed, map[string]any{"title": "Hello again"}, "If-Match", r.header.Get("ETag"))
	mustStatus(t, r, 200)
	var got struct {
		apiPost
		Excerpt string
		Meta    struct{ Description, Image string }
	}
	r.json(t, &got)
	if got.Title != "Hello again" || got.Content != "Some *Markdown* for Hello, world.\n" || got.Status != "published" ||
		fmt.Sprint(got.Categories, got.Tags) != "[news] [Meta]" || got.Excerpt != "Short" || got.Meta.Description != "Card text" {
		t.Fatalf("after PATCH of the title: %s", r.body)
	}
	if r.header.Get("ETag") != `"`+got.Blob+`"` {
		t.Fatalf("ETag %s, body blob %s", r.header.Get("ETag"), got.Blob)
	}
	tag := r.header.Get("ETag")

	// Nested objects merge; null removes (back to the default).
	r = s.patch(url, ed, map[string]any{"tags": nil, "excerpt": nil, "meta": map[string]any{"image": "https://example.org/a.png"}}, "If-Match", tag)
	mustStatus(t, r, 200)
	got.Tags, got.Excerpt = nil, ""
	r.json(t, &got)
	if len(got.Tags) != 0 || got.Excerpt != "" || got.Meta.Description != "Card text" || got.Meta.Image != "https://example.org/a.png" || got.Content == "" {
		t.Fatalf("after PATCH with nulls: %s", r.body)
	}
	stale := tag
	tag = r.header.Get("ETag")
	// The stale ETag is refused, by PATCH as by PUT.
	for _, m := range []string{"PATCH", "PUT"} {
		r = s.do(m, url, ed, postBody("Lost"), "If-Match", stale, "Content-Type", map[string]string{"PATCH": mergePatch, "PUT": "application/json"}[m])
		mustStatus(t, r, 412)
	}
	// An unchanged PATCH commits nothing and answers the same version.
	head := git(t, s.repoDir(), "rev-parse", "main")
	r = s.patch(url, ed, map[string]any{"title": "Hello again"}, "If-Match", tag)
	mustStatus(t, r, 200)
	if r.header.Get("ETag") != tag || git(t, s.repoDir(), "rev-parse", "main") != head {
		t.Fatalf("a PATCH that changes nothing: ETag %s (was %s), main moved: %v", r.header.Get("ETag"), tag, git(t, s.repoDir(), "rev-parse", "main") != head)
	}

	// Bad patches: the field is named and nothing changes.
	for _, tc := range []struct {
		name, path, token, ctype string
		body                     any
		status                   int
		field, detail            string
	}{
		{"json, not merge patch", url, ed, "application/json", map[string]any{"title": "x"}, 415, "", "application/merge-patch+json"},
		{"no content type", url, ed, "", map[string]any{"title": "x"}, 415, "", "application/merge-patch+json"},
		{"not an object", url, ed, mergePatch, `[1]`, 400, "", "must be a JSON object"},
		{"null body", url, ed, mergePatch, `null`, 400, "", "must be a JSON object"},
		{"unknown field", url, ed, mergePatch, map[string]any{"colour": "red"}, 400, "colour", "unknown field"},
		{"read-only field", url, ed, mergePatch, map[string]any{"id": "other"}, 400, "id", "unknown field"},
		{"wrong type", url, ed, mergePatch, map[string]any{"tags": "go"}, 400, "tags", "must be a list"},
		{"nested wrong type", url, ed, mergePatch, map[string]any{"meta": map[string]any{"image": 3}}, 400, "meta.image", "must be a string"},
		{"title removed", url, ed, mergePatch, map[string]any{"title": nil}, 422, "title", "is required"},
		{"bad status", url, ed, mergePatch, map[string]any{"status": "live"}, 422, "status", "must be"},
		{"bad date", url, ed, mergePatch, map[string]any{"published_at": "tomorrow"}, 422, "published_at", "RFC 3339"},
		{"unknown post", "/api/v1/posts/nope", ed, mergePatch, map[string]any{"title": "x"}, 404, "", "not found"},
		{"unknown category", "/api/v1/categories/sport", ed, mergePatch, map[string]any{"name": "x"}, 404, "", "not found"},
		{"category name removed", "/api/v1/categories/news", ed, mergePatch, map[string]any{"name": nil}, 422, "name", "is required"},
		{"category slug", "/api/v1/categories/news", ed, mergePatch, map[string]any{"slug": "x"}, 400, "slug", "unknown field"},
		{"settings by an editor", "/api/v1/settings", ed, mergePatch, map[string]any{"title": "Mine"}, 403, "", "your role, editor, may not change the site's settings"},
		{"bad settings", "/api/v1/settings", admin, mergePatch, map[string]any{"posts_per_page": 0}, 422, "posts_per_page", "between 1 and 100"},
		{"settings type", "/api/v1/settings", admin, mergePatch, map[string]any{"analytics": "G-1"}, 400, "analytics", "must be an object"},
		{"bad profile link", "/api/v1/profile", ed, mergePatch, map[string]any{"links": []map[string]string{{"name": "x", "url": "javascript:alert(1)"}}}, 422, "links[0].url", "not an http or https URL"},
		{"unknown media", "/api/v1/media/nope", ed, mergePatch, map[string]any{"alt": "x"}, 404, "", "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := git(t, s.repoDir(), "rev-parse", "main")
			r := s.do("PATCH", tc.path, tc.token, tc.body, "Content-Type", tc.ctype)
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
			if tc.status == 415 && r.header.Get("Accept-Patch") != mergePatch {
				t.Errorf("415 with Accept-Patch %q", r.header.Get("Accept-Patch"))
			}
			if after := git(t, s.repoDir(), "rev-parse", "main"); after != before {
				t.Fatal("a refused PATCH moved main")
			}
		})
	}

	// PUT still replaces the whole post: what it leaves out is gone.
	r = s.do("PUT", url, ed, map[string]any{"title": "Replaced"})
	mustStatus(t, r, 200)
	r.json(t, &got)
	if got.Content != "" || len(got.Categories) != 0 || got.Status != "draft" {
		t.Fatalf("PUT did not replace: %s", r.body)
	}

	// Categories: the description alone; null removes it.
	r = s.patch("/api/v1/categories/news", ed, map[string]any{"description": "Everything new"})
	mustStatus(t, r, 200)
	catTag := r.header.Get("ETag")
	if !strings.Contains(string(r.body), `"name":"News"`) || !strings.Contains(string(r.body), "Everything new") {
		t.Fatalf("category after PATCH: %s", r.body)
	}
	if g := s.do("GET", "/api/v1/categories/news", "", nil); g.header.Get("ETag") != catTag || string(g.body) != string(r.body) {
		t.Fatalf("GET answers %s %s, the PATCH %s %s", g.header.Get("ETag"), g.body, catTag, r.body)
	}
	r = s.patch("/api/v1/categories/news", ed, map[string]any{"description": nil}, "If-Match", catTag)
	mustStatus(t, r, 200)
	if strings.Contains(string(r.body), "Everything") {
		t.Fatalf("description not removed: %s", r.body)
	}
	mustStatus(t, s.patch("/api/v1/categories/news", ed, map[string]any{"name": "Old news"}, "If-Match", catTag), 412)

	// Settings: one field; null puts a setting back to its default.
	mustStatus(t, s.do("PUT", "/api/v1/settings", admin, map[string]any{"title": "My blog", "tagline": "Notes", "posts_per_page": 5}), 200)
	r = s.patch("/api/v1/settings", admin, map[string]any{"tagline": "Notes and more", "posts_per_page": nil})
	mustStatus(t, r, 200)
	var set struct {
		Title, Tagline, Language string
		PostsPerPage             int `json:"posts_per_page"`
	}
	r.json(t, &set)
	if set.Title != "My blog" || set.Tagline != "Notes and more" || set.PostsPerPage != 10 || set.Language != "en" {
		t.Fatalf("settings after PATCH: %s", r.body)
	}
	setTag := r.header.Get("ETag")
	if g := s.do("GET", "/api/v1/settings", admin, nil); g.header.Get("ETag") != setTag {
		t.Fatalf("GET settings ETag %s, the PATCH's %s", g.header.Get("ETag"), setTag)
	}
	mustStatus(t, s.patch("/api/v1/settings", admin, map[string]any{"title": "Mine"}, "If-Match", `"0000000000000000000000000000000000000000"`), 412)
	mustStatus(t, s.do("PUT", "/api/v1/settings", admin, map[string]any{"title": "Mine"}, "If-Match", `"0000000000000000000000000000000000000000"`), 412)

	// Profile: the bio alone.
	mustStatus(t, s.do("PUT", "/api/v1/profile", ed, map[string]any{"name": "Ann", "links": []map[string]string{{"name": "Web", "url": "https://ann.example.org"}}}), 200)
	r = s.patch("/api/v1/profile", ed, map[string]any{"bio": "Writes."})
	mustStatus(t, r, 200)
	if b := string(r.body); !strings.Contains(b, `"name":"Ann"`) || !strings.Contains(b, "ann.example.org") || !strings.Contains(b, "Writes.") {
		t.Fatalf("profile after PATCH: %s", b)
	}

	// Media: the caption alone.
	r = s.upload(ed, "pic.jpg", testJPEG(40, 30), "alt", "A gradient")
	mustStatus(t, r, 201)
	var m apiMedia
	r.json(t, &m)
	r = s.patch("/api/v1/media/"+m.ID, ed, map[string]any{"caption": "Colours"}, "If-Match", r.header.Get("ETag"))
	mustStatus(t, r, 200)
	r.json(t, &m)
	if m.Alt != "A gradient" || m.Caption != "Colours" {
		t.Fatalf("media after PATCH: %s", r.body)
	}
}

// Concurrent PATCHes without If-Match of different fields of one post all
// land: each is merged into the state it is committed on, never into a
// stale read.
func TestConcurrentPatchesAllApply(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	r := s.do("POST", "/api/v1/posts", tok, postBody("Race"))
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)
	// Each writer changes its own field, meta.description nested.
	fields := []string{"title", "excerpt", "content", "meta"}
	patchOf := func(f string, round int) map[string]any {
		v := fmt.Sprintf("%s %d", f, round)
		if f == "meta" {
			return map[string]any{"meta": map[string]any{"description": v}}
		}
		return map[string]any{f: v}
	}
	valueOf := func(got map[string]any, f string) string {
		if f == "meta" {
			m, _ := got["meta"].(map[string]any)
			d, _ := m["description"].(string)
			return "meta " + strings.TrimPrefix(d, "meta ")
		}
		v, _ := got[f].(string)
		return strings.TrimSpace(v)
	}
	for round := 0; round < 4; round++ {
		var wg sync.WaitGroup
		results := make([]response, len(fields))
		for i, f := range fields {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.patch("/api/v1/posts/"+p.ID, tok, patchOf(f, round))
			}()
		}
		wg.Wait()
		for _, r := range results {
			mustStatus(t, r, 200)
		}
		// The post as it is now, from the head: every field of this round.
		r := s.patch("/api/v1/posts/"+p.ID, tok, map[string]any{})
		mustStatus(t, r, 200)
		var got map[string]any
		r.json(t, &got)
		for _, f := range fields {
			if want := fmt.Sprintf("%s %d", f, round); valueOf(got, f) != want {
				t.Fatalf("round %d: %s is %q, want %q: a PATCH undid another", round, f, valueOf(got, f), want)
			}
		}
	}
	if n := git(t, s.repoDir(), "rev-list", "--count", "main"); n != fmt.Sprint(1+4*len(fields)) {
		t.Fatalf("%s commits, want %d:\n%s", n, 1+4*len(fields), git(t, s.repoDir(), "log", "--format=%s", "--stat", "main"))
	}
}

var ogImage = regexp.MustCompile(`<meta property="og:image" content="([^"]*)"`)

// feature_image, meta.image and avatar take media:<id>, the form Markdown
// uses, and pages show the upload's variants.
func TestMediaReferencesInImageFields(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	r := s.upload(tok, "pic.jpg", testJPEG(1800, 900), "alt", "A gradient")
	mustStatus(t, r, 201)
	var m apiMedia
	r.json(t, &m)
	ref := "media:" + m.ID

	r = s.do("POST", "/api/v1/posts", tok, postBody("Pictured", "status", "published", "feature_image", ref), "Prefer", "wait=5")
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)
	page := s.get("/posts/" + p.Slug)
	mustStatus(t, page, 200)
	if !strings.Contains(string(page.body), `/media/`+m.ID+`/w`) {
		t.Fatalf("the post page shows no variant of the feature image:\n%s", page.body)
	}
	if og := ogImage.FindSubmatch(page.body); og == nil || !strings.HasSuffix(string(og[1]), "/media/"+m.ID+"/w1600.jpg") {
		t.Fatalf("og:image %q", og)
	}
	// meta.image overrides the card, in the same form.
	r = s.patch("/api/v1/posts/"+p.ID, tok, map[string]any{"feature_image": nil, "meta": map[string]any{"image": ref}}, "Prefer", "wait=5")
	mustStatus(t, r, 200)
	if og := ogImage.FindSubmatch(s.get("/posts/" + p.Slug).body); og == nil || !strings.HasSuffix(string(og[1]), "/media/"+m.ID+"/w1600.jpg") {
		t.Fatalf("og:image from meta.image %q", og)
	}
	// The profile's avatar too.
	mustStatus(t, s.do("PUT", "/api/v1/profile", tok, map[string]any{"name": "Ann", "avatar": ref}, "Prefer", "wait=5"), 200)
	if about := s.get("/about"); !strings.Contains(string(about.body), "/media/"+m.ID+"/w1600.jpg") {
		t.Fatalf("the about page shows no avatar variant:\n%s", about.body)
	}

	before := git(t, s.repoDir(), "rev-parse", "main")
	for _, tc := range []struct {
		name, field string
		body        map[string]any
		detail      string
	}{
		{"unknown upload", "feature_image", postBody("X", "feature_image", "media:0123456789abcdefghjkmnpqrs"), `no media "0123456789abcdefghjkmnpqrs"`},
		{"not an id", "feature_image", postBody("X", "feature_image", "media:../x"), "is not a media reference"},
		{"meta unknown upload", "meta.image", postBody("X", "meta", map[string]string{"image": "media:nope"}), `no media "nope"`},
		{"other scheme", "feature_image", postBody("X", "feature_image", "ftp://example.org/a.png"), "neither media:<id>"},
	} {
		r := s.do("POST", "/api/v1/posts", tok, tc.body)
		mustStatus(t, r, 422)
		detail, fields := r.problem(t)
		if !strings.Contains(detail, tc.detail) || len(fields) == 0 || fields[0] != tc.field {
			t.Errorf("%s: %v %q", tc.name, fields, detail)
		}
	}
	if git(t, s.repoDir(), "rev-parse", "main") != before {
		t.Fatal("a refused reference moved main")
	}
}

// "If-Match: *" is a condition that the resource exists (RFC 9110): a
// PUT that would create a category refuses with 412, one on an existing
// category goes through.
func TestIfMatchStarNeedsTheResource(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	mustStatus(t, s.do("PUT", "/api/v1/categories/fresh", tok, map[string]string{"name": "Fresh"}, "If-Match", "*"), 412)
	mustStatus(t, s.do("PUT", "/api/v1/categories/fresh", tok, map[string]string{"name": "Fresh"}), 201)
	mustStatus(t, s.do("PUT", "/api/v1/categories/fresh", tok, map[string]string{"name": "Fresher"}, "If-Match", "*"), 200)
}
