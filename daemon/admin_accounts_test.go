package daemon

import (
	"bytes"
	"context"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// accountFiles is the accounts folder as it is on disk (the lock aside),
// to show a refused change changed nothing.
func accountFiles(t testing.TB, data string) map[string]string {
	t.Helper()
	dir := filepath.Join(data, "accounts")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.Name() == ".lock" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func sameFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// signedOut reports whether the browser's session has ended: an admin
// page sends it to the sign-in page.
func (b *browser) signedOut() bool {
	b.t.Helper()
	r := b.get("/admin/")
	return r.status == http.StatusSeeOther && strings.HasPrefix(r.header.Get("Location"), "/admin/login")
}

// tryPassword reports whether email signs in with pw, from a loopback
// address of its own (ip), so that trying spends nothing of the tested
// browsers' sign-in budget.
func (s *site) tryPassword(ip, email, pw string) bool {
	s.t.Helper()
	req, err := http.NewRequest("POST", s.url+"/admin/login", strings.NewReader(url.Values{"email": {email}, "password": {pw}}.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusUnauthorized {
		s.t.Fatalf("sign in as %s from %s: status %d", email, ip, resp.StatusCode)
	}
	return resp.StatusCode == http.StatusSeeOther
}

// shownSecret is the secret a shown-once page holds, and checks the page
// says so.
func shownSecret(t testing.TB, r response) string {
	t.Helper()
	if !bytes.Contains(r.body, []byte("it will not be shown again")) || !bytes.Contains(r.body, []byte(`data-copy="secret"`)) {
		t.Errorf("the page with a secret does not say it is shown once, or has no copy button:\n%s", r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("a page with a secret is cacheable: Cache-Control %q", cc)
	}
	return inputValue(t, r.body, "secret")
}

func accountPath(email string) string { return "/admin/accounts/edit?email=" + url.QueryEscape(email) }

// With JavaScript off, an admin adds accounts (with a password, or a
// generated one shown once), changes a role, resets a password and
// removes an account; every change ends the account's sessions at once.
func TestAdminAccounts(t *testing.T) {
	t.Parallel()
	s, b := signedIn(t, "admin@example.org", auth.RoleAdmin)
	data := s.data

	list := b.get("/admin/accounts")
	mustStatus(t, list, 200)
	if !strings.Contains(string(list.body), "admin@example.org") || !strings.Contains(string(list.body), `aria-current="page">Accounts`) {
		t.Fatalf("the accounts page:\n%s", list.body)
	}

	// Add with a password; the name is hostile and shows escaped.
	hostile := `<script>alert(1)</script> "Ann" & co`
	r := b.post("/admin/accounts", url.Values{"email": {" Ann@Example.org "}, "name": {hostile}, "role": {"editor"}, "password": {"ann's long password"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/accounts" {
		t.Fatalf("add: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	list = b.follow(r)
	if !strings.Contains(string(list.body), "Added ann@example.org (editor).") {
		t.Errorf("no word of the new account:\n%s", list.body)
	}
	for _, body := range [][]byte{list.body, b.get(accountPath("ann@example.org")).body} {
		if strings.Contains(string(body), "<script>alert(1)") || !strings.Contains(string(body), "&lt;script&gt;alert(1)&lt;/script&gt; &#34;Ann&#34; &amp; co") {
			t.Fatalf("the hostile name is not shown escaped:\n%s", body)
		}
	}
	if strings.Contains(string(list.body), "argon2") {
		t.Fatal("the list shows password hashes")
	}
	ann := s.browser()
	ann.signIn("ann@example.org", "ann's long password")

	// Add with a generated password: shown once, and it works.
	r = b.post("/admin/accounts", url.Values{"email": {"gen@example.org"}, "role": {"admin"}, "password": {""}})
	if r.status != http.StatusCreated {
		t.Fatalf("add with a generated password: %d\n%s", r.status, r.body)
	}
	generated := shownSecret(t, r)
	if len(generated) < 20 || !s.tryPassword("127.0.0.12", "gen@example.org", generated) {
		t.Fatalf("the generated password %q does not sign in", generated)
	}
	if a, err := auth.NewStore(filepath.Join(data, "accounts"), cheapHash).Get("gen@example.org"); err != nil || a.Role != auth.RoleAdmin {
		t.Fatalf("the added admin: %+v %v", a, err)
	}

	// Change a role: the account's session ends at once.
	page := b.get(accountPath("ann@example.org"))
	mustStatus(t, page, 200)
	version := inputValue(t, page.body, "version")
	r = b.post("/admin/accounts/role", url.Values{"email": {"ann@example.org"}, "role": {"admin"}, "version": {version}})
	page = b.follow(r)
	if !strings.Contains(string(page.body), "ann@example.org is now admin.") || !strings.Contains(string(page.body), "Their sessions have ended.") {
		t.Fatalf("after the role change:\n%s", page.body)
	}
	if !ann.signedOut() {
		t.Error("ann's session goes on after her role changed")
	}
	if b.signedOut() {
		t.Fatal("the admin's own session ended with another account's change")
	}

	// Reset a password to one entered: old sessions end, the old password
	// no longer signs in, the new one does.
	ann = s.browser()
	ann.signIn("ann@example.org", "ann's long password")
	page = b.get(accountPath("ann@example.org"))
	r = b.post("/admin/accounts/password", url.Values{"email": {"ann@example.org"}, "password": {"ann's new long password"},
		"version": {inputValue(t, page.body, "version")}})
	page = b.follow(r)
	if !strings.Contains(string(page.body), "The password of ann@example.org was reset.") {
		t.Fatalf("after the reset:\n%s", page.body)
	}
	if !ann.signedOut() {
		t.Error("ann's session goes on after her password was reset")
	}
	if s.tryPassword("127.0.0.13", "ann@example.org", "ann's long password") || !s.tryPassword("127.0.0.14", "ann@example.org", "ann's new long password") {
		t.Error("the reset password is not the one that signs in")
	}

	// Reset to a generated one, shown once.
	ann = s.browser()
	ann.signIn("ann@example.org", "ann's new long password")
	page = b.get(accountPath("ann@example.org"))
	r = b.post("/admin/accounts/password", url.Values{"email": {"ann@example.org"}, "password": {""}, "version": {inputValue(t, page.body, "version")}})
	mustStatus(t, r, 200)
	generated = shownSecret(t, r)
	if !ann.signedOut() || !s.tryPassword("127.0.0.15", "ann@example.org", generated) {
		t.Error("a generated reset: the old session goes on, or the new password does not sign in")
	}

	// Remove: a question first (a page, without JavaScript), then gone,
	// with its session and its tokens.
	ann = s.browser()
	ann.signIn("ann@example.org", generated)
	pat := func() string {
		a := auth.NewStore(filepath.Join(data, "accounts"), cheapHash)
		_, secret, err := a.CreateToken("ann@example.org", "cron")
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}()
	mustStatus(t, s.do("GET", "/api/v1/tokens", pat, nil), 200)
	page = b.get(accountPath("ann@example.org"))
	version = inputValue(t, page.body, "version")
	confirm := b.post("/admin/accounts/remove", url.Values{"email": {"ann@example.org"}, "version": {version}})
	mustStatus(t, confirm, 200)
	if !strings.Contains(string(confirm.body), "Remove the account ann@example.org?") || !strings.Contains(string(confirm.body), `name="confirm" value="yes"`) {
		t.Fatalf("the question:\n%s", confirm.body)
	}
	if _, err := auth.NewStore(filepath.Join(data, "accounts"), cheapHash).Get("ann@example.org"); err != nil {
		t.Fatalf("removed before the answer: %v", err)
	}
	r = b.post("/admin/accounts/remove", url.Values{"email": {"ann@example.org"}, "version": {version}, "confirm": {"yes"}})
	list = b.follow(r)
	if !strings.Contains(string(list.body), "Removed ann@example.org") || strings.Contains(string(list.body), "accounts/edit?email=ann%40example.org") {
		t.Fatalf("after removal:\n%s", list.body)
	}
	if !ann.signedOut() {
		t.Error("a removed account's session goes on")
	}
	mustStatus(t, s.do("GET", "/api/v1/tokens", pat, nil), 401)
	mustStatus(t, b.get(accountPath("ann@example.org")), 404)

	// An admin demotes themself (another admin is left): the page goes
	// on as an editor's, without the admin pages.
	page = b.get(accountPath("admin@example.org"))
	r = b.post("/admin/accounts/role", url.Values{"email": {"admin@example.org"}, "role": {"editor"}, "version": {inputValue(t, page.body, "version")}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		t.Fatalf("self-demotion: %d %q", r.status, r.header.Get("Location"))
	}
	dash := b.follow(r)
	mustStatus(t, dash, 200)
	if !strings.Contains(string(dash.body), "admin@example.org is now editor.") || strings.Contains(string(dash.body), `href="/admin/accounts"`) {
		t.Errorf("after self-demotion:\n%s", dash.body)
	}
	mustStatus(t, b.get("/admin/accounts"), 403)
}

// Bad input on the accounts pages: a message beside the field, the
// input kept (never a password), nothing changed on disk. The last
// admin cannot be demoted or removed. An editor may not open them.
func TestAdminAccountsRefuseBadInput(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	b := s.browser()
	b.signIn("admin@example.org", password)
	before := accountFiles(t, data)
	refs := git(t, s.repoDir(), "for-each-ref") // accounts are not content: nothing is committed
	unchanged := func(t *testing.T) {
		t.Helper()
		if !sameFiles(before, accountFiles(t, data)) {
			t.Fatal("a refused change changed the accounts on disk")
		}
		if git(t, s.repoDir(), "for-each-ref") != refs {
			t.Fatal("the repository changed")
		}
	}

	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		field  string
		want   string
	}{
		{"no email", url.Values{"email": {""}, "role": {"editor"}}, 422, "email", "Enter the email address"},
		{"bad email", url.Values{"email": {"not an email"}, "role": {"editor"}}, 422, "email", "is not an email address"},
		{"hostile email", url.Values{"email": {`<b>x</b>@example.org`}, "role": {"editor"}}, 422, "email", "is not an email address"},
		{"duplicate email", url.Values{"email": {"ED@example.org"}, "role": {"editor"}, "password": {"a long enough password"}}, 409, "email", "already an account"},
		{"short password", url.Values{"email": {"new@example.org"}, "role": {"editor"}, "password": {"eleven char"}}, 422, "password", "at least 12 characters"},
		{"unknown role", url.Values{"email": {"new@example.org"}, "role": {"owner"}}, 422, "role", "editor or admin"},
		{"long name", url.Values{"email": {"new@example.org"}, "name": {strings.Repeat("n", 101)}, "role": {"editor"}}, 422, "name", "at most 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.post("/admin/accounts", tc.form)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d:\n%s", r.status, tc.status, r.body)
			}
			if msg := fieldError(t, r.body, tc.field); !strings.Contains(msg, tc.want) {
				t.Fatalf("beside %s: %q, want %q:\n%s", tc.field, msg, tc.want, r.body)
			}
			if got := inputValue(t, r.body, "email"); got != tc.form.Get("email") {
				t.Errorf("the email was not kept: %q", got)
			}
			if strings.Contains(string(r.body), "a long enough password") {
				t.Error("the password is sent back")
			}
			if strings.Contains(string(r.body), "<b>x</b>") {
				t.Error("hostile input shown unescaped")
			}
			unchanged(t)
		})
	}

	page := b.get(accountPath("admin@example.org"))
	version := inputValue(t, page.body, "version")
	if !strings.Contains(string(page.body), "this is its only one") {
		t.Error("the last admin's page does not say why it stays admin")
	}
	t.Run("demote the last admin", func(t *testing.T) {
		r := b.post("/admin/accounts/role", url.Values{"email": {"admin@example.org"}, "role": {"editor"}, "version": {version}})
		if r.status != http.StatusConflict {
			t.Fatalf("status %d:\n%s", r.status, r.body)
		}
		if msg := fieldError(t, r.body, "role"); !strings.Contains(msg, "only admin") {
			t.Fatalf("beside the role: %q", msg)
		}
		unchanged(t)
	})
	t.Run("remove the last admin", func(t *testing.T) {
		for _, confirm := range []string{"", "yes"} {
			r := b.post("/admin/accounts/remove", url.Values{"email": {"admin@example.org"}, "version": {version}, "confirm": {confirm}})
			if r.status != http.StatusConflict {
				t.Fatalf("confirm %q: status %d:\n%s", confirm, r.status, r.body)
			}
			m := regexp.MustCompile(`<p class="error" id="remove-error" role="alert">([^<]*)</p>`).FindSubmatch(r.body)
			if m == nil || !strings.Contains(html.UnescapeString(string(m[1])), "only admin") ||
				!regexp.MustCompile(`id="remove"[^>]*aria-describedby="remove-error`).Match(r.body) {
				t.Fatalf("confirm %q: no message beside the remove button:\n%s", confirm, r.body)
			}
		}
		unchanged(t)
	})
	t.Run("short reset password", func(t *testing.T) {
		page := b.get(accountPath("ed@example.org"))
		r := b.post("/admin/accounts/password", url.Values{"email": {"ed@example.org"}, "password": {"too short"}, "version": {inputValue(t, page.body, "version")}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, r.body, "password"), "at least 12 characters") {
			t.Fatalf("status %d:\n%s", r.status, r.body)
		}
		unchanged(t)
	})
	t.Run("no version", func(t *testing.T) {
		r := b.post("/admin/accounts/role", url.Values{"email": {"ed@example.org"}, "role": {"admin"}})
		if r.status != http.StatusPreconditionRequired {
			t.Fatalf("status %d:\n%s", r.status, r.body)
		}
		unchanged(t)
	})
	t.Run("unknown account", func(t *testing.T) {
		mustStatus(t, b.post("/admin/accounts/role", url.Values{"email": {"nobody@example.org"}, "role": {"admin"}, "version": {"x"}}), 404)
		mustStatus(t, b.get(accountPath("nobody@example.org")), 404)
		unchanged(t)
	})
	// Decided on the account as it was: refused once it changed.
	t.Run("stale", func(t *testing.T) {
		page := b.get(accountPath("ed@example.org"))
		old := inputValue(t, page.body, "version")
		if _, err := auth.NewStore(filepath.Join(data, "accounts"), cheapHash).SetRole("ed@example.org", auth.RoleEditor); err != nil {
			t.Fatal(err)
		}
		before = accountFiles(t, data)
		for path, form := range map[string]url.Values{
			"/admin/accounts/role":     {"role": {"admin"}},
			"/admin/accounts/password": {"password": {"a long enough password"}},
			"/admin/accounts/remove":   {"confirm": {"yes"}},
		} {
			form.Set("email", "ed@example.org")
			form.Set("version", old)
			r := b.post(path, form)
			if r.status != http.StatusPreconditionFailed || !strings.Contains(string(r.body), "changed after you opened this page") {
				t.Fatalf("%s: status %d:\n%s", path, r.status, r.body)
			}
			if v := inputValue(t, r.body, "version"); v == old || v == "" {
				t.Errorf("%s: the refused page is filled from the account as it was (version %q)", path, v)
			}
		}
		unchanged(t)
	})

	// An editor: 403 on every accounts page, and no link to them.
	ed := s.browser()
	ed.signIn("ed@example.org", password)
	if dash := ed.get("/admin/"); strings.Contains(string(dash.body), `href="/admin/accounts"`) {
		t.Error("an editor is shown the accounts link")
	}
	for _, r := range []response{
		ed.get("/admin/accounts"),
		ed.get(accountPath("admin@example.org")),
		ed.post("/admin/accounts", url.Values{"email": {"mine@example.org"}, "role": {"admin"}, "password": {"a long enough password"}}),
		ed.post("/admin/accounts/role", url.Values{"email": {"ed@example.org"}, "role": {"admin"}, "version": {"x"}}),
		ed.post("/admin/accounts/password", url.Values{"email": {"admin@example.org"}, "password": {"a long enough password"}, "version": {"x"}}),
		ed.post("/admin/accounts/remove", url.Values{"email": {"admin@example.org"}, "version": {"x"}, "confirm": {"yes"}}),
	} {
		mustStatus(t, r, 403)
	}
	before = accountFiles(t, data)
	if _, err := auth.NewStore(filepath.Join(data, "accounts"), cheapHash).Get("mine@example.org"); err == nil {
		t.Fatal("an editor added an account")
	}
	if a, _ := auth.NewStore(filepath.Join(data, "accounts"), cheapHash).Get("ed@example.org"); a.Role != auth.RoleEditor {
		t.Fatal("an editor made themself admin")
	}
}

// Changing one's own password: the current one is checked (and counted
// against the sign-in budget), this session goes on, the account's
// other sessions and API tokens end.
func TestAdminOwnPassword(t *testing.T) {
	t.Parallel()
	s, b := signedIn(t, "ed@example.org", auth.RoleEditor)
	data := s.data
	other := s.browser()
	other.signIn("ed@example.org", password)
	jwt := s.token("ed@example.org")
	mustStatus(t, b.get("/admin/password"), 200)
	before := accountFiles(t, data)

	for _, tc := range []struct {
		name, current, pw, again, field, want string
	}{
		{"no current", "", "a new long password", "a new long password", "current_password", "Enter your current password"},
		{"wrong current", "not my password", "a new long password", "a new long password", "current_password", "not your current password"},
		{"short", password, "short one", "short one", "new_password", "at least 12 characters"},
		{"mismatch", password, "a new long password", "a new long passwort", "new_password_again", "not the same"},
		{"same", password, password, password, "new_password", "your current password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.post("/admin/password", url.Values{"current_password": {tc.current}, "new_password": {tc.pw}, "new_password_again": {tc.again}})
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d:\n%s", r.status, r.body)
			}
			if msg := fieldError(t, r.body, tc.field); !strings.Contains(msg, tc.want) {
				t.Fatalf("beside %s: %q, want %q", tc.field, msg, tc.want)
			}
			if strings.Contains(string(r.body), "a new long password") || strings.Contains(string(r.body), password) {
				t.Error("a password is sent back")
			}
			if !sameFiles(before, accountFiles(t, data)) {
				t.Fatal("a refused change changed the account")
			}
		})
	}
	if other.signedOut() {
		t.Fatal("refused changes ended a session")
	}

	r := b.post("/admin/password", url.Values{"current_password": {password}, "new_password": {"my new long password"}, "new_password_again": {"my new long password"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("change: %d\n%s", r.status, r.body)
	}
	if !strings.Contains(r.header.Get("Set-Cookie"), "chronicle_session=") {
		t.Error("the session token was not renewed")
	}
	page := b.follow(r)
	mustStatus(t, page, 200)
	if !strings.Contains(string(page.body), "Your password is changed.") {
		t.Fatalf("after the change:\n%s", page.body)
	}
	if b.signedOut() {
		t.Fatal("the session that changed the password ended")
	}
	if !other.signedOut() {
		t.Error("another session of the account goes on")
	}
	mustStatus(t, s.do("GET", "/api/v1/tokens", jwt, nil), 401)
	if s.tryPassword("127.0.0.16", "ed@example.org", password) || !s.tryPassword("127.0.0.17", "ed@example.org", "my new long password") {
		t.Error("the new password is not the one that signs in")
	}

	// Guessing through a session counts against the sign-in budget:
	// guesses sent at once are checked up to the address's budget (the
	// budget is taken before the slow hash, so however slow this machine
	// is), the rest refused unchecked, as at the sign-in page.
	const guesses = 15
	answers := make(chan response, guesses)
	errs := make(chan error, guesses)
	for i := range guesses {
		go func() {
			form := url.Values{"current_password": {"guess " + strings.Repeat("x", i)}, "new_password": {"a new long password"},
				"new_password_again": {"a new long password"}}
			req, _ := http.NewRequest("POST", s.url+"/admin/password", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			resp, err := b.client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			answers <- response{status: resp.StatusCode, header: resp.Header, body: body}
		}()
	}
	limited := 0
	for range guesses {
		select {
		case err := <-errs:
			t.Fatal(err)
		case r := <-answers:
			switch r.status {
			case http.StatusTooManyRequests:
				limited++
				if r.header.Get("Retry-After") == "" || !strings.Contains(fieldError(t, r.body, "current_password"), "Too many attempts") {
					t.Fatalf("over the budget:\n%s", r.body)
				}
			case http.StatusUnprocessableEntity:
				if !strings.Contains(fieldError(t, r.body, "current_password"), "not your current password") {
					t.Fatalf("a wrong guess:\n%s", r.body)
				}
			default:
				t.Fatalf("a guess: status %d", r.status)
			}
		}
	}
	if limited == 0 {
		t.Fatalf("%d wrong current passwords at once and none refused", guesses)
	}
}

// Personal access tokens from the admin: made and shown once, listed
// without their secret, working as a bearer token until revoked; an
// admin sees only their own.
func TestAdminTokens(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	b := s.browser()
	b.signIn("ed@example.org", password)
	page := b.get("/admin/tokens")
	mustStatus(t, page, 200)
	if !strings.Contains(string(page.body), "You have no tokens.") {
		t.Fatalf("the empty list:\n%s", page.body)
	}

	r := b.post("/admin/tokens", url.Values{"name": {"  "}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, r.body, "name"), "Name the token") {
		t.Fatalf("no name: %d\n%s", r.status, r.body)
	}
	r = b.post("/admin/tokens", url.Values{"name": {strings.Repeat("<", 101)}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, r.body, "name"), "at most 100") ||
		inputValue(t, r.body, "name") != strings.Repeat("<", 101) {
		t.Fatalf("a long name: %d\n%s", r.status, r.body)
	}
	if ts, _ := auth.NewStore(filepath.Join(data, "accounts"), cheapHash).Tokens("ed@example.org"); len(ts) != 0 {
		t.Fatalf("refused names made tokens: %v", ts)
	}

	hostile := `<img src=x onerror=alert(1)> laptop "git" & co`
	r = b.post("/admin/tokens", url.Values{"name": {hostile}})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d\n%s", r.status, r.body)
	}
	secret := shownSecret(t, r)
	if !strings.HasPrefix(secret, auth.TokenPrefix) || strings.Contains(string(r.body), "<img src=x") {
		t.Fatalf("the token page (secret %q):\n%s", secret, r.body)
	}
	page = b.get("/admin/tokens")
	if strings.Contains(string(page.body), secret) || strings.Contains(string(page.body), "<img src=x") ||
		!strings.Contains(string(page.body), "&lt;img src=x onerror=alert(1)&gt; laptop &#34;git&#34; &amp; co") {
		t.Fatalf("the list shows the secret or the name unescaped:\n%s", page.body)
	}
	if !strings.Contains(string(page.body), "not yet") {
		t.Error("a token never used is not shown as such")
	}

	// It works as a bearer token, for the API's own token list.
	api := s.do("GET", "/api/v1/tokens", secret, nil)
	mustStatus(t, api, 200)
	if !strings.Contains(string(api.body), "laptop") || !strings.Contains(string(api.body), `"last_used_at":`) {
		t.Fatalf("the API's list: %s", api.body)
	}
	id := strings.Split(strings.TrimPrefix(secret, auth.TokenPrefix), "_")[0]
	if page := b.get("/admin/tokens"); !regexp.MustCompile(`<td>\d+ \w+ \d{4}, \d\d:\d\d</td>\n<td>\d+ \w+ \d{4}, \d\d:\d\d</td>`).Match(page.body) {
		t.Errorf("the list does not show when the token was last used:\n%s", page.body)
	}

	// An admin sees their own tokens only, and cannot revoke another's.
	adm := s.browser()
	adm.signIn("admin@example.org", password)
	if page := adm.get("/admin/tokens"); strings.Contains(string(page.body), id) || !strings.Contains(string(page.body), "You have no tokens.") {
		t.Fatalf("an admin sees another account's token:\n%s", page.body)
	}
	mustStatus(t, adm.post("/admin/tokens/"+id+"/revoke", url.Values{"confirm": {"yes"}}), 404)
	mustStatus(t, s.do("GET", "/api/v1/tokens", secret, nil), 200)

	// Revoke: a question first, then refused at once.
	confirm := b.post("/admin/tokens/"+id+"/revoke", nil)
	mustStatus(t, confirm, 200)
	if !strings.Contains(string(confirm.body), "Revoke the token") || strings.Contains(string(confirm.body), "<img src=x") {
		t.Fatalf("the question:\n%s", confirm.body)
	}
	mustStatus(t, s.do("GET", "/api/v1/tokens", secret, nil), 200)
	r = b.post("/admin/tokens/"+id+"/revoke", url.Values{"confirm": {"yes"}})
	page = b.follow(r)
	if !strings.Contains(string(page.body), "Revoked the token") || !strings.Contains(string(page.body), "You have no tokens.") {
		t.Fatalf("after revoking:\n%s", page.body)
	}
	mustStatus(t, s.do("GET", "/api/v1/tokens", secret, nil), 401)
	mustStatus(t, b.post("/admin/tokens/"+id+"/revoke", url.Values{"confirm": {"yes"}}), 404)
}

// accountPages adds the accounts, password and token pages to adminSite's
// pages and forms (vnu and axe check them): a second account and a
// token, with hostile names, and every form refused once.
func accountPages(t *testing.T, b *browser, pages map[string]string, forms map[string][]byte) {
	t.Helper()
	mustStatus(t, b.post("/admin/accounts", url.Values{"email": {"ed@example.org"}, "name": {`<i>Ed</i> "the editor" & co`}, "role": {"editor"},
		"password": {"a long enough password"}}), http.StatusSeeOther)
	created := b.post("/admin/tokens", url.Values{"name": {`<img src=x onerror=alert(1)> laptop "git"`}})
	mustStatus(t, created, http.StatusCreated)
	id := strings.Split(strings.TrimPrefix(shownSecret(t, created), auth.TokenPrefix), "_")[0]
	edVersion := inputValue(t, b.get(accountPath("ed@example.org")).body, "version")
	adminVersion := inputValue(t, b.get(accountPath("admin@example.org")).body, "version")
	for name, path := range map[string]string{"accounts": "/admin/accounts", "account": accountPath("ed@example.org"),
		"account-last-admin": accountPath("admin@example.org"), "password": "/admin/password", "tokens": "/admin/tokens"} {
		pages[name] = path
	}
	for name, r := range map[string]response{
		"account-added": b.post("/admin/accounts", url.Values{"email": {"gen@example.org"}, "role": {"editor"}}),
		"token-created": created,
		"accounts-refused": b.post("/admin/accounts", url.Values{"email": {"<b>not</b> an email"}, "name": {strings.Repeat("<", 101)}, "role": {"owner"},
			"password": {"short"}}),
		"account-refused":        b.post("/admin/accounts/password", url.Values{"email": {"ed@example.org"}, "password": {"short"}, "version": {edVersion}}),
		"account-demote-refused": b.post("/admin/accounts/role", url.Values{"email": {"admin@example.org"}, "role": {"editor"}, "version": {adminVersion}}),
		"account-remove-refused": b.post("/admin/accounts/remove", url.Values{"email": {"admin@example.org"}, "version": {adminVersion}}),
		"account-remove":         b.post("/admin/accounts/remove", url.Values{"email": {"ed@example.org"}, "version": {edVersion}}),
		"account-stale":          b.post("/admin/accounts/role", url.Values{"email": {"ed@example.org"}, "role": {"admin"}, "version": {"older"}}),
		"password-refused": b.post("/admin/password", url.Values{"current_password": {""}, "new_password": {"short"},
			"new_password_again": {"other"}}),
		"tokens-refused": b.post("/admin/tokens", url.Values{"name": {""}}),
		"token-revoke":   b.post("/admin/tokens/"+id+"/revoke", nil),
	} {
		if r.status == http.StatusSeeOther || r.status >= 500 {
			t.Fatalf("%s: status %d", name, r.status)
		}
		forms[name] = r.body
	}
}

// showToken makes a personal access token in the browser, with
// JavaScript on: the page shows it with its copy button.
func showToken(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	var hidden bool
	if err := chromedp.Run(ctx, chromedp.Navigate(base+"/admin/tokens"), chromedp.WaitReady("#name", chromedp.ByQuery),
		chromedp.SendKeys("#name", "from the browser", chromedp.ByQuery), chromedp.Submit("#name", chromedp.ByQuery),
		chromedp.WaitVisible("#secret", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("button[data-copy]").hidden`, &hidden)); err != nil {
		t.Fatalf("create a token in the browser: %v", err)
	}
	if hidden {
		t.Error("with JavaScript on, the copy button stays hidden")
	}
}
