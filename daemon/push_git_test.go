package daemon

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/repo/lfs"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// A post moved between year folders with git mv, in one commit, is
// accepted: diff-tree lists the added posts/2025/… before the deleted
// posts/2026/…, and the move must not look like a second post taking the
// slug.
func TestPushMovesAPostAcrossYearFolders(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data, publicAddr(t))
	work := filepath.Join(t.TempDir(), "w")
	run := func(args ...string) {
		t.Helper()
		if out, err := gitTry(t, work, args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("ed@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	write(t, filepath.Join(work, "posts", "2026", "trip.md"), "---\ntitle: The trip\nstatus: published\n---\n\nWe went.\n")
	run("add", "-A")
	run("commit", "-q", "-m", "A trip")
	run("push", "-q", "origin", "HEAD:main")
	tok := s.token("ed@example.org")
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if r := s.do("GET", "/api/v1/posts", tok, nil); !strings.Contains(string(r.body), `"posts/2026/trip.md"`) {
			return fmt.Errorf("/api/v1/posts (status %d) lists no posts/2026/trip.md: %s", r.status, r.body)
		}
		return nil
	})
	os.MkdirAll(filepath.Join(work, "posts", "2025"), 0o755)
	run("mv", "posts/2026/trip.md", "posts/2025/trip.md")
	run("commit", "-q", "-m", "The trip was last year")
	if out, err := gitTry(t, work, "push", "origin", "HEAD:main"); err != nil {
		t.Fatalf("move refused: %v\n%s", err, out)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if r := s.do("GET", "/api/v1/posts", tok, nil); !strings.Contains(string(r.body), `"posts/2025/trip.md"`) {
			return fmt.Errorf("/api/v1/posts (status %d) lists no posts/2025/trip.md: %s", r.status, r.body)
		}
		return nil
	})
}

// A picture added with git alone (no yaml) is edited and deleted through
// the API like an upload.
func TestPictureAddedWithGitEditedAndDeletedByAPI(t *testing.T) {
	t.Parallel()
	need(t, "git-lfs", "apt-get install git-lfs")
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data, publicAddr(t))
	tok := s.token("ed@example.org")
	work := filepath.Join(t.TempDir(), "w")
	run := func(args ...string) {
		t.Helper()
		if out, err := gitTry(t, work, args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("ed@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	run("lfs", "install", "--local")
	run("lfs", "track", "media/*.png", "media/*.jpg")
	os.MkdirAll(filepath.Join(work, "media"), 0o755)
	boat := testJPEG(300, 200)
	os.WriteFile(filepath.Join(work, "media", "boat.jpg"), boat, 0o644)
	run("add", "-A")
	run("commit", "-q", "-m", "A boat")
	run("push", "-q", "origin", "HEAD:main")
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		return wantStatus("/api/v1/media/boat", s.do("GET", "/api/v1/media/boat", tok, nil), 200)
	})
	// The LFS upload recorded what the object is, next to it.
	facts, err := os.ReadFile(lfs.ObjectPath(filepath.Join(data, "lfs"), fmt.Sprintf("%x", sha256.Sum256(boat))) + ".json")
	if err != nil || !strings.Contains(string(facts), `"width":300`) {
		t.Errorf("the object's facts: %s %v", facts, err)
	}

	r := s.do("PATCH", "/api/v1/media/boat", tok, map[string]string{"alt": "A red boat"}, "Content-Type", mergePatch)
	if r.status != 200 {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	var m apiMedia
	r.json(t, &m)
	if m.Alt != "A red boat" || m.Width != 300 || m.Type != "image/jpeg" {
		t.Errorf("patched: %s", r.body)
	}
	if ls := git(t, s.repoDir(), "ls-tree", "--name-only", "main", "media/"); !strings.Contains(ls, "media/boat.jpg") || !strings.Contains(ls, "media/boat.yaml") {
		t.Errorf("after PATCH, media/ holds %q", ls)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		var g apiMedia
		s.do("GET", "/api/v1/media/boat", tok, nil).json(t, &g)
		if g.Alt != "A red boat" {
			return fmt.Errorf("boat: alt %q, want \"A red boat\"", g.Alt)
		}
		return nil
	})

	if r := s.do("DELETE", "/api/v1/media/boat", tok, nil); r.status != 204 {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if ls := git(t, s.repoDir(), "ls-tree", "--name-only", "main", "media/"); strings.Contains(ls, "boat") {
		t.Errorf("after DELETE, media/ holds %q", ls)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		return wantStatus("/api/v1/media/boat after DELETE", s.do("GET", "/api/v1/media/boat", tok, nil), 404)
	})

	// An upload through the API records them too.
	small := testJPEG(20, 10)
	mustStatus(t, s.upload(tok, "small.jpg", small), 201)
	facts, err = os.ReadFile(lfs.ObjectPath(filepath.Join(data, "lfs"), fmt.Sprintf("%x", sha256.Sum256(small))) + ".json")
	if err != nil || !strings.Contains(string(facts), `"height":10`) {
		t.Errorf("an upload's facts: %s %v", facts, err)
	}
}
