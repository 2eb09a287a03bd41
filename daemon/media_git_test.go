package daemon

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// A picture added with git-lfs needs only its file (and, if wanted, a
// small yaml with alt text and caption): its hash, type, size and
// dimensions are read from the LFS object, its upload time from the
// commit. Same events after a restart from git alone.
func TestPictureAddedWithGitNeedsOnlyTheFile(t *testing.T) {
	t.Parallel()
	need(t, "git-lfs", "apt-get install git-lfs")
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data, publicAddr(t))
	tok := s.token("ed@example.org")

	work := filepath.Join(t.TempDir(), "w")
	run := func(dir string, args ...string) {
		t.Helper()
		if out, err := gitTry(t, dir, args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run(".", "clone", "-q", s.remote("ed@example.org", password), work)
	run(work, "lfs", "install", "--local")
	run(work, "lfs", "track", "media/*.jpg", "media/*.png")

	harbour := testJPEG(700, 450)
	os.MkdirAll(filepath.Join(work, "media"), 0o755)
	os.WriteFile(filepath.Join(work, "media", "harbour.jpg"), harbour, 0o644)
	write(t, filepath.Join(work, "media", "harbour.yaml"), "alt: A harbour at dawn\ncaption: Morning light\n")
	write(t, filepath.Join(work, "posts", "2026", "harbour.md"), "---\ntitle: The harbour\nstatus: published\nfeature_image: harbour\n---\n\nWe went.\n\n![The harbour](media:harbour)\n")
	run(work, "add", "-A")
	run(work, "commit", "-q", "--date=2026-03-04T05:06:07Z", "-m", "A picture, by git")
	run(work, "push", "-q", "origin", "HEAD:main")

	var m struct {
		apiMedia
		UploadedAt time.Time `json:"uploaded_at"`
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		return wantStatus("/api/v1/media/harbour", s.do("GET", "/api/v1/media/harbour", tok, nil), 200)
	})
	wholeSet(t, s, "harbour") // the variants listed are part of what is compared below
	raw := s.do("GET", "/api/v1/media/harbour", tok, nil)
	raw.json(t, &m)
	want := fmt.Sprintf("%x", sha256.Sum256(harbour))
	if m.SHA256 != want || m.Type != "image/jpeg" || m.Width != 700 || m.Height != 450 || m.Bytes != int64(len(harbour)) ||
		m.Alt != "A harbour at dawn" || m.Caption != "Morning light" {
		t.Errorf("derived media: %s", raw.body)
	}
	if !m.UploadedAt.Equal(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)) {
		t.Errorf("uploaded_at %s, want the commit's time", m.UploadedAt)
	}
	if got := s.get("/media/harbour/original"); got.status != 200 || !bytes.Equal(got.body, harbour) || got.header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("original: %d %s", got.status, got.header.Get("Content-Type"))
	}
	eventstest.CheckFor(t, 20*time.Second, pollEvery, func() error {
		if files, _ := filepath.Glob(filepath.Join(data, "projections", "variants", want, "w320.*")); len(files) == 0 {
			return fmt.Errorf("no w320 variant of %s yet", want)
		}
		return nil
	})
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error { return wantStatus("/posts/harbour", s.get("/posts/harbour"), 200) })
	page := string(s.get("/posts/harbour").body)
	for _, w := range []string{`srcset="/media/harbour/w320 320w, /media/harbour/w640 640w, /media/harbour/original 700w"`,
		`width="700" height="450" alt="The harbour"`, `<figcaption>Morning light</figcaption>`} {
		if !strings.Contains(page, w) {
			t.Errorf("post page lacks %s", w)
		}
	}

	// The file alone: no yaml at all.
	boat := testJPEG(300, 200)
	os.WriteFile(filepath.Join(work, "media", "boat.jpg"), boat, 0o644)
	run(work, "add", "-A")
	run(work, "commit", "-q", "--date=2026-03-05T00:00:00Z", "-m", "A boat")
	run(work, "push", "-q", "origin", "HEAD:main")
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		return wantStatus("/api/v1/media/boat", s.do("GET", "/api/v1/media/boat", tok, nil), 200)
	})
	var b apiMedia
	s.do("GET", "/api/v1/media/boat", tok, nil).json(t, &b)
	if b.Width != 300 || b.Height != 200 || b.Type != "image/jpeg" {
		t.Errorf("boat: %+v", b)
	}

	// What cannot be derived is refused, with a reason, and changes nothing.
	head := git(t, s.repoDir(), "rev-parse", "main")
	for _, tc := range []struct {
		name   string
		change func()
		reason string
	}{
		{"a JPEG called .png", func() { os.WriteFile(filepath.Join(work, "media", "liar.png"), boat, 0o644) }, "call it media/liar.jpg"},
		{"a description without its picture", func() { write(t, filepath.Join(work, "media", "ghost.yaml"), "alt: Nothing\n") }, "describes a picture that is not there"},
		{"half the facts", func() { write(t, filepath.Join(work, "media", "boat.yaml"), "alt: A boat\nwidth: 1\n") }, "are read from the picture"},
	} {
		tc.change()
		run(work, "add", "-A")
		run(work, "commit", "-q", "-m", tc.name)
		out, err := gitTry(t, work, "push", "origin", "HEAD:main")
		if err == nil || !strings.Contains(out, tc.reason) {
			t.Errorf("%s: push %v, want refused with %q:\n%s", tc.name, err, tc.reason, out)
		}
		run(work, "reset", "-q", "--hard", "origin/main")
		run(work, "clean", "-qfd")
	}
	if now := git(t, s.repoDir(), "rev-parse", "main"); now != head {
		t.Errorf("main moved on refused pushes")
	}

	// Derived the same from git alone (and the LFS store).
	s.stop()
	for _, dir := range []string{"projections", "nats"} {
		os.RemoveAll(filepath.Join(data, dir))
	}
	s = startSite(t, data)
	wholeSet(t, s, "harbour")
	again := s.do("GET", "/api/v1/media/harbour", tok, nil)
	var x, y map[string]any
	json.Unmarshal(raw.body, &x)
	json.Unmarshal(again.body, &y)
	if fmt.Sprint(x) != fmt.Sprint(y) {
		t.Errorf("derived again differently:\n%s\n%s", raw.body, again.body)
	}
}
