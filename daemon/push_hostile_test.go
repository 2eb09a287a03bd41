package daemon

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// plumb runs git in dir with stdin and more environment, for commits made
// with git's plumbing (hash-object, mktree, commit-tree), which write what
// porcelain commands refuse to.
func plumb(t testing.TB, dir, stdin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(append(os.Environ(), "GIT_AUTHOR_NAME=Pat Pusher", "GIT_AUTHOR_EMAIL=pat@example.org",
		"GIT_COMMITTER_NAME=Pat Pusher", "GIT_COMMITTER_EMAIL=pat@example.org", "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir()), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// publicAddr makes a site listen where its public URL says, for tests
// that follow the links it hands out (Git LFS).
func publicAddr(t testing.TB) func(*Config) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return func(c *Config) { c.Addr, c.PublicURL = addr, "http://"+addr }
}

// entry is one file of a tree built by plumbTree: mode "" deletes the
// path; a gitlink's content is the commit it names.
type entry struct{ mode, path, content string }

// plumbTree returns base's tree with files changed, built with git mktree
// (which, unlike git add, takes any name).
func plumbTree(t testing.TB, dir, base string, files ...entry) string {
	t.Helper()
	type leaf struct{ mode, typ, sha string }
	all := map[string]leaf{}
	if base != "" {
		for _, rec := range strings.Split(plumb(t, dir, "", nil, "ls-tree", "-r", "-z", "--full-tree", base), "\x00") {
			meta, p, ok := strings.Cut(rec, "\t")
			if f := strings.Fields(meta); ok && len(f) == 3 {
				all[p] = leaf{f[0], f[1], f[2]}
			}
		}
	}
	blobs := map[string]string{}
	for _, f := range files {
		switch {
		case f.mode == "":
			delete(all, f.path)
		case f.mode == "160000":
			all[f.path] = leaf{f.mode, "commit", f.content}
		default:
			if blobs[f.content] == "" {
				blobs[f.content] = plumb(t, dir, f.content, nil, "hash-object", "-w", "--stdin")
			}
			all[f.path] = leaf{f.mode, "blob", blobs[f.content]}
		}
	}
	var build func(prefix string) string
	build = func(prefix string) string {
		var in strings.Builder
		dirs := map[string]bool{}
		for p, l := range all {
			rest, ok := strings.CutPrefix(p, prefix)
			if !ok {
				continue
			}
			if name, _, isDir := strings.Cut(rest, "/"); isDir {
				dirs[name] = true
			} else {
				fmt.Fprintf(&in, "%s %s %s\t%s\x00", l.mode, l.typ, l.sha, rest)
			}
		}
		for name := range dirs {
			fmt.Fprintf(&in, "040000 tree %s\t%s\x00", build(prefix+name+"/"), name)
		}
		return plumb(t, dir, in.String(), nil, "mktree", "-z")
	}
	return build("")
}

func plumbCommit(t testing.TB, dir, tree, msg string, env []string, parents ...string) string {
	t.Helper()
	args := []string{"commit-tree", tree, "-m", msg}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	return plumb(t, dir, "", env, args...)
}

// Pushes that would rewrite the event log or poison every clone are
// refused with a remote: line naming the commit, the file and the reason,
// and leave main and the site as they were (issue 9, item 3). One daemon
// for the whole table.
func TestHostilePushesAreRefused(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data, func(c *Config) { c.PublicURL = "https://site.example" })
	tok := s.token("admin@example.org")
	wait := []string{"Prefer", "wait=5"}
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "News"}, wait...), 201)
	mustStatus(t, s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "The Site", "posts_per_page": 10}, wait...), 200)
	var hello apiPost
	s.do("POST", "/api/v1/posts", tok, postBody("Hello", "status", "published", "categories", []string{"news"}), wait...).json(t, &hello)
	var photo apiMedia
	r := s.upload(tok, "photo.jpg", testJPEG(60, 40))
	mustStatus(t, r, 201)
	r.json(t, &photo)

	// Bytes that are no image, in the store as the LFS endpoint used to
	// take anything.
	script := []byte("<script>alert(document.cookie)</script>\n")
	scriptOID := fmt.Sprintf("%x", sha256.Sum256(script))
	os.MkdirAll(filepath.Join(data, "lfs", "objects", scriptOID[:2], scriptOID[2:4]), 0o755)
	os.WriteFile(filepath.Join(data, "lfs", "objects", scriptOID[:2], scriptOID[2:4], scriptOID), script, 0o644)
	pointer := func(oid string, n int) string {
		return fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", oid, n)
	}

	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("ed@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	photoMeta := plumb(t, work, "", nil, "show", "origin/main:media/"+photo.ID+".yaml") + "\n"
	post := func(title string) string { return "---\ntitle: " + title + "\n---\nBody.\n" }
	many := make([]entry, 5001)
	for i := range many {
		many[i] = entry{"100644", fmt.Sprintf("posts/2026/p%04d.md", i), post("Same title")}
	}
	var big []entry
	for i := 0; i < 40; i++ { // 40 × 1.9 MiB of one blob: each within the file limit
		big = append(big, entry{"100644", fmt.Sprintf("posts/2026/big%02d.md", i), post("Big") + strings.Repeat("word ", 400_000)})
	}
	main := func() string { return plumb(t, work, "", nil, "rev-parse", "origin/main") }
	tree := func(files ...entry) string { return plumbTree(t, work, main(), files...) }
	one := func(files ...entry) string { return plumbCommit(t, work, tree(files...), "hostile", nil, main()) }

	for _, tc := range []struct {
		name   string
		commit func() string // builds the commit to push as main
		want   string
	}{
		{"merge whose first parent is a new root", func() string {
			root := plumbCommit(t, work, tree(entry{"100644", "posts/2026/new-root.md", post("Root")}), "new root", nil)
			return plumbCommit(t, work, tree(entry{"100644", "posts/2026/new-root.md", post("Root")}), "merge", nil, root, main())
		}, "is not on the first-parent chain of"},
		// git's own checks (receive.fsckObjects) refuse these before the hook.
		{".git in another case", func() string { return one(entry{"100644", "posts/.GiT/config.md", post("Git")}) }, "hasDotgit"},
		{"GIT~1", func() string { return one(entry{"100644", "posts/GIT~1/config.md", post("Git")}) }, "hasDotgit"},
		{".git with an ignorable character", func() string { return one(entry{"100644", "posts/.g\u200cit/config.md", post("Git")}) }, "hasDotgit"},
		{"dot-dot", func() string { return one(entry{"100644", "posts/../x.md", post("Up")}) }, "hasDotdot"},
		// The site's own rules, beyond git's.
		{"control characters", func() string { return one(entry{"100644", "posts/2026/a\x1b[2Jb.md", post("Esc")}) },
			`posts/2026/a\x1b[2Jb.md": the name holds a control character (U+001B)`},
		{"backslash", func() string { return one(entry{"100644", `posts/2026/..\..\x.md`, post("Bs")}) }, "the name holds a backslash"},
		{"bidirectional override", func() string { return one(entry{"100644", "posts/2026/evil\u202egpj.md", post("Bidi")}) },
			"invisible or text-reordering character (U+202E)"},
		{"trailing dot", func() string { return one(entry{"100644", "posts/2026./x.md", post("Dot")}) }, `"2026." ends in a dot or space`},
		{"symlink", func() string { return one(entry{"120000", "posts/2026/link.md", post("Link")}) }, "posts/2026/link.md: is a symbolic link"},
		{"executable", func() string { return one(entry{"100755", "posts/2026/run.md", post("Run")}) }, "posts/2026/run.md: is executable"},
		{"gitlink", func() string { return one(entry{"160000", "posts/2026/sub.md", main()}) }, "posts/2026/sub.md: is a submodule"},
		{"editor deletes the settings", func() string { return one(entry{"", "site/settings.yaml", ""}) },
			"site/settings.yaml: your role, editor, may not change the site's settings"},
		{"deleting a category in use", func() string { return one(entry{"", "categories/news.yaml", ""}) },
			`categories/news.yaml: category "news" is used by 1 post: remove it from them first`},
		{"media metadata claims HTML", func() string {
			return one(entry{"100644", "media/" + photo.ID + ".yaml", strings.Replace(photoMeta, "type: image/jpeg", "type: text/html", 1)})
		}, `media/` + photo.ID + `.yaml: type: "text/html" does not match the stored picture, which has "image/jpeg"`},
		{"media metadata over a script", func() string {
			return one(entry{"100644", "media/evil.png", pointer(scriptOID, len(script))},
				entry{"100644", "media/evil.yaml", fmt.Sprintf("id: evil\nsha256: %s\ntype: image/png\next: png\nwidth: 1\nheight: 1\nbytes: %d\n", scriptOID, len(script))})
		}, "media/evil.yaml: sha256: LFS object sha256:" + scriptOID[:12] + " is not an accepted image"},
		{"id with dot-dot", func() string { return one(entry{"100644", "posts/2026/id.md", "---\nid: a/../b\ntitle: Id\n---\n"}) },
			`posts/2026/id.md:2: id: "a/../b" is not an id`},
		{"id with a slash", func() string { return one(entry{"100644", "posts/2026/id.md", "---\nid: x/y\ntitle: Id\n---\n"}) },
			`id: "x/y" is not an id`},
		{"5,001 files in one commit", func() string { return one(many...) }, "the push changes more than 5000 files"},
		{"76 MiB in one push", func() string { return one(big...) }, "the push adds more than 64.0 MiB of content"},
	} {
		// No fetch between the cases: each checks that main stays where
		// it was, and a push that got through would move origin/main in
		// the clone too.
		t.Run(tc.name, func(t *testing.T) {
			before := git(t, s.repoDir(), "rev-parse", "main")
			c := tc.commit()
			out, err := gitTry(t, work, "push", "origin", c+":refs/heads/main")
			if err == nil {
				t.Fatalf("push accepted:\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Fatalf("push output lacks %q:\n%s", tc.want, out)
			}
			if !strings.Contains(out, "remote: ") {
				t.Errorf("no remote: line:\n%s", out)
			}
			if after := git(t, s.repoDir(), "rev-parse", "main"); after != before {
				t.Fatalf("main moved from %s to %s", before, after)
			}
		})
	}
	// The site is as it was.
	var l struct{ Total int }
	s.do("GET", "/api/v1/posts?status=draft", tok, nil).json(t, &l)
	var settings struct{ Title string }
	s.do("GET", "/api/v1/settings", tok, nil).json(t, &settings)
	if l.Total != 0 || s.get("/posts/hello").status != 200 || s.get("/category/news").status != 200 || settings.Title != "The Site" {
		t.Fatalf("site changed: %d drafts, settings %+v", l.Total, settings)
	}
	if r := s.get("/media/" + photo.ID + "/original"); r.status != 200 || r.header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("media after the refusals: %d %s", r.status, r.header.Get("Content-Type"))
	}
	git(t, s.repoDir(), "fsck", "--strict")

	t.Run("claimed author is not the actor", func(t *testing.T) {
		gitTry(t, work, "fetch", "-q", "origin")
		forged := []string{"GIT_AUTHOR_NAME=The Admin", "GIT_AUTHOR_EMAIL=admin@example.org"}
		c := plumbCommit(t, work, tree(entry{"100644", "posts/2026/claimed.md", post("Claimed")}),
			"Create post\n\nChronicle-Event: post.created\nChronicle-Actor: admin@example.org\n", forged, main())
		if out, err := gitTry(t, work, "push", "origin", c+":refs/heads/main"); err != nil {
			t.Fatalf("push: %v\n%s", err, out)
		}
		var audit struct {
			Items []struct{ Type, Actor, Author, Pusher, Commit string }
		}
		eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
			s.do("GET", "/api/v1/events?limit=1", tok, nil).json(t, &audit)
			if len(audit.Items) != 1 || audit.Items[0].Commit != c {
				return fmt.Errorf("latest events %+v, want one of commit %s", audit.Items, c)
			}
			return nil
		})
		if e := audit.Items[0]; e.Actor != "ed@example.org" || e.Author != "admin@example.org" || e.Pusher != "ed@example.org" {
			t.Fatalf("audit trail of a pushed commit claiming the admin: %+v", e)
		}
		// An API write names its own account, with no author apart.
		mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("By the API"), wait...), 201)
		audit.Items = nil
		s.do("GET", "/api/v1/events?limit=1", tok, nil).json(t, &audit)
		if e := audit.Items[0]; e.Actor != "admin@example.org" || e.Author != "" || e.Pusher != "" {
			t.Fatalf("audit trail of an API write: %+v", e)
		}
	})

	t.Run("LFS links and uploads", func(t *testing.T) {
		lfs := func(method, path, host string, body []byte) (int, []byte) {
			req, _ := http.NewRequest(method, s.url+"/git/site.git/info/lfs/objects"+path, bytes.NewReader(body))
			req.Host = host
			req.SetBasicAuth("ed@example.org", password)
			req.Header.Set("Content-Type", "application/vnd.git-lfs+json")
			req.Header.Set("Accept", "application/vnd.git-lfs+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			return resp.StatusCode, b.Bytes()
		}
		other := []byte("<html><script>alert(1)</script></html>")
		oid := fmt.Sprintf("%x", sha256.Sum256(other))
		st, body := lfs("POST", "/batch", "evil.example", []byte(fmt.Sprintf(`{"operation":"upload","objects":[{"oid":%q,"size":%d}]}`, oid, len(other))))
		var batch struct {
			Objects []struct {
				Actions map[string]struct{ Href string }
			}
		}
		json.Unmarshal(body, &batch)
		if st != 200 || len(batch.Objects) != 1 || batch.Objects[0].Actions["upload"].Href != "https://site.example/git/site.git/info/lfs/objects/"+oid {
			t.Fatalf("batch with a forged Host: %d %s", st, body)
		}
		st, body = lfs("PUT", "/"+oid, "", other)
		if st != 422 || !strings.Contains(string(body), "media must be images") {
			t.Fatalf("LFS upload of HTML: %d %s", st, body)
		}
		if _, err := os.Stat(filepath.Join(data, "lfs", "objects", oid[:2], oid[2:4], oid)); err == nil {
			t.Fatal("the refused upload was stored")
		}
		jpg := testJPEG(20, 10)
		jpgOID := fmt.Sprintf("%x", sha256.Sum256(jpg))
		if st, body := lfs("PUT", "/"+jpgOID, "", jpg); st != 200 {
			t.Fatalf("LFS upload of a JPEG: %d %s", st, body)
		}
		// Objects go back as attachments that no browser renders.
		req, _ := http.NewRequest("GET", s.url+"/git/site.git/info/lfs/objects/"+scriptOID, nil)
		req.SetBasicAuth("ed@example.org", password)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if h := resp.Header; resp.StatusCode != 200 || h.Get("Content-Type") != "application/octet-stream" || h.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
			t.Fatalf("LFS object download: %d %v", resp.StatusCode, h)
		}
	})

	// History written before these checks (here by the trusted local git
	// CLI) may hold media whose type is not an image: never served so.
	t.Run("media served only as images", func(t *testing.T) {
		repoDir := s.repoDir()
		head := plumb(t, repoDir, "", nil, "rev-parse", "main")
		tr := plumbTree(t, repoDir, head, entry{"100644", "media/old.html", pointer(scriptOID, len(script))},
			entry{"100644", "media/old.yaml", fmt.Sprintf("id: old\nsha256: %s\ntype: text/html\next: html\nwidth: 1\nheight: 1\nbytes: %d\n", scriptOID, len(script))})
		c := plumbCommit(t, repoDir, tr, "old media", nil, head)
		plumb(t, repoDir, "", nil, "update-ref", "refs/heads/main", c, head)
		eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
			return wantStatus("/api/v1/media/old", s.do("GET", "/api/v1/media/old", tok, nil), 200)
		})
		for _, v := range []string{"original", "w320"} {
			// The site's own 404 page is HTML; the stored bytes must not be.
			if r := s.get("/media/old/" + v); r.status == 200 || bytes.Contains(r.body, script) {
				t.Errorf("media typed text/html served: %d %s", r.status, r.header.Get("Content-Type"))
			}
		}
	})
}
