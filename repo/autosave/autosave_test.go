package autosave

import (
	"context"
	"log/slog"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/repo"
)

func TestDrafts(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "site.git")
	r, err := repo.Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Commit(ctx, repo.CommitRequest{Message: "first", Changes: []repo.Change{{Path: "posts/a.md", Data: []byte("---\ntitle: A\n---\n")}}}); err != nil {
		t.Fatal(err)
	}
	main, _ := r.Head()
	s := New(r)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }

	if _, ok, err := s.Load("ann@example.org", "p1"); ok || err != nil {
		t.Fatalf("no draft yet: %v %v", ok, err)
	}
	d := Draft{Fields: map[string][]string{"title": {"A"}, "content": {"Half a sentence"}, "categories": {"x", "y"}}, Base: "abc"}
	if err := s.Save(ctx, "Ann@Example.org", "p1", d); err != nil {
		t.Fatal(err)
	}
	now = now.Add(5 * time.Second)
	d.Fields["content"] = []string{"Half a sentence, and more"}
	if err := s.Save(ctx, "ann@example.org", "p1", d); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Load("ann@example.org", "p1")
	if err != nil || !ok || !reflect.DeepEqual(got.Fields, d.Fields) || got.Base != "abc" || !got.Saved.Equal(now) {
		t.Fatalf("load: %+v %v %v", got, ok, err)
	}
	// Another account's drafts are its own.
	if _, ok, _ := s.Load("bob@example.org", "p1"); ok {
		t.Fatal("bob sees ann's draft")
	}
	if err := s.Save(ctx, "ann@example.org", "new-k1", d); err != nil {
		t.Fatal(err)
	}
	keys, err := s.Keys(ctx, "ann@example.org")
	slices.Sort(keys)
	if err != nil || !reflect.DeepEqual(keys, []string{"new-k1", "p1"}) {
		t.Fatalf("keys: %v %v", keys, err)
	}
	// main never moves, and git clients asking for branches see none of it.
	if h, _ := r.Head(); h != main {
		t.Fatal("an autosave moved main")
	}
	out, err := exec.Command("git", "--git-dir", dir, "for-each-ref", "refs/heads/").Output()
	if err != nil || strings.Count(string(out), "\n") != 1 {
		t.Fatalf("branches: %q %v", out, err)
	}
	if err := s.Discard(ctx, "ann@example.org", "p1"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Load("ann@example.org", "p1"); ok {
		t.Fatal("a discarded draft is still there")
	}
	if err := s.Discard(ctx, "ann@example.org", "p1"); err != nil {
		t.Fatalf("discarding twice: %v", err)
	}
	if err := s.Save(ctx, "ann@example.org", "../main", d); err == nil {
		t.Fatal("a key that is not a name was accepted")
	}
	if fsck, err := exec.Command("git", "--git-dir", dir, "fsck", "--strict").CombinedOutput(); err != nil {
		t.Fatalf("fsck: %v %s", err, fsck)
	}
}
