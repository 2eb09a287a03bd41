package daemon

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// adminSite is a site with an admin signed in, a category and a post
// with hostile text; pages are the admin's pages by name, and forms the
// bodies of pages that only a form's answer shows (a refused save, the
// delete confirmation).
func adminSite(t *testing.T) (s *site, b *browser, pages map[string]string, forms map[string][]byte) {
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s = startSite(t, data)
	tok := s.token("admin@example.org")
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"slug": "notes", "name": "Notes <&> \"quotes\""}), 201)
	b = s.browser()
	b.signIn("admin@example.org", password)
	r := b.post("/admin/posts", url.Values{"title": {`<img src=x onerror=alert(1)> "Hostile" & <b>bold</b>`}, "content": {"# Heading\n\nText with <script>alert(1)</script> and **bold**."},
		"categories": {"notes"}, "tags": {"a, b"}, "status": {"draft"}, "action": {"publish"}})
	id := strings.TrimPrefix(r.header.Get("Location"), "/admin/posts/")
	ed := b.follow(r)
	version := inputValue(t, ed.body, "version")
	// An unsaved change to the post (the editor shows it, with the
	// difference), and a save made over an older version (the conflict).
	mustStatus(t, b.post("/admin/autosave", url.Values{"draft_key": {"new-unsaved"}, "title": {"Never saved"}, "content": {"x"}}), 200)
	stale := b.post("/admin/posts/"+id, url.Values{"title": {"T"}, "content": {"Saved first."}, "status": {"published"}, "version": {version}})
	mustStatus(t, stale, http.StatusSeeOther)
	mustStatus(t, b.post("/admin/autosave", url.Values{"draft_key": {"post-" + id}, "version": {version}, "title": {"Retitled <i>draft</i>"},
		"content": {"# Heading\n\nText changed in a draft."}}), 200)
	mustStatus(t, b.postFiles("/admin/media", []upFile{{"plain.png", testPNG(30, 20)}}, nil), http.StatusSeeOther)
	r = b.postFiles("/admin/media", []upFile{{`<b>hostile</b> "name".jpg`, testJPEG(64, 48)}}, []string{"alt", `<img src=x onerror=alert(1)> "alt" & more`},
		"Accept", "application/json")
	var up struct{ ID string }
	r.json(t, &up)
	item := b.get("/admin/media/" + up.ID)
	mediaVersion := inputValue(t, item.body, "version")
	mustStatus(t, b.post("/admin/posts", url.Values{"title": {"Uses the <i>picture</i>"}, "content": {"![x](media:" + up.ID + ")"}, "status": {"draft"}}),
		http.StatusSeeOther) // listed by its delete confirmation
	pages = map[string]string{"dashboard": "/admin/", "posts": "/admin/posts", "posts-filtered": "/admin/posts?status=published&category=notes&q=hostile",
		"new": "/admin/posts/new", "editor": "/admin/posts/" + id, "notfound": "/admin/no-such-page",
		"media": "/admin/media", "media-item": "/admin/media/" + up.ID,
		"categories": "/admin/categories", "category": "/admin/categories/in-use", "settings": "/admin/settings",
		"profile": "/admin/profile", "audit": "/admin/audit", "audit-filtered": "/admin/audit?type=post.&since=2026-01-01&actor=admin%40example.org",
		"security": "/admin/security"}
	// Categories of their own: one a post keeps using (whatever the
	// post above becomes), one no post uses.
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"slug": "in-use", "name": "In use <&>", "description": "Used <b>here</b>."}), 201)
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody(`Keeps it <i>used</i>`, "categories", []string{"in-use"})), 201)
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"slug": "unused", "name": "Unused <i>"}), 201)
	catVersion := inputValue(t, b.get("/admin/categories/in-use").body, "version")
	unusedVersion := inputValue(t, b.get("/admin/categories/unused").body, "version")
	forms = map[string][]byte{
		"login":          s.browser().get("/admin/login").body,
		"login-refused":  s.browser().post("/admin/login", url.Values{"email": {"admin@example.org"}, "password": {"wrong"}}).body,
		"editor-refused": b.post("/admin/posts/"+id, url.Values{"title": {""}, "slug": {"Bad Slug"}, "published_at": {"soon"}, "content": {"Kept."}, "version": {version}}).body,
		"confirm":        b.post("/admin/posts/"+id+"/delete", url.Values{"version": {version}}).body,
		"editor-conflict": b.post("/admin/posts/"+id, url.Values{"title": {"Mine"}, "content": {"My <b>own</b> text."}, "status": {"published"},
			"version": {version}}).body,
		"media-refused": b.postFiles("/admin/media", []upFile{{"notes.png", []byte("text")}, {"ok.png", testPNG(5, 5)}}, nil).body,
		"media-item-refused": b.post("/admin/media/"+up.ID, url.Values{"alt": {strings.Repeat("a", 2001)}, "caption": {strings.Repeat("c", 2001)},
			"version": {mediaVersion}}).body,
		"media-delete":       b.post("/admin/media/"+up.ID+"/delete", url.Values{"version": {mediaVersion}}).body,
		"categories-refused": b.post("/admin/categories", url.Values{"name": {"!!!"}, "slug": {"Bad Slug"}, "description": {"<b>kept</b>"}}).body,
		"category-refused":   b.post("/admin/categories/in-use", url.Values{"name": {"??"}, "description": {strings.Repeat("x", 2001)}, "version": {catVersion}}).body,
		"category-in-use":    b.post("/admin/categories/in-use/delete", url.Values{"version": {catVersion}, "confirm": {"yes"}}).body,
		"category-delete":    b.post("/admin/categories/unused/delete", url.Values{"version": {unusedVersion}}).body,
		"settings-refused": b.post("/admin/settings", url.Values{"title": {""}, "language": {"??"}, "posts_per_page": {"ten"}, "base_url": {"javascript:x"},
			"analytics.google_analytics_id": {"UA-x"}, "ads.adsense_client_id": {"x"}, "nav_choice": {"custom"},
			"navigation[0].label": {"<b>x</b>"}, "navigation[0].target": {""}, "navigation[1].label": {""}, "navigation[1].target": {"javascript:x"}}).body,
		"profile-refused": b.post("/admin/profile", url.Values{"name": {strings.Repeat("n", 201)}, "email": {"x"}, "bio": {"<b>kept</b>"}, "avatar": {"ftp://x"},
			"links[0].name": {""}, "links[0].url": {"javascript:x"}, "links[1].name": {""}, "links[1].url": {""}}).body,
	}
	accountPages(t, b, pages, forms)
	historyPages(t, s, b, tok, id, pages, forms)
	commitPages(t, s, b, tok, pages, forms)
	reviewPages(t, s, b, pages, forms)
	return s, b, pages, forms
}

