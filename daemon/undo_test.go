package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// apiCommit is GET /api/v1/commits/{hash} as the tests read it.
type apiCommit struct {
	Hash, Summary, Message, Actor, Pusher string
	Parents                               []string
	Events                                []struct{ Type, Subject, Summary string }
	Files                                 []struct{ Path, Status, Subject, Title, Diff, Note string }
}

func (c apiCommit) types() []string {
	var out []string
	for _, e := range c.Events {
		out = append(out, e.Type+" "+e.Subject)
	}
	return out
}

func (c apiCommit) paths() []string {
	var out []string
	for _, f := range c.Files {
		out = append(out, f.Status+" "+f.Path)
	}
	return out
}

func (s *site) commit(tok, hash string) apiCommit {
	s.t.Helper()
	r := s.do("GET", "/api/v1/commits/"+hash, tok, nil)
	mustStatus(s.t, r, 200)
	var c apiCommit
	r.json(s.t, &c)
	return c
}

// gitOK runs git in dir as the pushing editor and fails the test on error.
func gitOK(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := gitTry(t, dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

// A commit pushed with git (a post and a category edited) is shown with
// its events and diff, reverted through the API (files back, ordinary
// events, git's message), and the revert reverted in turn; a git revert
// pushed by hand of an identical commit derives the same events as the
// API's revert.
func TestRevertAPushedCommit(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	wait := []string{"Prefer", "wait=5"}
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "News"}, wait...), 201)
	r := s.do("POST", "/api/v1/posts", tok, postBody("Ferries", "status", "published", "categories", []string{"news"}), wait...)
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)

	work := filepath.Join(t.TempDir(), "w")
	gitOK(t, ".", "clone", "-q", s.remote("ed@example.org", password), work)
	before, _ := os.ReadFile(filepath.Join(work, p.Path))
	write(t, filepath.Join(work, p.Path), strings.Replace(string(before), "Some *Markdown* for Ferries.", "Ferries leave at noon.", 1))
	write(t, filepath.Join(work, "categories", "news.yaml"), "name: Latest news\n")
	gitOK(t, work, "commit", "-q", "-am", "Noon ferries, and a new name")
	gitOK(t, work, "push", "-q", "origin", "HEAD:main")
	pushed := gitOK(t, work, "rev-parse", "HEAD")
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if !strings.Contains(string(s.get("/posts/ferries").body), "leave at noon") {
			return fmt.Errorf("the pushed edit is not on the post's page yet")
		}
		return nil
	})

	// The commit as the API shows it: pusher, events, unified diffs.
	c := s.commit(tok, pushed)
	if c.Hash != pushed || c.Actor != "ed@example.org" || c.Pusher != "ed@example.org" || c.Summary != "Noon ferries, and a new name" {
		t.Errorf("commit %+v", c)
	}
	if got, want := c.types(), []string{"category.updated category/news", "post.updated post/" + p.ID}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if got, want := c.paths(), []string{"modified categories/news.yaml", "modified " + p.Path}; !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	if d := c.Files[1].Diff; !strings.Contains(d, "-Some *Markdown* for Ferries.\n+Ferries leave at noon.\n") || !strings.HasPrefix(d, "diff --git a/"+p.Path) ||
		c.Files[1].Subject != "post/"+p.ID || c.Files[1].Title != "Ferries" {
		t.Errorf("the post's diff: %+v", c.Files[1])
	}
	// The same diff as git's own.
	if want := gitOK(t, work, "diff", "--full-index", "HEAD^", "HEAD", "--", p.Path); strings.TrimSpace(c.Files[1].Diff) != want {
		t.Errorf("diff:\n%s\ngit diff:\n%s", c.Files[1].Diff, want)
	}

	// Revert it through the API.
	r = s.do("POST", "/api/v1/commits/"+pushed+"/revert", tok, nil, wait...)
	mustStatus(t, r, 201)
	var rev apiCommit
	r.json(t, &rev)
	if r.header.Get("Location") != "/api/v1/commits/"+rev.Hash || rev.Actor != "ed@example.org" || rev.Pusher != "" ||
		!strings.HasPrefix(rev.Message, "Revert \"Noon ferries, and a new name\"\n\nThis reverts commit "+pushed+".\n\n") {
		t.Errorf("revert %+v, Location %s", rev, r.header.Get("Location"))
	}
	if got, want := rev.types(), []string{"category.updated category/news", "post.updated post/" + p.ID}; !slices.Equal(got, want) {
		t.Errorf("the revert's events %v, want %v", got, want)
	}
	if d := gitOK(t, s.repoDir(), "diff", pushed+"^", rev.Hash); d != "" {
		t.Errorf("after the revert the files differ from before the pushed commit:\n%s", d)
	}
	var got apiPost
	s.do("GET", "/api/v1/posts/"+p.ID, tok, nil).json(t, &got)
	if got.Content != "Some *Markdown* for Ferries.\n" {
		t.Errorf("post after the revert: %+v", got)
	}
	if b := string(s.get("/category/news").body); !strings.Contains(b, "News") || strings.Contains(b, "Latest news") {
		t.Errorf("the category page still has the reverted name")
	}

	// The revert is a commit like any other: revert it.
	r = s.do("POST", "/api/v1/commits/"+rev.Hash+"/revert", tok, nil, wait...)
	mustStatus(t, r, 201)
	var again apiCommit
	r.json(t, &again)
	if d := gitOK(t, s.repoDir(), "diff", pushed, again.Hash); d != "" {
		t.Errorf("the revert of the revert differs from the pushed commit:\n%s", d)
	}
	if !strings.Contains(string(s.get("/posts/ferries").body), "leave at noon") {
		t.Errorf("the post's page lacks the edit brought back")
	}

	// again is a commit identical to the pushed one (the same change);
	// git revert of it, pushed, derives what the API's revert of the
	// pushed one did.
	gitOK(t, work, "pull", "-q", "--ff-only", "origin", "main")
	gitOK(t, work, "revert", "--no-edit", again.Hash)
	gitOK(t, work, "push", "-q", "origin", "HEAD:main")
	byGit := s.commit(tok, gitOK(t, work, "rev-parse", "HEAD"))
	if !slices.Equal(byGit.types(), rev.types()) || byGit.Pusher != "ed@example.org" {
		t.Errorf("git revert derived %v (pusher %q), the API's revert %v", byGit.types(), byGit.Pusher, rev.types())
	}
	if d := gitOK(t, s.repoDir(), "diff", rev.Hash, byGit.Hash); d != "" {
		t.Errorf("git's revert and the API's left different files:\n%s", d)
	}
}

