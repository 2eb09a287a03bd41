package timetravel

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

// Links to the site stay in the past; media, the theme's files, other
// sites, fragments and text that only looks like a link (the theme and
// the renderer escape a quote in text) do not move.
func TestRewrite(t *testing.T) {
	const base = "/admin/at/abc"
	for _, c := range []struct{ in, want string }{
		{`<a href="/">Home</a>`, `<a href="/admin/at/abc/">Home</a>`},
		{`<a href="/posts/x" rel="next">`, `<a href="/admin/at/abc/posts/x" rel="next">`},
		{`<form class="search" action="/search" method="get">`, `<form class="search" action="/admin/at/abc/search" method="get">`},
		{`<a href="/search?q=a&amp;page=2">`, `<a href="/admin/at/abc/search?q=a&amp;page=2">`},
		{`<link rel="alternate" type="application/atom+xml" href="/feed.xml">`, `<link rel="alternate" type="application/atom+xml" href="/admin/at/abc/feed.xml">`},
		{`<img src="/media/m1/w640" srcset="/media/m1/w320 320w">`, `<img src="/media/m1/w640" srcset="/media/m1/w320 320w">`},
		{`<link rel="stylesheet" href="/static/style.css?v=1">`, `<link rel="stylesheet" href="/static/style.css?v=1">`},
		{`<a href="//example.org/x">`, `<a href="//example.org/x">`},
		{`<a href="https://example.org/">`, `<a href="https://example.org/">`},
		{`<a class="skip" href="#main">`, `<a class="skip" href="#main">`},
		{`<code>href=&#34;/x&#34;</code>`, `<code>href=&#34;/x&#34;</code>`},
	} {
		if got := string(Rewrite([]byte(c.in), base)); got != c.want {
			t.Errorf("Rewrite(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// The banner goes at the top of the body and its style in the head,
// each between markers: without them the page is the page.
func TestInjectIsUndone(t *testing.T) {
	page := "<!DOCTYPE html>\n<html>\n<head>\n<title>x</title>\n</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip</a>\n</body>\n</html>\n"
	banner := BannerStart + "<aside>then</aside>" + BannerEnd
	out := string(inject([]byte(page), []byte(banner)))
	if !strings.Contains(out, "<body>\n"+banner+"<a class=\"skip\"") || !strings.Contains(out, "<style>") {
		t.Fatalf("banner not at the top of the body:\n%s", out)
	}
	for strings.Contains(out, BannerStart) {
		i := strings.Index(out, BannerStart)
		j := strings.Index(out, BannerEnd) + len(BannerEnd)
		out = out[:i] + out[j:]
	}
	if out != page {
		t.Errorf("without the banner:\n%s\nwant\n%s", out, page)
	}
}

// The banner's style is allowed by the page's policy, by its hash; the
// analytics and ads scripts the settings allowed then are not.
func TestPastPolicy(t *testing.T) {
	got := pastPolicy("default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self' https://www.googletagmanager.com; " +
		"connect-src 'self' https://*.google-analytics.com; frame-src https://www.youtube-nocookie.com; frame-ancestors 'self'")
	want := "default-src 'self'; img-src 'self' https: data:; style-src " + bannerHash + " 'self'; script-src 'self'; " +
		"connect-src 'self'; frame-src https://www.youtube-nocookie.com; frame-ancestors 'none'"
	if got != want {
		t.Errorf("policy\n%s\nwant\n%s", got, want)
	}
}

// Readers at several commits at once, with room for one site: sites are
// built once per visit, shared, evicted and closed while others are in
// use, and every answer is whole (run with -race).
func TestConcurrentVisits(t *testing.T) {
	s, err := makeSite(30, 20)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.repo.Close(); os.RemoveAll(s.dir) }()
	h := newBenchHandler(s)
	h.cache = newCache(1)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3 {
				c := s.commits[(g+i)%3*10+20]
				paths := []string{"/", "/posts/post-3", "/feed.xml"}
				if g == i {
					paths = append(paths, "/search?q=harbour")
				}
				for _, p := range paths {
					rec := httptest.NewRecorder()
					if err := h.Serve(rec, httptest.NewRequest(http.MethodGet, Prefix+c+p, nil)); err != nil {
						t.Error(err)
						return
					}
					if rec.Code != http.StatusOK && rec.Code != http.StatusNotFound {
						t.Errorf("%s%s: %d", c, p, rec.Code)
					}
					if rec.Code == http.StatusOK && rec.Header().Get("Memento-Datetime") == "" {
						t.Errorf("%s%s: no Memento-Datetime", c, p)
					}
				}
			}
		}()
	}
	wg.Wait()
}
