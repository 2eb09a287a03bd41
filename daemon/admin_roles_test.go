package daemon

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// rolesSite is a site with an account of each role, and a browser
// signed in to each, by role.
func rolesSite(t *testing.T) (*site, map[auth.Role]*browser) {
	t.Helper()
	data := t.TempDir()
	for _, role := range policy.Roles() {
		addAccount(t, data, string(role)+"@example.org", role)
	}
	s := startSite(t, data)
	bs := map[auth.Role]*browser{}
	for _, role := range policy.Roles() {
		bs[role] = s.browser()
		bs[role].signIn(string(role)+"@example.org", password)
	}
	return s, bs
}

// createdID is the post a create's redirect names.
func createdID(t testing.TB, r response) string {
	t.Helper()
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/admin/posts/") {
		t.Fatalf("create: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	return strings.TrimPrefix(r.header.Get("Location"), "/admin/posts/")
}

// editorForm is the post's editor form as the page fills it, with
// changes.
func editorForm(t testing.TB, page []byte, changes ...string) url.Values {
	t.Helper()
	f := url.Values{"version": {inputValue(t, page, "version")}, "title": {inputValue(t, page, "title")},
		"content": {inputValue(t, page, "content")}, "status": {selected(t, page, "status")}}
	for i := 0; i+1 < len(changes); i += 2 {
		f.Set(changes[i], changes[i+1])
	}
	return f
}

// selected is the value of a select's selected option.
func selected(t testing.TB, page []byte, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<select id="` + regexp.QuoteMeta(name) + `".*?</select>`).Find(page)
	if m == nil {
		t.Fatalf("no select %s on the page", name)
	}
	if v := regexp.MustCompile(`<option value="([^"]*)" selected>`).FindSubmatch(m); v != nil {
		return string(v[1])
	}
	return ""
}

