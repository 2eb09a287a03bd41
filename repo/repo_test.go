package repo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/repo"
)

func open(t testing.TB) *repo.Repo {
	t.Helper()
	r, err := repo.Open(filepath.Join(t.TempDir(), "site.git"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func gitCmd(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"--git-dir", dir}, args...)...)
	cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.org")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func commit(t testing.TB, r *repo.Repo, parent repo.Hash, changes ...repo.Change) repo.Hash {
	t.Helper()
	h, err := r.Commit(context.Background(), repo.CommitRequest{
		Parent: parent, Changes: changes, Message: "test\n",
		Author: repo.Signature{Name: "Ann", Email: "ann@example.org", When: time.Unix(1700000000, 0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestCommitIsReadableByGit(t *testing.T) {
	r := open(t)
	h1 := commit(t, r, repo.ZeroHash,
		repo.Change{Path: "posts/2026/b.md", Data: []byte("b\n")},
		repo.Change{Path: "posts/2026/a.md", Data: []byte("a\n")},
		repo.Change{Path: "posts-x", Data: []byte("x\n")},
		repo.Change{Path: "site/settings.yaml", Data: []byte("title: x\n")})
	h2 := commit(t, r, h1,
		repo.Change{Path: "posts/2026/a.md", Delete: true},
		repo.Change{Path: "posts/2027/c.md", Data: []byte("c\n")})
	h3 := commit(t, r, h2, repo.Change{Path: "site/settings.yaml", Delete: true})

	if got := gitCmd(t, r.Dir(), "rev-parse", "main"); got != h3.String() {
		t.Fatalf("main = %s, want %s", got, h3)
	}
	gitCmd(t, r.Dir(), "fsck", "--strict", "--no-dangling")
	if got := gitCmd(t, r.Dir(), "ls-tree", "-r", "--name-only", "main"); got != "posts-x\nposts/2026/b.md\nposts/2027/c.md" {
		t.Fatalf("tree:\n%s", got)
	}
	if got := gitCmd(t, r.Dir(), "show", "main~2:posts/2026/a.md"); got != "a" {
		t.Fatalf("old file = %q", got)
	}

	changes, err := r.Diff(h1, h2)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].Path != "posts/2026/a.md" || !changes[0].New.IsZero() ||
		changes[1].Path != "posts/2027/c.md" || !changes[1].Old.IsZero() {
		t.Fatalf("diff: %v", changes)
	}
	b, _, err := r.ReadFile(h2, "posts/2027/c.md")
	if err != nil || string(b) != "c\n" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	if _, _, err := r.ReadFile(h2, "posts/2026/a.md"); !errors.Is(err, repo.ErrNotFound) {
		t.Fatalf("deleted file: %v", err)
	}
	hist, err := r.History(h3, "posts/2026/a.md", 0)
	if err != nil || len(hist) != 2 || hist[0].Hash != h2 || hist[1].Hash != h1 {
		t.Fatalf("history = %v, %v", hist, err)
	}
	chain, err := r.FirstParents(h3, h1)
	if err != nil || len(chain) != 2 || chain[0] != h2 || chain[1] != h3 {
		t.Fatalf("chain = %v, %v", chain, err)
	}
}

func TestStaleParentIsConflict(t *testing.T) {
	r := open(t)
	h1 := commit(t, r, repo.ZeroHash, repo.Change{Path: "a", Data: []byte("1")})
	commit(t, r, h1, repo.Change{Path: "a", Data: []byte("2")})
	_, err := r.Commit(context.Background(), repo.CommitRequest{Parent: h1,
		Changes: []repo.Change{{Path: "a", Data: []byte("3")}}, Message: "x\n"})
	if !errors.Is(err, repo.ErrConflict) {
		t.Fatalf("err = %v, want conflict", err)
	}
}

func TestInvalidPaths(t *testing.T) {
	r := open(t)
	for _, p := range []string{"", "/a", "a/", "../a", "a/../b", "a//b", ".git/config", "a/./b", `a\b`} {
		_, err := r.Commit(context.Background(), repo.CommitRequest{Changes: []repo.Change{{Path: p, Data: []byte("x")}}, Message: "x\n"})
		if !errors.Is(err, repo.ErrInvalidPath) {
			t.Errorf("%q: err = %v", p, err)
		}
	}
	if h, _ := r.Head(); !h.IsZero() {
		t.Fatalf("head moved to %s", h)
	}
}

// The daemon and the git CLI share refs/heads/main through git's lock
// protocol: racing updates from both sides all land, none is lost.
func TestRefLockSharedWithGitCLI(t *testing.T) {
	r := open(t)
	commit(t, r, repo.ZeroHash, repo.Change{Path: "n/0", Data: []byte("0")})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var daemonWins int
	wg.Add(1)
	go func() { // the daemon side: retry on conflict until 30 commits land
		defer wg.Done()
		for i := 0; daemonWins < 30 && i < 2000; i++ {
			cur, _ := r.Head()
			_, err := r.Commit(context.Background(), repo.CommitRequest{Parent: cur,
				Changes: []repo.Change{{Path: fmt.Sprintf("d/%d", daemonWins), Data: []byte("d")}}, Message: "d\n"})
			if err == nil {
				mu.Lock()
				daemonWins++
				mu.Unlock()
			} else if !errors.Is(err, repo.ErrConflict) && !errors.Is(err, repo.ErrLocked) {
				t.Error(err)
				return
			}
		}
	}()
	cliWins := 0
	for i := 0; cliWins < 30 && i < 2000; i++ { // the CLI side: commit-tree + update-ref with old value
		cur := gitCmd(t, r.Dir(), "rev-parse", "main")
		tree := gitCmd(t, r.Dir(), "rev-parse", "main^{tree}")
		c := gitCmd(t, r.Dir(), "commit-tree", tree, "-p", cur, "-m", fmt.Sprintf("cli %d", i))
		cmd := exec.Command("git", "--git-dir", r.Dir(), "update-ref", "refs/heads/main", c, cur)
		if cmd.Run() == nil {
			cliWins++
		}
	}
	wg.Wait()
	n := gitCmd(t, r.Dir(), "rev-list", "--count", "--first-parent", "main")
	if want := fmt.Sprint(1 + daemonWins + cliWins); n != want {
		t.Fatalf("history has %s commits, want %s (daemon %d, cli %d): an update was lost", n, want, daemonWins, cliWins)
	}
	gitCmd(t, r.Dir(), "fsck", "--strict")
}

func TestRepackKeepsHistoryReadable(t *testing.T) {
	r := open(t)
	h := repo.ZeroHash
	for i := 0; i < 20; i++ {
		h = commit(t, r, h, repo.Change{Path: fmt.Sprintf("p/%d.md", i), Data: []byte(fmt.Sprint(i))})
	}
	if n := r.LooseObjects(); n < 60 {
		t.Fatalf("loose = %d", n)
	}
	if err := r.Repack(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if n := r.LooseObjects(); n != 0 {
		t.Fatalf("loose after repack = %d", n)
	}
	h = commit(t, r, h, repo.Change{Path: "p/x.md", Data: []byte("x")})
	if b, _, err := r.ReadFile(h, "p/3.md"); err != nil || string(b) != "3" {
		t.Fatalf("read after repack: %q %v", b, err)
	}
	// Merging all packs deletes the ones go-git has indexed: reads still work.
	h = commit(t, r, h, repo.Change{Path: "p/y.md", Data: []byte("y")})
	if err := r.Repack(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"p/3.md", "p/x.md"} { // the packs are open now
		if _, _, err := r.ReadFile(h, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Repack(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if n := r.Packs(); n != 1 {
		t.Fatalf("%d packs after a full repack", n)
	}
	// The packs it deleted are not held open (their space is freed).
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil &&
			strings.HasPrefix(target, r.Dir()) && strings.HasSuffix(target, " (deleted)") {
			t.Errorf("a deleted pack is still open: %s", target)
		}
	}
	for _, p := range []string{"p/3.md", "p/x.md", "p/y.md"} {
		if _, _, err := r.ReadFile(h, p); err != nil {
			t.Fatalf("read %s after a full repack: %v", p, err)
		}
	}
	commit(t, r, h, repo.Change{Path: "p/z.md", Data: []byte("z")})
	gitCmd(t, r.Dir(), "fsck", "--strict")
}

// Loose objects nothing reaches (a discarded autosave's) are pruned by a
// repack once an hour old, and not before: a writer's fresh objects are
// unreachable for a moment too.
func TestRepackPrunesOldUnreachableObjects(t *testing.T) {
	r := open(t)
	commit(t, r, repo.ZeroHash, repo.Change{Path: "p/a.md", Data: []byte("a")})
	write := func(content string) string {
		cmd := exec.Command("git", "--git-dir", r.Dir(), "hash-object", "-w", "--stdin")
		cmd.Stdin = strings.NewReader(content)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	stale, fresh := write("discarded long ago"), write("written just now")
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(r.Dir(), "objects", stale[:2], stale[2:]), past, past); err != nil {
		t.Fatal(err)
	}
	if err := r.Repack(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	exists := func(h string) bool {
		return exec.Command("git", "--git-dir", r.Dir(), "cat-file", "-e", h).Run() == nil
	}
	if exists(stale) {
		t.Error("an unreachable object two hours old survived the repack")
	}
	if !exists(fresh) {
		t.Error("a fresh unreachable object was pruned")
	}
}
