package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/mmcdole/gofeed"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// get fetches a public page.
func (s *site) get(path string, headers ...string) response {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.url+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// publicPaths are the pages and feeds a post can show up on.
func publicPaths(category, tag string, year int) []string {
	return []string{"/", "/category/" + category, "/tag/" + tag, fmt.Sprintf("/archive/%d", year),
		"/feed.xml", "/rss.xml", "/feed.json", "/category/" + category + "/feed.xml", "/tag/" + tag + "/rss.xml", "/sitemap.xml"}
}

// everywhere checks that text is (or is not) on every public page, and in
// search results for word.
func (s *site) everywhere(t *testing.T, paths []string, text, word string, present bool) {
	t.Helper()
	for _, p := range paths {
		r := s.get(p)
		if r.status != 200 {
			t.Errorf("%s: status %d", p, r.status)
			continue
		}
		if got := strings.Contains(string(r.body), text); got != present {
			t.Errorf("%s: contains %q = %v, want %v", p, text, got, present)
		}
	}
	if word != "" {
		for _, p := range []string{"/search?q=" + word, "/api/v1/search?q=" + word} {
			if got := strings.Contains(string(s.get(p).body), strings.TrimPrefix(text, "/posts/")); got != present {
				t.Errorf("%s: contains %q = %v, want %v", p, text, got, present)
			}
		}
	}
}

func TestReadersSeeEveryChangeAndNeverDrafts(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	tok := s.token("admin@example.org")
	wait := []string{"Prefer", "wait=5"}
	mustStatus(t, s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "Field Notes", "posts_per_page": 5, "language": "en"}, wait...), 200)
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "Travel"}, wait...), 201)
	year := time.Now().UTC().Year()
	paths := publicPaths("travel", "walking", year)

	// A draft is nowhere public.
	r := s.do("POST", "/api/v1/posts", tok, postBody("Zanzibar draft", "categories", []string{"travel"}, "tags", []string{"Walking"}, "content", "Quokkas everywhere.\n"), wait...)
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)
	// The tag has no published post yet: its pages do not exist.
	if st := s.get("/tag/walking").status; st != 404 {
		t.Fatalf("tag page of a draft-only tag: %d", st)
	}
	s.everywhere(t, paths[:2], "Zanzibar", "quokkas", false)
	if st := s.get("/posts/" + p.Slug).status; st != 404 {
		t.Fatalf("draft post page: %d", st)
	}

	// Published: everywhere.
	etag := r.header.Get("ETag")
	r = s.do("PUT", "/api/v1/posts/"+p.ID, tok, postBody("Zanzibar walks", "status", "published", "categories", []string{"travel"}, "tags", []string{"Walking"}, "content", "Quokkas everywhere.\n"), append(wait, "If-Match", etag)...)
	mustStatus(t, r, 200)
	s.everywhere(t, paths, "/posts/"+p.Slug, "quokkas", true)
	s.everywhere(t, paths[:len(paths)-1], "Zanzibar walks", "", true)
	if body := string(s.get("/posts/" + p.Slug).body); !strings.Contains(body, "<h1>Zanzibar walks</h1>") || !strings.Contains(body, "Quokkas everywhere.") {
		t.Fatalf("post page:\n%s", body)
	}

	// Updated: the new title everywhere, the old nowhere.
	etag = r.header.Get("ETag")
	r = s.do("PUT", "/api/v1/posts/"+p.ID, tok, postBody("Zanzibar rambles", "status", "published", "categories", []string{"travel"}, "tags", []string{"Walking"}, "content", "Wombats now.\n"), append(wait, "If-Match", etag)...)
	mustStatus(t, r, 200)
	s.everywhere(t, paths[:len(paths)-1], "Zanzibar rambles", "wombats", true)
	s.everywhere(t, paths[:len(paths)-1], "Zanzibar walks", "quokkas", false)

	// A renamed category: navigation, its page and the post's meta line.
	mustStatus(t, s.do("PUT", "/api/v1/categories/travel", tok, map[string]string{"name": "Journeys"}, wait...), 200)
	for _, path := range []string{"/", "/category/travel", "/posts/" + p.Slug, "/about"} {
		if body := string(s.get(path).body); !strings.Contains(body, ">Journeys</a>") || strings.Contains(body, ">Travel</a>") {
			t.Errorf("%s after renaming the category:\n%s", path, body)
		}
	}

	// Settings: the new title on every page.
	mustStatus(t, s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "Field Journal", "posts_per_page": 5, "language": "en"}, wait...), 200)
	for _, path := range []string{"/", "/posts/" + p.Slug, "/category/travel", "/tag/walking", "/about", "/search?q=x", "/nope"} {
		if body := string(s.get(path).body); !strings.Contains(body, "Field Journal") || strings.Contains(body, "Field Notes") {
			t.Errorf("%s after changing the site title", path)
		}
	}

	// Unpublished: gone again, and the tag with it.
	etag = r.header.Get("ETag")
	r = s.do("PUT", "/api/v1/posts/"+p.ID, tok, postBody("Zanzibar rambles", "status", "draft", "categories", []string{"travel"}, "tags", []string{"Walking"}, "content", "Wombats now.\n"), append(wait, "If-Match", etag)...)
	mustStatus(t, r, 200)
	s.everywhere(t, []string{"/", "/category/travel", "/feed.xml", "/rss.xml", "/feed.json", "/sitemap.xml"}, "Zanzibar", "wombats", false)
	for _, path := range []string{"/posts/" + p.Slug, "/tag/walking", fmt.Sprintf("/archive/%d", year)} {
		if st := s.get(path).status; st != 404 {
			t.Errorf("%s after unpublishing: %d", path, st)
		}
	}

	// Published again, then deleted: gone, 404.
	etag = r.header.Get("ETag")
	mustStatus(t, s.do("PUT", "/api/v1/posts/"+p.ID, tok, postBody("Zanzibar rambles", "status", "published", "categories", []string{"travel"}, "content", "Wombats now.\n"), append(wait, "If-Match", etag)...), 200)
	if st := s.get("/posts/" + p.Slug).status; st != 200 {
		t.Fatalf("republished: %d", st)
	}
	mustStatus(t, s.do("DELETE", "/api/v1/posts/"+p.ID, tok, nil, wait...), 204)
	s.everywhere(t, []string{"/", "/category/travel", "/feed.xml", "/rss.xml", "/feed.json", "/sitemap.xml"}, "Zanzibar", "wombats", false)
	if st := s.get("/posts/" + p.Slug).status; st != 404 {
		t.Fatalf("deleted post page: %d", st)
	}
}

