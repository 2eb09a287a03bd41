package daemon

import (
	"crypto/sha256"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// remote is the site's git URL with credentials.
func (s *site) remote(email, secret string) string {
	u, _ := url.Parse(s.url + "/git/site.git")
	u.User = url.UserPassword(email, secret)
	return u.String()
}

// gitTry runs git in dir and returns its combined output and error.
func gitTry(t testing.TB, dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Pat Pusher", "GIT_AUTHOR_EMAIL=pat@example.org",
		"GIT_COMMITTER_NAME=Pat Pusher", "GIT_COMMITTER_EMAIL=pat@example.org", "GIT_CONFIG_NOSYSTEM=1",
		"HOME="+t.TempDir(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/false")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func write(t testing.TB, path, content string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCloneEditPushBecomesVisible(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	// The outbox's periodic pass is out of reach: a pushed commit must be
	// published because the push woke the outbox.
	s := startSite(t, data, func(c *Config) { c.ReconcileInterval = time.Hour })
	tok := s.token("ed@example.org")
	wait := []string{"Prefer", "wait=5"}
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "News"}, wait...), 201)
	var keep, gone apiPost
	r := s.do("POST", "/api/v1/posts", tok, postBody("Kept post", "status", "published", "categories", []string{"news"}), wait...)
	r.json(t, &keep)
	r = s.do("POST", "/api/v1/posts", tok, postBody("Doomed post", "status", "published"), wait...)
	r.json(t, &gone)

	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("ed@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	// Edit a post, add one (title only), delete one, add a category.
	body, _ := os.ReadFile(filepath.Join(work, keep.Path))
	write(t, filepath.Join(work, keep.Path), strings.Replace(string(body), "title: Kept post", "title: Kept post, edited by git", 1))
	write(t, filepath.Join(work, "posts", "2026", "from-git.md"), "---\ntitle: Written in an editor\nstatus: published\ncategories: [travel]\n---\nHello from *git*, about ferries.\n")
	write(t, filepath.Join(work, "categories", "travel.yaml"), "name: Travel\n")
	os.Remove(filepath.Join(work, gone.Path))
	gitTry(t, work, "add", "-A")
	if out, err := gitTry(t, work, "commit", "-q", "-m", "Edit by git"); err != nil {
		t.Fatalf("commit: %v\n%s", err, out)
	}
	start := time.Now()
	if out, err := gitTry(t, work, "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error { return wantStatus("/posts/from-git", s.get("/posts/from-git"), 200) })
	t.Logf("push → post page visible: %s", time.Since(start))
	var p apiPost
	s.do("GET", "/api/v1/posts/"+keep.ID, tok, nil).json(t, &p)
	if p.Title != "Kept post, edited by git" || p.Version != 2 {
		t.Errorf("edited post: %+v", p)
	}
	if st := s.do("GET", "/api/v1/posts/"+gone.ID, tok, nil).status; st != 404 {
		t.Errorf("deleted post: %d", st)
	}
	if st := s.get("/category/travel").status; st != 200 || !strings.Contains(string(s.get("/category/travel").body), "Written in an editor") {
		t.Errorf("new category page: %d", st)
	}
	// Search is a projection of its own: it may be a moment behind the
	// pages.
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if !strings.Contains(string(s.get("/search?q=ferries").body), "Written in an editor") {
			return fmt.Errorf("pushed post not in search")
		}
		return nil
	})
	// The pushing account is the event's actor; the commit's author line
	// is only what the commit claims.
	evs := readEvents(t, openLog(t, s.repoDir()))
	last := evs[len(evs)-1]
	if last.Actor != "ed@example.org" || last.Author != "pat@example.org" || last.Pusher != "ed@example.org" {
		t.Errorf("actor, author and pusher of a pushed commit: %q, %q, %q", last.Actor, last.Author, last.Pusher)
	}
	for _, e := range evs[:3] { // the API's commits were not pushed
		if e.Pusher != "" {
			t.Errorf("an API commit has a pusher: %+v", e)
		}
	}
	if note := git(t, s.repoDir(), "notes", "--ref=chronicle/pushes", "show", last.Commit); note != "Chronicle-Pusher: ed@example.org" {
		t.Errorf("git notes show: %q", note)
	}
	// The audit trail lists the pushed changes with the pushing account
	// (once its projection has them).
	var audit struct {
		Items []struct{ Type, Subject, Actor, Author, Pusher, Commit string }
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		audit.Items = nil
		s.do("GET", "/api/v1/events?limit=4", tok, nil).json(t, &audit)
		kinds := map[string]bool{}
		for _, e := range audit.Items {
			if e.Commit == last.Commit {
				kinds[e.Type] = e.Actor == "ed@example.org" && e.Author == "pat@example.org" && e.Pusher == "ed@example.org"
			}
		}
		for _, k := range []string{"post.updated", "post.created", "post.deleted", "category.created"} {
			if !kinds[k] {
				return fmt.Errorf("audit trail lacks %s pushed by ed, authored (claimed) by pat: %+v", k, audit.Items)
			}
		}
		return nil
	})
	// An API write based on the version before the push is stale.
	if r := s.do("PUT", "/api/v1/posts/"+keep.ID, tok, postBody("Lost"), "If-Match", `"`+keep.Blob+`"`); r.status != 412 {
		t.Errorf("stale API write after a push: %d", r.status)
	}
	// An API edit after the clone makes the next push non-fast-forward;
	// pull --rebase then works and nothing is lost.
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("Made on the web", "status", "published"), wait...), 201)
	write(t, filepath.Join(work, "posts", "2026", "second.md"), "---\ntitle: Second from git\n---\nx\n")
	gitTry(t, work, "add", "-A")
	gitTry(t, work, "commit", "-q", "-m", "second")
	out, err := gitTry(t, work, "push", "origin", "HEAD:main")
	if err == nil || !strings.Contains(out, "fetch first") {
		t.Fatalf("push behind the web edit: %v\n%s", err, out)
	}
	if out, err := gitTry(t, work, "pull", "-q", "--rebase", "origin", "main"); err != nil {
		t.Fatalf("pull --rebase: %v\n%s", err, out)
	}
	if out, err := gitTry(t, work, "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push after rebase: %v\n%s", err, out)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		var l struct{ Total int }
		s.do("GET", "/api/v1/posts?status=draft", tok, nil).json(t, &l)
		if l.Total != 1 {
			return fmt.Errorf("%d drafts, want 1", l.Total)
		}
		return nil
	})
	if st := s.get("/posts/made-on-the-web").status; st != 200 {
		t.Errorf("the web edit was lost: %d", st)
	}
	git(t, s.repoDir(), "fsck", "--strict", "--no-dangling")
}

