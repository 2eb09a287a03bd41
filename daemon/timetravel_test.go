package daemon

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/timetravel"
)

// moment is the site as readers saw it right after one commit.
type moment struct {
	what   string
	commit string
	when   time.Time
	pages  map[string]response
}

// untravel takes from a time-travel page the two things time travel adds:
// the banner (and its style) and the prefix that keeps links in the past.
func untravel(body []byte, commit string) string {
	s := string(body)
	for {
		i := strings.Index(s, timetravel.BannerStart)
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], timetravel.BannerEnd)
		if j < 0 {
			break
		}
		s = s[:i] + s[i+j+len(timetravel.BannerEnd):]
	}
	return strings.ReplaceAll(s, `="`+timetravel.Prefix+commit+`/`, `="/`)
}

// The site as it was after each of a series of changes — settings,
// categories, posts created, edited, pushed by git, published, deleted,
// the profile — is served at /admin/at/{commit}/ exactly as readers saw
// it then, for every kind of page (lists and their pages, posts, a
// category, a tag, an archive, about, the 404, the three feeds, the
// sitemap, search), apart from the banner and the links' prefix; a date
// gives the newest commit at or before it; only editors and admins see
// it.
func TestTimeTravelServesThePastAsItWas(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("admin@example.org")
	wait := []string{"Prefer", "wait=5"}
	year := time.Now().UTC().Year()
	var moments []moment
	var pa, pb, pc apiPost
	pushed := "from-git"
	paths := func() []string {
		return []string{"/", "/page/2", "/posts/zanzibar-walks", "/posts/ferry-notes", "/posts/harbour-draft", "/posts/" + pushed,
			"/category/travel", "/category/travel/page/2", "/category/food", "/tag/walking", fmt.Sprintf("/archive/%d", year), "/about", "/no-such-page",
			"/feed.xml", "/rss.xml", "/feed.json", "/category/travel/feed.xml", "/sitemap.xml", "/robots.txt",
			"/search?q=wombats", "/search?q=quokkas", "/search?q=ferries&category=travel"}
	}
	record := func(what string) {
		t.Helper()
		m := moment{what: what, commit: git(t, s.repoDir(), "rev-parse", "main"), pages: map[string]response{}}
		when, err := time.Parse(time.RFC3339, git(t, s.repoDir(), "log", "-1", "--format=%aI", "main"))
		if err != nil {
			t.Fatal(err)
		}
		m.when = when
		for _, p := range paths() {
			m.pages[p] = s.get(p)
		}
		moments = append(moments, m)
	}

	mustStatus(t, s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "Field Notes", "posts_per_page": 2, "language": "en"}, wait...), 200)
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "Travel", "description": "Going places."}, wait...), 201)
	record("settings and a category")

	r := s.do("POST", "/api/v1/posts", tok, postBody("Zanzibar walks", "status", "published", "categories", []string{"travel"}, "tags", []string{"Walking"},
		"content", "Quokkas everywhere, and [a link](/about) home.\n"), wait...)
	mustStatus(t, r, 201)
	r.json(t, &pa)
	etagA := r.header.Get("ETag")
	r = s.do("POST", "/api/v1/posts", tok, postBody("Ferry notes", "status", "published", "categories", []string{"travel"}, "tags", []string{"Boats", "Walking"},
		"excerpt", "On the water."), wait...)
	mustStatus(t, r, 201)
	r.json(t, &pb)
	r = s.do("POST", "/api/v1/posts", tok, postBody("Harbour draft", "categories", []string{"travel"}, "content", "Quokkas at the harbour.\n"), wait...)
	mustStatus(t, r, 201)
	r.json(t, &pc)
	etagC := r.header.Get("ETag")
	record("posts created, one a draft")

	// A gap, so that a date falls between two commits.
	time.Sleep(1100 * time.Millisecond)
	mustStatus(t, s.do("PUT", "/api/v1/posts/"+pa.ID, tok, postBody("Zanzibar rambles", "status", "published", "categories", []string{"travel"}, "tags", []string{"Walking"},
		"content", "Wombats now.\n"), append(wait, "If-Match", etagA)...), 200)
	record("a post edited")

	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "Food"}, wait...), 201)
	mustStatus(t, s.do("PUT", "/api/v1/profile", tok, map[string]any{"name": "Ada Writer", "bio": "Walks *a lot*.", "email": "ada@example.org"}, wait...), 200)
	record("a category added and the profile written")

	// A post written by hand, pushed with git: title only, its dates derived.
	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("admin@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	write(t, filepath.Join(work, "posts", fmt.Sprint(year), pushed+".md"), "---\ntitle: Written in an editor\nstatus: published\ncategories: [food]\ntags: [Boats]\n---\nHello from *git*, about ferries.\n")
	gitTry(t, work, "add", "-A")
	if out, err := gitTry(t, work, "commit", "-q", "-m", "A post from git"); err != nil {
		t.Fatalf("commit: %v\n%s", err, out)
	}
	if out, err := gitTry(t, work, "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if !strings.Contains(string(s.get("/search?q=ferries").body), "Written in an editor") {
			return fmt.Errorf("the pushed post is not in search yet")
		}
		return nil
	})
	record("a post pushed with git")

	time.Sleep(1100 * time.Millisecond) // the pushed post's page must keep its own date after later commits
	mustStatus(t, s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "Field Journal", "tagline": "Slow travel", "posts_per_page": 2, "language": "en"}, wait...), 200)
	record("the site's title changed")

	mustStatus(t, s.do("DELETE", "/api/v1/posts/"+pb.ID, tok, nil, wait...), 204)
	record("a post deleted")

	mustStatus(t, s.do("PUT", "/api/v1/posts/"+pc.ID, tok, postBody("Harbour days", "status", "published", "categories", []string{"travel"}, "content", "Quokkas at the harbour.\n"),
		append(wait, "If-Match", etagC)...), 200)
	record("a draft published")

	ed := s.browser()
	ed.signIn("ed@example.org", password)
	for _, m := range moments {
		for _, p := range paths() {
			live := m.pages[p]
			past := ed.get(timetravel.Prefix + m.commit + p)
			if past.status != live.status {
				t.Errorf("after %s, %s: status %d in the past, %d live then", m.what, p, past.status, live.status)
				continue
			}
			if live.status >= 300 && live.status < 400 {
				if want := timetravel.Prefix + m.commit + live.header.Get("Location"); past.header.Get("Location") != want {
					t.Errorf("after %s, %s: redirected to %q, want %q", m.what, p, past.header.Get("Location"), want)
				}
				continue
			}
			if got, want := untravel(past.body, m.commit), string(live.body); got != want {
				t.Errorf("after %s, %s differs from what readers saw then:\n%s", m.what, p, lineDiff(want, got))
			}
			isHTML := strings.HasPrefix(live.header.Get("Content-Type"), "text/html")
			if hasBanner := strings.Contains(string(past.body), timetravel.BannerStart); hasBanner != isHTML {
				t.Errorf("after %s, %s: banner %v, want %v", m.what, p, hasBanner, isHTML)
			}
			if ct := past.header.Get("Content-Type"); ct != live.header.Get("Content-Type") {
				t.Errorf("after %s, %s: content type %q, live %q", m.what, p, ct, live.header.Get("Content-Type"))
			}
			md, err := http.ParseTime(past.header.Get("Memento-Datetime"))
			if err != nil || !md.Equal(m.when) {
				t.Errorf("after %s, %s: Memento-Datetime %q, want %s", m.what, p, past.header.Get("Memento-Datetime"), m.when)
			}
			if l := past.header.Get("Link"); !strings.Contains(l, "<"+p+`>; rel="original"`) {
				t.Errorf("after %s, %s: Link %q names no original", m.what, p, l)
			}
			if cc := past.header.Get("Cache-Control"); !strings.Contains(cc, "private") || strings.Contains(cc, "public") {
				t.Errorf("after %s, %s: Cache-Control %q", m.what, p, cc)
			}
			if past.header.Get("X-Robots-Tag") != "noindex" {
				t.Errorf("after %s, %s: X-Robots-Tag %q", m.what, p, past.header.Get("X-Robots-Tag"))
			}
		}
	}

	// The banner: when, who and what, the neighbouring changes, now.
	edited := moments[2]
	page := string(ed.get(timetravel.Prefix + edited.commit + "/posts/" + pa.Slug).body)
	for _, want := range []string{"admin@example.org", `datetime="` + edited.when.UTC().Format(time.RFC3339) + `"`,
		`href="` + timetravel.Prefix + moments[1].commit + "/posts/" + pa.Slug + `" rel="prev"`, `href="/posts/` + pa.Slug + `">Back to now`} {
		if !strings.Contains(page, want) {
			t.Errorf("banner lacks %q:\n%s", want, page)
		}
	}
	if pushedPage := string(ed.get(timetravel.Prefix + moments[4].commit + "/").body); !strings.Contains(pushedPage, "A post from git") {
		t.Errorf("the pushed commit's banner does not say what it did")
	}

	// A date gives the newest commit at or before it: between two commits
	// the earlier, at a commit that commit (or a later one of the same
	// second); before the first, nothing.
	// The oracle: main's first-parent commits and their author times.
	newestAt := func(at time.Time) string {
		for _, line := range strings.Split(git(t, s.repoDir(), "log", "--first-parent", "--format=%H %aI", "main"), "\n") {
			h, when, _ := strings.Cut(line, " ")
			if w, err := time.Parse(time.RFC3339, when); err == nil && !w.After(at) {
				return h
			}
		}
		return ""
	}
	between := moments[1].when.Add(500 * time.Millisecond) // the test waited 1.1 s after moments[1]
	if newestAt(between) == moments[2].commit {
		t.Fatalf("no gap between %s and %s", moments[1].commit, moments[2].commit)
	}
	for rev, want := range map[string]string{
		between.Format(time.RFC3339Nano):                                  newestAt(between),
		moments[2].when.Format(time.RFC3339):                              newestAt(moments[2].when),
		moments[2].when.In(time.FixedZone("", 3600)).Format(time.RFC3339): newestAt(moments[2].when),
		moments[3].commit[:12]:                                            moments[3].commit,
		strings.ToUpper(moments[3].commit):                                moments[3].commit,
	} {
		r := ed.get(timetravel.Prefix + url.PathEscape(rev) + "/category/travel?x=1")
		if loc := r.header.Get("Location"); r.status != http.StatusFound || loc != timetravel.Prefix+want+"/category/travel?x=1" {
			t.Errorf("%s: %d to %q, want %s", rev, r.status, loc, want)
		}
	}
	first := git(t, s.repoDir(), "log", "--reverse", "--format=%aI", "main")
	firstWhen, _ := time.Parse(time.RFC3339, strings.SplitN(first, "\n", 2)[0])
	for _, rev := range []string{firstWhen.Add(-time.Second).Format(time.RFC3339), strings.Repeat("ab", 20), "abcdef1", "yesterday", "not-a-rev"} {
		if r := ed.get(timetravel.Prefix + rev + "/"); r.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", rev, r.status)
		}
	}
	// Without a trailing slash: the site's home.
	if r := ed.get(timetravel.Prefix + moments[0].commit); r.status != http.StatusFound || r.header.Get("Location") != timetravel.Prefix+moments[0].commit+"/" {
		t.Errorf("no slash: %d %q", r.status, r.header.Get("Location"))
	}

	// The banner keeps the page valid and accessible: vnu on two pages,
	// axe in chromium (signed in through the form, light and dark).
	t.Run("a11y", func(t *testing.T) {
		last := moments[len(moments)-1]
		paths := map[string]string{"home": "/", "post": "/posts/zanzibar-walks", "search": "/search?q=quokkas"}
		var files []string
		for name, p := range paths {
			f := filepath.Join(t.TempDir(), "timetravel-"+name+".html")
			if err := os.WriteFile(f, ed.get(timetravel.Prefix+last.commit+p).body, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		vnuCheck(t, files)
		axe := loadAxe(t)
		ctx, cancel := browserCtx(t, 2*time.Minute)
		defer cancel()
		if err := chromedp.Run(ctx, chromedp.Navigate(s.url+timetravel.Prefix+last.commit+"/"),
			chromedp.SendKeys("#email", "ed@example.org", chromedp.ByQuery),
			chromedp.SendKeys("#password", password, chromedp.ByQuery),
			chromedp.Submit("#password", chromedp.ByQuery),
			chromedp.WaitVisible("aside.chronicle-tt", chromedp.ByQuery)); err != nil {
			t.Fatalf("sign in and back to the past: %v", err)
		}
		axeCheck(t, ctx, axe, "time travel, home")
		for name, p := range paths {
			if err := chromedp.Run(ctx, chromedp.Navigate(s.url+timetravel.Prefix+last.commit+p), chromedp.WaitReady("main", chromedp.ByQuery)); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			axeCheck(t, ctx, axe, "time travel, "+name)
		}
	})

	// Anonymous: sent to sign in, for a page or a feed.
	anon := s.browser()
	for _, p := range []string{"/", "/feed.xml"} {
		r := anon.get(timetravel.Prefix + moments[0].commit + p)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/admin/login") {
			t.Errorf("anonymous %s: %d %q", p, r.status, r.header.Get("Location"))
		}
	}
}

// lineDiff shows the first lines where two texts differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := 0; i < max(len(w), len(g)) && len(out) < 12; i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			out = append(out, fmt.Sprintf("line %d\n  then: %s\n  past: %s", i+1, a, b))
		}
	}
	return strings.Join(out, "\n")
}