var articleRE = regexp.MustCompile(`<article class="summary">`)

func TestPaginationAtTheEdges(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	tok := s.token("admin@example.org")
	wait := []string{"Prefer", "wait=5"}
	const per = 3
	mustStatus(t, s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "P", "posts_per_page": per, "language": "en"}, wait...), 200)
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "C"}, wait...), 201)
	count := func(path string) (int, int) {
		r := s.get(path)
		return r.status, len(articleRE.FindAll(r.body, -1))
	}
	n := 0
	for _, target := range []int{0, 1, per, per + 1, 2*per + 1} {
		for ; n < target; n++ {
			mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody(fmt.Sprintf("Post %02d", n), "status", "published", "categories", []string{"c"}, "tags", []string{"t"}), wait...), 201)
		}
		pages := max(1, (n+per-1)/per)
		for _, base := range []string{"", "/category/c", "/tag/t"} {
			if base == "/tag/t" && n == 0 {
				continue // no tag without posts
			}
			for page := 1; page <= pages+1; page++ {
				path := firstNonEmpty(base, "/")
				if page > 1 {
					path = fmt.Sprintf("%s/page/%d", base, page)
				}
				status, items := count(path)
				want := min(per, n-(page-1)*per)
				switch {
				case page > pages:
					if status != 404 {
						t.Errorf("n=%d %s: status %d, want 404", n, path, status)
					}
				case status != 200 || items != want:
					t.Errorf("n=%d %s: status %d with %d posts, want 200 with %d", n, path, status, items, want)
				}
			}
		}
	}
	// /page/1 is the home page's address, redirected; nonsense and unknown
	// things are the themed 404.
	if r := s.get("/page/1"); r.status != 301 || r.header.Get("Location") != "/" {
		t.Errorf("/page/1: %d %s", r.status, r.header.Get("Location"))
	}
	for _, path := range []string{"/page/0", "/page/x", "/page/01", "/posts/nope", "/category/nope", "/tag/nope", "/archive/1999", "/archive/2026/13", "/whatever", "/category/c/page/99"} {
		r := s.get(path)
		if r.status != 404 || !strings.Contains(string(r.body), "Page not found") || !strings.Contains(string(r.body), "<title>Page not found — P</title>") {
			t.Errorf("%s: %d, want the themed 404", path, r.status)
		}
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestPagesHaveValidatorsAndCompression(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	tok := s.token("admin@example.org")
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("Cached", "status", "published", "content", strings.Repeat("Some text. ", 200)), "Prefer", "wait=5"), 201)
	r := s.get("/posts/cached", "Accept-Encoding", "gzip")
	if r.status != 200 || r.header.Get("Content-Encoding") != "gzip" || r.header.Get("ETag") == "" || r.header.Get("Last-Modified") == "" || r.header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("headers: %v", r.header)
	}
	if r2 := s.get("/posts/cached", "If-None-Match", r.header.Get("ETag")); r2.status != 304 || len(r2.body) != 0 {
		t.Fatalf("If-None-Match: %d", r2.status)
	}
	if r3 := s.get("/posts/cached", "If-Modified-Since", r.header.Get("Last-Modified")); r3.status != 304 {
		t.Fatalf("If-Modified-Since: %d", r3.status)
	}
	plain := s.get("/posts/cached")
	if plain.header.Get("Content-Encoding") != "" || !strings.Contains(string(plain.body), "<h1>Cached</h1>") || plain.header.Get("Content-Security-Policy") == "" {
		t.Fatalf("identity response: %v", plain.header)
	}
	// Brotli is made in the background after the first request that
	// accepts it; until then gzip answers. It decodes to the same page,
	// has its own ETag, and a refusal by quality is respected.
	var br response
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		br = s.get("/posts/cached", "Accept-Encoding", "gzip, deflate, br")
		if ce := br.header.Get("Content-Encoding"); ce != "br" {
			return fmt.Errorf("/posts/cached: status %d, Content-Encoding %q, want br", br.status, ce)
		}
		return nil
	})
	decoded, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br.body)))
	if err != nil || !bytes.Equal(decoded, plain.body) || len(br.body) >= len(r.body) || br.header.Get("Content-Length") != fmt.Sprint(len(br.body)) {
		t.Fatalf("brotli body: %d bytes (gzip %d), %v", len(br.body), len(r.body), err)
	}
	if etag := br.header.Get("ETag"); etag == r.header.Get("ETag") || etag == plain.header.Get("ETag") || br.header.Get("Content-Security-Policy") == "" {
		t.Fatalf("brotli headers: %v", br.header)
	}
	if r4 := s.get("/posts/cached", "If-None-Match", br.header.Get("ETag"), "Accept-Encoding", "br"); r4.status != 304 || r4.header.Get("Content-Encoding") != "" {
		t.Fatalf("If-None-Match with the brotli ETag: %d %v", r4.status, r4.header)
	}
	for header, want := range map[string]string{"br;q=0, gzip": "gzip", "gzip;q=1, br;q=0.5": "gzip", "br;q=0, gzip;q=0": "", "*": "br"} {
		if got := s.get("/posts/cached", "Accept-Encoding", header).header.Get("Content-Encoding"); got != want {
			t.Errorf("Accept-Encoding %q: %q, want %q", header, got, want)
		}
	}
	css := s.get("/static/style.css?v=" + strings.TrimPrefix(regexp.MustCompile(`style\.css\?v=([0-9a-f]+)`).FindString(string(plain.body)), "style.css?v="))
	if css.status != 200 || !strings.Contains(css.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("stylesheet: %d %v", css.status, css.header)
	}
}