func TestRefusedPushesChangeNothing(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	tok := s.token("admin@example.org")
	wait := []string{"Prefer", "wait=5"}
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "News"}, wait...), 201)
	var hello apiPost
	s.do("POST", "/api/v1/posts", tok, postBody("Hello", "status", "published"), wait...).json(t, &hello)
	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("ed@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	big := strings.Repeat("x", 30<<20)
	for _, tc := range []struct {
		name string
		edit func()
		push []string
		want string
	}{
		{"invalid YAML", func() { write(t, filepath.Join(work, "posts/2026/bad.md"), "---\ntitle: [oops\n---\n") },
			nil, "posts/2026/bad.md:2: invalid YAML"},
		{"bad date", func() {
			write(t, filepath.Join(work, "posts/2026/hello2.md"), "---\ntitle: Hi\npublished_at: tomorrow\n---\n")
		}, nil, `posts/2026/hello2.md:3: published_at: not a date ("tomorrow")`},
		{"slug collision", func() {
			write(t, filepath.Join(work, "posts/2025/other.md"), "---\ntitle: Other\nslug: hello\n---\n")
		}, nil, `posts/2025/other.md: slug: "hello" is already used by ` + hello.Path},
		{"unknown category", func() {
			write(t, filepath.Join(work, "posts/2026/c.md"), "---\ntitle: C\ncategories: [nope]\n---\n")
		}, nil, `posts/2026/c.md: categories: no category "nope"`},
		{"outside the known folders", func() { write(t, filepath.Join(work, "scripts/evil.sh"), "rm -rf /\n") },
			nil, "scripts/evil.sh: not a place for content"},
		{"30 MiB file", func() { write(t, filepath.Join(work, "posts/2026/huge.md"), "---\ntitle: Huge\n---\n"+big) },
			nil, "posts/2026/huge.md: is 30.0 MiB, at most 2.0 MiB allowed"},
		{"editor changes settings", func() { write(t, filepath.Join(work, "site/settings.yaml"), "title: Mine now\n") },
			nil, "site/settings.yaml: your role, editor, may not change the site's settings"},
		{"LFS pointer without its object", func() {
			write(t, filepath.Join(work, "media/photo.jpg"), "version https://git-lfs.github.com/spec/v1\noid sha256:"+strings.Repeat("ab", 32)+"\nsize 12345\n")
		}, nil, "media/photo.jpg: LFS object sha256:abababababab (12345 bytes) was never uploaded"},
		{"media without LFS", func() { write(t, filepath.Join(work, "media/photo.jpg"), "\xff\xd8\xff raw jpeg bytes") },
			nil, "media/photo.jpg: media are stored with Git LFS"},
		{"force push", func() { gitTry(t, work, "commit", "-q", "--amend", "-m", "rewritten history") },
			[]string{"push", "--force", "origin", "HEAD:main"}, "non-fast-forward"},
		{"deleting main", nil, []string{"push", "origin", ":main"}, "deletion"},
		{"another branch", func() { write(t, filepath.Join(work, "posts/2026/ok.md"), "---\ntitle: Ok\n---\n") },
			[]string{"push", "origin", "HEAD:refs/heads/drafts"}, "refs/heads/drafts: only refs/heads/main can be pushed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := git(t, s.repoDir(), "rev-parse", "main")
			gitTry(t, work, "fetch", "-q", "origin")
			gitTry(t, work, "reset", "-q", "--hard", "origin/main")
			gitTry(t, work, "clean", "-qfdx")
			if tc.edit != nil {
				tc.edit()
				gitTry(t, work, "add", "-A")
				gitTry(t, work, "commit", "-q", "-m", tc.name)
			}
			args := tc.push
			if args == nil {
				args = []string{"push", "origin", "HEAD:main"}
			}
			out, err := gitTry(t, work, args...)
			if err == nil {
				t.Fatalf("push accepted:\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Fatalf("push output lacks %q:\n%s", tc.want, out)
			}
			if strings.Contains(tc.name, "date") && !strings.Contains(out, "remote: error: commit ") {
				t.Errorf("refusal does not name the commit:\n%s", out)
			}
			if after := git(t, s.repoDir(), "rev-parse", "main"); after != before {
				t.Fatalf("main moved from %s to %s", before, after)
			}
			if refs := git(t, s.repoDir(), "for-each-ref", "--format=%(refname)"); refs != "refs/heads/main" {
				t.Fatalf("refs after the refusal: %s", refs)
			}
		})
	}
	// Nothing of the refused pushes is visible.
	var l struct{ Total int }
	s.do("GET", "/api/v1/posts?status=draft", tok, nil).json(t, &l)
	if l.Total != 0 || s.get("/posts/hello").status != 200 {
		t.Fatalf("site changed: %d drafts", l.Total)
	}
	git(t, s.repoDir(), "fsck", "--strict")
}

