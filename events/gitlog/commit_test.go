package gitlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/repo"
)

// A commit's view bounds its diff: a text file gets its unified diff, a
// binary file, a Git LFS pointer or a file over the limit a note; a
// commit not on main's first-parent chain is not shown.
func TestCommitView(t *testing.T) {
	l := newGitLog(t)
	r := l.Repo()
	post := []byte("---\nid: p1\ntitle: Hello\ncreated_at: 2026-01-01T00:00:00Z\n---\nOne.\n")
	big := bytes.Repeat([]byte("a line of a large file\n"), gitlog.MaxDiffFileBytes/20)
	_, c1, err := l.Append(context.Background(), gitlog.Batch{Message: "first\n", Changes: []repo.Change{
		{Path: "posts/2026/hello.md", Data: post}, {Path: "big.txt", Data: []byte("small\n")}, {Path: "gone.txt", Data: []byte("bye\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	_, c2, err := l.Append(context.Background(), gitlog.Batch{Parent: c1.Commit, Message: "second\n\nChronicle-Actor: ann@example.org\n", Changes: []repo.Change{
		{Path: "posts/2026/hello.md", Data: bytes.Replace(post, []byte("One."), []byte("Two."), 1)},
		{Path: "big.txt", Data: big},
		{Path: "gone.txt", Delete: true},
		{Path: "media/pic.png", Data: content.LFSPointerFile(strings.Repeat("ab", 32), 1234)},
		{Path: "raw.bin", Data: []byte("GIF89a\x00\x01")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := l.Commit(repo.ParseHash(c2.Commit))
	if err != nil {
		t.Fatal(err)
	}
	if v.Height != 2 || v.Actor != "ann@example.org" || len(v.Events) != 1 || v.Events[0].Subject != "post/p1" || v.Truncated {
		t.Errorf("view %+v", v)
	}
	got := map[string]gitlog.FileDiff{}
	for _, f := range v.Files {
		got[f.Path] = f
	}
	if f := got["posts/2026/hello.md"]; f.Status != "modified" || f.Subject != "post/p1" || f.Title != "Hello" || f.Added != 1 || f.Deleted != 1 ||
		!strings.Contains(f.Diff, "\n-One.\n+Two.\n") {
		t.Errorf("post: %+v", f)
	}
	if f := got["big.txt"]; f.Diff != "" || !strings.Contains(f.Note, "larger than 256 KiB") {
		t.Errorf("large file: %+v", f)
	}
	if f := got["gone.txt"]; f.Status != "deleted" || !strings.Contains(f.Diff, "-bye\n") {
		t.Errorf("deleted file: %+v", f)
	}
	if f := got["media/pic.png"]; f.Status != "added" || f.NewLFS == nil || f.NewLFS.Size != 1234 || f.Diff != "" || f.Subject != "media/pic" {
		t.Errorf("LFS pointer: %+v", f)
	}
	if f := got["raw.bin"]; !f.Binary || f.Diff != "" || f.Note == "" {
		t.Errorf("binary file: %+v", f)
	}

	// A commit whose diffs pass the bound in all: the rest are left out.
	var many []repo.Change
	for i := range 12 {
		many = append(many, repo.Change{Path: fmt.Sprintf("many/%02d.txt", i), Data: bytes.Repeat([]byte(fmt.Sprintf("file %d\n", i)), 200<<10/8)})
	}
	_, c3, err := l.Append(context.Background(), gitlog.Batch{Parent: c2.Commit, Message: "many\n", Changes: many})
	if err != nil {
		t.Fatal(err)
	}
	v, err = l.Commit(repo.ParseHash(c3.Commit))
	if err != nil {
		t.Fatal(err)
	}
	shown := 0
	for _, f := range v.Files {
		if f.Diff != "" {
			shown++
		}
	}
	if !v.Truncated || len(v.Files) != 12 || shown == 0 || shown == 12 || v.Files[11].Note == "" {
		t.Errorf("a large commit: truncated %v, %d files, %d diffs shown", v.Truncated, len(v.Files), shown)
	}

	// Not on main: a commit on another branch, and no commit at all.
	side, err := r.Commit(context.Background(), repo.CommitRequest{Ref: "refs/heads/side", Parent: repo.ZeroHash, Message: "side\n",
		Changes: []repo.Change{{Path: "x", Data: []byte("x")}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []repo.Hash{side, repo.BlobHash([]byte("x")), repo.ZeroHash} {
		if _, err := l.Commit(h); !errors.Is(err, gitlog.ErrNotOnMain) {
			t.Errorf("%s: %v, want ErrNotOnMain", h, err)
		}
	}
	if h, err := l.Locate(repo.ParseHash(c1.Commit)); err != nil || h != 1 {
		t.Errorf("locate the first commit: %d %v", h, err)
	}
}
