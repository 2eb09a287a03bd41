package daemon

import (
	"fmt"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// A pushed commit's page in the admin without JavaScript: its pusher,
// its events linked to the post's history, its diff line by line; its
// revert made through the confirmation page (the files back, the new
// commit's page shown), then refused because that revert changed the
// same file since (the later commit listed, nothing committed); the
// site's first commit is not revertable; unknown commits are not found.
func TestAdminCommitPageAndRevert(t *testing.T) {
	t.Parallel()
	s, b := signedIn(t, "ed@example.org", auth.RoleEditor)
	tok := s.token("ed@example.org")
	wait := []string{"Prefer", "wait=5"}
	r := s.do("POST", "/api/v1/posts", tok, postBody("Ferries", "status", "published"), wait...)
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)

	work := filepath.Join(t.TempDir(), "w")
	gitOK(t, ".", "clone", "-q", s.remote("ed@example.org", password), work)
	before, _ := os.ReadFile(filepath.Join(work, p.Path))
	write(t, filepath.Join(work, p.Path), strings.Replace(string(before), "Some *Markdown* for Ferries.", "Ferries leave at <noon>.", 1))
	gitOK(t, work, "commit", "-q", "-am", "Noon ferries")
	gitOK(t, work, "push", "-q", "origin", "HEAD:main")
	pushed := gitOK(t, work, "rev-parse", "HEAD")
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if !strings.Contains(string(s.get("/posts/ferries").body), "leave at") {
			return fmt.Errorf("the pushed edit is not on the post's page yet")
		}
		return nil
	})

	page := b.get("/admin/commits/" + pushed)
	mustStatus(t, page, 200)
	body := string(page.body)
	for _, want := range []string{"<h1>Noon ferries</h1>", "ed@example.org <span class=\"muted\">(pushed by ed@example.org)</span>", pushed,
		`<span class="event">post.updated</span>`, `<a href="/admin/posts/` + p.ID + `/history">post/` + p.ID + `</a>`,
		`<span class="del"><span class="visually-hidden">removed: </span>-Some *Markdown* for Ferries.</span>`,
		`<span class="add"><span class="visually-hidden">added: </span>&#43;Ferries leave at &lt;noon&gt;.</span>`,
		`<span class="meta">--- a/` + p.Path + `</span>`, `href="/admin/commits/` + p.Revision + `"`,
		`href="/admin/commits/` + pushed + `/revert"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the commit's page lacks %s", want)
		}
	}
	if strings.Contains(body, "Roll back to here") || strings.Contains(body, `href="/admin/rollback`) {
		t.Error("an editor is offered the site's rollback")
	}
	for _, hash := range []string{strings.Repeat("ab", 20), "nothex"} {
		mustStatus(t, b.get("/admin/commits/"+hash), 404)
		mustStatus(t, b.post("/admin/commits/"+hash+"/revert", nil), 404)
	}

	// The revert, asked first.
	confirm := b.get("/admin/commits/" + pushed + "/revert")
	mustStatus(t, confirm, 200)
	if c := string(confirm.body); !strings.Contains(c, "<code>"+p.Path+"</code>") || !strings.Contains(c, "put back as it was before") ||
		!strings.Contains(c, `<form method="post" action="/admin/commits/`+pushed+`/revert">`) {
		t.Errorf("the revert's confirmation:\n%s", c)
	}
	if now := git(t, s.repoDir(), "rev-parse", "main"); now != pushed {
		t.Fatal("asking committed")
	}
	r = b.post("/admin/commits/"+pushed+"/revert", nil)
	mustStatus(t, r, 303)
	reverted := git(t, s.repoDir(), "rev-parse", "main")
	if loc := r.header.Get("Location"); loc != "/admin/commits/"+reverted || reverted == pushed {
		t.Fatalf("the revert sent the browser to %s; main is %s", loc, reverted)
	}
	shown := b.follow(r)
	mustStatus(t, shown, 200)
	if c := string(shown.body); !strings.Contains(c, "Reverted “Noon ferries” ("+pushed[:7]+").") || !strings.Contains(c, "<h1>Revert &#34;Noon ferries&#34;</h1>") ||
		!strings.Contains(c, `href="/admin/commits/`+pushed+`"`) {
		t.Errorf("the revert's page:\n%s", c)
	}
	if d := gitOK(t, s.repoDir(), "diff", pushed+"^", reverted); d != "" {
		t.Errorf("after the revert the files differ from before the pushed commit:\n%s", d)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if strings.Contains(string(s.get("/posts/ferries").body), "leave at") {
			return fmt.Errorf("the post's page still has the reverted edit")
		}
		return nil
	})

	// Again: the revert changed the same file since.
	r = b.post("/admin/commits/"+pushed+"/revert", nil)
	mustStatus(t, r, 409)
	if c := string(r.body); !strings.Contains(c, "1 later commit changed some of the same files") ||
		!strings.Contains(c, `<a href="/admin/commits/`+reverted+`"><code>`+reverted[:7]+`</code></a>`) || strings.Contains(c, `<form method="post"`) {
		t.Errorf("the refused revert:\n%s", c)
	}
	root := git(t, s.repoDir(), "rev-list", "--max-parents=0", "main")
	r = b.post("/admin/commits/"+root+"/revert", nil)
	mustStatus(t, r, 422)
	if !strings.Contains(html.UnescapeString(string(r.body)), "the first commit of the site cannot be reverted") {
		t.Errorf("the first commit's revert:\n%s", r.body)
	}
	if now := git(t, s.repoDir(), "rev-parse", "main"); now != reverted {
		t.Fatalf("a refused revert moved main from %s to %s", reverted, now)
	}
}