// A revert of a commit whose file a later commit changed is refused with
// 409 naming it, and nothing is committed; unknown commits are 404, the
// first commit 422, and anonymous callers 401.
func TestRevertRefusedWhenLaterCommitsTouchedTheFiles(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "First"}), 201)
	root := git(t, s.repoDir(), "rev-parse", "main")
	r := s.do("POST", "/api/v1/posts", tok, postBody("Draft"))
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)
	created := p.Revision
	r = s.do("PUT", "/api/v1/posts/"+p.ID, tok, postBody("Draft, better"))
	mustStatus(t, r, 200)
	r.json(t, &p)
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "Elsewhere"}), 201)
	head := git(t, s.repoDir(), "rev-parse", "main")

	r = s.do("POST", "/api/v1/commits/"+created+"/revert", tok, nil)
	mustStatus(t, r, 409)
	detail, _ := r.problem(t)
	var prob struct {
		Commits []struct {
			Hash, Summary string
			Files         []string
		}
	}
	r.json(t, &prob)
	if len(prob.Commits) != 1 || prob.Commits[0].Hash != p.Revision || prob.Commits[0].Summary != "Update post “Draft, better”" ||
		!slices.Equal(prob.Commits[0].Files, []string{p.Path}) || !strings.Contains(detail, "1 later commit") {
		t.Errorf("409 %s", r.body)
	}
	if now := git(t, s.repoDir(), "rev-parse", "main"); now != head {
		t.Fatalf("main moved from %s to %s", head, now)
	}

	for _, hash := range []string{strings.Repeat("ab", 20), "nothex"} { // no such commit
		mustStatus(t, s.do("POST", "/api/v1/commits/"+hash+"/revert", tok, nil), 404)
		mustStatus(t, s.do("GET", "/api/v1/commits/"+hash, tok, nil), 404)
	}
	// What a revert leaves is checked as a push of it: only an admin may
	// change the settings, so an editor may not revert their change.
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	admin := s.token("admin@example.org")
	mustStatus(t, s.patch("/api/v1/settings", admin, map[string]any{"title": "Admins only"}), 200)
	settings := git(t, s.repoDir(), "rev-parse", "main")
	r = s.do("POST", "/api/v1/commits/"+settings+"/revert", tok, nil)
	mustStatus(t, r, 409)
	if _, fields := r.problem(t); !slices.Equal(fields, []string{"site/settings.yaml"}) {
		t.Errorf("an editor's revert of the settings: %s", r.body)
	}
	mustStatus(t, s.do("POST", "/api/v1/commits/"+settings+"/revert", admin, nil), 201)
	head = git(t, s.repoDir(), "rev-parse", "main")

	// The site's first commit has nothing before it.
	mustStatus(t, s.do("POST", "/api/v1/commits/"+root+"/revert", tok, nil), 422)
	mustStatus(t, s.do("GET", "/api/v1/commits/"+root, "", nil), 401)
	mustStatus(t, s.do("POST", "/api/v1/commits/"+root+"/revert", "", nil), 401)
	if now := git(t, s.repoDir(), "rev-parse", "main"); now != head {
		t.Fatalf("main moved from %s to %s", head, now)
	}
}

