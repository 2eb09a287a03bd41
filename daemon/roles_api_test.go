package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// rolePost is a post as the API shows it, with whose it is.
type rolePost struct {
	apiPost
	Author     *string `json:"author"`
	ReviewNote string  `json:"review_note"`
}

// wantRefusal checks r is a 403 problem whose detail holds want and,
// if field is set, names that field.
func wantRefusal(t testing.TB, what string, r response, field, want string) {
	t.Helper()
	if r.status != 403 {
		t.Fatalf("%s: status %d, want 403: %s", what, r.status, r.body)
	}
	detail, fields := r.problem(t)
	if !strings.Contains(detail+" "+strings.Join(fields, " "), want) {
		t.Errorf("%s: refusal %q (fields %v) does not say %q", what, detail, fields, want)
	}
	if field != "" && !slices.Contains(fields, field) {
		t.Errorf("%s: refusal names fields %v, want %q", what, fields, field)
	}
}

// listedIDs are the ids GET path lists.
func listedIDs(t testing.TB, s *site, path, tok string) []string {
	t.Helper()
	r := s.do("GET", path, tok, nil)
	mustStatus(t, r, 200)
	var l struct{ Items []rolePost }
	r.json(t, &l)
	var ids []string
	for _, p := range l.Items {
		ids = append(ids, p.ID)
	}
	return ids
}

// An author writes and publishes their own posts through the API, and
// nothing of anyone else's.
func TestAuthorWritesOwnPostsThroughAPI(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "aria@example.org", auth.RoleAuthor)
	s := startSite(t, data)
	ed, aria := s.token("ed@example.org"), s.token("aria@example.org")

	var edPost rolePost
	r := s.do("POST", "/api/v1/posts", ed, postBody("The editor's", "status", "published"))
	mustStatus(t, r, 201)
	r.json(t, &edPost)

	var mine rolePost
	r = s.do("POST", "/api/v1/posts", aria, postBody("Mine"))
	mustStatus(t, r, 201)
	r.json(t, &mine)
	if mine.Author == nil || *mine.Author != "aria@example.org" {
		t.Fatalf("author of the author's new post: %v, want aria@example.org", mine.Author)
	}
	r = s.do("PATCH", "/api/v1/posts/"+mine.ID, aria, `{"status":"published"}`, "Content-Type", "application/merge-patch+json")
	mustStatus(t, r, 200)
	r.json(t, &mine)
	if mine.Status != "published" {
		t.Fatalf("status after publishing: %s", mine.Status)
	}
	if r := s.do("POST", "/api/v1/posts/"+mine.ID+"/submit", aria, nil); r.status != 409 {
		t.Fatalf("submitting a published post: %d, want 409: %s", r.status, r.body)
	}

	r = s.do("PATCH", "/api/v1/posts/"+edPost.ID, aria, `{"title":"Taken over"}`, "Content-Type", "application/merge-patch+json")
	wantRefusal(t, "author edits the editor's post", r, "", "ed@example.org")
	r = s.do("POST", "/api/v1/posts", aria, postBody("For someone else", "author", "ed@example.org"))
	wantRefusal(t, "author gives a new post to another", r, "author", "must be you")
	r = s.do("PATCH", "/api/v1/posts/"+mine.ID, aria, `{"author":"ed@example.org"}`, "Content-Type", "application/merge-patch+json")
	wantRefusal(t, "author gives their post away", r, "author", "must be you")
	r = s.do("POST", "/api/v1/categories", aria, map[string]string{"name": "News"})
	wantRefusal(t, "author creates a category", r, "", "your role, author, may not change categories")

	// An editor gives a post to another account.
	r = s.do("PATCH", "/api/v1/posts/"+edPost.ID, ed, `{"author":"aria@example.org"}`, "Content-Type", "application/merge-patch+json")
	mustStatus(t, r, 200)
	var given rolePost
	r.json(t, &given)
	if given.Author == nil || *given.Author != "aria@example.org" {
		t.Fatalf("author after the editor gave the post away: %v", given.Author)
	}
}

