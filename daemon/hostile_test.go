package daemon

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mmcdole/gofeed"
	nethtml "golang.org/x/net/html"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

const evil = `</script><script>alert(1)</script><img src=x onerror=alert(2)>"'`

// hostileSite fills a site with hostile text in every field a reader sees,
// through the API and through a hand-written file pushed with git.
func hostileSite(t *testing.T, s *site, tok string) {
	t.Helper()
	wait := []string{"Prefer", "wait=5"}
	mustStatus(t, s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "Site " + evil, "tagline": evil, "description": evil, "posts_per_page": 5, "language": "en"}, wait...), 200)
	mustStatus(t, s.do("PUT", "/api/v1/profile", tok, map[string]any{"name": "Ann " + evil, "bio": "Bio " + evil + "\n\n[x](javascript:alert(3))",
		"links": []map[string]string{{"name": "<script>alert(4)</script>", "url": "https://example.org/?q=\"><script>alert(4)</script>"}}}, wait...), 200)
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"slug": "evil", "name": "Cat " + evil, "description": evil}, wait...), 201)
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, map[string]any{"title": "Post " + evil, "slug": "evil-post", "status": "published",
		"excerpt": "Excerpt " + evil, "categories": []string{"evil"}, "tags": []string{"<script>alert(1)</script>"},
		"content": "Body " + evil + "\n\n<script>alert(5)</script>\n\n[click](javascript:alert(6)) <a href=\"javascript:alert(7)\">a</a>\n\n![i](javascript:alert(8))\n\n<div onmouseover=\"alert(9)\">x</div>\n",
		"meta":    map[string]string{"description": "Meta " + evil}}, wait...), 201)
	// The same through a file written by hand and pushed.
	work := filepath.Join(t.TempDir(), "w")
	git(t, ".", "clone", "-q", s.repoDir(), work)
	os.WriteFile(filepath.Join(work, "posts", "hand-evil.md"), []byte("---\ntitle: 'Hand "+strings.ReplaceAll(evil, "'", "''")+"'\nstatus: published\ntags: [\"<b>bold</b>\"]\ncategories: [evil]\n---\n<script>alert(10)</script>\n\n<iframe src=\"https://evil.example\"></iframe>\n"), 0o644)
	git(t, work, "add", ".")
	git(t, work, "commit", "-q", "-m", "evil by hand")
	git(t, work, "push", "-q", "origin", "HEAD:main")
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error { return wantStatus("/posts/hand-evil", s.get("/posts/hand-evil"), 200) })
}

// checkHTML parses a page and fails on anything content could execute:
// script elements other than JSON-LD (which must parse as JSON), event
// handler attributes, javascript:/data:/vbscript: URLs, frames, objects,
// and markup smuggled in through text fields.
func checkHTML(t *testing.T, path, body string) {
	t.Helper()
	z := nethtml.NewTokenizer(strings.NewReader(body))
	inJSONLD := false
	for {
		tt := z.Next()
		switch tt {
		case nethtml.ErrorToken:
			return
		case nethtml.EndTagToken:
			inJSONLD = false
		case nethtml.TextToken:
			if inJSONLD {
				var v any
				if err := json.Unmarshal(z.Text(), &v); err != nil {
					t.Errorf("%s: JSON-LD does not parse: %v", path, err)
				}
			}
		case nethtml.StartTagToken, nethtml.SelfClosingTagToken:
			tok := z.Token()
			inJSONLD = false
			switch tok.Data {
			case "script":
				if attr(tok, "type") != "application/ld+json" {
					t.Errorf("%s: a script element: %s", path, tok)
				}
				inJSONLD = true
			case "iframe", "object", "embed", "frame", "base", "b", "svg", "math":
				t.Errorf("%s: a %s element: %s", path, tok.Data, tok)
			case "img":
				if attr(tok, "src") == "x" {
					t.Errorf("%s: an injected image: %s", path, tok)
				}
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") ||
					(strings.HasPrefix(v, "data:") && a.Key != "content") {
					t.Errorf("%s: attribute %s=%q on %s", path, a.Key, a.Val, tok.Data)
				}
			}
		}
	}
}