// feedUpdatedRE is a feed's own updated time: a rollback is a change of
// the site, so the feed says when it last changed, not when the revision
// did. Everything else of the pages must be as it was.
var feedUpdatedRE = regexp.MustCompile(`(?s)^(.*?<feed[^>]*>.*?<updated>)[^<]*(</updated>)`)

func (s *site) pages(t *testing.T, paths []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range paths {
		r := s.get(p)
		body := string(r.body)
		if strings.HasSuffix(p, "feed.xml") {
			body = feedUpdatedRE.ReplaceAllString(body, "${1}…${2}")
		}
		out[p] = fmt.Sprintf("%d\n%s", r.status, body)
	}
	return out
}

func samePages(want, got map[string]string) error {
	for p, w := range want {
		if got[p] == w {
			continue
		}
		g, x := strings.Split(got[p], "\n"), strings.Split(w, "\n")
		for i := range min(len(g), len(x)) {
			if g[i] != x[i] {
				return fmt.Errorf("%s differs at line %d: %q, want %q", p, i+1, g[i], x[i])
			}
		}
		return fmt.Errorf("%s differs in length: %d lines, want %d", p, len(g), len(x))
	}
	return nil
}

// The whole site rolled back: the dry run lists exactly the files the
// rollback then changes, the public site is the one of that revision,
// the rollback of the rollback brings the present back; a date picks
// the commit of that time; editors get 403, anonymous callers 401.
func TestSiteRollback(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	ed, admin := s.token("ed@example.org"), s.token("admin@example.org")
	wait := []string{"Prefer", "wait=5"}

	// The revision to go back to: settings, a category, two posts.
	mustStatus(t, s.patch("/api/v1/settings", admin, map[string]any{"title": "Blog One"}, wait...), 200)
	mustStatus(t, s.do("POST", "/api/v1/categories", ed, map[string]string{"name": "News"}, wait...), 201)
	var a, b apiPost
	r := s.do("POST", "/api/v1/posts", ed, postBody("Alpha", "status", "published", "categories", []string{"news"}), wait...)
	r.json(t, &a)
	r = s.do("POST", "/api/v1/posts", ed, postBody("Beta", "status", "published", "tags", []string{"Old"}), wait...)
	r.json(t, &b)
	then := b.Revision
	paths := []string{"/", "/posts/alpha", "/posts/beta", "/posts/gamma", "/category/news", "/category/sport", "/feed.xml", "/tag/old"}
	pagesThen := s.pages(t, paths)
	var thenTime time.Time
	{
		var c struct{ Time time.Time }
		s.do("GET", "/api/v1/commits/"+then, ed, nil).json(t, &c)
		thenTime = c.Time
	}
	time.Sleep(1100 * time.Millisecond) // the next commit's second is a later one

	// Changes at several points: an edit, a deletion, a new category and
	// post, settings, the profile, an upload, and a push.
	mustStatus(t, s.patch("/api/v1/posts/"+a.ID, ed, map[string]any{"title": "Alpha, rewritten", "content": "New words.\n"}, wait...), 200)
	mustStatus(t, s.do("DELETE", "/api/v1/posts/"+b.ID, ed, nil, wait...), 204)
	mustStatus(t, s.do("POST", "/api/v1/categories", ed, map[string]string{"name": "Sport"}, wait...), 201)
	mustStatus(t, s.do("POST", "/api/v1/posts", ed, postBody("Gamma", "status", "published", "categories", []string{"sport"}), wait...), 201)
	mustStatus(t, s.patch("/api/v1/settings", admin, map[string]any{"title": "Blog Two"}, wait...), 200)
	mustStatus(t, s.patch("/api/v1/profile", ed, map[string]any{"name": "Ed Itor"}, wait...), 200)
	up := s.upload(ed, "pic.png", testPNG(40, 30))
	mustStatus(t, up, 201)
	var m struct{ ID string }
	up.json(t, &m)
	original := s.get("/media/" + m.ID + "/original")
	mustStatus(t, original, 200)
	work := filepath.Join(t.TempDir(), "w")
	gitOK(t, ".", "clone", "-q", s.remote("ed@example.org", password), work)
	write(t, filepath.Join(work, "posts", "2026", "by-git.md"), "---\ntitle: By git\nstatus: published\n---\nPushed.\n")
	gitOK(t, work, "add", "-A")
	gitOK(t, work, "commit", "-q", "-m", "A post by git")
	gitOK(t, work, "push", "-q", "origin", "HEAD:main")
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error { return wantStatus("/posts/by-git", s.get("/posts/by-git"), 200) })
	present := git(t, s.repoDir(), "rev-parse", "main")
	pagesNow := s.pages(t, append(paths, "/posts/by-git"))
	if samePages(pagesThen, pagesNow) == nil {
		t.Fatal("the site did not change")
	}

	// Only admins.
	mustStatus(t, s.do("POST", "/api/v1/site/rollback", ed, map[string]any{"to": then, "dry_run": true}), 403)
	mustStatus(t, s.do("POST", "/api/v1/site/rollback", "", map[string]any{"to": then, "dry_run": true}), 401)

	// A date between the revision and the next change picks the revision.
	type rollback struct {
		To     struct{ Hash string }
		DryRun bool `json:"dry_run"`
		Files  []struct{ Path, Action, Subject, Title string }
		Commit *apiCommit
	}
	r = s.do("POST", "/api/v1/site/rollback", admin, map[string]any{"to": thenTime.Add(500 * time.Millisecond).Format(time.RFC3339Nano), "dry_run": true})
	mustStatus(t, r, 200)
	var dry rollback
	r.json(t, &dry)
	if dry.To.Hash != then || !dry.DryRun {
		t.Fatalf("dry run to a date: %s", r.body)
	}
	if now := git(t, s.repoDir(), "rev-parse", "main"); now != present {
		t.Fatal("the dry run committed")
	}
	var planned []string
	for _, f := range dry.Files {
		planned = append(planned, f.Action+" "+f.Path)
		if f.Path == a.Path && (f.Subject != "post/"+a.ID || f.Title != "Alpha, rewritten" || f.Action != "modified") {
			t.Errorf("the dry run's line for Alpha: %+v", f)
		}
	}
	if want := git(t, s.repoDir(), "diff", "--name-only", present, then); len(planned) != len(strings.Fields(want)) {
		t.Errorf("the dry run lists %v, git diff %s", planned, want)
	}

	// For real.
	r = s.do("POST", "/api/v1/site/rollback", admin, map[string]any{"to": then}, wait...)
	mustStatus(t, r, 201)
	var done rollback
	r.json(t, &done)
	var changed []string
	for _, f := range done.Commit.Files {
		action := map[string]string{"added": "added", "deleted": "deleted", "modified": "modified"}[f.Status]
		changed = append(changed, action+" "+f.Path)
	}
	if !slices.Equal(planned, changed) || done.Commit.Hash != git(t, s.repoDir(), "rev-parse", "main") {
		t.Errorf("the dry run planned\n%v\nthe rollback changed\n%v", planned, changed)
	}
	if tree, old := git(t, s.repoDir(), "rev-parse", done.Commit.Hash+"^{tree}"), git(t, s.repoDir(), "rev-parse", then+"^{tree}"); tree != old {
		t.Errorf("the rollback's tree %s is not the revision's %s", tree, old)
	}
	if done.Commit.Events[0].Type != string(events.SiteRolledBack) || done.Commit.Actor != "admin@example.org" ||
		!strings.HasPrefix(done.Commit.Summary, "Roll back the site to "+then[:12]+" (") ||
		!strings.Contains(done.Commit.Message, "Chronicle-Rolled-Back-To: "+then+"\n") {
		t.Errorf("the rollback commit: %+v", done.Commit)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error { return samePages(pagesThen, s.pages(t, paths)) })
	mustStatus(t, s.get("/posts/by-git"), 404)
	if st := s.get("/media/" + m.ID + "/original").status; st != 404 {
		t.Errorf("the upload's original after the rollback: %d", st)
	}
	// Again: nothing to do.
	mustStatus(t, s.do("POST", "/api/v1/site/rollback", admin, map[string]any{"to": then}), 409)
	r = s.do("POST", "/api/v1/site/rollback", admin, map[string]any{"to": then, "dry_run": true})
	mustStatus(t, r, 200)
	if r.json(t, &dry); len(dry.Files) != 0 {
		t.Errorf("a dry run with nothing to do lists %v", dry.Files)
	}

	// The rollback of the rollback: the present again, the upload too
	// (its original never left the store).
	r = s.do("POST", "/api/v1/site/rollback", admin, map[string]any{"to": present}, wait...)
	mustStatus(t, r, 201)
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error { return samePages(pagesNow, s.pages(t, append(paths, "/posts/by-git"))) })
	// Every projection followed (site.rolled_back halted none of them).
	mustStatus(t, s.get("/readyz"), 200)
	if got := s.get("/media/" + m.ID + "/original"); got.status != 200 || string(got.body) != string(original.body) {
		t.Errorf("the upload's original after rolling back the rollback: %d", got.status)
	}
	// Bad revisions.
	for _, tc := range []struct {
		to     string
		status int
	}{{"yesterday", 400}, {"1999-01-01T00:00:00Z", 422}, {strings.Repeat("ab", 20), 422}} {
		mustStatus(t, s.do("POST", "/api/v1/site/rollback", admin, map[string]any{"to": tc.to, "dry_run": true}), tc.status)
	}
}