// Every admin page is valid HTML (the Nu Html Checker).
func TestAdminPagesAreValidHTML(t *testing.T) {
	t.Parallel()
	need(t, "java", "apt-get install default-jre-headless")
	_, b, pages, forms := adminSite(t)
	dir := t.TempDir()
	var files []string
	write := func(name string, body []byte) {
		f := filepath.Join(dir, name+".html")
		if err := os.WriteFile(f, body, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	for name, path := range pages {
		r := b.get(path)
		if r.status != http.StatusOK && name != "notfound" {
			t.Fatalf("%s: status %d", name, r.status)
		}
		write(name, r.body)
	}
	for name, body := range forms {
		write(name, body)
	}
	vnuCheck(t, files)
}

// No serious or critical axe-core violations on any admin page, light
// and dark, in Debian's chromium; signing in and a refused save are done
// in the browser, as a person would.
func TestAdminPagesAreAccessible(t *testing.T) {
	t.Parallel()
	axe := loadAxe(t)
	s, _, pages, _ := adminSite(t)
	ctx, cancel := browserCtx(t, 3*time.Minute)
	defer cancel()
	check := func(name string) {
		t.Helper()
		axeCheck(t, ctx, axe, name)
	}
	// Sign in through the form.
	if err := chromedp.Run(ctx, trapAlerts(), chromedp.Navigate(s.url+"/admin/posts")); err != nil {
		t.Fatal(err)
	}
	check("login")
	var where string
	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#email", "admin@example.org", chromedp.ByQuery),
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Submit("#password", chromedp.ByQuery),
		chromedp.WaitVisible("table.posts", chromedp.ByQuery),
		chromedp.Location(&where)); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if !strings.HasSuffix(where, "/admin/posts") {
		t.Fatalf("signed in to %s, want back at /admin/posts", where)
	}
	for name, path := range pages {
		if err := chromedp.Run(ctx, chromedp.Navigate(s.url+path), chromedp.WaitReady("main", chromedp.ByQuery)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		check(name)
	}
	// A commit's long diff line scrolls in the diff's own box, never the
	// page.
	var pageOverflow, boxOverflow float64
	if err := chromedp.Run(ctx, chromedp.Navigate(s.url+pages["commit"]), chromedp.WaitReady(".udiff", chromedp.ByQuery),
		chromedp.Evaluate(`document.documentElement.scrollWidth - document.documentElement.clientWidth`, &pageOverflow),
		chromedp.Evaluate(`Math.max(...[...document.querySelectorAll('.udiff')].map(d => d.scrollWidth - d.clientWidth))`, &boxOverflow)); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if pageOverflow > 0 || boxOverflow <= 0 {
		t.Errorf("the commit's page is %vpx wider than the window; its widest diff scrolls by %vpx", pageOverflow, boxOverflow)
	}
	// A refused save, as the browser shows it.
	if err := chromedp.Run(ctx, chromedp.Navigate(s.url+pages["editor"]), chromedp.WaitReady("#title", chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("title").value = ""; document.getElementById("slug").value = "Not A Slug"`, nil),
		chromedp.Click(`button[value=save]`, chromedp.ByQuery), chromedp.WaitVisible("#slug-error", chromedp.ByQuery)); err != nil {
		t.Fatalf("refused save: %v", err)
	}
	check("editor-refused")
	// A token shown once, as the browser shows it (the copy button on).
	showToken(t, ctx, s.url)
	check("token-created")
	// The other forms' refusals, and the deletion of a category in use,
	// as the browser shows them.
	for _, rf := range []struct{ name, page, fill, button, wait string }{
		{"categories-refused", pages["categories"], `document.getElementById("name").value = "!!!"`, `main button[type=submit]`, `#name-error`},
		{"settings-refused", pages["settings"], `document.getElementById("posts_per_page").value = "ten";` +
			`document.getElementById("analytics.google_analytics_id").value = "UA-x"`, `main button[type=submit]`, `#posts_per_page-error`},
		{"profile-refused", pages["profile"], `document.getElementById("links[0].url").value = "javascript:alert(1)"`, `main button[type=submit]`, `[id="links[0].url-error"]`},
		{"category-in-use", pages["category"], ``, `main button.danger`, `main ul.plain`},
	} {
		if err := chromedp.Run(ctx, chromedp.Navigate(s.url+rf.page), chromedp.WaitReady(rf.button, chromedp.ByQuery),
			chromedp.Evaluate(rf.fill+";0", nil), chromedp.Click(rf.button, chromedp.ByQuery), chromedp.WaitVisible(rf.wait, chromedp.ByQuery)); err != nil {
			t.Fatalf("%s: %v", rf.name, err)
		}
		check(rf.name)
	}
	// Typing in the navigation's rows chooses them (the script's one
	// enhancement of the settings).
	var custom bool
	if err := chromedp.Run(ctx, chromedp.Navigate(s.url+pages["settings"]), chromedp.WaitReady(`[id="navigation[0].label"]`, chromedp.ByQuery),
		chromedp.SendKeys(`[id="navigation[0].label"]`, "Go", chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("nav_choice-custom").checked`, &custom)); err != nil {
		t.Fatal(err)
	}
	if !custom {
		t.Error("typing in a navigation row did not choose the rows")
	}
	// The avatar is picked from the library in a dialog, as the editor's
	// pictures are.
	var avatar string
	if err := chromedp.Run(ctx, chromedp.Navigate(s.url+pages["profile"]), chromedp.WaitReady(`a[data-pick="avatar"]`, chromedp.ByQuery),
		chromedp.Click(`a[data-pick="avatar"]`, chromedp.ByQuery), chromedp.WaitVisible(`dialog .picker button`, chromedp.ByQuery)); err != nil {
		t.Fatalf("the avatar's picker: %v", err)
	}
	check("profile-picker")
	if err := chromedp.Run(ctx, chromedp.Click(`dialog .picker button`, chromedp.ByQuery), chromedp.WaitNotPresent(`dialog`, chromedp.ByQuery),
		chromedp.Value(`#avatar`, &avatar, chromedp.ByQuery)); err != nil {
		t.Fatalf("pick an avatar: %v", err)
	}
	if !strings.HasPrefix(avatar, "media:") {
		t.Errorf("the picked avatar is %q, want a media reference", avatar)
	}
	var alerted bool
	chromedp.Run(ctx, chromedp.Evaluate(`window.__alerted === true`, &alerted))
	if alerted {
		t.Error("a script from content ran in the admin")
	}
}
