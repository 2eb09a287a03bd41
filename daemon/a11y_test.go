package daemon

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// need finds a tool the check uses. Outside CI a missing tool skips the
// test; in CI (where .ci/run installs them) it fails it.
func need(t *testing.T, path, how string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if p, err := exec.LookPath(path); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing: %s", path, how)
	}
	t.Skipf("%s is missing: %s", path, how)
	return ""
}

// representativeSite has every kind of page with real content, hostile
// text included.
func representativeSite(t *testing.T) (*site, map[string]string) {
	embedSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oembed" {
			w.Write([]byte(`{"type":"video","title":"Waves","html":"<iframe src=\"https://player.vimeo.com/video/7\"></iframe>"}`))
			return
		}
		if r.URL.Path == "/video" {
			w.Write([]byte(`<head><link rel="alternate" type="application/json+oembed" href="/oembed"></head>`))
			return
		}
		w.Write([]byte(`<head><meta property="og:title" content="Tides explained"><meta property="og:description" content="Why the sea moves"><meta property="og:image" content="https://example.org/tide.jpg"></head>`))
	}))
	t.Cleanup(embedSrv.Close)
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data, func(c *Config) { c.EmbedsAllowPrivate = true })
	tok := s.token("admin@example.org")
	writeHistory(t, s, tok)
	for slug, u := range map[string]string{"embed-card": embedSrv.URL + "/article", "embed-video": embedSrv.URL + "/video"} {
		mustStatus(t, s.do("POST", "/api/v1/posts", tok, map[string]any{"title": slug, "slug": slug, "status": "published", "embed_url": u}, "Prefer", "wait=5"), 201)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if video := s.get("/posts/embed-video"); !strings.Contains(string(video.body), "<iframe") {
			return fmt.Errorf("/posts/embed-video: status %d, no <iframe> yet", video.status)
		}
		if card := s.get("/posts/embed-card"); !strings.Contains(string(card.body), `class="card"`) {
			return fmt.Errorf("/posts/embed-card: status %d, no card yet", card.status)
		}
		return nil
	})
	hostileSite(t, s, tok)
	wait := []string{"Prefer", "wait=5"}
	// A header chosen in the settings, among more categories than fit.
	for _, name := range []string{"Travel", "Cooking", "Photography", "Longer category name", "Books", "Science"} {
		mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": name}), 201)
	}
	mustStatus(t, s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "My blog", "posts_per_page": 5, "language": "en",
		"navigation": []any{"news", "travel", "photography", "longer-category-name", map[string]string{"label": "Everything", "url": "/tag/all"}, "books", "science"}}, wait...), 200)
	mustStatus(t, s.do("PUT", "/api/v1/profile", tok, map[string]any{"name": "Ann Writer", "bio": "I write *field notes* about walking.\n\nSecond paragraph.",
		"avatar": "https://example.org/ann.jpg", "links": []map[string]string{{"name": "Mastodon", "url": "https://social.example/@ann"}, {"name": "GitHub", "url": "https://github.com/ann"}}}, wait...), 200)
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, map[string]any{"title": "Everything Markdown can do", "slug": "kitchen-sink", "status": "published",
		"categories": []string{"news"}, "tags": []string{"Markdown", "All"}, "excerpt": "A tour.",
		"content": "Intro with **bold**, *em*, `code`, ~~strike~~ and a [link](https://example.org).\n\n## A section\n\n> A quote.\n\n1. one\n2. two\n\n- [x] done\n- [ ] todo\n\n| Col | Other |\n|-----|-------|\n| a | b |\n\n```go\nfunc main() { println(\"hi\") }\n```\n\nA footnote[^n].\n\n![A picture](https://example.org/p.jpg)\n\n### Deeper\n\nhttps://auto.example/link\n\n[^n]: The note.\n"}, wait...), 201)
	var photo, boat struct{ ID string }
	s.upload(tok, "harbour.jpg", testJPEG(700, 450), "alt", "A harbour at dawn", "caption", "Morning").json(t, &photo)
	s.upload(tok, "boat.jpg", testJPEG(300, 200), "alt", "A boat").json(t, &boat)
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, map[string]any{"title": "With pictures", "slug": "with-pictures", "status": "published",
		"content": "Text.\n\n![The harbour](media:" + photo.ID + ")\n", "feature_image": photo.ID, "gallery": []string{photo.ID, boat.ID}}, wait...), 201)
	pages := map[string]string{
		"pictures": "/posts/with-pictures", "embed-card": "/posts/embed-card", "embed-video": "/posts/embed-video",
		"home": "/", "post": "/posts/kitchen-sink", "category": "/category/news", "tag": "/tag/all", "page2": "/page/2",
		"archive": "/archive/" + time.Now().UTC().Format("2006"), "about": "/about", "search": "/search?q=post", "search-empty": "/search?q=zzzzqqq",
		"notfound": "/nope", "hostile-post": "/posts/evil-post",
	}
	return s, pages
}