func TestGitNeedsAnAccount(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	dir := t.TempDir()
	for name, remote := range map[string]string{
		"anonymous":      s.url + "/git/site.git",
		"wrong password": s.remote("ed@example.org", "not the password"),
		"unknown user":   s.remote("who@example.org", password),
		"bogus token":    s.remote("ed@example.org", auth.TokenPrefix+"abc_def"),
	} {
		out, err := gitTry(t, dir, "clone", "-q", remote, filepath.Join(dir, strings.ReplaceAll(name, " ", "-")))
		if err == nil || !strings.Contains(out, "Authentication failed") && !strings.Contains(out, "401") && !strings.Contains(out, "could not read Username") {
			t.Errorf("%s: clone allowed or unclear: %v\n%s", name, err, out)
		}
	}
	// Dumb-protocol paths are not served at all.
	if r := s.get("/git/site.git/HEAD"); r.status != 404 {
		t.Errorf("dumb HTTP: %d", r.status)
	}

	var out, errOut strings.Builder
	if code := Main([]string{"token", "create", "--data", data, "--email", "ed@example.org", "--name", "laptop"}, "test", strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("token create: %s", errOut.String())
	}
	secret := strings.TrimSpace(out.String())
	id := strings.Fields(errOut.String())[1]
	work := filepath.Join(dir, "tok")
	if o, err := gitTry(t, dir, "clone", "-q", s.remote("ed@example.org", secret), work); err != nil {
		t.Fatalf("clone with a token: %v\n%s", err, o)
	}
	write(t, filepath.Join(work, "posts/2026/t.md"), "---\ntitle: By token\n---\n")
	gitTry(t, work, "add", "-A")
	gitTry(t, work, "commit", "-q", "-m", "t")
	if o, err := gitTry(t, work, "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push with a token: %v\n%s", err, o)
	}
	if code := Main([]string{"token", "revoke", "--data", data, "--email", "ed@example.org", "--id", id}, "test", strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("token revoke: %s", errOut.String())
	}
	if o, err := gitTry(t, work, "fetch", "origin"); err == nil {
		t.Fatalf("fetch with a revoked token:\n%s", o)
	}
}

