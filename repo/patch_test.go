package repo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/repo"
)

// UnifiedDiff writes what git diff writes for the same change, so a
// client (or an admin's patch tool) reads it as git's own.
func TestUnifiedDiffMatchesGit(t *testing.T) {
	var long strings.Builder
	for i := range 40 {
		fmt.Fprintf(&long, "line %d\n", i)
	}
	changed := strings.Replace(strings.Replace(long.String(), "line 5\n", "line five\n", 1), "line 30\n", "", 1) + "the end\n"
	for _, tc := range []struct {
		name string
		a, b []byte // nil: absent
	}{
		{"modified", []byte(long.String()), []byte(changed)},
		{"added", nil, []byte("---\ntitle: New\n---\nBody.\n")},
		{"deleted", []byte("---\ntitle: Old\n---\nBody.\n"), nil},
		{"no final newline", []byte("a\nb"), []byte("a\nc")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := open(t)
			var c1 repo.Hash
			changes := []repo.Change{{Path: "keep", Data: []byte("k\n")}}
			if tc.a != nil {
				changes = append(changes, repo.Change{Path: "posts/2026/x.md", Data: tc.a})
			}
			c1 = commit(t, r, repo.ZeroHash, changes...)
			second := repo.Change{Path: "posts/2026/x.md", Data: tc.b, Delete: tc.b == nil}
			c2 := commit(t, r, c1, second)
			want := gitCmd(t, r.Dir(), "diff", "--no-color", "--no-renames", "--full-index", c1.String(), c2.String())
			old, new := repo.ZeroHash, repo.ZeroHash
			if tc.a != nil {
				old = repo.BlobHash(tc.a)
			}
			if tc.b != nil {
				new = repo.BlobHash(tc.b)
			}
			got, added, deleted := repo.UnifiedDiff("posts/2026/x.md", old, new, tc.a, tc.b)
			if strings.TrimSpace(got) != want {
				t.Errorf("diff:\n%s\ngit diff:\n%s", got, want)
			}
			numstat := gitCmd(t, r.Dir(), "diff", "--numstat", c1.String(), c2.String())
			if w := fmt.Sprintf("%d\t%d\tposts/2026/x.md", added, deleted); numstat != w {
				t.Errorf("counted %q, git %q", w, numstat)
			}
		})
	}
}

// TouchedSince names the commits after one that changed some files, and
// AtOrBefore finds the newest commit of a time.
func TestTouchedSinceAndAtOrBefore(t *testing.T) {
	r := open(t)
	at := func(day int) time.Time { return time.Date(2026, 1, day, 9, 0, 0, 0, time.UTC) }
	mk := func(parent repo.Hash, day int, changes ...repo.Change) repo.Hash {
		h, err := r.Commit(context.Background(), repo.CommitRequest{Parent: parent, Changes: changes, Message: "m\n",
			Author: repo.Signature{Name: "A", Email: "a@example.org", When: at(day)}})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	c1 := mk(repo.ZeroHash, 1, repo.Change{Path: "a/x", Data: []byte("1")}, repo.Change{Path: "b", Data: []byte("1")})
	c2 := mk(c1, 3, repo.Change{Path: "a/x", Data: []byte("2")})
	c3 := mk(c2, 5, repo.Change{Path: "b", Delete: true}, repo.Change{Path: "c", Data: []byte("3")})
	for _, tc := range []struct {
		since repo.Hash
		want  string
	}{{repo.ZeroHash, "c1:a/x,b c2:a/x c3:b"}, {c1, "c2:a/x c3:b"}, {c2, "c3:b"}, {c3, ""}} {
		got, err := r.TouchedSince(c3, tc.since, []string{"a/x", "b", "nowhere"})
		var s []string
		for _, c := range got {
			s = append(s, map[repo.Hash]string{c1: "c1", c2: "c2", c3: "c3"}[c.Commit.Hash]+":"+strings.Join(c.Paths, ","))
		}
		if err != nil || strings.Join(s, " ") != tc.want {
			t.Errorf("since %s: %q %v, want %q", tc.since, s, err, tc.want)
		}
	}
	if _, err := r.TouchedSince(c2, c3, []string{"b"}); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("since a commit not behind head: %v", err)
	}
	for _, tc := range []struct {
		t    time.Time
		want repo.Hash
	}{{at(1), c1}, {at(2), c1}, {at(3), c2}, {at(4).Add(23 * time.Hour), c2}, {at(9), c3}} {
		got, err := r.AtOrBefore(c3, tc.t)
		if err != nil || got.Hash != tc.want {
			t.Errorf("%s: %s %v, want %s", tc.t, got.Hash, err, tc.want)
		}
	}
	if _, err := r.AtOrBefore(c3, at(1).Add(-time.Second)); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("before the first commit: %v", err)
	}
}

// A commit can take an existing tree whole: a rollback's tree is exactly
// the earlier commit's, modes and all.
func TestCommitOfAnExistingTree(t *testing.T) {
	r := open(t)
	c1 := commit(t, r, repo.ZeroHash, repo.Change{Path: "a", Data: []byte("1")})
	c2 := commit(t, r, c1, repo.Change{Path: "a", Data: []byte("2")}, repo.Change{Path: "d/b", Data: []byte("b")})
	old, err := r.ReadCommit(c1)
	if err != nil {
		t.Fatal(err)
	}
	c3, err := r.Commit(context.Background(), repo.CommitRequest{Parent: c2, Tree: old.Tree, Message: "back\n"})
	if err != nil {
		t.Fatal(err)
	}
	if got := gitCmd(t, r.Dir(), "rev-parse", c3.String()+"^{tree}"); got != old.Tree.String() {
		t.Fatalf("tree %s, want %s", got, old.Tree)
	}
	if _, err := r.Commit(context.Background(), repo.CommitRequest{Parent: c3, Tree: old.Tree, Changes: []repo.Change{{Path: "x", Data: []byte("x")}}}); err == nil {
		t.Fatal("a tree and changes together were accepted")
	}
}
