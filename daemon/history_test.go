package daemon

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// historyPost is the part of a post a revision must give back exactly.
type historyPost struct {
	ID, Title, Slug, Content, Status, Path string
	FeatureImage                           string `json:"feature_image"`
	Categories, Tags                       []string
	Meta                                   struct{ Description, Image string }
}

type revisionItem struct {
	Revision, Actor, Pusher, Author, Type, Summary string
	RestoredFrom                                   string `json:"restored_from"`
	Version                                        int
	Changed                                        []string
	Deleted                                        bool
}

func (s *site) revisions(t testing.TB, tok, id string) []revisionItem {
	t.Helper()
	var l struct {
		Items []revisionItem
		Total int
	}
	r := s.do("GET", "/api/v1/posts/"+id+"/revisions?per_page=100", tok, nil)
	mustStatus(t, r, 200)
	r.json(t, &l)
	if l.Total != len(l.Items) {
		t.Fatalf("total %d, %d items", l.Total, len(l.Items))
	}
	return l.Items
}

func (s *site) postAt(t testing.TB, tok, id, rev string) historyPost {
	t.Helper()
	var out struct {
		Revision revisionItem
		Post     historyPost
	}
	r := s.do("GET", "/api/v1/posts/"+id+"/revisions/"+rev, tok, nil)
	mustStatus(t, r, 200)
	r.json(t, &out)
	if out.Revision.Revision != rev {
		t.Fatalf("asked for %s, got %s", rev, out.Revision.Revision)
	}
	return out.Post
}

func (s *site) livePost(t testing.TB, tok, id string) (historyPost, string) {
	t.Helper()
	var p historyPost
	r := s.do("GET", "/api/v1/posts/"+id, tok, nil)
	mustStatus(t, r, 200)
	r.json(t, &p)
	return p, r.header.Get("ETag")
}

