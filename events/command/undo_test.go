package command_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/repo/lfs"
)

// A revert puts every file of a commit back as it was before, in a commit
// whose message is git's; one that later commits touched is refused with
// them named, and nothing is committed.
func TestRevert(t *testing.T) {
	s := newSite(t)
	s.category("news", "News")
	a := s.post(command.PostInput{Title: "A", Content: "First.\n"})
	b := s.post(command.PostInput{Title: "B", Content: "Other.\n"})
	edit, err := s.w.UpdatePost(ctx, ed, a.ID, "", command.PostInput{Title: "A", Content: "Second.\n", Categories: []string{"news"}})
	if err != nil {
		t.Fatal(err)
	}
	editHash := repo.ParseHash(edit.Cursor.Commit)
	before := s.head()

	// The edit of A is the newest change of its file: revertable.
	res, err := s.w.Revert(ctx, ed, editHash)
	if err != nil {
		t.Fatal(err)
	}
	s.committed(res, `Revert "Update post “A”"`, "commit.reverted", "commit/"+editHash.String(), events.PostUpdated)
	c, _ := s.r.ReadCommit(s.head())
	if want := "Revert \"Update post “A”\"\n\nThis reverts commit " + editHash.String() + ".\n\n"; c.Message[:len(want)] != want {
		t.Errorf("message %q", c.Message)
	}
	if got, _ := s.w.Post(a.ID); got.Content != "First.\n" || len(got.Categories) != 0 {
		t.Errorf("after the revert: %+v", got)
	}
	if d, _ := s.r.Diff(before, s.head()); len(d) != 1 {
		t.Errorf("the revert changed %v", d)
	}

	// B's creation, older than the revert but touching other files, is
	// revertable too: B goes away.
	created := s.history(b.Path)
	res, err = s.w.Revert(ctx, ed, created)
	if err != nil {
		t.Fatal(err)
	}
	if got := types(res.Events); !slices.Equal(got, []events.Type{events.PostDeleted}) {
		t.Errorf("revert of a creation: %v", got)
	}

	// A's creation: the edit and its revert changed A's file since.
	first := s.history(a.Path)
	head := s.head()
	_, err = s.w.Revert(ctx, ed, first)
	var ce *command.RevertConflictError
	if !errors.As(err, &ce) || len(ce.Later) != 2 || ce.Later[0].Hash != editHash.String() || !slices.Equal(ce.Later[0].Files, []string{a.Path}) ||
		ce.Later[1].Summary != `Revert "Update post “A”"` {
		t.Fatalf("error %v (%+v), want a conflict naming the edit and its revert", err, ce)
	}
	s.unchanged(head, command.Written{})

	// The root, a commit not on main, a merge.
	root := s.r
	chain, _ := root.FirstParents(s.head(), repo.ZeroHash)
	var ue *command.UnrevertableError
	if _, err := s.w.Revert(ctx, ed, chain[0]); !errors.As(err, &ue) {
		t.Errorf("root: %v", err)
	}
	if _, err := s.w.Revert(ctx, ed, repo.BlobHash([]byte("no commit"))); !errors.Is(err, command.ErrNotFound) || !errors.Is(err, command.ErrNotOnMain) {
		t.Errorf("unknown: %v", err)
	}
	// A blob, and a commit on another branch, are no commits of main.
	other, err := s.r.Commit(ctx, repo.CommitRequest{Ref: "refs/heads/side", Message: "side\n", Changes: []repo.Change{{Path: "x", Data: []byte("x")}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []repo.Hash{repo.BlobHash([]byte("x")), other} {
		if _, err := s.w.Revert(ctx, ed, h); !errors.Is(err, command.ErrNotOnMain) {
			t.Errorf("%s: %v, want ErrNotOnMain", h, err)
		}
	}
	s.unchanged(head, command.Written{})
	// A commit that changed nothing has nothing to revert.
	empty, err := s.r.Commit(ctx, repo.CommitRequest{Parent: head, Message: "nothing\n"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Revert(ctx, ed, empty); !errors.As(err, &ue) {
		t.Errorf("empty commit: %v", err)
	}
	s.unchanged(empty, command.Written{})
}

// history is the newest commit that changed path.
func (s *site) history(path string) repo.Hash {
	s.t.Helper()
	cs, err := s.r.History(s.head(), path, 0)
	if err != nil || len(cs) == 0 {
		s.t.Fatalf("history of %s: %v", path, err)
	}
	return cs[len(cs)-1].Hash
}

func types(evs []events.Event) []events.Type {
	var out []events.Type
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// A rollback's plan lists exactly what its commit changes; the commit's
// tree is the revision's, and it derives site.rolled_back first.
func TestRollback(t *testing.T) {
	s := newSite(t)
	s.category("news", "News")
	a := s.post(command.PostInput{Title: "A", Content: "First.\n", Status: content.Published})
	target := s.head()
	s.post(command.PostInput{Title: "B"})
	if _, err := s.w.UpdatePost(ctx, ed, a.ID, "", command.PostInput{Title: "A2", Content: "Again.\n", Status: content.Published}); err != nil {
		t.Fatal(err)
	}
	s.category("sport", "Sport")
	if _, err := s.w.DeleteCategory(ctx, ed, "news", ""); err != nil {
		t.Fatal(err)
	}
	head := s.head()

	plan, err := s.w.PlanRollback(target)
	if err != nil {
		t.Fatal(err)
	}
	if s.head() != head {
		t.Fatal("the plan committed")
	}
	got := map[string]string{}
	for _, f := range plan.Files {
		got[f.Path] = f.Action + " " + f.Subject + " " + f.Title
	}
	want := map[string]string{
		a.Path:                        "modified post/" + a.ID + " A2",
		content.CategoryPath("news"):  "added category/news News",
		content.CategoryPath("sport"): "deleted category/sport Sport",
	}
	for _, f := range plan.Files {
		if f.Subject == "" || f.Path == a.Path || f.Path == content.CategoryPath("news") || f.Path == content.CategoryPath("sport") {
			continue
		}
		want[f.Path] = "" // B: checked below
	}
	if len(plan.Files) != 4 {
		t.Errorf("plan %+v, want 4 files", plan.Files)
	}
	for p, w := range want {
		if w != "" && got[p] != w {
			t.Errorf("%s: %q, want %q", p, got[p], w)
		}
	}

	res, done, err := s.w.Rollback(ctx, ed, target)
	if err != nil {
		t.Fatal(err)
	}
	s.committed(res, "Roll back the site to "+target.String()[:12]+" (2026-03-01 10:00 UTC)", events.SiteRolledBack, "site",
		events.SiteRolledBack, events.CategoryCreated, events.CategoryDeleted, events.PostUpdated, events.PostDeleted)
	c, _ := s.r.ReadCommit(s.head())
	old, _ := s.r.ReadCommit(target)
	if c.Tree != old.Tree || gitlog.Trailers(c.Message)[gitlog.TrailerRolledBackTo] != target.String() {
		t.Errorf("tree %s (want %s), message %q", c.Tree, old.Tree, c.Message)
	}
	diff, _ := s.r.Diff(head, s.head())
	if len(diff) != len(done.Files) || len(done.Files) != len(plan.Files) {
		t.Errorf("the commit changed %d files, the plan said %d", len(diff), len(plan.Files))
	}
	for i := range diff {
		if diff[i].Path != plan.Files[i].Path {
			t.Errorf("file %d: %s, planned %s", i, diff[i].Path, plan.Files[i].Path)
		}
	}
	var rb events.RollbackData
	if pl, err := res.Events[0].Payload(); err != nil {
		t.Fatal(err)
	} else {
		rb = pl.(events.RollbackData)
	}
	if rb.To != target.String() || rb.Files != 4 || !rb.ToTime.Equal(clock) {
		t.Errorf("payload %+v", rb)
	}

	// Again: nothing to do, nothing committed.
	now := s.head()
	if _, _, err := s.w.Rollback(ctx, ed, target); !errors.Is(err, command.ErrNothingToRollBack) {
		t.Errorf("second rollback: %v", err)
	}
	if _, _, err := s.w.Rollback(ctx, ed, now); !errors.Is(err, command.ErrNothingToRollBack) {
		t.Errorf("rollback to the head: %v", err)
	}
	if _, err := s.w.PlanRollback(repo.BlobHash([]byte("x"))); !errors.Is(err, command.ErrNotOnMain) {
		t.Errorf("unknown revision: %v", err)
	}
	s.unchanged(now, command.Written{})
	// The rollback of the rollback brings the present back.
	if _, _, err := s.w.Rollback(ctx, ed, head); err != nil {
		t.Fatal(err)
	}
	c, _ = s.r.ReadCommit(s.head())
	h, _ := s.r.ReadCommit(head)
	if c.Tree != h.Tree {
		t.Errorf("rolling the rollback back: tree %s, want %s", c.Tree, h.Tree)
	}
}

// A revert is checked as a push of it would be: it may not take a slug
// another post has since, delete a category posts use, or let an editor
// change the settings; a picture it brings back is checked against the
// store (its facts recorded there when it was uploaded).
func TestRevertIsCheckedAsAPush(t *testing.T) {
	s := newSite(t)
	refused := func(t *testing.T, h repo.Hash, by command.Actor, want string) {
		t.Helper()
		before := s.head()
		_, err := s.w.Revert(ctx, by, h)
		var re *command.RevertRefusedError
		if !errors.As(err, &re) || !strings.Contains(strings.Join(re.Problems, "\n"), want) {
			t.Fatalf("error %v, want a refusal saying %q", err, want)
		}
		if s.head() != before {
			t.Fatal("a refused revert committed")
		}
	}
	s.post(command.PostInput{Title: "First"}) // the root commit: not revertable anyway

	t.Run("category in use", func(t *testing.T) {
		s := s.in(t)
		s.category("news", "News")
		created := s.head()
		s.post(command.PostInput{Title: "In the news", Categories: []string{"news"}})
		refused(t, created, ed, `category "news" is used by 1 post`)
	})
	t.Run("slug taken", func(t *testing.T) {
		s := s.in(t)
		p := s.post(command.PostInput{Title: "Taken"})
		res, err := s.w.DeletePost(ctx, ed, p.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		// Another file takes the slug (as a hand-written one can).
		if _, err := s.r.Commit(ctx, repo.CommitRequest{Parent: s.head(), Message: "by hand\n",
			Changes: []repo.Change{{Path: "posts/notes/mine.md", Data: []byte("---\ntitle: Mine\nslug: taken\n---\nHi.\n")}}}); err != nil {
			t.Fatal(err)
		}
		refused(t, repo.ParseHash(res.Cursor.Commit), ed, `slug: "taken" is already used`)
	})
	t.Run("settings need an admin", func(t *testing.T) {
		s := s.in(t)
		res, err := s.w.PutSettings(ctx, ed, "", content.Settings{Title: "Mine", Language: "en", PostsPerPage: 10})
		if err != nil {
			t.Fatal(err)
		}
		h := repo.ParseHash(res.Cursor.Commit)
		refused(t, h, command.Actor{Email: "eve@example.org", Role: policy.Editor}, "may not change the site's settings")
		if res, err := s.w.Revert(ctx, ed, h); err != nil || len(res.Events) != 1 || res.Events[0].Type != events.SettingsChanged {
			t.Fatalf("an admin's revert of the settings: %v %v", err, res.Events)
		}
	})
	t.Run("pictures", func(t *testing.T) {
		s := s.in(t)
		data := []byte("a picture's bytes")
		sha := fmt.Sprintf("%x", sha256.Sum256(data))
		obj := lfs.ObjectPath(s.lfsDir, sha)
		os.MkdirAll(filepath.Dir(obj), 0o755)
		if err := os.WriteFile(obj, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := lfs.Record(s.lfsDir, sha, lfs.Facts{Size: int64(len(data)), Type: "image/png", Ext: "png", Width: 4, Height: 3}); err != nil {
			t.Fatal(err)
		}
		_, m, err := s.w.UploadMedia(ctx, ed, content.Media{SHA256: sha, Type: "image/png", Ext: "png", Width: 4, Height: 3, Bytes: int64(len(data))})
		if err != nil {
			t.Fatal(err)
		}
		del, err := s.w.DeleteMedia(ctx, ed, m.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.w.Revert(ctx, ed, repo.ParseHash(del.Cursor.Commit))
		if err != nil || !slices.Equal(types(res.Events), []events.Type{events.MediaUploaded}) {
			t.Fatalf("revert of a deletion: %v %v", err, types(res.Events))
		}
		// Once its bytes are gone from the store, it cannot come back.
		del, err = s.w.DeleteMedia(ctx, ed, m.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		os.RemoveAll(s.lfsDir)
		os.MkdirAll(s.lfsDir, 0o755)
		refused(t, repo.ParseHash(del.Cursor.Commit), ed, "was never uploaded")
	})
}