func TestFeedsParse(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	tok := s.token("admin@example.org")
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "News"}), 201)
	for i := 0; i < 25; i++ {
		mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody(fmt.Sprintf("Item %d", i), "status", "published", "categories", []string{"news"}, "tags", []string{"x"}), "Prefer", "wait=5"), 201)
	}
	for _, tc := range []struct{ path, kind, version string }{
		{"/feed.xml", "atom", "1.0"}, {"/rss.xml", "rss", "2.0"}, {"/feed.json", "json", "https://jsonfeed.org/version/1.1"},
		{"/category/news/feed.xml", "atom", "1.0"}, {"/tag/x/rss.xml", "rss", "2.0"}, {"/tag/x/feed.json", "json", "https://jsonfeed.org/version/1.1"},
	} {
		r := s.get(tc.path)
		f, err := gofeed.NewParser().ParseString(string(r.body))
		if err != nil {
			t.Errorf("%s does not parse: %v", tc.path, err)
			continue
		}
		if f.FeedType != tc.kind || f.FeedVersion != tc.version || len(f.Items) != 20 || f.Title == "" {
			t.Errorf("%s: %s %s with %d items", tc.path, f.FeedType, f.FeedVersion, len(f.Items))
		}
		ids := map[string]bool{}
		for _, it := range f.Items {
			if it.GUID == "" || !strings.HasPrefix(it.GUID, "urn:chronicle:post:") || ids[it.GUID] || it.Link == "" || it.PublishedParsed == nil {
				t.Errorf("%s: item %+v", tc.path, it)
			}
			ids[it.GUID] = true
		}
	}
	var jf struct {
		Version string `json:"version"`
		Items   []struct {
			ID          string `json:"id"`
			ContentHTML string `json:"content_html"`
		} `json:"items"`
	}
	json.Unmarshal(s.get("/feed.json").body, &jf)
	if jf.Version != "https://jsonfeed.org/version/1.1" || jf.Items[0].ContentHTML == "" {
		t.Errorf("JSON Feed: %+v", jf)
	}
}