// API writes and pushes from two clones, interleaved for a while: no
// accepted change is lost or applied twice, and the repository is sound.
func TestInterleavedPushesAndAPIWrites(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	clones := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	for _, c := range clones {
		if out, err := gitTry(t, ".", "clone", "-q", s.remote("ed@example.org", password), c); err != nil {
			t.Fatalf("clone: %v\n%s", err, out)
		}
	}
	var accepted []string // titles of every accepted change
	done := make(chan struct{})
	apiTitles := make(chan []string, 1)
	go func() { // the web editor
		var mine []string
		defer func() { apiTitles <- mine }()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			title := fmt.Sprintf("api-%d", i)
			if r := s.do("POST", "/api/v1/posts", tok, postBody(title)); r.status == 201 {
				mine = append(mine, title)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	deadline := time.Now().Add(4 * time.Second)
	for i := 0; time.Now().Before(deadline) && i < 60; i++ {
		c := clones[i%2]
		title := fmt.Sprintf("git-%d", i)
		write(t, filepath.Join(c, "posts", "2026", title+".md"), "---\ntitle: "+title+"\n---\n")
		gitTry(t, c, "add", "-A")
		gitTry(t, c, "commit", "-q", "-m", title)
		for attempt := 0; attempt < 10; attempt++ {
			if _, err := gitTry(t, c, "push", "-q", "origin", "HEAD:main"); err == nil {
				accepted = append(accepted, title)
				break
			}
			if out, err := gitTry(t, c, "pull", "-q", "--rebase", "origin", "main"); err != nil {
				t.Fatalf("pull --rebase: %v\n%s", err, out)
			}
		}
	}
	close(done)
	accepted = append(accepted, <-apiTitles...)
	if len(accepted) < 20 {
		t.Fatalf("only %d changes accepted", len(accepted))
	}
	want := map[string]int{}
	for _, title := range accepted {
		want[title]++
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		var l struct{ Total int }
		s.do("GET", "/api/v1/posts?status=draft&per_page=1", tok, nil).json(t, &l)
		if l.Total != len(accepted) {
			return fmt.Errorf("%d drafts, want the %d accepted changes", l.Total, len(accepted))
		}
		return nil
	})
	got := map[string]int{}
	for page := 1; page <= (len(accepted)+99)/100; page++ {
		var l struct{ Items []apiPost }
		s.do("GET", fmt.Sprintf("/api/v1/posts?status=draft&per_page=100&page=%d", page), tok, nil).json(t, &l)
		for _, p := range l.Items {
			got[p.Title]++
			if p.Version != 1 {
				t.Errorf("%s applied %d times", p.Title, p.Version)
			}
		}
	}
	for title, n := range want {
		if got[title] != n {
			t.Errorf("%s: %d times in the catalogue, accepted %d times", title, got[title], n)
		}
	}
	t.Logf("%d changes accepted", len(accepted))
	git(t, s.repoDir(), "fsck", "--strict", "--no-dangling")
}

func TestTokensThroughTheAPI(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	r := s.do("POST", "/api/v1/tokens", tok, map[string]string{"name": "ci"})
	mustStatus(t, r, 201)
	var pat struct{ ID, Token string }
	r.json(t, &pat)
	var l struct {
		Items []struct{ ID, Name, Token string }
	}
	s.do("GET", "/api/v1/tokens", tok, nil).json(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != pat.ID || l.Items[0].Token != "" {
		t.Fatalf("list: %+v", l)
	}
	dir := t.TempDir()
	if out, err := gitTry(t, dir, "clone", "-q", s.remote("ed@example.org", pat.Token), filepath.Join(dir, "c")); err != nil {
		t.Fatalf("clone with an API-made token: %v\n%s", err, out)
	}
	mustStatus(t, s.do("DELETE", "/api/v1/tokens/"+pat.ID, tok, nil), 204)
	if out, err := gitTry(t, filepath.Join(dir, "c"), "fetch", "origin"); err == nil {
		t.Fatalf("fetch with a revoked token:\n%s", out)
	}
	mustStatus(t, s.do("DELETE", "/api/v1/tokens/"+pat.ID, tok, nil), 404)
}

// A big push arrives as a pack (over 100 objects) in a chunked request
// body (over 1 MiB): the daemon reads it, and protocol v2 and shallow
// clones work.
func TestBigPushShallowCloneProtocolV2(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("Seed", "status", "published"), "Prefer", "wait=5"), 201)
	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "-c", "protocol.version=2", "clone", "-q", s.remote("ed@example.org", password), work); err != nil {
		t.Fatalf("clone (v2): %v\n%s", err, out)
	}
	noise := strings.Repeat("Lorem ipsum dolor sit amet, with some words that do not compress away: ", 200)
	for i := 0; i < 150; i++ {
		write(t, filepath.Join(work, "posts", "2026", fmt.Sprintf("bulk-%03d.md", i)), fmt.Sprintf("---\ntitle: Bulk %d\nstatus: published\n---\n%d %s\n", i, i, noise))
	}
	gitTry(t, work, "add", "-A")
	gitTry(t, work, "commit", "-q", "-m", "bulk")
	if out, err := gitTry(t, work, "-c", "http.postBuffer=65536", "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("big push: %v\n%s", err, out)
	}
	if packs, _ := filepath.Glob(filepath.Join(s.repoDir(), "objects", "pack", "*.pack")); len(packs) == 0 {
		t.Fatal("the push did not arrive as a pack: the test does not test what it says")
	}
	// 150 posts of 14 KB through every projection (bleve's indexing under
	// the race detector is most of it): generous for a loaded machine.
	eventstest.CheckFor(t, 40*time.Second, pollEvery, func() error { return wantStatus("/posts/bulk-149", s.get("/posts/bulk-149"), 200) })
	// The daemon reads objects from the pushed pack for its own writes.
	var l struct{ Items []apiPost }
	s.do("GET", "/api/v1/posts?per_page=1", tok, nil).json(t, &l)
	mustStatus(t, s.do("PUT", "/api/v1/posts/"+l.Items[0].ID, tok, postBody("Edited after the big push", "status", "published"), "Prefer", "wait=5"), 200)
	shallow := filepath.Join(t.TempDir(), "s")
	if out, err := gitTry(t, ".", "clone", "-q", "--depth", "1", s.remote("ed@example.org", password), shallow); err != nil {
		t.Fatalf("shallow clone: %v\n%s", err, out)
	}
	if n, _ := gitTry(t, shallow, "rev-list", "--count", "HEAD"); strings.TrimSpace(n) != "1" {
		t.Fatalf("shallow clone has %s commits", n)
	}
	// Repacking while the daemon writes leaves everything readable, also
	// when all packs are merged (and the ones the daemon knew deleted).
	for _, args := range [][]string{{"repack", "-d", "-q"}, {"repack", "-a", "-d", "-q"}} {
		if err := exec.Command("git", append([]string{"--git-dir", s.repoDir()}, args...)...).Run(); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("After "+strings.Join(args, " ")), "Prefer", "wait=5"), 201)
		mustStatus(t, s.do("PUT", "/api/v1/posts/"+l.Items[0].ID, tok, postBody("Edited after "+strings.Join(args, " "), "status", "published"), "Prefer", "wait=5"), 200)
	}
	git(t, s.repoDir(), "fsck", "--strict", "--no-dangling")
}

