package daemon

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// browser is a browser without JavaScript: a cookie jar, forms sent as
// application/x-www-form-urlencoded, redirects not followed (the tests
// look at them).
type browser struct {
	t      testing.TB
	s      *site
	client *http.Client
}

// signedIn starts a site with one account, and a browser signed in to it.
func signedIn(t testing.TB, email string, role auth.Role, mods ...func(*Config)) (*site, *browser) {
	t.Helper()
	data := t.TempDir()
	addAccount(t, data, email, role)
	s := startSite(t, data, mods...)
	b := s.browser()
	b.signIn(email, password)
	return s, b
}

func (s *site) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &browser{t: s.t, s: s, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) send(req *http.Request) response {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, err := http.NewRequest("GET", b.s.url+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.send(req)
}

// post sends a form as a browser on the same site would (Sec-Fetch-Site:
// same-origin), unless headers say otherwise.
func (b *browser) post(path string, form url.Values, headers ...string) response {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.s.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.s.url)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.send(req)
}

// signIn signs the browser in and returns where it was sent.
func (b *browser) signIn(email, pw string) string {
	b.t.Helper()
	r := b.post("/admin/login", url.Values{"email": {email}, "password": {pw}})
	if r.status != http.StatusSeeOther {
		b.t.Fatalf("sign in: status %d, want 303: %s", r.status, r.body)
	}
	return r.header.Get("Location")
}