// The review flow through the admin's forms alone: a contributor writes
// a draft and submits it; an editor finds it in the queue and sends it
// back with a note; the contributor reads the note, edits and submits
// again; the editor approves it for two seconds later, and the
// scheduler publishes it. The post's history lists every step.
func TestAdminReviewFlow(t *testing.T) {
	t.Parallel()
	s, bs := rolesSite(t)
	con, ed := bs[auth.RoleContributor], bs[auth.RoleEditor]

	// A contributor is offered drafts and review, never publishing.
	nw := con.get("/admin/posts/new")
	mustStatus(t, nw, 200)
	if opts := regexp.MustCompile(`(?s)<select id="status".*?</select>`).Find(nw.body); opts == nil ||
		!strings.Contains(string(opts), `value="pending"`) || strings.Contains(string(opts), `value="published"`) || strings.Contains(string(opts), `value="scheduled"`) {
		t.Errorf("the contributor's status choices: %s", opts)
	}
	if strings.Contains(string(nw.body), `value="publish"`) {
		t.Error("a contributor is offered a Publish button")
	}
	id := createdID(t, con.post("/admin/posts", url.Values{"title": {"Field notes"}, "content": {"First try."}, "status": {"draft"}, "action": {"save"}}))
	page := con.get("/admin/posts/" + id)
	mustStatus(t, page, 200)
	if !strings.Contains(string(page.body), `<button type="submit" name="action" value="submit">Submit for review</button>`) {
		t.Fatalf("no Submit for review button on the contributor's draft:\n%s", page.body)
	}
	r := con.post("/admin/posts/"+id, editorForm(t, page.body, "action", "submit"))
	page = con.follow(r)
	if !strings.Contains(string(page.body), `id="submitted-h"`) || selected(t, page.body, "status") != "pending" {
		t.Fatalf("after submitting:\n%s", page.body)
	}

	// The editor's queue lists it, with its author.
	q := ed.get("/admin/review")
	mustStatus(t, q, 200)
	if !regexp.MustCompile(`(?s)Field notes</a></td>\s*<td>contributor@example.org</td>`).Match(q.body) {
		t.Fatalf("the review queue lacks the post and its author:\n%s", q.body)
	}
	edPage := ed.get("/admin/posts/" + id)
	if !strings.Contains(string(edPage.body), "Review this post") {
		t.Fatalf("the editor has no review form on a pending post:\n%s", edPage.body)
	}
	version := inputValue(t, edPage.body, "version")
	head := headOf(t, s)
	// Changes are requested with a note, or not at all.
	r = ed.post("/admin/posts/"+id+"/review", url.Values{"version": {version}, "decision": {"changes"}, "review_note": {"  "}})
	mustStatus(t, r, http.StatusUnprocessableEntity)
	if msg := fieldError(t, r.body, "review_note"); !strings.Contains(msg, "Say what to change") {
		t.Errorf("request changes without a note: %q", msg)
	}
	if headOf(t, s) != head {
		t.Error("a refused review committed")
	}
	note := "Cite your sources & add a photo."
	r = ed.post("/admin/posts/"+id+"/review", url.Values{"version": {version}, "decision": {"changes"}, "review_note": {note}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/review" {
		t.Fatalf("request changes: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	if q := ed.get("/admin/review"); strings.Contains(string(q.body), "Field notes") {
		t.Error("a post sent back is still in the queue")
	}

	// The contributor reads the note, edits and submits again.
	page = con.get("/admin/posts/" + id)
	if !strings.Contains(string(page.body), "An editor asked you for changes") || !strings.Contains(string(page.body), "Cite your sources &amp; add a photo.") ||
		selected(t, page.body, "status") != "draft" {
		t.Fatalf("the contributor does not see the note on the draft:\n%s", page.body)
	}
	r = con.post("/admin/posts/"+id, editorForm(t, page.body, "content", "Second try, with sources."))
	page = con.follow(r)
	if !strings.Contains(string(page.body), "Cite your sources") {
		t.Error("saving the draft lost the note")
	}
	page = con.follow(con.post("/admin/posts/"+id, editorForm(t, page.body, "action", "submit")))
	if strings.Contains(string(page.body), "An editor asked you for changes") {
		t.Error("the note outlives the new submission")
	}

	// Approved for two seconds later: the scheduler publishes it.
	edPage = ed.get("/admin/posts/" + id)
	at := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second)
	r = ed.post("/admin/posts/"+id+"/review", url.Values{"version": {inputValue(t, edPage.body, "version")}, "decision": {"schedule"},
		"publish_at": {at.Format(time.RFC3339)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("approve and schedule: %d %s", r.status, r.body)
	}
	mustStatus(t, s.do("GET", "/posts/field-notes", "", nil), 404)
	eventstest.CheckFor(t, 15*time.Second, pollEvery, func() error {
		if r := s.do("GET", "/posts/field-notes", "", nil); r.status != 200 || !strings.Contains(string(r.body), "Second try, with sources.") {
			return fmt.Errorf("the public page: %d", r.status)
		}
		return nil
	})

	// The history, newest first, lists each step.
	var steps []string
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		h := ed.get("/admin/posts/" + id + "/history")
		steps = nil
		for _, m := range regexp.MustCompile(`<td><code>(post\.[a-z_]+)</code>`).FindAllSubmatch(h.body, -1) {
			steps = append(steps, string(m[1]))
		}
		if len(steps) == 0 || steps[0] != "post.published" {
			return fmt.Errorf("history: %v", steps)
		}
		return nil
	})
	want := []string{"post.published", "post.scheduled", "post.submitted", "post.updated", "post.changes_requested", "post.submitted", "post.created"}
	if strings.Join(steps, " ") != strings.Join(want, " ") {
		t.Errorf("the history lists %v, want %v", steps, want)
	}
	// The contributor may read its own post's history too.
	mustStatus(t, con.get("/admin/posts/"+id+"/history"), 200)
}

// What a contributor and an author may open in the admin, and that a
// contributor's save with a status it may not give is refused beside
// the status field, saving nothing.
func TestAdminPagesByRole(t *testing.T) {
	t.Parallel()
	s, bs := rolesSite(t)
	ed := bs[auth.RoleEditor]
	rev := url.PathEscape(time.Now().UTC().Format(time.RFC3339))
	others := createdID(t, ed.post("/admin/posts", url.Values{"title": {"The editor's draft"}, "content": {"x"}, "status": {"draft"}}))
	pages := []struct {
		method, path string
		contributor  int
		author       int
		refusal      string // what the contributor's refusal says
	}{
		{"GET", "/admin/categories", 403, 403, "change categories"},
		{"GET", "/admin/settings", 403, 403, "change the site's settings"},
		{"GET", "/admin/accounts", 403, 403, "manage accounts"},
		{"GET", "/admin/audit", 403, 403, "read the whole site's history"},
		{"GET", "/admin/at/" + rev, 403, 403, "read the whole site's history"},
		{"GET", "/admin/review", 403, 403, "change posts of other accounts"},
		{"GET", "/admin/profile", 403, 403, "change the profile"},
		{"GET", "/admin/", 200, 200, ""},
		{"GET", "/admin/posts", 200, 200, ""},
		{"GET", "/admin/posts/new", 200, 200, ""},
		{"GET", "/admin/media", 200, 200, ""},
		{"GET", "/admin/posts/" + others, 404, 404, ""},
		{"POST", "/admin/media", 403, 303, "upload media"},
	}
	for _, role := range []auth.Role{auth.RoleContributor, auth.RoleAuthor} {
		b := bs[role]
		for _, p := range pages {
			var r response
			if p.method == "POST" {
				r = b.postFiles(p.path, []upFile{{"dot.png", testPNG(4, 4)}}, nil)
			} else {
				r = b.get(p.path)
			}
			want := p.contributor
			if role == auth.RoleAuthor {
				want = p.author
			}
			if r.status != want {
				t.Errorf("%s %s %s: %d, want %d", role, p.method, p.path, r.status, want)
			}
			if role == auth.RoleContributor && p.refusal != "" && !strings.Contains(html.UnescapeString(string(r.body)), "your role, contributor, may not "+p.refusal) {
				t.Errorf("%s %s: the refusal does not say what the role may not do:\n%s", p.method, p.path, r.body)
			}
		}
	}
	// The navigation links what the role may open, and nothing else.
	for role, links := range map[auth.Role][2][]string{
		auth.RoleContributor: {{"/admin/posts", "/admin/posts/new", "/admin/media", "/admin/tokens"},
			{"/admin/categories", "/admin/settings", "/admin/accounts", "/admin/audit", "/admin/review", "/admin/profile", "/admin/rollback", "/admin/security"}},
		auth.RoleEditor: {{"/admin/review", "/admin/categories", "/admin/audit", "/admin/profile"}, {"/admin/settings", "/admin/accounts", "/admin/rollback"}},
		auth.RoleAdmin:  {{"/admin/settings", "/admin/accounts", "/admin/rollback", "/admin/security", "/admin/review"}, nil},
	} {
		nav := regexp.MustCompile(`(?s)<nav aria-label="Admin">.*?</nav>`).Find(bs[role].get("/admin/").body)
		for _, l := range links[0] {
			if !strings.Contains(string(nav), `href="`+l+`"`) {
				t.Errorf("%s: the navigation lacks %s", role, l)
			}
		}
		for _, l := range links[1] {
			if strings.Contains(string(nav), `href="`+l+`"`) {
				t.Errorf("%s: the navigation links %s", role, l)
			}
		}
	}
	// The posts list: own and published posts; others' drafts hidden.
	con := bs[auth.RoleContributor]
	mine := createdID(t, con.post("/admin/posts", url.Values{"title": {"The contributor's draft"}, "content": {"y"}, "status": {"draft"}}))
	list := html.UnescapeString(string(con.get("/admin/posts").body))
	if !strings.Contains(list, "The contributor's draft") || strings.Contains(list, "The editor's draft") {
		t.Errorf("the contributor's post list:\n%s", list)
	}
	if list := html.UnescapeString(string(ed.get("/admin/posts").body)); !strings.Contains(list, "The contributor's draft") {
		t.Errorf("the editor's post list lacks the contributor's draft:\n%s", list)
	}

	// Publishing is refused beside the status, and nothing is saved.
	head := headOf(t, s)
	r := con.post("/admin/posts", url.Values{"title": {"Straight out"}, "content": {"z"}, "status": {"published"}, "action": {"save"}})
	mustStatus(t, r, http.StatusForbidden)
	if msg := fieldError(t, r.body, "status"); !strings.Contains(msg, "contributor") {
		t.Errorf("the refusal beside the status: %q\n%s", msg, r.body)
	}
	page := con.get("/admin/posts/" + mine)
	r = con.post("/admin/posts/"+mine, editorForm(t, page.body, "status", "published"))
	mustStatus(t, r, http.StatusForbidden)
	if msg := fieldError(t, r.body, "status"); !strings.Contains(msg, "contributor") {
		t.Errorf("the refusal beside the status, editing: %q", msg)
	}
	if inputValue(t, r.body, "title") != "The contributor's draft" {
		t.Error("the refused form lost what was typed")
	}
	if headOf(t, s) != head {
		t.Error("a refused save committed")
	}
}

// An editor gives a post to an author, who may then change it; the
// author cannot give it back.
func TestAdminPostAuthor(t *testing.T) {
	t.Parallel()
	s, bs := rolesSite(t)
	ed, au := bs[auth.RoleEditor], bs[auth.RoleAuthor]
	id := createdID(t, ed.post("/admin/posts", url.Values{"title": {"Handed over"}, "content": {"x"}, "status": {"draft"}}))
	page := ed.get("/admin/posts/" + id)
	if got := selected(t, page.body, "author"); got != "editor@example.org" {
		t.Fatalf("the author select shows %q", got)
	}
	mustStatus(t, au.get("/admin/posts/"+id), 404) // someone else's draft
	r := ed.post("/admin/posts/"+id, editorForm(t, page.body, "author", "author@example.org"))
	page = ed.follow(r)
	if got := selected(t, page.body, "author"); got != "author@example.org" {
		t.Fatalf("after reassigning, the author is %q", got)
	}

	page = au.get("/admin/posts/" + id)
	mustStatus(t, page, 200)
	if inputValue(t, page.body, "author") != "author@example.org" {
		t.Error("the author's editor does not show whose post it is")
	}
	page = au.follow(au.post("/admin/posts/"+id, editorForm(t, page.body, "content", "Mine now.", "author", "author@example.org")))
	if !strings.Contains(string(page.body), "Saved.") || inputValue(t, page.body, "content") != "Mine now.\n" {
		t.Fatalf("the author's save:\n%s", page.body)
	}
	head := headOf(t, s)
	r = au.post("/admin/posts/"+id, editorForm(t, page.body, "author", "editor@example.org"))
	mustStatus(t, r, http.StatusForbidden)
	if msg := fieldError(t, r.body, "author"); !strings.Contains(msg, "only editors and admins give a post to another account") {
		t.Errorf("giving it back: %q", msg)
	}
	if headOf(t, s) != head {
		t.Error("the refused reassignment committed")
	}
}

// reviewPages adds the review's pages to the admin's checked pages: the
// queue, a pending post with the review form (and refused), a post sent
// back with a note, and a contributor's editor.
func reviewPages(t *testing.T, s *site, b *browser, pages map[string]string, forms map[string][]byte) {
	t.Helper()
	pending := createdID(t, b.post("/admin/posts", url.Values{"title": {`Waiting <i>review</i> & "more"`}, "content": {"Text."}, "action": {"submit"}}))
	back := createdID(t, b.post("/admin/posts", url.Values{"title": {"Sent back"}, "content": {"Text."}, "action": {"submit"}}))
	version := inputValue(t, b.get("/admin/posts/"+back).body, "version")
	mustStatus(t, b.post("/admin/posts/"+back+"/review", url.Values{"version": {version}, "decision": {"changes"},
		"review_note": {"Say <b>more</b> & \"better\".\nSecond line."}}), http.StatusSeeOther)
	pages["review"] = "/admin/review"
	pages["editor-pending"] = "/admin/posts/" + pending
	pages["editor-note"] = "/admin/posts/" + back
	pages["posts-pending"] = "/admin/posts?status=pending"
	version = inputValue(t, b.get("/admin/posts/"+pending).body, "version")
	forms["review-refused"] = b.post("/admin/posts/"+pending+"/review", url.Values{"version": {version}, "decision": {"schedule"}, "publish_at": {"soon"}}).body
	mustStatus(t, b.post("/admin/accounts", url.Values{"email": {"con@example.org"}, "role": {"contributor"}, "password": {"a long enough password"}}),
		http.StatusSeeOther)
	con := s.browser()
	con.signIn("con@example.org", "a long enough password")
	mine := createdID(t, con.post("/admin/posts", url.Values{"title": {"A contributor's"}, "content": {"x"}, "status": {"draft"}}))
	forms["editor-contributor"] = con.get("/admin/posts/" + mine).body
	forms["editor-contributor-refused"] = con.post("/admin/posts/"+mine, url.Values{"title": {"A contributor's"}, "content": {"x"}, "status": {"published"},
		"version": {inputValue(t, forms["editor-contributor"], "version")}}).body
	forms["dashboard-contributor"] = con.get("/admin/").body
	forms["refused-page"] = con.get("/admin/settings").body
}
