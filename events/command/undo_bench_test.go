package command_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/repo"
)

// history makes, with git fast-import, a site of posts posts and then
// edits commits, edit k changing post k%posts, and returns a writer and
// log over it with main's first-parent chain, oldest first.
func history(b *testing.B, posts, edits int) (*command.Writer, *gitlog.GitLog, []repo.Hash) {
	b.Helper()
	if testing.Short() {
		posts, edits = posts/100, edits/100 // `make test` only checks that the benchmarks run
	}
	dir := filepath.Join(b.TempDir(), "site.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "--initial-branch=main", dir).CombinedOutput(); err != nil {
		b.Fatalf("git init: %v\n%s", err, out)
	}
	var in bytes.Buffer
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	file := func(i, rev int) string {
		return fmt.Sprintf("---\nid: p%05d\ntitle: Post %d\ncreated_at: 2026-01-01T00:00:00Z\n---\nRevision %d of post %d.\n", i, i, rev, i)
	}
	inline := func(path, data string) {
		fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s\n", path, len(data), data)
	}
	commit := func(n int, msg string, files func()) {
		fmt.Fprintf(&in, "commit refs/heads/main\nmark :%d\ncommitter Ed <ed@example.org> %d +0000\ndata %d\n%s\n", n, when+int64(n), len(msg), msg)
		if n > 1 {
			fmt.Fprintf(&in, "from :%d\n", n-1)
		}
		files()
	}
	commit(1, "seed\n", func() {
		for i := 0; i < posts; i++ {
			inline(fmt.Sprintf("posts/%d/post-%d.md", 2016+i%10, i), file(i, 0))
		}
	})
	for k := 0; k < edits; k++ {
		i := k % posts
		commit(k+2, fmt.Sprintf("edit %d\n", k), func() { inline(fmt.Sprintf("posts/%d/post-%d.md", 2016+i%10, i), file(i, k+1)) })
	}
	cmd := exec.Command("git", "--git-dir", dir, "fast-import", "--quiet")
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git fast-import: %v\n%s", err, out)
	}
	r, err := repo.Open(dir, quiet)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	l := gitlog.NewGitLog(r, gitlog.NewDeriver(r, quiet))
	w := command.NewWriter(l, gitlog.NewDeriver(r, quiet), quiet, command.WriterConfig{})
	if err := w.Sync(); err != nil {
		b.Fatal(err)
	}
	head, _ := r.Head()
	chain, err := r.FirstParents(head, repo.ZeroHash)
	if err != nil {
		b.Fatal(err)
	}
	return w, l, chain
}

// BenchmarkUndo measures, on 1,000 posts with 10,000 edits after them,
// what the API does for the oldest edit: the revert's check of every
// later commit (refused: nine later edits touched its file), the
// commit's view (its place on main, events and diff) and a rollback's
// plan (every post differs). Each beside the git CLI doing the same
// lookup on the same repository: `git log --first-parent -- <file>`,
// `git show`, `git diff --name-status`.
func BenchmarkUndo(b *testing.B) {
	w, l, chain := history(b, 1000, 10000)
	oldest := chain[1] // the first edit
	dir := l.Repo().Dir()
	git := func(args ...string) {
		if out, err := exec.Command("git", append([]string{"--git-dir", dir}, args...)...).CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	b.Run("revert-check", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_, err := w.Revert(context.Background(), ed, oldest)
			var ce *command.RevertConflictError
			if !errors.As(err, &ce) {
				b.Fatalf("revert of the oldest edit: %v", err)
			}
		}
	})
	b.Run("git-log-first-parent", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			git("log", "--first-parent", "--format=%H %s", oldest.String()+"..main", "--", "posts/2016/post-0.md")
		}
	})
	b.Run("commit-view", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := l.Commit(oldest); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("git-show", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			git("show", oldest.String())
		}
	})
	b.Run("rollback-plan", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p, err := w.PlanRollback(chain[0])
			if err != nil || len(p.Files) == 0 {
				b.Fatalf("plan: %d files, %v", len(p.Files), err)
			}
		}
	})
	b.Run("git-diff-name-status", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			git("diff", "--name-status", "main", chain[0].String())
		}
	})
}
