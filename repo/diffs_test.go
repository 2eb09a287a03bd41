package repo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chronicle-cms/chronicle/repo"
)

// TestFirstParentDiffsMatchDiff: the changes git log gives for each
// commit of a history are what Diff gives for it, on the cases where the
// two could part: the root commit, an empty commit, a file becoming a
// folder and back, a mode change alone, a symlink, a submodule, a
// rename, a merge (against its first parent), odd names; from the root
// and from the middle.
func TestFirstParentDiffsMatchDiff(t *testing.T) {
	dir := open(t).Dir() // made as the daemon makes it; read again below
	sub := strings.Repeat("ab", 20)
	var in strings.Builder
	mark := 0
	commit := func(from string, ops ...string) string {
		mark++
		fmt.Fprintf(&in, "commit refs/heads/%s\nmark :%d\ncommitter T <t@example.org> %d +0000\ndata 1\nc\n", "main", mark, 1767225600+mark)
		if from != "" {
			fmt.Fprintf(&in, "from %s\n", from)
		}
		for _, op := range ops {
			in.WriteString(op)
		}
		in.WriteString("\n")
		return fmt.Sprintf(":%d", mark)
	}
	entry := func(mode, path, body string) string {
		return fmt.Sprintf("M %s inline %s\ndata %d\n%s\n", mode, path, len(body), body)
	}
	file := func(path, body string) string { return entry("644", path, body) }
	root := commit("", file("posts/2026/a.md", "a"), file("site/settings.yaml", "t"), file("x", "file"))
	c := commit(root)                                          // empty
	c = commit(c, "D x\n", file("x/inner.md", "now a folder")) // file -> folder
	c = commit(c, entry("755", "posts/2026/a.md", "a"))        // mode alone
	c = commit(c, entry("120000", "link", "posts/2026/a.md"))  // symlink
	c = commit(c, fmt.Sprintf("M 160000 %s mod\n", sub))       // submodule
	c = commit(c, "D x/inner.md\n", file("x", "a file again")) // folder -> file
	c = commit(c, "R posts/2026/a.md posts/2026/b.md\n")       // rename
	c = commit(c, file("\"odd name\\tü.md\"", "odd"), file("a-b/c", "1"), file("a.b", "2"), file("a/b", "3"))
	side := commit(root, file("side.md", "side"))
	in.WriteString(fmt.Sprintf("commit refs/heads/main\nmark :%d\ncommitter T <t@example.org> 1767239999 +0000\ndata 1\nm\nfrom %s\nmerge %s\n%s\n", mark+1, c, side, file("merged.md", "m")))
	in.WriteString("reset refs/heads/main\nfrom :" + fmt.Sprint(mark+1) + "\n\n")
	cmd := exec.Command("git", "--git-dir", dir, "fast-import", "--quiet", "--force")
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git fast-import: %v: %s\n%s", err, out, in.String())
	}
	r, err := repo.Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	head, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	chain, err := r.FirstParents(head, repo.ZeroHash)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 10 {
		t.Fatalf("history of %d commits, want 10", len(chain))
	}
	// The whole chain (git rev-list) is the one walked commit by commit
	// from a stop (go-git), the merge's first parent taken.
	if tail, err := r.FirstParents(head, chain[0]); err != nil || !slices.Equal(append(chain[:1:1], tail...), chain) {
		t.Fatalf("walked from the root: %v (%v), want %v", tail, err, chain[1:])
	}
	for _, from := range []int{-1, 4} {
		stop := repo.ZeroHash
		if from >= 0 {
			stop = chain[from]
		}
		d, err := r.FirstParentDiffs(context.Background(), stop, head)
		if err != nil {
			t.Fatal(err)
		}
		parent := stop
		for _, h := range chain[from+1:] {
			got, changes, err := d.Next()
			if err != nil {
				t.Fatalf("after %s: %v", parent, err)
			}
			want, err := r.Diff(parent, h)
			if err != nil {
				t.Fatal(err)
			}
			if got != h {
				t.Fatalf("git log gave %s, want %s", got, h)
			}
			if diff := cmp.Diff(want, changes); diff != "" && !(len(want) == 0 && len(changes) == 0) {
				t.Errorf("commit %s: git log's changes differ from Diff's (-Diff +git log):\n%s", h, diff)
			}
			parent = h
		}
		if _, _, err := d.Next(); err != io.EOF {
			t.Fatalf("after the head: %v, want io.EOF", err)
		}
		d.Close()
	}
}