// A contributor writes drafts and submits them; publishing is an
// editor's, and others' drafts are invisible to them.
func TestContributorDraftsAndSubmitsThroughAPI(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "aria@example.org", auth.RoleAuthor)
	addAccount(t, data, "cleo@example.org", auth.RoleContributor)
	s := startSite(t, data)
	ed, aria, cleo := s.token("ed@example.org"), s.token("aria@example.org"), s.token("cleo@example.org")
	wait := []string{"Prefer", "wait=5"}

	var published, ariaDraft, draft rolePost
	s.do("POST", "/api/v1/posts", ed, postBody("Out there", "status", "published"), wait...).json(t, &published)
	s.do("POST", "/api/v1/posts", aria, postBody("Aria's draft"), wait...).json(t, &ariaDraft)

	r := s.do("POST", "/api/v1/posts", cleo, postBody("Cleo's draft"), wait...)
	mustStatus(t, r, 201)
	r.json(t, &draft)
	if draft.Status != "draft" || draft.Author == nil || *draft.Author != "cleo@example.org" {
		t.Fatalf("contributor's new post: status %s, author %v", draft.Status, draft.Author)
	}
	r = s.do("POST", "/api/v1/posts", cleo, postBody("Straight out", "status", "published"))
	wantRefusal(t, "contributor creates a published post", r, "status", "editor publishes")
	r = s.do("PATCH", "/api/v1/posts/"+draft.ID, cleo, `{"status":"published"}`, "Content-Type", "application/merge-patch+json")
	wantRefusal(t, "contributor publishes their draft", r, "status", "editor publishes")
	r = s.do("POST", "/api/v1/media", cleo, nil)
	wantRefusal(t, "contributor uploads", r, "", "your role, contributor, may not upload media")

	r = s.do("POST", "/api/v1/posts/"+draft.ID+"/submit", cleo, nil, wait...)
	mustStatus(t, r, 200)
	var submitted rolePost
	r.json(t, &submitted)
	if submitted.Status != "pending" {
		t.Fatalf("status after submitting: %s", submitted.Status)
	}
	if types := revisionTypes(t, s, cleo, draft.ID); types[0] != "post.submitted" {
		t.Fatalf("the post's newest revision is %v, want post.submitted", types)
	}

	// Another account's draft does not exist for the contributor; the
	// published post and their own do.
	r = s.do("GET", "/api/v1/posts/"+ariaDraft.ID, cleo, nil)
	if r.status != 404 {
		t.Fatalf("contributor reads another's draft: %d %s", r.status, r.body)
	}
	if r := s.do("GET", "/api/v1/posts/"+ariaDraft.ID+"/revisions", cleo, nil); r.status != 404 {
		t.Fatalf("contributor reads another's draft's history: %d %s", r.status, r.body)
	}
	mustStatus(t, s.do("GET", "/api/v1/posts/"+published.ID, cleo, nil), 200)
	ids := listedIDs(t, s, "/api/v1/posts", cleo)
	if slices.Contains(ids, ariaDraft.ID) || !slices.Contains(ids, published.ID) || !slices.Contains(ids, draft.ID) {
		t.Fatalf("contributor's list %v: want %s and %s, not %s", ids, published.ID, draft.ID, ariaDraft.ID)
	}
	if ids := listedIDs(t, s, "/api/v1/posts?status=draft", cleo); len(ids) != 0 {
		t.Fatalf("contributor's drafts: %v, want none (theirs is pending, Aria's is not theirs)", ids)
	}
	if ids := listedIDs(t, s, "/api/v1/posts?status=draft", ed); !slices.Contains(ids, ariaDraft.ID) {
		t.Fatalf("editor's drafts: %v, want %s", ids, ariaDraft.ID)
	}
	// The review queue: editors see every pending post, the author of
	// one sees theirs, others none.
	if ids := listedIDs(t, s, "/api/v1/posts?status=pending", ed); !slices.Equal(ids, []string{draft.ID}) {
		t.Fatalf("editor's review queue %v, want [%s]", ids, draft.ID)
	}
	if ids := listedIDs(t, s, "/api/v1/posts?status=pending", aria); len(ids) != 0 {
		t.Fatalf("another author's review queue %v, want none", ids)
	}
	// Only editors send back or approve.
	r = s.do("POST", "/api/v1/posts/"+draft.ID+"/approve", cleo, nil)
	wantRefusal(t, "contributor approves their own post", r, "", "your role, contributor, may not change posts of other accounts")
}

// revisionTypes are the event types of a post's revisions, newest first.
func revisionTypes(t testing.TB, s *site, tok, id string) []string {
	t.Helper()
	var l struct {
		Items []struct{ Type, Actor string }
	}
	r := s.do("GET", "/api/v1/posts/"+id+"/revisions", tok, nil)
	mustStatus(t, r, 200)
	r.json(t, &l)
	var out []string
	for _, it := range l.Items {
		out = append(out, it.Type)
	}
	return out
}

