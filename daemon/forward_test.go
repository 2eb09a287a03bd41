package daemon

import (
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// A read node with --writer-url sends what only the writer can do to the
// writer, and its client gets the writer's answer: API writes (tokens
// from the writer's accounts; the read node has none), its refusals (412,
// 401), git pushes and their refusals, the admin with the writer's
// session. With "Prefer: wait" the read node answers once it has the
// write itself.
func TestReadNodeForwardsWrites(t *testing.T) {
	t.Parallel()
	nats := startNATSServer(t)
	wdata := t.TempDir()
	addAccount(t, wdata, "ann@example.org", auth.RoleEditor)
	w := startSite(t, wdata, onNATS(nats, "writer"))
	r := startSite(t, t.TempDir(), readNode(nats, "reader", w.url))

	// The token comes from the writer's accounts, through the read node.
	tok := r.token("ann@example.org")
	start := time.Now()
	res := r.do("POST", "/api/v1/posts", tok, postBody("Sent to a read node", "status", "published"), "Prefer", "wait=5")
	mustStatus(t, res, 201)
	var p apiPost
	res.json(t, &p)
	if res.header.Get("Preference-Applied") != "wait=5" || !strings.HasPrefix(res.header.Get("Chronicle-Cursor"), "commit=") {
		t.Errorf("Preference-Applied %q, Chronicle-Cursor %q", res.header.Get("Preference-Applied"), res.header.Get("Chronicle-Cursor"))
	}
	t.Logf("write through the read node, answered once applied there: %s", time.Since(start))
	// Read-your-writes: the read node has it, API and page, at once.
	mustStatus(t, r.do("GET", "/api/v1/posts/"+p.ID, "", nil), 200)
	mustStatus(t, r.get("/posts/"+p.Slug), 200)
	// It is the writer's: same Location, same ETag.
	onWriter := w.do("GET", "/api/v1/posts/"+p.ID, tok, nil)
	mustStatus(t, onWriter, 200)
	if res.header.Get("Location") != "/api/v1/posts/"+p.ID || res.header.Get("ETag") == "" || res.header.Get("ETag") != onWriter.header.Get("ETag") {
		t.Errorf("Location %q, ETag %q; on the writer ETag %q", res.header.Get("Location"), res.header.Get("ETag"), onWriter.header.Get("ETag"))
	}

	// The writer's refusals reach the client unchanged.
	stale := r.do("PATCH", "/api/v1/posts/"+p.ID, tok, map[string]any{"title": "Too late"}, "If-Match", `"0000000000000000"`,
		"Content-Type", "application/merge-patch+json")
	mustStatus(t, stale, 412)
	stale.problem(t)
	anon := r.do("POST", "/api/v1/posts", "", postBody("Anonymous"))
	mustStatus(t, anon, 401)
	if anon.header.Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate: %v", anon.header)
	}
	anon.problem(t)

	// Git: clone, push and a refused push, all through the read node.
	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "clone", "-q", r.remote("ann@example.org", password), work); err != nil {
		t.Fatalf("clone through the read node: %v\n%s", err, out)
	}
	write(t, filepath.Join(work, "posts", "2026", "pushed-to-a-read-node.md"), "---\ntitle: Pushed to a read node\nstatus: published\n---\nHello.\n")
	gitTry(t, work, "add", "-A")
	gitTry(t, work, "commit", "-q", "-m", "Pushed to a read node")
	if out, err := gitTry(t, work, "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push through the read node: %v\n%s", err, out)
	}
	if head, local := headOf(t, w), git(t, work, "rev-parse", "HEAD"); head != local {
		t.Fatalf("writer's main %s, pushed %s", head, local)
	}
	write(t, filepath.Join(work, "posts", "2026", "bad.md"), "---\ntitle: [oops\n---\n")
	gitTry(t, work, "add", "-A")
	gitTry(t, work, "commit", "-q", "-m", "Bad YAML")
	out, err := gitTry(t, work, "push", "origin", "HEAD:main")
	if err == nil || !strings.Contains(out, "remote: ") || !strings.Contains(out, "posts/2026/bad.md:2: invalid YAML") {
		t.Fatalf("refused push through the read node: %v\n%s", err, out)
	}

	// The admin: sign in and save a form through the read node; the
	// session is the writer's.
	b := r.browser()
	b.signIn("ann@example.org", password)
	saved := b.post("/admin/posts", url.Values{"title": {"From the admin of a read node"}, "content": {"Hi."}, "status": {"draft"}, "action": {"save"}})
	if saved.status != http.StatusSeeOther || !strings.HasPrefix(saved.header.Get("Location"), "/admin/posts/") {
		t.Fatalf("admin save through the read node: %d %q %s", saved.status, saved.header.Get("Location"), saved.body)
	}
	id := strings.TrimPrefix(saved.header.Get("Location"), "/admin/posts/")
	mustStatus(t, w.do("GET", "/api/v1/posts/"+id, tok, nil), 200)
	mustStatus(t, b.follow(saved), 200)
	var session *http.Cookie
	for _, c := range b.client.Jar.Cookies(mustURL(t, r.url+"/admin/")) {
		if c.Name == "chronicle_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	req, _ := http.NewRequest("GET", w.url+"/admin/posts/"+id, nil)
	req.AddCookie(session)
	direct := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
	resp, err := direct.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the read node's session cookie on the writer: %d", resp.StatusCode)
	}
}