func TestLFSPointerWithItsObjectIsAccepted(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	content := testJPEG(30, 20) // LFS objects under media/ must be images
	oid := fmt.Sprintf("%x", sha256.Sum256(content))
	store := filepath.Join(data, "lfs", "objects", oid[:2], oid[2:4])
	os.MkdirAll(store, 0o755)
	os.WriteFile(filepath.Join(store, oid), content, 0o644)
	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("ed@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	write(t, filepath.Join(work, "media/photo.jpg"), fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", oid, len(content)))
	gitTry(t, work, "add", "-A")
	gitTry(t, work, "commit", "-q", "-m", "photo")
	if out, err := gitTry(t, work, "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push of a pointer whose object is stored: %v\n%s", err, out)
	}
}

// A push of several commits yields their events in commit order.
func TestPushOfManyCommitsKeepsOrder(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("ed@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	file := filepath.Join(work, "posts", "2026", "story.md")
	for i, step := range []string{"---\ntitle: Draft story\n---\n", "---\ntitle: Story\nstatus: published\n---\n", "---\ntitle: Story, fixed\nstatus: published\n---\n", ""} {
		if step == "" {
			os.Remove(file)
		} else {
			write(t, file, step)
		}
		gitTry(t, work, "add", "-A")
		gitTry(t, work, "commit", "-q", "-m", fmt.Sprint("step ", i))
	}
	if out, err := gitTry(t, work, "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	var audit struct {
		Items []struct{ Type, Pusher string }
	}
	want := "post.created by ed@example.org,post.published by ed@example.org,post.updated by ed@example.org,post.deleted by ed@example.org"
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error { // once the audit projection has them
		audit.Items = nil
		s.do("GET", "/api/v1/events?limit=4", tok, nil).json(t, &audit)
		var got []string
		for i := len(audit.Items) - 1; i >= 0; i-- { // oldest first
			got = append(got, audit.Items[i].Type+" by "+audit.Items[i].Pusher)
		}
		if strings.Join(got, ",") != want {
			return fmt.Errorf("events of the push:\n%s\nwant\n%s", strings.Join(got, ","), want)
		}
		return nil
	})
	// Applied in order, the story ends deleted: a later write that waits
	// for the projections proves they are past the push.
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("Later"), "Prefer", "wait=5"), 201)
	var l struct{ Items []apiPost }
	s.do("GET", "/api/v1/posts?status=draft", tok, nil).json(t, &l)
	if len(l.Items) != 1 || l.Items[0].Title != "Later" || s.get("/posts/story").status != 404 {
		t.Fatalf("after the push and a later write: %+v", l.Items)
	}
}