// The review through the API: submitted, sent back with a note, edited
// and submitted again, approved for two seconds later, and published by
// the scheduler; each step in the post's history.
func TestReviewFlowThroughAPI(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "cleo@example.org", auth.RoleContributor)
	s := startSite(t, data)
	ed, cleo := s.token("ed@example.org"), s.token("cleo@example.org")
	wait := []string{"Prefer", "wait=5"}

	var p rolePost
	s.do("POST", "/api/v1/posts", cleo, postBody("Under review"), wait...).json(t, &p)
	r := s.do("POST", "/api/v1/posts/"+p.ID+"/request-changes", ed, map[string]string{"note": "Not yet"})
	if r.status != 409 {
		t.Fatalf("request changes of a draft: %d, want 409: %s", r.status, r.body)
	}
	mustStatus(t, s.do("POST", "/api/v1/posts/"+p.ID+"/submit", cleo, nil, wait...), 200)

	r = s.do("POST", "/api/v1/posts/"+p.ID+"/request-changes", ed, map[string]string{"note": "  "})
	if r.status != 422 {
		t.Fatalf("request changes without a note: %d, want 422: %s", r.status, r.body)
	}
	mustStatus(t, s.do("POST", "/api/v1/posts/"+p.ID+"/request-changes", ed, map[string]string{"note": "Cite your sources."}, wait...), 200)
	var back rolePost
	r = s.do("GET", "/api/v1/posts/"+p.ID, cleo, nil)
	mustStatus(t, r, 200)
	r.json(t, &back)
	if back.Status != "draft" || back.ReviewNote != "Cite your sources." {
		t.Fatalf("sent back: status %s, note %q", back.Status, back.ReviewNote)
	}

	// The contributor edits (the note stays) and submits again (it goes).
	r = s.do("PATCH", "/api/v1/posts/"+p.ID, cleo, `{"content":"With sources.\n"}`, "Content-Type", "application/merge-patch+json")
	mustStatus(t, r, 200)
	r.json(t, &back)
	if back.ReviewNote != "Cite your sources." {
		t.Fatalf("note after the contributor's edit: %q", back.ReviewNote)
	}
	r = s.do("POST", "/api/v1/posts/"+p.ID+"/submit", cleo, nil, "If-Match", `"`+back.Blob+`"`)
	mustStatus(t, r, 200)
	back = rolePost{} // review_note is left out when empty
	r.json(t, &back)
	if back.Status != "pending" || back.ReviewNote != "" {
		t.Fatalf("submitted again: status %s, note %q", back.Status, back.ReviewNote)
	}

	at := time.Now().Add(2 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	r = s.do("POST", "/api/v1/posts/"+p.ID+"/approve", ed, map[string]string{"published_at": at.Format(time.RFC3339)})
	mustStatus(t, r, 200)
	r.json(t, &back)
	if back.Status != "scheduled" {
		t.Fatalf("approved for %s: status %s", at, back.Status)
	}
	if r := s.do("POST", "/api/v1/posts/"+p.ID+"/approve", ed, nil); r.status != 409 {
		t.Fatalf("approve a scheduled post: %d, want 409: %s", r.status, r.body)
	}
	if st := s.do("GET", "/api/v1/posts/"+p.ID, "", nil).status; st != 404 {
		t.Fatalf("anonymous GET of the scheduled post: %d, want 404", st)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		var now rolePost
		r := s.do("GET", "/api/v1/posts/"+p.ID, "", nil)
		if err := wantStatus("anonymous GET", r, 200); err != nil {
			return err
		}
		r.json(t, &now)
		if now.Status != "published" {
			return fmt.Errorf("status %s", now.Status)
		}
		return nil
	})

	want := []string{"post.created by cleo@example.org", "post.submitted by cleo@example.org",
		"post.changes_requested by ed@example.org", "post.updated by cleo@example.org",
		"post.submitted by cleo@example.org", "post.scheduled by ed@example.org", "post.published by scheduler"}
	// The history projection may apply the scheduler's commit a moment
	// after the catalogue.
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		var l struct {
			Items []struct{ Type, Actor string }
		}
		s.do("GET", "/api/v1/posts/"+p.ID+"/revisions", cleo, nil).json(t, &l)
		var steps []string
		for i := len(l.Items) - 1; i >= 0; i-- {
			steps = append(steps, l.Items[i].Type+" by "+l.Items[i].Actor)
		}
		ok := len(steps) == len(want)
		for i := 0; ok && i < len(want); i++ {
			// An actor is shown as "Name <email>" or the email alone.
			typ, who, _ := strings.Cut(want[i], " by ")
			ok = strings.HasPrefix(steps[i], typ+" by ") && strings.Contains(steps[i], who)
		}
		if !ok {
			return fmt.Errorf("history:\n%s\nwant:\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
		}
		return nil
	})
}