// TestPostHistoryAcrossAPIPushAndAdmin edits one post through the API,
// a push and the admin in turn, and checks every revision, the diffs,
// restores (and undoing one), a rename by push, deletion and undelete.
func TestPostHistoryAcrossAPIPushAndAdmin(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "pat@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	wait := []string{"Prefer", "wait=5"}
	for _, c := range []string{"News", "Travel"} {
		mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": c}, wait...), 201)
	}
	var pics [2]struct{ ID string }
	for i := range pics {
		r := s.upload(tok, fmt.Sprintf("p%d.jpg", i), testJPEG(40+i, 30))
		mustStatus(t, r, 201)
		r.json(t, &pics[i])
	}

	// 1. The API creates it.
	var created struct{ ID string }
	r := s.do("POST", "/api/v1/posts", tok, postBody("First title", "content", "The first body, about ferries.\n\nA second paragraph.\n",
		"tags", []string{"boats"}, "categories", []string{"news"}, "status", "published", "feature_image", "media:"+pics[0].ID,
		"meta", map[string]string{"description": "First description"}), wait...)
	mustStatus(t, r, 201)
	r.json(t, &created)
	id := created.ID
	v1, _ := s.livePost(t, tok, id)

	// 2. Pat pushes a change of title, text and tags.
	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("pat@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	file := filepath.Join(work, v1.Path)
	body, _ := os.ReadFile(file)
	edited := strings.NewReplacer("title: First title", "title: Pushed title", "The first body", "The pushed body",
		"tags: [boats]", "tags: [boats, ships]").Replace(string(body))
	if edited == string(body) || !strings.Contains(edited, "ships") {
		t.Fatalf("the file is not as expected:\n%s", body)
	}
	write(t, file, edited)
	gitTry(t, work, "commit", "-qam", "Edit by git")
	if out, err := gitTry(t, work, "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	var v2 historyPost
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		v2, _ = s.livePost(t, tok, id)
		if v2.Title != "Pushed title" {
			return fmt.Errorf("title %q", v2.Title)
		}
		return nil
	})

	// 3. Ed edits it in the admin: title, text, categories, picture, description.
	b := s.browser()
	b.signIn("ed@example.org", password)
	page := b.get("/admin/posts/" + id)
	mustStatus(t, page, 200)
	form := url.Values{"title": {"Admin title"}, "slug": {v1.Slug}, "content": {"The admin body, about ferries.\n\nA second paragraph.\n"},
		"status": {"published"}, "published_at": {inputValue(t, page.body, "published_at")}, "categories": {"news", "travel"},
		"tags": {"boats, ships"}, "feature_image": {"media:" + pics[1].ID}, "meta.description": {"Admin description"},
		"version": {inputValue(t, page.body, "version")}, "action": {"save"}}
	if r := b.post("/admin/posts/"+id, form); r.status != 303 {
		t.Fatalf("admin save: %d %s", r.status, r.body)
	}
	v3, etag3 := s.livePost(t, tok, id)
	if v3.Title != "Admin title" || len(v3.Categories) != 2 {
		t.Fatalf("after the admin's save: %+v", v3)
	}

	// Every revision, newest first, with who made it.
	revs := s.revisions(t, tok, id)
	type who struct {
		Actor, Pusher, Type string
		Version             int
	}
	var got []who
	for _, r := range revs {
		got = append(got, who{r.Actor, r.Pusher, r.Type, r.Version})
	}
	want := []who{{"ed@example.org", "", "post.updated", 3}, {"pat@example.org", "pat@example.org", "post.updated", 2},
		{"ed@example.org", "", "post.created", 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("revisions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"title", "content", "tags"}, revs[1].Changed); diff != "" {
		t.Errorf("what the push changed (-want +got):\n%s", diff)
	}
	if !strings.Contains(revs[0].Summary, "feature image") || !strings.Contains(revs[0].Summary, "categories") {
		t.Errorf("summary of the admin's save: %q", revs[0].Summary)
	}
	// Each revision gives back every field as it was.
	states := []historyPost{v3, v2, v1}
	for i, r := range revs {
		if diff := cmp.Diff(states[i], s.postAt(t, tok, id, r.Revision)); diff != "" {
			t.Errorf("revision %d (-live then +revision):\n%s", r.Version, diff)
		}
	}
	// The diff of any two.
	var d struct {
		Fields []struct {
			Field    string
			From, To any
		}
		Content struct {
			Words   []struct{ Op, Text string }
			Unified string
		}
	}
	r = s.do("GET", "/api/v1/posts/"+id+"/diff?from="+revs[2].Revision+"&to="+revs[0].Revision, tok, nil)
	mustStatus(t, r, 200)
	r.json(t, &d)
	var fields []string
	for _, f := range d.Fields {
		fields = append(fields, f.Field)
	}
	if diff := cmp.Diff([]string{"title", "categories", "tags", "feature_image", "meta"}, fields); diff != "" {
		t.Errorf("fields changed from 1 to 3 (-want +got):\n%s", diff)
	}
	var del, ins []string
	for _, w := range d.Content.Words {
		switch w.Op {
		case "delete":
			del = append(del, w.Text)
		case "insert":
			ins = append(ins, w.Text)
		}
	}
	if diff := cmp.Diff([]string{"first"}, del); diff != "" {
		t.Errorf("words deleted (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"admin"}, ins); diff != "" {
		t.Errorf("words inserted (-want +got):\n%s", diff)
	}
	wantUnified := "--- a/" + v1.Path + "\n+++ b/" + v1.Path + "\n@@ -1,3 +1,3 @@\n-The first body, about ferries.\n+The admin body, about ferries.\n \n A second paragraph.\n"
	if d.Content.Unified != wantUnified {
		t.Errorf("unified diff:\n%s\nwant:\n%s", d.Content.Unified, wantUnified)
	}
	// Without from: against the revision before.
	r = s.do("GET", "/api/v1/posts/"+id+"/diff?to="+revs[1].Revision, tok, nil)
	mustStatus(t, r, 200)
	r.json(t, &d)
	if len(d.Fields) != 2 || d.Fields[0].Field != "title" || d.Fields[1].Field != "tags" {
		t.Errorf("diff of the push against the revision before: %+v", d.Fields)
	}

	// Restore the first: a live post needs If-Match.
	restore := func(rev, etag string) response {
		h := append([]string{}, wait...)
		if etag != "" {
			h = append(h, "If-Match", etag)
		}
		return s.do("POST", "/api/v1/posts/"+id+"/restore", tok, map[string]string{"revision": rev}, h...)
	}
	mustStatus(t, restore(revs[2].Revision, ""), 428)
	mustStatus(t, restore(revs[2].Revision, `"`+strings.Repeat("0", 40)+`"`), 412)
	mustStatus(t, restore(strings.Repeat("ab", 20), etag3), 404)
	r = restore(revs[2].Revision, etag3)
	mustStatus(t, r, 200)
	back, etag4 := s.livePost(t, tok, id)
	if diff := cmp.Diff(v1, back); diff != "" {
		t.Errorf("restored post (-first +now):\n%s", diff)
	}
	revs = s.revisions(t, tok, id)
	if revs[0].Type != "post.restored" || revs[0].RestoredFrom != revs[3].Revision || revs[0].Version != 4 {
		t.Errorf("the restore's revision: %+v", revs[0])
	}
	if pub := s.get("/posts/" + v1.Slug); !strings.Contains(string(pub.body), "First title") {
		t.Errorf("the public page after the restore: %s", pub.body)
	}
	mustStatus(t, restore(revs[3].Revision, etag4), 409) // it already is so
	// The restore is undone like any change: restore the revision before it.
	mustStatus(t, restore(revs[1].Revision, etag4), 200)
	now, _ := s.livePost(t, tok, id)
	if diff := cmp.Diff(v3, now); diff != "" {
		t.Errorf("after undoing the restore (-before +now):\n%s", diff)
	}

	// A rename of the file by push: the history follows the post.
	gitTry(t, work, "pull", "-q", "--rebase", "origin", "main")
	renamed := filepath.Join(filepath.Dir(v1.Path), "renamed-by-git.md")
	if out, err := gitTry(t, work, "mv", v1.Path, renamed); err != nil {
		t.Fatalf("git mv: %v\n%s", err, out)
	}
	gitTry(t, work, "commit", "-qm", "Rename")
	if out, err := gitTry(t, work, "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if p, _ := s.livePost(t, tok, id); p.Path != renamed {
			return fmt.Errorf("path %q", p.Path)
		}
		return nil
	})
	revs = s.revisions(t, tok, id)
	if len(revs) != 6 || revs[0].Pusher != "pat@example.org" || !cmp.Equal(revs[0].Changed, []string{"path"}) {
		t.Fatalf("after the rename: %+v", revs)
	}

	// Deleted: the history stays, and a restore undeletes it.
	_, etag := s.livePost(t, tok, id)
	mustStatus(t, s.do("DELETE", "/api/v1/posts/"+id, tok, nil, "If-Match", etag, "Prefer", "wait=5"), 204)
	mustStatus(t, s.do("GET", "/api/v1/posts/"+id, tok, nil), 404)
	revs = s.revisions(t, tok, id)
	if !revs[0].Deleted || revs[0].Type != "post.deleted" || len(revs) != 7 {
		t.Fatalf("after the deletion: %+v", revs[0])
	}
	mustStatus(t, restore(revs[0].Revision, ""), 422) // a deletion is not a state to go back to
	mustStatus(t, restore(revs[6].Revision, ""), 200)
	again, _ := s.livePost(t, tok, id)
	// It comes back as it was then, at the path it had then.
	if diff := cmp.Diff(v1, again); diff != "" {
		t.Errorf("undeleted post (-first +now):\n%s", diff)
	}
	if pub := s.get("/posts/" + v1.Slug); pub.status != 200 {
		t.Errorf("the undeleted post's page: %d", pub.status)
	}

	// Readers of the public API see none of it.
	mustStatus(t, s.do("GET", "/api/v1/posts/"+id+"/revisions", "", nil), 401)
}