func attr(t nethtml.Token, key string) string {
	for _, a := range t.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestHostileContentIsNeutralisedEverywhere(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	tok := s.token("admin@example.org")
	hostileSite(t, s, tok)

	for _, path := range []string{"/", "/posts/evil-post", "/posts/hand-evil", "/category/evil", "/tag/script-alert-1-script",
		"/tag/b-bold-b", "/archive/" + time.Now().UTC().Format("2006"), "/about", "/search?q=alert", "/search?q=" + strings.ReplaceAll(evil, " ", "+"), "/nope"} {
		r := s.get(path)
		if r.status != 200 && path != "/nope" {
			t.Errorf("%s: %d", path, r.status)
		}
		checkHTML(t, path, string(r.body))
	}
	// Feeds: parse them, then check the HTML they carry as a reader would
	// after unescaping it.
	for _, path := range []string{"/feed.xml", "/rss.xml", "/feed.json", "/category/evil/feed.xml", "/category/evil/feed.json"} {
		body := string(s.get(path).body)
		f, err := gofeed.NewParser().ParseString(body)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(f.Items) != 2 {
			t.Errorf("%s: %d items", path, len(f.Items))
		}
		for _, it := range f.Items {
			// Content and (except in JSON Feed) summaries are HTML: check
			// them as a feed reader would render them.
			checkHTML(t, path+" content", it.Content)
			if !strings.HasSuffix(path, ".json") {
				checkHTML(t, path+" summary", it.Description)
			}
		}
		if strings.HasSuffix(path, ".xml") {
			if err := xml.Unmarshal([]byte(body), new(any)); err != nil {
				t.Errorf("%s is not well-formed XML: %v", path, err)
			}
		}
	}
	// Titles in feeds are plain text: escaped, never markup.
	if b := string(s.get("/feed.xml").body); !strings.Contains(b, "&lt;/script&gt;&lt;script&gt;alert(1)") {
		t.Errorf("the Atom feed does not carry the title as escaped text")
	}
}

// Deleting the search index and the page state, then restarting, builds
// the same site byte for byte.
func TestPublicSiteRebuildsIdentically(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	tok := s.token("admin@example.org")
	writeHistory(t, s, tok)
	hostileSite(t, s, tok)
	paths := []string{"/", "/page/2", "/page/3", "/category/news", "/category/news/page/2", "/tag/all", "/tag/t1", "/about",
		"/feed.xml", "/rss.xml", "/feed.json", "/tag/all/feed.json", "/sitemap.xml", "/robots.txt", "/nope",
		"/search?q=post", "/search?q=revised&sort=date", "/api/v1/search?q=post+category:news", "/archive/" + time.Now().UTC().Format("2006")}
	var l struct{ Items []apiPost }
	s.do("GET", "/api/v1/posts?per_page=100", "", nil).json(t, &l)
	for _, p := range l.Items {
		paths = append(paths, "/posts/"+p.Slug)
	}
	snapshot := func() map[string]string {
		m := map[string]string{}
		for _, p := range paths {
			r := s.get(p)
			m[p] = r.header.Get("ETag") + " " + r.header.Get("Last-Modified") + "\n" + string(r.body)
		}
		return m
	}
	want := snapshot()
	s.stop()
	for _, p := range []string{"projections/search.bleve", "projections/pages.db"} {
		if err := os.RemoveAll(filepath.Join(data, p)); err != nil {
			t.Fatal(err)
		}
	}
	s = startSite(t, data)
	if diff := cmp.Diff(want, snapshot()); diff != "" {
		t.Fatalf("the rebuilt site differs (-before +after):\n%s", diff)
	}
	s.stop()
	// And from git alone, with the NATS store gone as well.
	os.RemoveAll(filepath.Join(data, "projections"))
	os.RemoveAll(filepath.Join(data, "nats"))
	s = startSite(t, data)
	if diff := cmp.Diff(want, snapshot()); diff != "" {
		t.Fatalf("the site rebuilt from git differs (-before +after):\n%s", diff)
	}
}
