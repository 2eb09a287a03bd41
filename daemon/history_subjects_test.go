package daemon

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// TestRestoreEverySubject edits a category, the settings, the profile
// and a media item's text twice each, restores the first revision of
// each (a restore needs the current version), and checks the state and
// that the history records the restore; a deleted category comes back.
func TestRestoreEverySubject(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ad@example.org", auth.RoleAdmin)
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ad@example.org")
	wait := []string{"Prefer", "wait=5"}
	var pic struct{ ID string }
	r := s.upload(tok, "p.jpg", testJPEG(40, 30), "alt", "First alt")
	mustStatus(t, r, 201)
	r.json(t, &pic)
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "Books", "description": "First"}, wait...), 201)

	tests := []struct {
		name, base, field string
		first, second     map[string]any // nil: made above
	}{
		{"category", "/api/v1/categories/books", "name", nil, map[string]any{"name": "Tomes"}},
		{"settings", "/api/v1/settings", "title", map[string]any{"title": "First title"}, map[string]any{"title": "Second title"}},
		{"profile", "/api/v1/profile", "name", map[string]any{"name": "First name"}, map[string]any{"name": "Second name"}},
		{"media", "/api/v1/media/" + pic.ID, "alt", nil, map[string]any{"alt": "Second alt"}},
	}
	for _, tt := range tests {
		get := func() (map[string]any, string) {
			r := s.do("GET", tt.base, tok, nil)
			mustStatus(t, r, 200)
			var m map[string]any
			r.json(t, &m)
			return m, r.header.Get("ETag")
		}
		for _, edit := range []map[string]any{tt.first, tt.second} {
			if edit == nil {
				continue
			}
			_, etag := get()
			h := append([]string{"Content-Type", "application/merge-patch+json"}, wait...)
			if etag != "" {
				h = append(h, "If-Match", etag)
			}
			if r := s.do("PATCH", tt.base, tok, edit, h...); r.status != 200 && r.status != 201 {
				t.Fatalf("%s: edit: %d %s", tt.name, r.status, r.body)
			}
		}
		var revs struct {
			Items []struct {
				Revision, Type, RestoredFrom string
				Version                      int
			}
		}
		r := s.do("GET", tt.base+"/revisions", tok, nil)
		mustStatus(t, r, 200)
		r.json(t, &revs)
		if len(revs.Items) < 2 {
			t.Fatalf("%s: revisions %+v", tt.name, revs.Items)
		}
		older := revs.Items[1]
		var then map[string]any
		r = s.do("GET", tt.base+"/revisions/"+older.Revision, tok, nil)
		mustStatus(t, r, 200)
		var wrapped map[string]json.RawMessage
		r.json(t, &wrapped)
		json.Unmarshal(wrapped[tt.name], &then)

		_, etag := get()
		mustStatus(t, s.do("POST", tt.base+"/restore", tok, map[string]string{"revision": older.Revision}, wait...), 428)
		r = s.do("POST", tt.base+"/restore", tok, map[string]string{"revision": older.Revision}, append(wait, "If-Match", etag)...)
		mustStatus(t, r, 200)
		now, _ := get()
		if now[tt.field] != then[tt.field] || now[tt.field] == nil {
			t.Errorf("%s: after the restore %s is %v, want %v", tt.name, tt.field, now[tt.field], then[tt.field])
		}
		r = s.do("GET", tt.base+"/revisions", tok, nil)
		r.json(t, &revs)
		if revs.Items[0].Type != tt.name+".restored" {
			t.Errorf("%s: the restore's revision: %+v", tt.name, revs.Items[0])
		}
	}

	// A deleted category comes back.
	etag := s.do("GET", "/api/v1/categories/books", tok, nil).header.Get("ETag")
	mustStatus(t, s.do("DELETE", "/api/v1/categories/books", tok, nil, "If-Match", etag, "Prefer", "wait=5"), 204)
	var revs struct{ Items []struct{ Revision string } }
	s.do("GET", "/api/v1/categories/books/revisions", tok, nil).json(t, &revs)
	mustStatus(t, s.do("POST", "/api/v1/categories/books/restore", tok, map[string]string{"revision": revs.Items[1].Revision}, "Prefer", "wait=5"), 200)
	var c struct{ Name string }
	s.do("GET", "/api/v1/categories/books", tok, nil).json(t, &c)
	if c.Name != "Books" {
		t.Errorf("undeleted category: %+v", c)
	}
	// A revision whose picture was deleted since is not restored with a
	// dangling reference.
	var pic2 struct{ ID string }
	r = s.upload(tok, "q.jpg", testJPEG(30, 20))
	r.json(t, &pic2)
	var post apiPost
	r = s.do("POST", "/api/v1/posts", tok, postBody("Pictured", "feature_image", "media:"+pic2.ID), wait...)
	r.json(t, &post)
	r = s.do("PUT", "/api/v1/posts/"+post.ID, tok, postBody("Pictured"), append(wait, "If-Match", `"`+post.Blob+`"`)...)
	mustStatus(t, r, 200)
	r.json(t, &post)
	mediaTag := s.do("GET", "/api/v1/media/"+pic2.ID, tok, nil).header.Get("ETag")
	mustStatus(t, s.do("DELETE", "/api/v1/media/"+pic2.ID, tok, nil, append(wait, "If-Match", mediaTag)...), 204)
	var prevs struct{ Items []struct{ Revision string } }
	s.do("GET", "/api/v1/posts/"+post.ID+"/revisions", tok, nil).json(t, &prevs)
	r = s.do("POST", "/api/v1/posts/"+post.ID+"/restore", tok, map[string]string{"revision": prevs.Items[1].Revision}, "If-Match", `"`+post.Blob+`"`)
	if d, _ := r.problem(t); r.status != 422 || !strings.Contains(d, "no media") {
		t.Errorf("restoring a deleted picture's reference: %d %q", r.status, d)
	}
	// Settings history is for admins.
	mustStatus(t, s.do("GET", "/api/v1/settings/revisions", s.token("ed@example.org"), nil), 403)
}