// The site rolled back from the admin: a date and time pick the commit,
// the dry run lists the files and commits nothing, the confirmation
// rolls back (a post made since is gone, the rollback's page shown);
// once done there is nothing to roll back. Only admins: an editor gets
// 403 and no link.
func TestAdminRollback(t *testing.T) {
	t.Parallel()
	s, b := signedIn(t, "admin@example.org", auth.RoleAdmin)
	addAccount(t, s.data, "ed@example.org", auth.RoleEditor)
	tok := s.token("admin@example.org")
	wait := []string{"Prefer", "wait=5"}
	var alpha, beta apiPost
	r := s.do("POST", "/api/v1/posts", tok, postBody("Alpha", "status", "published"), wait...)
	r.json(t, &alpha)
	then := alpha.Revision
	var c struct{ Time time.Time }
	s.do("GET", "/api/v1/commits/"+then, tok, nil).json(t, &c)
	time.Sleep(1100 * time.Millisecond) // the next commit's second is a later one
	r = s.do("POST", "/api/v1/posts", tok, postBody("Beta", "status", "published"), wait...)
	r.json(t, &beta)
	mustStatus(t, s.get("/posts/beta"), 200)
	present := git(t, s.repoDir(), "rev-parse", "main")

	form := b.get("/admin/rollback")
	mustStatus(t, form, 200)
	if f := string(form.body); !strings.Contains(f, `<a href="/admin/rollback" aria-current="page">Rollback</a>`) || !strings.Contains(f, `type="date"`) ||
		strings.Contains(f, "Roll back the whole site") {
		t.Errorf("the rollback's form:\n%s", f)
	}
	if cp := string(b.get("/admin/commits/" + then).body); !strings.Contains(cp, `href="/admin/rollback?to=`+then+`"`) {
		t.Errorf("the commit's page lacks its rollback link:\n%s", cp)
	}

	at := c.Time.UTC()
	dry := b.get("/admin/rollback?" + url.Values{"date": {at.Format("2006-01-02")}, "time": {at.Format("15:04:05")}}.Encode())
	mustStatus(t, dry, 200)
	d := string(dry.body)
	for _, want := range []string{`<a href="/admin/commits/` + then + `"><code>` + then[:7] + `</code></a>`, "<code>" + beta.Path + "</code></td><td>deleted</td>",
		`<a href="/admin/posts/` + beta.ID + `/history">post/` + beta.ID + `</a> (Beta)`, `<input type="hidden" name="to" value="` + then + `">`,
		"Roll back the whole site"} {
		if !strings.Contains(d, want) {
			t.Errorf("the dry run lacks %s", want)
		}
	}
	if strings.Contains(d, alpha.Path) {
		t.Error("the dry run lists a file that does not change")
	}
	if byHash := string(b.get("/admin/rollback?to=" + then).body); !strings.Contains(byHash, "<code>"+beta.Path+"</code></td><td>deleted</td>") {
		t.Errorf("the dry run by hash:\n%s", byHash)
	}
	if now := git(t, s.repoDir(), "rev-parse", "main"); now != present {
		t.Fatal("the dry run committed")
	}
	for _, bad := range []string{"to=nothex", "date=yesterday", "date=2000-01-01&time=00:00"} {
		r := b.get("/admin/rollback?" + bad)
		mustStatus(t, r, 422)
		if !strings.Contains(string(r.body), `aria-invalid="true" aria-describedby="to-error"`) || strings.Contains(string(r.body), "Roll back the whole site") {
			t.Errorf("%s:\n%s", bad, r.body)
		}
	}

	// A change after the dry run was shown: the confirmation shows the
	// list again, as it now is, and rolls nothing back.
	if seen := inputValue(t, dry.body, "head"); seen != present {
		t.Errorf("the dry run was worked out on %s, main is %s", seen, present)
	}
	var gamma apiPost
	r = s.do("POST", "/api/v1/posts", tok, postBody("Gamma", "status", "published"), wait...)
	r.json(t, &gamma)
	r = b.post("/admin/rollback", url.Values{"to": {then}, "head": {present}})
	mustStatus(t, r, 409)
	if c := string(r.body); !strings.Contains(c, "The site changed after the list below was first shown") || !strings.Contains(c, "<code>"+gamma.Path+"</code></td><td>deleted</td>") {
		t.Errorf("a confirmation of a stale dry run:\n%s", c)
	}
	if now := git(t, s.repoDir(), "rev-parse", "main"); now != gamma.Revision {
		t.Fatal("a stale confirmation rolled back")
	}
	present = gamma.Revision

	r = b.post("/admin/rollback", url.Values{"to": {then}, "head": {inputValue(t, r.body, "head")}})
	mustStatus(t, r, 303)
	rolled := git(t, s.repoDir(), "rev-parse", "main")
	if r.header.Get("Location") != "/admin/commits/"+rolled || rolled == present {
		t.Fatalf("the rollback sent the browser to %s; main is %s", r.header.Get("Location"), rolled)
	}
	if p := string(b.follow(r).body); !strings.Contains(p, "Rolled the site back to "+then[:7]) || !strings.Contains(p, "site.rolled_back") {
		t.Errorf("the rollback's page:\n%s", p)
	}
	if tree, old := git(t, s.repoDir(), "rev-parse", rolled+"^{tree}"), git(t, s.repoDir(), "rev-parse", then+"^{tree}"); tree != old {
		t.Errorf("the rollback's tree %s is not the revision's %s", tree, old)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error { return wantStatus("/posts/beta", s.get("/posts/beta"), 404) })
	mustStatus(t, s.get("/posts/gamma"), 404)
	mustStatus(t, s.get("/posts/alpha"), 200)

	// Done: nothing left to roll back.
	if again := string(b.get("/admin/rollback?to=" + then).body); !strings.Contains(again, "there is nothing to roll back") || strings.Contains(again, "Roll back the whole site") {
		t.Errorf("a dry run with nothing to do:\n%s", again)
	}
	mustStatus(t, b.post("/admin/rollback", url.Values{"to": {then}}), 409)

	ed := s.browser()
	ed.signIn("ed@example.org", password)
	mustStatus(t, ed.get("/admin/rollback"), 403)
	mustStatus(t, ed.get("/admin/rollback?to="+present), 403)
	mustStatus(t, ed.post("/admin/rollback", url.Values{"to": {present}}), 403)
	if p := string(ed.get("/admin/").body); strings.Contains(p, `href="/admin/rollback"`) {
		t.Error("an editor's navigation links the rollback")
	}
	if now := git(t, s.repoDir(), "rev-parse", "main"); now != rolled {
		t.Fatal("an editor rolled back")
	}
}