// Without --writer-url a read node refuses every write with a 503 that
// says where writes go, as each kind of client reads it; with a writer
// that is down, a 502 naming it, at once.
func TestReadNodeRefusesWritesWithoutAWriter(t *testing.T) {
	t.Parallel()
	nats := startNATSServer(t)
	r := startSite(t, t.TempDir(), readNode(nats, "reader", ""))

	res := r.do("POST", "/api/v1/posts", "", postBody("Nope"))
	mustStatus(t, res, 503)
	if d, _ := res.problem(t); !strings.Contains(d, "this is a read node") || !strings.Contains(d, "--writer-url") {
		t.Errorf("API refusal: %q", d)
	}
	form := url.Values{"email": {"ann@example.org"}, "password": {password}}
	adm := r.browser().post("/admin/login", form)
	mustStatus(t, adm, 503)
	if d, _ := adm.problem(t); !strings.Contains(d, "use the admin on the writer") {
		t.Errorf("admin refusal: %q", d)
	}
	pushTo := func(remote string) string {
		work := filepath.Join(t.TempDir(), "w")
		git(t, ".", "init", "-q", "-b", "main", work)
		write(t, filepath.Join(work, "posts", "2026", "x.md"), "---\ntitle: X\n---\n")
		git(t, work, "add", "-A")
		git(t, work, "commit", "-q", "-m", "X")
		out, err := gitTry(t, work, "push", remote, "HEAD:main")
		if err == nil {
			t.Fatalf("push to a read node accepted:\n%s", out)
		}
		return out
	}
	if out := pushTo(r.remote("ann@example.org", password)); !strings.Contains(out, "remote: this is a read node; use git with the writer") {
		t.Errorf("git push refusal:\n%s", out)
	}
	lfs := r.do("POST", "/git/site.git/info/lfs/objects/batch", "", `{"operation":"upload","objects":[]}`)
	if lfs.status != 503 || lfs.header.Get("Content-Type") != "application/vnd.git-lfs+json" || !strings.Contains(string(lfs.body), `"message":"this is a read node`) {
		t.Errorf("LFS refusal: %d %s %s", lfs.status, lfs.header.Get("Content-Type"), lfs.body)
	}

	// A writer that is down: a closed port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	r2 := startSite(t, t.TempDir(), readNode(nats, "reader2", down))
	start := time.Now()
	res = r2.do("POST", "/api/v1/posts", "", postBody("Nope"))
	took := time.Since(start)
	mustStatus(t, res, 502)
	if d, _ := res.problem(t); !strings.Contains(d, "the writer at "+down) || strings.Contains(d, "connection refused") {
		t.Errorf("writer down: %q", d)
	}
	if took > 2*time.Second {
		t.Errorf("writer down answered after %s", took)
	}
	t.Logf("writer down: 502 in %s", took)
	if out := pushTo(r2.remote("ann@example.org", password)); !strings.Contains(out, "remote: this is a read node; it forwards writes to the writer at "+down) {
		t.Errorf("git push with the writer down:\n%s", out)
	}
}