// follow gets where a redirect points.
func (b *browser) follow(r response) response {
	b.t.Helper()
	if r.status != http.StatusSeeOther {
		b.t.Fatalf("status %d, want a 303 redirect: %s", r.status, r.body)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	return b.get(loc.RequestURI())
}

// fieldError is the message the page shows beside a field, "" if none;
// the field must point at it (aria-describedby) and be marked invalid.
func fieldError(t testing.TB, page []byte, field string) string {
	t.Helper()
	m := regexp.MustCompile(`<p class="error" id="` + regexp.QuoteMeta(field) + `-error">([^<]*)</p>`).FindSubmatch(page)
	if m == nil {
		return ""
	}
	tied := `id="` + regexp.QuoteMeta(field) + `"[^>]*aria-invalid="true" aria-describedby="` + regexp.QuoteMeta(field) + `-error"`
	if field == "categories" { // a group of check boxes: the group points at it
		tied = `id="categories" role="group"[^>]*aria-describedby="categories-error"`
	}
	if !regexp.MustCompile(tied).Match(page) {
		t.Errorf("field %s has a message but is not marked invalid and tied to it", field)
	}
	return html.UnescapeString(string(m[1]))
}

// inputValue is the value an input or textarea of the page holds.
func inputValue(t testing.TB, page []byte, field string) string {
	t.Helper()
	q := regexp.QuoteMeta(field)
	if m := regexp.MustCompile(`<textarea id="` + q + `"[^>]*>\n?([^<]*)</textarea>`).FindSubmatch(page); m != nil {
		return html.UnescapeString(string(m[1]))
	}
	if m := regexp.MustCompile(`<input id="` + q + `"[^>]* value="([^"]*)"`).FindSubmatch(page); m != nil {
		return html.UnescapeString(string(m[1]))
	}
	if m := regexp.MustCompile(`<input type="hidden" name="` + q + `" value="([^"]*)"`).FindSubmatch(page); m != nil {
		return html.UnescapeString(string(m[1]))
	}
	t.Fatalf("no field %s on the page", field)
	return ""
}

func headOf(t testing.TB, s *site) string {
	t.Helper()
	return git(t, s.repoDir(), "rev-parse", "refs/heads/main")
}

// With JavaScript off, as plain HTML forms: sign in, create, edit and
// publish a post; what readers see follows; sign out.
func TestAdminWithoutJavaScript(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	b := s.browser()

	// Anonymous: to the sign-in page, and back after.
	r := b.get("/admin/posts?status=draft")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login?next=%2Fadmin%2Fposts%3Fstatus%3Ddraft" {
		t.Fatalf("anonymous: %d to %q", r.status, r.header.Get("Location"))
	}
	login := b.follow(r)
	mustStatus(t, login, 200)
	for _, want := range []string{`name="email"`, `type="password"`, `autocomplete="current-password"`} {
		if !strings.Contains(string(login.body), want) {
			t.Errorf("the sign-in page lacks %s", want)
		}
	}
	wrong := b.post("/admin/login", url.Values{"email": {"ed@example.org"}, "password": {"not it"}})
	if wrong.status != http.StatusUnauthorized || !strings.Contains(string(wrong.body), "Wrong email or password.") ||
		inputValue(t, wrong.body, "email") != "ed@example.org" {
		t.Fatalf("wrong password: %d %s", wrong.status, wrong.body)
	}
	r = b.post("/admin/login", url.Values{"email": {"ed@example.org"}, "password": {password}, "next": {"/admin/posts?status=draft"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/posts?status=draft" {
		t.Fatalf("sign in: %d to %q", r.status, r.header.Get("Location"))
	}
	cookie := r.header.Get("Set-Cookie")
	for _, want := range []string{"chronicle_session=", "Path=/admin", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("Secure on a site served over http: the browser would drop it: %q", cookie)
	}

	dash := b.get("/admin/")
	mustStatus(t, dash, 200)
	if !strings.Contains(string(dash.body), "What readers see") || !regexp.MustCompile(`<td>catalogue</td><td>(up to date|catching up)`).Match(dash.body) {
		t.Errorf("the dashboard does not say how far the read models are:\n%s", dash.body)
	}
	for k, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
		if got := dash.header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if csp := dash.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") ||
		strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}

	// Write and publish.
	r = b.post("/admin/posts", url.Values{"title": {"From the admin"}, "content": {"Written **without** JavaScript.\r\nSecond line."},
		"tags": {"forms, html"}, "status": {"draft"}, "action": {"publish"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/admin/posts/") {
		t.Fatalf("create: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	id := strings.TrimPrefix(r.header.Get("Location"), "/admin/posts/")
	ed := b.follow(r)
	mustStatus(t, ed, 200)
	if !strings.Contains(string(ed.body), "Created.") || inputValue(t, ed.body, "title") != "From the admin" ||
		inputValue(t, ed.body, "content") != "Written **without** JavaScript.\nSecond line.\n" || inputValue(t, ed.body, "tags") != "forms, html" {
		t.Fatalf("the editor after create:\n%s", ed.body)
	}
	if !strings.Contains(string(ed.body), "<strong>without</strong>") {
		t.Error("the editor shows no preview of the saved text")
	}
	if !regexp.MustCompile(`<p class="serp-url">[^<]*/posts/from-the-admin</p>`).Match(ed.body) ||
		!strings.Contains(string(ed.body), `<p class="serp-desc">Written without JavaScript. Second line.</p>`) {
		t.Error("the editor does not show how the post looks in search results")
	}
	pub := s.do("GET", "/posts/from-the-admin", "", nil)
	mustStatus(t, pub, 200)
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		r := s.do("GET", "/api/v1/search?q=javascript", "", nil)
		if !strings.Contains(string(r.body), id) {
			return fmt.Errorf("search for javascript: %s", r.body)
		}
		if f := s.do("GET", "/feed.xml", "", nil); !strings.Contains(string(f.body), "From the admin") {
			return fmt.Errorf("the feed lacks the post")
		}
		return nil
	})

	// Edit: the title changes, the version moves on.
	version := inputValue(t, ed.body, "version")
	form := url.Values{"title": {"From the admin, edited"}, "slug": {"from-the-admin"}, "content": {"Edited."}, "status": {"published"},
		"version": {version}, "action": {"save"}}
	r = b.post("/admin/posts/"+id, form)
	ed = b.follow(r)
	if !strings.Contains(string(ed.body), "Saved.") || inputValue(t, ed.body, "title") != "From the admin, edited" || inputValue(t, ed.body, "version") == version {
		t.Fatalf("after save:\n%s", ed.body)
	}
	if p := s.do("GET", "/posts/from-the-admin", "", nil); !strings.Contains(string(p.body), "From the admin, edited") {
		t.Error("the public page does not show the edit")
	}

	// Unpublish: off the public site, still in the admin.
	form.Set("version", inputValue(t, ed.body, "version"))
	form.Set("action", "unpublish")
	ed = b.follow(b.post("/admin/posts/"+id, form))
	if !strings.Contains(string(ed.body), "Unpublished") {
		t.Fatalf("after unpublish:\n%s", ed.body)
	}
	mustStatus(t, s.do("GET", "/posts/from-the-admin", "", nil), 404)

	// Sign out: the session ends on the server, so the old cookie is
	// worth nothing even if someone kept it.
	old := b.client.Jar.Cookies(mustURL(t, s.url+"/admin/"))
	r = b.post("/admin/logout", nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/login?out=1" {
		t.Fatalf("logout: %d %q", r.status, r.header.Get("Location"))
	}
	replay := s.browser()
	replay.client.Jar.SetCookies(mustURL(t, s.url+"/admin/"), old)
	if r := replay.get("/admin/posts"); r.status != http.StatusSeeOther {
		t.Fatalf("the signed-out session still works: %d", r.status)
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Bad input through the editor: a message beside the field, the input
// kept, nothing committed. A stale save and a cross-site form are
// refused the same way.
func TestAdminRefusesBadInputAndKeepsIt(t *testing.T) {
	t.Parallel()
	s, b := signedIn(t, "ed@example.org", auth.RoleEditor)
	r := b.post("/admin/posts", url.Values{"title": {"<script>alert(1)</script> & more"}, "content": {"First version."}, "status": {"draft"}})
	id := strings.TrimPrefix(r.header.Get("Location"), "/admin/posts/")
	ed := b.follow(r)
	version := inputValue(t, ed.body, "version")
	if strings.Contains(string(ed.body), "<script>alert(1)</script>") {
		t.Fatal("hostile text shown unescaped in the editor")
	}
	if list := b.get("/admin/posts"); strings.Contains(string(list.body), "<script>alert") || !strings.Contains(string(list.body), "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more") {
		t.Fatalf("hostile text in the list:\n%s", list.body)
	}
	head := headOf(t, s)

	for _, tc := range []struct {
		name, field, value, want string
	}{
		{"empty title", "title", "", "title"},
		{"10 KB title", "title", strings.Repeat("long ", 2048), "title"},
		{"bad slug", "slug", "Not A Slug!", "slug"},
		{"bad date", "published_at", "next tuesday", "published_at"},
		{"unknown category", "categories", "no-such-category", "categories"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"title": {"Kept title"}, "content": {"My precious words."}, "status": {"draft"}, "version": {version}}
			form.Set(tc.field, tc.value)
			r := b.post("/admin/posts/"+id, form)
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", r.status, r.body)
			}
			if msg := fieldError(t, r.body, tc.want); msg == "" {
				t.Fatalf("no message beside %s:\n%s", tc.want, r.body)
			}
			if got := inputValue(t, r.body, "content"); got != "My precious words." {
				t.Errorf("the text was not kept: %q", got)
			}
			if tc.field != "categories" && inputValue(t, r.body, tc.field) != tc.value {
				t.Errorf("%s was not kept", tc.field)
			}
			if h := headOf(t, s); h != head {
				t.Fatal("main moved")
			}
		})
	}

	// Someone else saves first: this save is refused, its text kept.
	api := s.token("ed@example.org")
	mustStatus(t, s.do("PATCH", "/api/v1/posts/"+id, api, map[string]any{"content": "Their version."}, "If-Match", `"`+version+`"`,
		"Content-Type", "application/merge-patch+json"), 200)
	head = headOf(t, s)
	r = b.post("/admin/posts/"+id, url.Values{"title": {"Mine"}, "content": {"My version."}, "status": {"draft"}, "version": {version}})
	if r.status != http.StatusPreconditionFailed || inputValue(t, r.body, "content") != "My version." || !strings.Contains(string(r.body), "Someone else saved this post") {
		t.Fatalf("stale save: %d\n%s", r.status, r.body)
	}
	if headOf(t, s) != head {
		t.Fatal("a stale save moved main")
	}

	// A form posted from another site is refused, signed in or not.
	r = b.post("/admin/posts", url.Values{"title": {"Forged"}, "content": {"x"}}, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if r.status != http.StatusForbidden {
		t.Fatalf("cross-site form: %d", r.status)
	}
	if headOf(t, s) != head {
		t.Fatal("a cross-site form moved main")
	}
}

// A session ends at once when its account is removed, or its password
// or role changes.
func TestAdminSessionEndsWithTheAccount(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, e := range []string{"gone@example.org", "reset@example.org", "role@example.org"} {
		addAccount(t, data, e, auth.RoleEditor)
	}
	s := startSite(t, data)
	store := auth.NewStore(filepath.Join(data, "accounts"), cheapHash)
	for email, change := range map[string]func() error{
		"gone@example.org": func() error { return store.Remove("gone@example.org") },
		"reset@example.org": func() error {
			_, err := store.Add("reset@example.org", "", auth.RoleEditor, "another password", true)
			return err
		},
		"role@example.org": func() error { _, err := store.SetRole("role@example.org", auth.RoleAdmin); return err },
	} {
		b := s.browser()
		b.signIn(email, password)
		mustStatus(t, b.get("/admin/"), 200)
		if err := change(); err != nil {
			t.Fatal(err)
		}
		if r := b.get("/admin/"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/admin/login") {
			t.Errorf("%s: after the change the session still works: %d", email, r.status)
		}
	}
}

// Autosave keeps unsaved text apart from the site: no commit on main, no
// event, invisible to git clients; reopening offers it with the
// difference; restoring and saving it discards it. A post never created
// comes back from the dashboard.
func TestAdminAutosave(t *testing.T) {
	t.Parallel()
	s, b := signedIn(t, "ed@example.org", auth.RoleEditor)
	data := s.data
	r := b.post("/admin/posts", url.Values{"title": {"Autosaved"}, "content": {"The saved words."}, "status": {"draft"}})
	id := strings.TrimPrefix(r.header.Get("Location"), "/admin/posts/")
	ed := b.follow(r)
	if key := inputValue(t, ed.body, "draft_key"); key != "post-"+id {
		t.Fatalf("the editor's draft key is %q, want the post's id", key)
	}
	version := inputValue(t, ed.body, "version")
	head := headOf(t, s)
	r = b.post("/admin/autosave", url.Values{"draft_key": {"post-" + id}, "version": {version}, "title": {"Autosaved, retitled"},
		"content": {"The saved words, and some unsaved ones."}, "status": {"draft"}})
	if r.status != 200 || !strings.Contains(string(r.body), `"saved"`) {
		t.Fatalf("autosave: %d %s", r.status, r.body)
	}
	if headOf(t, s) != head {
		t.Fatal("an autosave moved main")
	}
	if out, err := gitTry(t, t.TempDir(), "ls-remote", s.remote("ed@example.org", password)); err != nil || strings.Contains(out, "autosave") {
		t.Fatalf("git clients see the autosaves: %v\n%s", err, out)
	}

	ed = b.get("/admin/posts/" + id)
	if !strings.Contains(string(ed.body), "You have unsaved changes to this post") || !strings.Contains(string(ed.body), "words, and some unsaved ones.</ins>") ||
		!strings.Contains(string(ed.body), "Autosaved, retitled") {
		t.Fatalf("reopening shows no unsaved changes:\n%s", ed.body)
	}
	if inputValue(t, ed.body, "content") != "The saved words.\n" {
		t.Fatal("reopening put the draft in the editor before the editor chose it")
	}
	restored := b.get("/admin/posts/" + id + "?restore=1")
	if inputValue(t, restored.body, "content") != "The saved words, and some unsaved ones." || inputValue(t, restored.body, "version") != version {
		t.Fatalf("restore:\n%s", restored.body)
	}
	form := url.Values{}
	for _, f := range []string{"title", "content", "version", "draft_key"} {
		form.Set(f, inputValue(t, restored.body, f))
	}
	form.Set("status", "draft")
	ed = b.follow(b.post("/admin/posts/"+id, form))
	if !strings.Contains(string(ed.body), "Saved.") || strings.Contains(string(ed.body), "unsaved changes") ||
		inputValue(t, ed.body, "title") != "Autosaved, retitled" {
		t.Fatalf("after saving the restored draft:\n%s", ed.body)
	}

	// A post never created.
	blank := b.get("/admin/posts/new")
	key := inputValue(t, blank.body, "draft_key")
	if !strings.HasPrefix(key, "new-") {
		t.Fatalf("a new post's draft key: %q", key)
	}
	mustStatus(t, b.post("/admin/autosave", url.Values{"draft_key": {key}, "title": {"An idea <b>never</b> saved"}, "content": {"Half a thought"}}), 200)
	dash := b.get("/admin/")
	if !strings.Contains(string(dash.body), "/admin/posts/new?draft="+key) || !strings.Contains(string(dash.body), "An idea &lt;b&gt;never&lt;/b&gt; saved") {
		t.Fatalf("the dashboard does not offer the unsaved post:\n%s", dash.body)
	}
	back := b.get("/admin/posts/new?draft=" + key)
	if inputValue(t, back.body, "content") != "Half a thought" || inputValue(t, back.body, "draft_key") != key {
		t.Fatalf("the unsaved post did not come back:\n%s", back.body)
	}
	// Another account sees none of it.
	addAccount(t, data, "other@example.org", auth.RoleEditor)
	o := s.browser()
	o.signIn("other@example.org", password)
	if d := o.get("/admin/"); strings.Contains(string(d.body), key) {
		t.Fatal("another account sees the draft")
	}
	if strings.Contains(string(o.get("/admin/posts/new?draft="+key).body), "Half a thought") {
		t.Fatal("another account opens the draft")
	}
	// Drafts are of posts that exist, or of a bounded number being written.
	if r := b.post("/admin/autosave", url.Values{"draft_key": {"post-no-such-post"}, "content": {"x"}}); r.status != http.StatusNotFound {
		t.Errorf("a draft of a post that does not exist: %d", r.status)
	}
	for i := 0; ; i++ {
		r := b.post("/admin/autosave", url.Values{"draft_key": {fmt.Sprintf("new-many%d", i)}, "content": {"x"}})
		if r.status == http.StatusConflict {
			if i < 40 || i > 50 {
				t.Errorf("refused after %d drafts", i)
			}
			break
		}
		if r.status != 200 || i > 60 {
			t.Fatalf("draft %d: %d", i, r.status)
		}
	}
	r = b.post("/admin/drafts/"+key+"/discard", nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("discard: %d", r.status)
	}
	if d := b.get("/admin/"); strings.Contains(string(d.body), key) {
		t.Fatal("a discarded draft is still offered")
	}
}

// Two editors open one post: each is told the other has it open; the
// second save shows both texts and their difference, keeps the second
// editor's text, and saving over the other version loses nothing:
// history holds both saves.
func TestAdminConflictLosesNothing(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ann@example.org", auth.RoleEditor)
	addAccount(t, data, "bob@example.org", auth.RoleEditor)
	s := startSite(t, data)
	ann, bob := s.browser(), s.browser()
	ann.signIn("ann@example.org", password)
	bob.signIn("bob@example.org", password)
	r := ann.post("/admin/posts", url.Values{"title": {"Shared"}, "content": {"One two three."}, "status": {"draft"}})
	id := strings.TrimPrefix(r.header.Get("Location"), "/admin/posts/")
	annEd, bobEd := ann.follow(r), bob.get("/admin/posts/"+id)
	// Bob is told Ann has it open (and the heartbeat says the same).
	if !strings.Contains(string(bobEd.body), "ann@example.org has had this post open since") {
		t.Fatalf("bob is not told ann is editing:\n%s", bobEd.body)
	}
	if hb := bob.post("/admin/posts/"+id+"/presence", nil); hb.status != 200 || !strings.Contains(string(hb.body), `"who":"ann@example.org"`) {
		t.Fatalf("heartbeat: %d %s", hb.status, hb.body)
	}
	if hb := ann.post("/admin/posts/"+id+"/presence", nil); !strings.Contains(string(hb.body), `"who":"bob@example.org"`) {
		t.Fatalf("ann's heartbeat does not show bob: %s", hb.body)
	}
	save := func(b *browser, page []byte, text string, extra ...string) response {
		form := url.Values{"title": {"Shared"}, "content": {text}, "status": {"draft"}, "version": {inputValue(t, page, "version")}}
		for i := 0; i+1 < len(extra); i += 2 {
			form.Set(extra[i], extra[i+1])
		}
		return b.post("/admin/posts/"+id, form)
	}
	mustStatus(t, save(ann, annEd.body, "One two three, said Ann."), http.StatusSeeOther)
	refused := save(bob, bobEd.body, "One two three four, said Bob.")
	if refused.status != http.StatusPreconditionFailed {
		t.Fatalf("the second save: %d", refused.status)
	}
	body := string(refused.body)
	if inputValue(t, refused.body, "content") != "One two three four, said Bob." || inputValue(t, refused.body, "theirs") != "One two three, said Ann.\n" ||
		!strings.Contains(body, "<del>") || !strings.Contains(body, "<ins>") || !strings.Contains(body, "Save mine over theirs") {
		t.Fatalf("the conflict page:\n%s", body)
	}
	// Bob merges by hand and saves over Ann's version.
	r = save(bob, refused.body, "One two three four, said Bob and Ann.", "action", "overwrite", "conflict_version", inputValue(t, refused.body, "conflict_version"))
	if r.status != http.StatusSeeOther {
		t.Fatalf("saving over: %d %s", r.status, r.body)
	}
	saves := git(t, s.repoDir(), "log", "--format=%ae %s", "refs/heads/main")
	if !strings.Contains(saves, "ann@example.org Update post") || !strings.Contains(saves, "bob@example.org Update post") {
		t.Errorf("history does not hold both saves:\n%s", saves)
	}
	texts := git(t, s.repoDir(), "log", "-p", "--format=%H", "refs/heads/main")
	for _, want := range []string{"said Ann.", "said Bob and Ann."} {
		if !strings.Contains(texts, want) {
			t.Errorf("history lacks %q", want)
		}
	}
}

// The editor says what the embed URL will show: once saved and looked up,
// what it resolved to; before, that it will be looked up.
func TestAdminShowsWhatTheEmbedResolvedTo(t *testing.T) {
	t.Parallel()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<head><meta property="og:title" content="Tides &lt;explained&gt;"><meta property="og:site_name" content="Sea"><meta property="og:image" content="https://example.org/tide.jpg"></head>`))
	}))
	defer page.Close()
	_, b := signedIn(t, "ed@example.org", auth.RoleEditor, func(c *Config) { c.EmbedsAllowPrivate = true })
	blank := b.post("/admin/posts", url.Values{"title": {"Preview only"}, "embed_url": {page.URL + "/tides"}, "action": {"preview"}})
	if !strings.Contains(string(blank.body), "Once saved, the address is looked up") {
		t.Fatalf("before saving:\n%s", blank.body)
	}
	r := b.post("/admin/posts", url.Values{"title": {"With an embed"}, "embed_url": {page.URL + "/tides"}, "status": {"draft"}})
	id := strings.TrimPrefix(r.header.Get("Location"), "/admin/posts/")
	eventstest.CheckFor(t, 15*time.Second, pollEvery, func() error {
		ed := b.get("/admin/posts/" + id)
		if !regexp.MustCompile(`Shown as a card from [^:<]+: “Tides &lt;explained&gt;”\.`).Match(ed.body) {
			return fmt.Errorf("the editor does not show the resolved embed yet: %s", regexp.MustCompile(`id="embed-state">[^<]*`).Find(ed.body))
		}
		return nil
	})
}