// Every page template, checked by the Nu Html Checker in one run.
func TestPagesAreValidHTML(t *testing.T) {
	t.Parallel()
	need(t, "java", "apt-get install default-jre-headless")
	s, pages := representativeSite(t)
	dir := t.TempDir()
	var files []string
	for name, path := range pages {
		f := filepath.Join(dir, name+".html")
		os.WriteFile(f, s.get(path).body, 0o644)
		files = append(files, f)
	}
	vnuCheck(t, files)
}

// No serious or critical axe-core violations on the pages readers use,
// in Debian's chromium, in light and dark mode.
func TestPagesAreAccessible(t *testing.T) {
	t.Parallel()
	axe := loadAxe(t)
	s, pages := representativeSite(t)
	ctx, cancel := browserCtx(t, 2*time.Minute)
	defer cancel()
	awaitPromise := func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }
	if err := chromedp.Run(ctx, trapAlerts()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"home", "post", "category", "search", "about", "notfound", "hostile-post", "pictures", "embed-card", "embed-video"} {
		if err := chromedp.Run(ctx, chromedp.Navigate(s.url+pages[name])); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		axeCheck(t, ctx, axe, name)
		var alerted bool
		chromedp.Run(ctx, chromedp.Evaluate(`window.__alerted === true`, &alerted))
		if alerted {
			t.Errorf("%s: a script from content ran", name)
		}
	}
	// On a phone the header's navigation is one row, scrolling sideways,
	// with nothing cut off the page (and still no violations).
	var rows, overflow float64
	var raw string
	err := chromedp.Run(ctx, chromedp.EmulateViewport(360, 740), chromedp.Navigate(s.url+pages["category"]),
		chromedp.Evaluate(`new Set([...document.querySelectorAll('nav[aria-label=Site] a')].map(a => Math.round(a.getBoundingClientRect().top))).size`, &rows),
		chromedp.Evaluate(`document.documentElement.scrollWidth - document.documentElement.clientWidth`, &overflow),
		chromedp.Evaluate(string(axe), nil),
		chromedp.Evaluate(`axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations.filter(v => v.impact == 'serious' || v.impact == 'critical').map(v => v.id)))`, &raw, awaitPromise))
	if err != nil {
		t.Fatalf("phone: %v", err)
	}
	if rows > 1 || overflow > 0 || raw != "[]" {
		t.Errorf("phone header: %v rows of links, page %vpx wider than the screen, violations %s", rows, overflow, raw)
	}
	if shots := os.Getenv("CHRONICLE_SCREENSHOTS"); shots != "" {
		for _, name := range []string{"home", "post", "about", "search"} {
			var png []byte
			if err := chromedp.Run(ctx, chromedp.Navigate(s.url+pages[name]), chromedp.FullScreenshot(&png, 100)); err == nil {
				os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
			}
		}
	}
}

func emulateScheme(scheme string) chromedp.ActionFunc {
	return func(ctx context.Context) error { return emulationSetScheme(ctx, scheme) }
}