// commitPages adds a commit's page (a post edited: removed and added
// lines, a long line), its revert's confirmation and a refused revert,
// and the rollback's form and dry run.
func commitPages(t *testing.T, s *site, b *browser, tok string, pages map[string]string, forms map[string][]byte) {
	t.Helper()
	wait := []string{"Prefer", "wait=5"}
	r := s.do("POST", "/api/v1/posts", tok, postBody(`Diffed <b>post</b>`, "content", "First line.\n\nA line <i>kept</i>.\n"), wait...)
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)
	mustStatus(t, s.patch("/api/v1/posts/"+p.ID, tok, map[string]any{"content": "Second line & more.\n\nA line <i>kept</i>.\n\n" + strings.Repeat("A very long line. ", 40) + "\n"}, wait...), 200)
	edited := git(t, s.repoDir(), "rev-parse", "main")
	pages["commit"] = "/admin/commits/" + edited
	pages["commit-revert"] = pages["commit"] + "/revert"
	pages["rollback"] = "/admin/rollback"
	pages["rollback-dry-run"] = "/admin/rollback?to=" + p.Revision
	forms["commit-revert-refused"] = b.post("/admin/commits/"+p.Revision+"/revert", nil).body
	forms["rollback-refused"] = b.get("/admin/rollback?to=nothex").body
}