// A post's author is an account's email: not public.
func TestAnonymousPostsHaveNoAuthor(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	ed := s.token("ed@example.org")
	var p rolePost
	s.do("POST", "/api/v1/posts", ed, postBody("Public", "status", "published"), "Prefer", "wait=5").json(t, &p)
	for _, path := range []string{"/api/v1/posts/" + p.ID, "/api/v1/posts"} {
		r := s.do("GET", path, "", nil)
		mustStatus(t, r, 200)
		if strings.Contains(string(r.body), `"author"`) || strings.Contains(string(r.body), "ed@example.org") {
			t.Errorf("anonymous GET %s shows the author: %s", path, r.body)
		}
		r = s.do("GET", path, ed, nil)
		if !strings.Contains(string(r.body), `"author":"ed@example.org"`) {
			t.Errorf("signed-in GET %s lacks the author: %s", path, r.body)
		}
	}
}

// Git is for roles that may read everything: a contributor's clone is
// refused; an author's push is judged file by file.
func TestGitByRole(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "aria@example.org", auth.RoleAuthor)
	addAccount(t, data, "cleo@example.org", auth.RoleContributor)
	s := startSite(t, data)
	ed := s.token("ed@example.org")
	var edPost rolePost
	s.do("POST", "/api/v1/posts", ed, postBody("Editor post", "status", "published"), "Prefer", "wait=5").json(t, &edPost)

	out, err := gitTry(t, ".", "clone", "-q", s.remote("cleo@example.org", password), filepath.Join(t.TempDir(), "c"))
	if err == nil || !strings.Contains(out, "403") {
		t.Fatalf("contributor's clone: %v\n%s", err, out)
	}
	lfs := s.from("127.0.0.1", "POST", "/git/site.git/info/lfs/objects/batch", basic("cleo@example.org", password),
		map[string]any{"operation": "download", "objects": []any{}})
	if lfs.status != 403 || !strings.Contains(string(lfs.body), "may not use git") {
		t.Fatalf("contributor's LFS batch: %d %s", lfs.status, lfs.body)
	}

	work := filepath.Join(t.TempDir(), "a")
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("aria@example.org", password), work); err != nil {
		t.Fatalf("author's clone: %v\n%s", err, out)
	}
	push := func(name string) (string, error) {
		gitTry(t, work, "add", "-A")
		gitTry(t, work, "commit", "-q", "-m", name)
		return gitTry(t, work, "push", "origin", "HEAD:main")
	}
	reset := func() {
		gitTry(t, work, "fetch", "-q", "origin")
		gitTry(t, work, "reset", "-q", "--hard", "origin/main")
		gitTry(t, work, "clean", "-qfdx")
	}

	before := git(t, s.repoDir(), "rev-parse", "main")
	file := filepath.Join(work, edPost.Path)
	old, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	write(t, file, strings.Replace(string(old), "Editor post", "Aria now", 1))
	out, err = push("take over")
	if err == nil || !strings.Contains(out, "remote: ") || !strings.Contains(out, edPost.Path) || !strings.Contains(out, "ed@example.org") {
		t.Fatalf("author's push changing the editor's post: %v\n%s", err, out)
	}
	if after := git(t, s.repoDir(), "rev-parse", "main"); after != before {
		t.Fatalf("main moved after a refused push")
	}

	reset()
	write(t, filepath.Join(work, "posts/2026/no-author.md"), "---\ntitle: No author\n---\nText.\n")
	out, err = push("no author")
	if err == nil || !strings.Contains(out, `remote: `) || !strings.Contains(out, `posts/2026/no-author.md: author: add "author: aria@example.org"`) {
		t.Fatalf("author's push of a post without author: %v\n%s", err, out)
	}

	reset()
	write(t, filepath.Join(work, "posts/2026/by-aria.md"), "---\ntitle: By Aria\nauthor: aria@example.org\n---\nText.\n")
	if out, err := push("by aria"); err != nil {
		t.Fatalf("author's push of their own post: %v\n%s", err, out)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		var l struct{ Items []rolePost }
		s.do("GET", "/api/v1/posts?status=draft", ed, nil).json(t, &l)
		for _, p := range l.Items {
			if p.Title == "By Aria" && p.Author != nil && *p.Author == "aria@example.org" {
				return nil
			}
		}
		return fmt.Errorf("the pushed post is not listed as Aria's: %+v", l.Items)
	})
}
