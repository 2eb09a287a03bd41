package daemon

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// literal writes an object as given, with checks off (git hash-object
// --literally): what an old tool wrote and today's git would not.
func literal(t testing.TB, dir, typ string, data []byte) string {
	t.Helper()
	cmd := exec.Command("git", "hash-object", "-t", typ, "--literally", "-w", "--stdin")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(data)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hash-object: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// The history of an old blog holds objects today's git warns about (a
// tree with zero-padded modes, written by git before 2010; a commit with
// a malformed time zone or no space before its date, written by other
// tools): git's receive checks take them as warnings and the push goes
// through, while what fsck refuses for safety (.git, ..) still fails.
func TestOldHistoryWithFsckWarningsIsPushed(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	mustStatus(t, s.do("POST", "/api/v1/posts", s.token("ed@example.org"), postBody("First"), "Prefer", "wait=5"), 201)
	work := t.TempDir() + "/w"
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("ed@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	main := func() string { return plumb(t, work, "", nil, "rev-parse", "origin/main") }
	post := func(title string) string { return "---\ntitle: " + title + "\nstatus: published\n---\nOld words.\n" }
	push := func(c string) (string, error) {
		gitTry(t, work, "fetch", "-q", "origin")
		return gitTry(t, work, "push", "origin", c+":refs/heads/main")
	}
	commit := func(tree, author string) string {
		return literal(t, work, "commit", []byte("tree "+tree+"\nparent "+main()+"\nauthor "+author+
			"\ncommitter Pat Pusher <pat@example.org> 1262304000 +0000\n\nFrom the old blog\n"))
	}
	visible := func(slug string) {
		t.Helper()
		eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error { return wantStatus("/posts/"+slug, s.get("/posts/"+slug), 200) })
	}

	// A tree whose subtrees' mode is written 040000.
	tree := plumbTree(t, work, main(), entry{"100644", "posts/2009/padded.md", post("Padded")})
	var buf bytes.Buffer
	cmd := exec.Command("git", "cat-file", "tree", tree)
	cmd.Dir, cmd.Stdout = work, &buf
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	raw := bytes.ReplaceAll(buf.Bytes(), []byte("40000 "), []byte("040000 "))
	padded := literal(t, work, "tree", raw)
	if out, err := push(commit(padded, "Old Git <old@example.org> 1262304000 +0000")); err != nil {
		t.Fatalf("push of a zero-padded tree: %v\n%s", err, out)
	}
	visible("padded")

	for _, tc := range []struct{ slug, author string }{
		{"bad-zone", "Old Tool <old@example.org> 1262304000 +99999"},
		{"no-space", "Old Tool <old@example.org>1262304000 +0000"},
	} {
		tree := plumbTree(t, work, main(), entry{"100644", "posts/2009/" + tc.slug + ".md", post(tc.slug)})
		if out, err := push(commit(tree, tc.author)); err != nil {
			t.Fatalf("push of author %q: %v\n%s", tc.author, err, out)
		}
		visible(tc.slug)
	}

	// Still refused.
	for _, name := range []string{"posts/.git/config.md", "posts/../x.md"} {
		before := git(t, s.repoDir(), "rev-parse", "main")
		tree := plumbTree(t, work, main(), entry{"100644", name, post("Unsafe")})
		if out, err := push(commit(tree, "Old Tool <old@example.org> 1262304000 +0000")); err == nil {
			t.Fatalf("push of %s accepted:\n%s", name, out)
		} else if !strings.Contains(out, "hasDot") {
			t.Errorf("push of %s refused without git's check:\n%s", name, out)
		}
		if after := git(t, s.repoDir(), "rev-parse", "main"); after != before {
			t.Fatalf("main moved")
		}
	}
}
