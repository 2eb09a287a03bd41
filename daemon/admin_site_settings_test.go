package daemon

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// mustContain fails unless the page holds every one of want.
func mustContain(t testing.TB, what string, page []byte, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(string(page), w) {
			t.Errorf("%s lacks %q:\n%s", what, w, page)
		}
	}
}

// refused checks a form shown again after a refusal: the status, a
// message beside field, and main where it was.
func refused(t testing.TB, s *site, r response, status int, field, head string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d:\n%s", r.status, status, r.body)
	}
	if msg := fieldError(t, r.body, field); msg == "" {
		t.Fatalf("no message beside %s:\n%s", field, r.body)
	}
	if headOf(t, s) != head {
		t.Fatal("main moved")
	}
}

// Categories with JavaScript off: create (the slug made from the name),
// list with their posts counted, rename and describe, and delete — which
// the writer refuses while posts use the category, the page then listing
// them. Bad input is shown beside its field and kept; a stale save is
// refused; hostile names show escaped.
func TestAdminCategories(t *testing.T) {
	t.Parallel()
	s, b := signedIn(t, "ed@example.org", auth.RoleEditor)

	r := b.get("/admin/categories")
	mustStatus(t, r, 200)
	mustContain(t, "the empty list", r.body, "No categories yet.", `aria-current="page">Categories<`)

	// Create: the slug is made from the name.
	r = b.post("/admin/categories", url.Values{"name": {"Field Notes"}, "slug": {""}, "description": {"Notes from\r\nthe field."}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/categories/field-notes" {
		t.Fatalf("create: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	ed := b.follow(r)
	mustStatus(t, ed, 200)
	mustContain(t, "the new category", ed.body, "Created the category “Field Notes”.", "<code>field-notes</code>")
	if inputValue(t, ed.body, "name") != "Field Notes" || inputValue(t, ed.body, "description") != "Notes from\nthe field." {
		t.Fatalf("the category's form:\n%s", ed.body)
	}
	version := inputValue(t, ed.body, "version")
	if version == "" {
		t.Fatal("no version on the category's form")
	}
	var api struct{ Slug, Name, Description string }
	c := s.do("GET", "/api/v1/categories/field-notes", "", nil)
	mustStatus(t, c, 200)
	if c.json(t, &api); api.Name != "Field Notes" || api.Description != "Notes from\nthe field." {
		t.Fatalf("the API's category: %+v", api)
	}

	// A post in it: the list counts it and links to it.
	r = b.post("/admin/posts", url.Values{"title": {"Seen in the field"}, "content": {"Text."}, "categories": {"field-notes"}, "status": {"draft"}})
	postID := strings.TrimPrefix(r.header.Get("Location"), "/admin/posts/")
	b.follow(r)
	list := b.get("/admin/categories")
	mustContain(t, "the list", list.body, `<a href="/admin/categories/field-notes">Field Notes</a>`, `<a href="/admin/posts?category=field-notes">1 post</a>`)

	// Hostile text, escaped everywhere it shows.
	hostile := `<script>alert(1)</script> "Q" & <b>B</b>`
	r = b.post("/admin/categories", url.Values{"name": {hostile}, "slug": {"hostile"}, "description": {hostile}})
	hostileEd := b.follow(r)
	for name, page := range map[string][]byte{"list": b.get("/admin/categories").body, "editor": hostileEd.body} {
		if strings.Contains(string(page), "<script>alert(1)") || strings.Contains(string(page), "<b>B</b>") {
			t.Errorf("hostile text unescaped in the %s:\n%s", name, page)
		}
	}
	mustContain(t, "the list", b.get("/admin/categories").body, "&lt;script&gt;alert(1)&lt;/script&gt; &#34;Q&#34; &amp; &lt;b&gt;B&lt;/b&gt;")
	if inputValue(t, hostileEd.body, "name") != hostile {
		t.Errorf("the hostile name does not round-trip: %q", inputValue(t, hostileEd.body, "name"))
	}

	// Bad input: beside its field, kept, nothing committed.
	head := headOf(t, s)
	r = b.post("/admin/categories", url.Values{"name": {"Fine name"}, "slug": {"Not A Slug!"}, "description": {"Kept."}})
	refused(t, s, r, http.StatusUnprocessableEntity, "slug", head)
	if inputValue(t, r.body, "slug") != "Not A Slug!" || inputValue(t, r.body, "name") != "Fine name" || inputValue(t, r.body, "description") != "Kept." {
		t.Errorf("the refused form lost input:\n%s", r.body)
	}
	mustContain(t, "the refused form", r.body, `<a href="/admin/categories/field-notes">Field Notes</a>`) // the list still there
	r = b.post("/admin/categories", url.Values{"name": {"!!! ???"}, "slug": {""}})
	refused(t, s, r, http.StatusUnprocessableEntity, "name", head)
	if msg := fieldError(t, r.body, "name"); !strings.Contains(msg, "letter or digit") || inputValue(t, r.body, "name") != "!!! ???" {
		t.Errorf("a name without a letter: %q", msg)
	}
	r = b.post("/admin/categories", url.Values{"name": {"Field notes again"}, "slug": {"field-notes"}})
	refused(t, s, r, http.StatusConflict, "slug", head)
	r = b.post("/admin/categories/field-notes", url.Values{"name": {"--"}, "description": {"Kept too."}, "version": {version}})
	refused(t, s, r, http.StatusUnprocessableEntity, "name", head)
	if inputValue(t, r.body, "name") != "--" || inputValue(t, r.body, "description") != "Kept too." || inputValue(t, r.body, "version") != version {
		t.Errorf("the refused edit lost input:\n%s", r.body)
	}
	r = b.post("/admin/categories/field-notes", url.Values{"name": {"Field notes"}, "description": {strings.Repeat("d", 2001)}, "version": {version}})
	refused(t, s, r, http.StatusUnprocessableEntity, "description", head)

	// Rename and describe; the slug stays.
	r = b.post("/admin/categories/field-notes", url.Values{"name": {"Notes from the field"}, "description": {"Renamed."}, "version": {version}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/categories/field-notes" {
		t.Fatalf("rename: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	ed = b.follow(r)
	mustContain(t, "after the rename", ed.body, "Saved.")
	if inputValue(t, ed.body, "name") != "Notes from the field" || inputValue(t, ed.body, "version") == version {
		t.Fatalf("after the rename:\n%s", ed.body)
	}
	mustContain(t, "the API's category", s.do("GET", "/api/v1/categories/field-notes", "", nil).body, `"name":"Notes from the field"`)

	// Stale: a save from the version before the rename is refused, kept.
	head = headOf(t, s)
	r = b.post("/admin/categories/field-notes", url.Values{"name": {"My old view"}, "description": {"Mine."}, "version": {version}})
	if r.status != http.StatusPreconditionFailed || inputValue(t, r.body, "name") != "My old view" || !strings.Contains(string(r.body), "Someone else saved this category") {
		t.Fatalf("stale save: %d\n%s", r.status, r.body)
	}
	if headOf(t, s) != head {
		t.Fatal("a stale save moved main")
	}
	// A form without its version is not saved.
	r = b.post("/admin/categories/field-notes", url.Values{"name": {"No version"}})
	if r.status != http.StatusPreconditionRequired || headOf(t, s) != head {
		t.Fatalf("save without a version: %d", r.status)
	}

	// Delete while a post uses it: the page lists the post, the writer
	// refuses, main stays.
	version = inputValue(t, ed.body, "version")
	r = b.post("/admin/categories/field-notes/delete", url.Values{"version": {version}})
	mustStatus(t, r, 200)
	mustContain(t, "the delete page of a category in use", r.body, "is in use", `<a href="/admin/posts/`+postID+`">Seen in the field</a>`, "Move this post")
	if strings.Contains(string(r.body), `name="confirm"`) {
		t.Error("a category in use is offered for deletion")
	}
	r = b.post("/admin/categories/field-notes/delete", url.Values{"version": {version}, "confirm": {"yes"}})
	if r.status != http.StatusConflict {
		t.Fatalf("deleting a category in use: %d\n%s", r.status, r.body)
	}
	mustContain(t, "the refused deletion", r.body, "Not deleted:", "used by 1 post", `<a href="/admin/posts/`+postID+`">`)
	if headOf(t, s) != head {
		t.Fatal("a refused deletion moved main")
	}

	// Delete one no post uses: asked first, then gone.
	hv := inputValue(t, hostileEd.body, "version")
	r = b.post("/admin/categories/hostile/delete", url.Values{"version": {hv}})
	mustStatus(t, r, 200)
	mustContain(t, "the confirmation", r.body, `name="confirm" value="yes"`, "Delete category")
	if strings.Contains(string(r.body), "<script>alert(1)") {
		t.Error("hostile name unescaped on the confirmation")
	}
	mustStatus(t, b.post("/admin/categories/hostile/delete", url.Values{"confirm": {"yes"}}), http.StatusPreconditionRequired)
	if headOf(t, s) != head {
		t.Fatal("a deletion without a version moved main")
	}
	r = b.post("/admin/categories/hostile/delete", url.Values{"version": {hv}, "confirm": {"yes"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/categories" {
		t.Fatalf("delete: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	list = b.follow(r)
	mustContain(t, "the list after deleting", list.body, "Deleted the category")
	if strings.Contains(string(list.body), `href="/admin/categories/hostile"`) {
		t.Error("the deleted category is still listed")
	}
	mustStatus(t, s.do("GET", "/api/v1/categories/hostile", "", nil), 404)
	mustStatus(t, b.get("/admin/categories/hostile"), 404)
}

// radioChecked reports whether the page's radio button id is checked.
func radioChecked(t testing.TB, page []byte, id string) bool {
	t.Helper()
	m := regexp.MustCompile(`<input type="radio" id="` + regexp.QuoteMeta(id) + `"[^>]*>`).Find(page)
	if m == nil {
		t.Fatalf("no radio button %s on the page", id)
	}
	return strings.Contains(string(m), " checked")
}

// The settings, admin only, with JavaScript off: every field saved and
// shown again, the navigation as rows (a category, a link; empty rows
// left out); bad input beside its field — a row's too, whatever rows
// were left empty before it — kept, nothing committed; stale saves
// refused, even of a form filled before there were settings; an editor
// neither sees nor opens them.
func TestAdminSettings(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("admin@example.org")
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"slug": "notes", "name": "Notes"}), 201)

	// An editor: no link to the settings, and 403 on them.
	ed := s.browser()
	ed.signIn("ed@example.org", password)
	if dash := ed.get("/admin/"); strings.Contains(string(dash.body), `href="/admin/settings"`) {
		t.Error("an editor's navigation links to the settings")
	}
	head := headOf(t, s)
	mustStatus(t, ed.get("/admin/settings"), http.StatusForbidden)
	mustStatus(t, ed.post("/admin/settings", url.Values{"title": {"Taken over"}, "language": {"en"}, "posts_per_page": {"10"}}), http.StatusForbidden)
	if headOf(t, s) != head {
		t.Fatal("an editor's settings form moved main")
	}

	b := s.browser()
	b.signIn("admin@example.org", password)
	if dash := b.get("/admin/"); !strings.Contains(string(dash.body), `href="/admin/settings"`) {
		t.Error("an admin's navigation lacks the settings")
	}
	r := b.get("/admin/settings")
	mustStatus(t, r, 200)
	if inputValue(t, r.body, "title") != "Chronicle" || inputValue(t, r.body, "language") != "en" || inputValue(t, r.body, "posts_per_page") != "10" ||
		inputValue(t, r.body, "version") != "" || !radioChecked(t, r.body, "nav_choice-default") || inputValue(t, r.body, "navigation[2].target") != "" {
		t.Fatalf("the default settings:\n%s", r.body)
	}

	// Filled in before there were settings, saved after someone else
	// made them: refused.
	mustStatus(t, s.do("PATCH", "/api/v1/settings", tok, map[string]any{"tagline": "Theirs"}, "Content-Type", "application/merge-patch+json"), 200)
	head = headOf(t, s)
	r = b.post("/admin/settings", url.Values{"title": {"Mine"}, "language": {"en"}, "posts_per_page": {"10"}, "version": {""}})
	if r.status != http.StatusPreconditionFailed || inputValue(t, r.body, "title") != "Mine" || !strings.Contains(string(r.body), "Someone else saved the settings") {
		t.Fatalf("a save from before the settings existed: %d\n%s", r.status, r.body)
	}
	if headOf(t, s) != head {
		t.Fatal("a stale save moved main")
	}

	r = b.get("/admin/settings")
	version := inputValue(t, r.body, "version")
	if version == "" || inputValue(t, r.body, "tagline") != "Theirs" {
		t.Fatalf("the settings after the API's change:\n%s", r.body)
	}
	hostile := `<script>alert(1)</script> "Q" & Co`
	full := url.Values{"title": {hostile}, "tagline": {"Tag <line>"}, "description": {"Two\r\nlines."}, "base_url": {"https://example.org"},
		"language": {"pt-BR"}, "posts_per_page": {" 5 "}, "analytics.google_analytics_id": {"G-ABC1234"}, "ads.adsense_client_id": {"ca-pub-1234567890"},
		"nav_choice": {"custom"}, "navigation[0].label": {""}, "navigation[0].target": {"notes"}, "navigation[1].label": {""}, "navigation[1].target": {""},
		"navigation[2].label": {"Go"}, "navigation[2].target": {"/tag/go"}, "version": {version}}
	r = b.post("/admin/settings", full)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/settings" {
		t.Fatalf("save: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	r = b.follow(r)
	mustContain(t, "the saved settings", r.body, "Saved.")
	if strings.Contains(string(r.body), "<script>alert(1)") {
		t.Error("hostile title unescaped on the settings page")
	}
	for field, want := range map[string]string{"title": hostile, "tagline": "Tag <line>", "description": "Two\nlines.", "base_url": "https://example.org",
		"language": "pt-BR", "posts_per_page": "5", "analytics.google_analytics_id": "G-ABC1234", "ads.adsense_client_id": "ca-pub-1234567890",
		"navigation[0].label": "", "navigation[0].target": "notes", "navigation[1].label": "Go", "navigation[1].target": "/tag/go", "navigation[4].target": ""} {
		if got := inputValue(t, r.body, field); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	if !radioChecked(t, r.body, "nav_choice-custom") || strings.Contains(string(r.body), `id="navigation[5].label"`) {
		t.Errorf("the navigation: custom, 2 rows and 3 empty ones:\n%s", r.body)
	}
	api := s.do("GET", "/api/v1/settings", tok, nil)
	mustStatus(t, api, 200)
	mustContain(t, "the API's settings", api.body, `"posts_per_page":5`, `"navigation":["notes",{"label":"Go","url":"/tag/go"}]`,
		`"google_analytics_id":"G-ABC1234"`, `"adsense_client_id":"ca-pub-1234567890"`, `"language":"pt-BR"`)
	if home := s.do("GET", "/", "", nil); strings.Contains(string(home.body), "<script>alert(1)") || !strings.Contains(string(home.body), "&lt;script&gt;alert(1)") {
		t.Errorf("the public site's title:\n%s", home.body)
	}
	version = inputValue(t, r.body, "version")

	// Bad input, each beside its field, kept, nothing committed.
	head = headOf(t, s)
	for _, tc := range []struct {
		name, field, value, input string
	}{
		{"empty title", "title", "", "title"},
		{"posts per page not a number", "posts_per_page", "ten", "posts_per_page"},
		{"posts per page out of range", "posts_per_page", "1000", "posts_per_page"},
		{"bad analytics id", "analytics.google_analytics_id", "UA-nope", "analytics.google_analytics_id"},
		{"bad adsense id", "ads.adsense_client_id", "pub-1", "ads.adsense_client_id"},
		{"bad language", "language", "English!", "language"},
		{"script base URL", "base_url", "javascript:alert(1)", "base_url"},
		{"script link after an empty row", "navigation[3].target", "javascript:alert(1)", "navigation[3].target"},
		{"a label without a target", "navigation[3].label", "Dangling", "navigation[3].target"},
		{"a bad category slug", "navigation[3].target", "Not A Slug", "navigation[3].target"},
		{"a link without a label", "navigation[4].target", "https://example.org/x", "navigation[4].label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range full {
				form[k] = v
			}
			form.Set("version", version)
			form.Set("navigation[3].label", "")
			form.Set("navigation[3].target", "")
			form.Set("navigation[4].label", "")
			form.Set("navigation[4].target", "")
			form.Set(tc.field, tc.value)
			r := b.post("/admin/settings", form)
			refused(t, s, r, http.StatusUnprocessableEntity, tc.input, head)
			if got := inputValue(t, r.body, tc.field); got != tc.value {
				t.Errorf("%s not kept: %q", tc.field, got)
			}
			if got := inputValue(t, r.body, "title"); tc.field != "title" && got != hostile {
				t.Errorf("the title not kept: %q", got)
			}
			if strings.Contains(string(r.body), "<script>alert(1)") {
				t.Error("hostile text unescaped in the refused form")
			}
		})
	}
	// A non-number and another problem: both shown at once.
	form := url.Values{"title": {"T"}, "language": {"xx!"}, "posts_per_page": {"many"}, "version": {version}}
	r = b.post("/admin/settings", form)
	refused(t, s, r, http.StatusUnprocessableEntity, "posts_per_page", head)
	refused(t, s, r, http.StatusUnprocessableEntity, "language", head)

	// The default navigation again: the rows are dropped.
	full.Set("version", version)
	full.Set("nav_choice", "default")
	r = b.follow(b.post("/admin/settings", full))
	if !radioChecked(t, r.body, "nav_choice-default") || inputValue(t, r.body, "navigation[0].target") != "" {
		t.Fatalf("back to the default navigation:\n%s", r.body)
	}
	if api := s.do("GET", "/api/v1/settings", tok, nil); strings.Contains(string(api.body), `"navigation"`) {
		t.Errorf("the navigation is still chosen: %s", api.body)
	}

	// Stale: a save from the version before is refused, kept.
	head = headOf(t, s)
	full.Set("tagline", "My stale tagline")
	r = b.post("/admin/settings", full)
	if r.status != http.StatusPreconditionFailed || inputValue(t, r.body, "tagline") != "My stale tagline" {
		t.Fatalf("stale save: %d\n%s", r.status, r.body)
	}
	if headOf(t, s) != head {
		t.Fatal("a stale save moved main")
	}
}

// The profile, which an editor may change, with JavaScript off: every
// field saved and shown on the About page, social links as rows; bad
// input (a javascript: link, after an empty row) beside its field, kept,
// nothing committed; stale saves refused; hostile text escaped.
func TestAdminProfile(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	b := s.browser()
	b.signIn("ed@example.org", password)

	r := b.get("/admin/profile")
	mustStatus(t, r, 200)
	mustContain(t, "the empty profile", r.body, `aria-current="page">Profile<`, `href="/admin/media"`)
	if inputValue(t, r.body, "name") != "" || inputValue(t, r.body, "version") != "" || inputValue(t, r.body, "links[2].url") != "" {
		t.Fatalf("the empty profile:\n%s", r.body)
	}

	// Filled in before there was a profile, saved after someone made one.
	mustStatus(t, s.do("PUT", "/api/v1/profile", tok, map[string]any{"name": "Theirs"}), 200)
	head := headOf(t, s)
	r = b.post("/admin/profile", url.Values{"name": {"Mine"}, "version": {""}})
	if r.status != http.StatusPreconditionFailed || inputValue(t, r.body, "name") != "Mine" || !strings.Contains(string(r.body), "Someone else saved the profile") {
		t.Fatalf("a save from before the profile existed: %d\n%s", r.status, r.body)
	}
	if headOf(t, s) != head {
		t.Fatal("a stale save moved main")
	}

	version := inputValue(t, b.get("/admin/profile").body, "version")
	hostile := `<img src=x onerror=alert(1)> "Ada" & Co`
	full := url.Values{"name": {hostile}, "email": {"ada@example.org"}, "bio": {"I write **bold** things.\r\n\r\n<script>alert(1)</script>"},
		"avatar":        {"https://example.org/ada.jpg"},
		"links[0].name": {"Mastodon"}, "links[0].url": {"https://social.example/@ada"}, "links[1].name": {""}, "links[1].url": {""},
		"links[2].name": {"Site <2>"}, "links[2].url": {"https://ada.example"}, "version": {version}}
	r = b.post("/admin/profile", full)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/profile" {
		t.Fatalf("save: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	r = b.follow(r)
	mustContain(t, "the saved profile", r.body, "Saved.")
	for field, want := range map[string]string{"name": hostile, "email": "ada@example.org", "bio": "I write **bold** things.\n\n<script>alert(1)</script>",
		"avatar": "https://example.org/ada.jpg", "links[0].name": "Mastodon", "links[0].url": "https://social.example/@ada",
		"links[1].name": "Site <2>", "links[1].url": "https://ada.example", "links[4].url": ""} {
		if got := inputValue(t, r.body, field); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	if strings.Contains(string(r.body), `id="links[5].name"`) {
		t.Error("more than 2 links and 3 empty rows")
	}
	if strings.Contains(string(r.body), "<img src=x") || strings.Contains(string(r.body), "<script>alert(1)") {
		t.Error("hostile text unescaped on the profile page")
	}
	mustContain(t, "the API's profile", s.do("GET", "/api/v1/profile", "", nil).body,
		`"links":[{"name":"Mastodon","url":"https://social.example/@ada"},{"name":"Site \u003c2\u003e","url":"https://ada.example"}]`)
	about := s.do("GET", "/about", "", nil)
	mustStatus(t, about, 200)
	mustContain(t, "the About page", about.body, "<strong>bold</strong>", "https://social.example/@ada")
	if strings.Contains(string(about.body), "<img src=x") || strings.Contains(string(about.body), "<script>alert(1)") {
		t.Errorf("hostile text unescaped on the About page:\n%s", about.body)
	}
	version = inputValue(t, r.body, "version")

	// Bad input, each beside its field, kept, nothing committed.
	head = headOf(t, s)
	for _, tc := range []struct {
		name, field, value, input string
	}{
		{"script link after an empty row", "links[3].url", "javascript:alert(1)", "links[3].url"},
		{"link without a name", "links[3].url", "https://example.org/me", "links[3].name"},
		{"name without a link", "links[3].name", "Nowhere", "links[3].url"},
		{"ftp avatar", "avatar", "ftp://example.org/a.png", "avatar"},
		{"bad media avatar", "avatar", "media:../../etc", "avatar"},
		{"bad email", "email", "not an email", "email"},
		{"long name", "name", strings.Repeat("n", 201), "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range full {
				form[k] = v
			}
			form.Set("version", version)
			form.Set("links[1].name", "")
			form.Set("links[1].url", "")
			form.Set("links[3].name", "")
			form.Set("links[3].url", "")
			form.Set(tc.field, tc.value)
			r := b.post("/admin/profile", form)
			refused(t, s, r, http.StatusUnprocessableEntity, tc.input, head)
			if got := inputValue(t, r.body, tc.field); got != tc.value {
				t.Errorf("%s not kept: %q", tc.field, got)
			}
			if got := inputValue(t, r.body, "bio"); got != full.Get("bio") { // as sent
				t.Errorf("the bio not kept: %q", got)
			}
			if strings.Contains(string(r.body), "<script>alert(1)") {
				t.Error("hostile text unescaped in the refused form")
			}
		})
	}

	// Stale: a save from the version before is refused, kept.
	mustStatus(t, s.do("PATCH", "/api/v1/profile", tok, map[string]any{"bio": "Theirs."}, "Content-Type", "application/merge-patch+json"), 200)
	head = headOf(t, s)
	full.Set("version", version)
	full.Set("bio", "My stale bio.")
	r = b.post("/admin/profile", full)
	if r.status != http.StatusPreconditionFailed || inputValue(t, r.body, "bio") != "My stale bio." {
		t.Fatalf("stale save: %d\n%s", r.status, r.body)
	}
	if headOf(t, s) != head {
		t.Fatal("a stale save moved main")
	}
}
