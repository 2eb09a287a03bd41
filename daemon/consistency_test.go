package daemon

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// The API answers alike where it says it does: ETags are the versions
// the writer checks, for every resource, from the same state as the body;
// category and tag names follow one rule; search answers items like every
// list; posts of the same second are listed in the order they were made.
func TestAPIConsistency(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	ed, admin := s.token("ed@example.org"), s.token("admin@example.org")

	t.Run("ETags", func(t *testing.T) {
		etagRE := regexp.MustCompile(`^"[0-9a-f]{40}"$`)
		for _, tc := range []struct {
			name, put, get, tok string
			body                any
		}{
			{"category", "/api/v1/categories/etags", "/api/v1/categories/etags", ed, map[string]string{"name": "ETags"}},
			{"settings", "/api/v1/settings", "/api/v1/settings", admin, map[string]any{"title": "Tagged"}},
			{"profile", "/api/v1/profile", "/api/v1/profile", ed, map[string]any{"name": "Tagged"}},
		} {
			w := s.do("PUT", tc.put, tc.tok, tc.body)
			if w.status/100 != 2 || !etagRE.MatchString(w.header.Get("ETag")) {
				t.Fatalf("%s: PUT %d with ETag %q", tc.name, w.status, w.header.Get("ETag"))
			}
			g := s.do("GET", tc.get, tc.tok, nil)
			if g.header.Get("ETag") != w.header.Get("ETag") {
				t.Errorf("%s: GET ETag %q, the write's %q", tc.name, g.header.Get("ETag"), w.header.Get("ETag"))
			}
			// The ETag is what If-Match is checked against.
			mustStatus(t, s.do("PUT", tc.put, tc.tok, tc.body, "If-Match", w.header.Get("ETag")), 200)
			mustStatus(t, s.do("PUT", tc.put, tc.tok, tc.body, "If-Match", `"`+strings.Repeat("0", 40)+`"`), 412)
		}
		r := s.do("POST", "/api/v1/posts", ed, postBody("Versioned"))
		mustStatus(t, r, 201)
		var p apiPost
		r.json(t, &p)
		r = s.do("PUT", "/api/v1/posts/"+p.ID, ed, postBody("Versioned"), "If-Match", r.header.Get("ETag"))
		mustStatus(t, r, 200)
		r.json(t, &p)
		if r.header.Get("ETag") != `"`+p.Blob+`"` {
			t.Fatalf("an unchanged PUT answers ETag %s for blob %s", r.header.Get("ETag"), p.Blob)
		}
	})

	t.Run("names", func(t *testing.T) {
		mustStatus(t, s.do("POST", "/api/v1/categories", ed, map[string]string{"name": "Big News"}), 201)
		// A post names its category as it names its tags: by name.
		r := s.do("POST", "/api/v1/posts", ed, postBody("Named", "categories", []string{"Big News"}, "tags", []string{"Big News"}))
		mustStatus(t, r, 201)
		var p apiPost
		r.json(t, &p)
		if fmt.Sprint(p.Categories) != "[big-news]" {
			t.Fatalf("categories %v", p.Categories)
		}
		long := strings.Repeat("Long name ", 15) // 150 characters
		for _, tc := range []struct {
			name   string
			status int
		}{{long, 201}, {"Two\nlines", 422}, {"Tab\there", 422}, {"🙂", 422}, {"C++", 201}} {
			c := s.do("POST", "/api/v1/categories", ed, map[string]string{"name": tc.name})
			tg := s.do("POST", "/api/v1/posts", ed, postBody("Tagged", "tags", []string{tc.name}))
			if c.status != tc.status || tg.status != tc.status {
				t.Errorf("name %q: category %d, tag %d, want both %d: %s %s", tc.name, c.status, tg.status, tc.status, c.body, tg.body)
			}
			if c.status == 422 {
				if _, fields := c.problem(t); len(fields) == 0 || fields[0] != "name" {
					t.Errorf("name %q: the category's problem names %v, not name", tc.name, fields)
				}
			}
		}
	})

	t.Run("search items", func(t *testing.T) {
		r := s.do("POST", "/api/v1/posts", ed, postBody("Findable zebra", "status", "published"), "Prefer", "wait=5")
		mustStatus(t, r, 201)
		r = s.do("GET", "/api/v1/search?q=zebra", "", nil)
		mustStatus(t, r, 200)
		var res map[string]json.RawMessage
		r.json(t, &res)
		var items []struct{ Title string }
		json.Unmarshal(res["items"], &items)
		if _, hits := res["hits"]; hits || len(items) != 1 || items[0].Title != "Findable zebra" || res["page"] == nil || res["per_page"] == nil {
			t.Fatalf("search answer %s", r.body)
		}
	})

	t.Run("same second", func(t *testing.T) {
		mustStatus(t, s.do("POST", "/api/v1/categories", ed, map[string]string{"name": "Batch"}), 201)
		var titles []string
		for i := 0; i < 6; i++ {
			title := fmt.Sprintf("Batch post %d", i)
			titles = append([]string{title}, titles...) // newest first
			mustStatus(t, s.do("POST", "/api/v1/posts", ed, postBody(title, "status", "published", "categories", []string{"batch"},
				"published_at", "2026-03-01T10:00:00Z"), "Prefer", "wait=5"), 201)
		}
		want := strings.Join(titles, "|")
		var list struct{ Items []struct{ Title string } }
		s.do("GET", "/api/v1/posts?category=batch", "", nil).json(t, &list)
		var got []string
		for _, it := range list.Items {
			got = append(got, it.Title)
		}
		if strings.Join(got, "|") != want {
			t.Errorf("API order %v, want the order they were made, newest first", got)
		}
		for _, path := range []string{"/category/batch", "/category/batch/feed.json", "/archive/2026/03"} {
			body := string(s.get(path).body)
			got = nil
			for _, m := range regexp.MustCompile(`Batch post \d`).FindAllString(body, -1) {
				if len(got) == 0 || got[len(got)-1] != m {
					got = append(got, m)
				}
			}
			if strings.Join(got, "|") != want {
				t.Errorf("%s order %v, want %v", path, got, titles)
			}
		}
	})
}
