package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// startSiteLogged is startSite with the daemon's log, from info up, in buf.
func startSiteLogged(t testing.TB, data string, buf io.Writer, mods ...func(*Config)) *site {
	t.Helper()
	s := serveSite(t, data, io.MultiWriter(buf, testWriter{t}), slog.LevelInfo, mods...)
	s.waitReady()
	return s
}

// seedHistory writes n posts into data's repository, one commit each with
// git fast-import (quick even under the race detector), then revises every
// tenth and deletes every twenty-fifth, as a history brought from
// elsewhere would be.
func seedHistory(t testing.TB, data string, n int) {
	t.Helper()
	dir := filepath.Join(data, "site.git")
	r, err := repo.Open(dir, slog.New(slog.NewTextHandler(io.Discard, nil))) // made as the daemon makes it
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	var in strings.Builder
	mark := 0
	commit := func(msg string, ops ...string) {
		mark++
		fmt.Fprintf(&in, "commit refs/heads/main\nmark :%d\ncommitter Seed <seed@example.org> 1767225600 +0000\ndata %d\n%s\n", mark, len(msg), msg)
		if mark > 1 {
			fmt.Fprintf(&in, "from :%d\n", mark-1)
		}
		for _, op := range ops {
			in.WriteString(op)
		}
		in.WriteString("\n")
	}
	file := func(path, body string) string {
		return fmt.Sprintf("M 644 inline %s\ndata %d\n%s\n", path, len(body), body)
	}
	commit("categories and settings", file("categories/news.yaml", "name: News\n"), file("categories/notes.yaml", "name: Notes\n"),
		file("site/settings.yaml", "title: Old history\nlanguage: en\nposts_per_page: 5\n"))
	path := func(i int) string {
		return fmt.Sprintf("posts/%d/post-%d.md", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*24*time.Hour).Year(), i)
	}
	post := func(i int, title, body string) string {
		at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 24 * time.Hour).Format(time.RFC3339)
		status := "published"
		if i%7 == 3 {
			status = "draft"
		}
		return file(path(i), fmt.Sprintf("---\nid: old%05d\ntitle: %s\nslug: post-%d\nstatus: %s\npublished_at: %s\ncreated_at: %s\nupdated_at: %s\ncategories: [%s]\ntags: [t%d]\n---\n%s\n",
			i, title, i, status, at, at, at, []string{"news", "notes"}[i%2], i%5, body))
	}
	for i := range n {
		commit(fmt.Sprintf("post %d", i), post(i, fmt.Sprintf("Post number %d", i), fmt.Sprintf("Words about lantern%d and the harbour.", i)))
	}
	for i := 0; i < n; i += 10 {
		commit(fmt.Sprintf("revise %d", i), post(i, fmt.Sprintf("Post number %d, revised", i), fmt.Sprintf("Revised words about orchard%d.", i)))
	}
	for i := 5; i < n; i += 25 {
		commit(fmt.Sprintf("delete %d", i), fmt.Sprintf("D %s\n", path(i)))
	}
	cmd := exec.Command("git", "--git-dir", dir, "fast-import", "--quiet", "--force")
	cmd.Stdin = strings.NewReader(in.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git fast-import: %v: %s", err, out)
	}
}

// freeAddr is a loopback address nobody listens on, for a daemon whose
// address must be known before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// probeReadyz asks url until it answers 200 (or for at most d), and
// returns the answers that differed from the one before, as "status
// body"; refused connections are not answers.
func probeReadyz(url string, d time.Duration) []string {
	var out []string
	c := &http.Client{Timeout: 2 * time.Second}
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		resp, err := c.Get(url)
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a := fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		if len(out) == 0 || out[len(out)-1] != a {
			out = append(out, a)
		}
		if resp.StatusCode == http.StatusOK {
			break
		}
	}
	return out
}

// TestFastStartFromGit: a writer whose projections are empty in front of
// a history of a few hundred commits builds them straight from git (the
// log says so), and ends with the same catalogue, pages and search
// answers as one that replayed the stream; its consumers attach after
// what the build covered, so the backlog the outbox then publishes is
// not applied twice, and later writes arrive over the stream, before and
// after a restart.
func TestFastStartFromGit(t *testing.T) {
	t.Parallel()
	const n = 150
	replayed, fast := t.TempDir(), t.TempDir()
	seedHistory(t, replayed, n)
	if err := os.CopyFS(fast, os.DirFS(replayed)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{replayed, fast} {
		addAccount(t, d, "admin@example.org", auth.RoleAdmin)
	}
	paths := []string{"/", "/page/2", "/posts/post-0", "/posts/post-1", "/posts/post-149", "/posts/post-5", "/category/news", "/category/notes/page/3",
		"/tag/t1", "/feed.xml", "/search?q=lantern149", "/search?q=orchard10", "/search?q=lantern10", "/search?q=harbour", "/search?q=lantern5"}

	var slow lockedBuffer
	s := startSiteLogged(t, replayed, &slow, func(c *Config) { c.FastStartBehind = 0 })
	tok := s.token("admin@example.org")
	wantView, wantPages := s.view(tok), s.pages(t, paths)
	s.stop()
	if strings.Contains(slow.String(), "fast start") {
		t.Fatalf("fast start taken with --fast-start-behind 0:\n%s", slow.String())
	}

	// A probe from the start: the daemon listens before it builds, and
	// answers 503 with what it is doing until it is ready.
	addr := freeAddr(t)
	probed := make(chan []string, 1)
	go func() { probed <- probeReadyz("http://"+addr+"/readyz", 60*time.Second) }()
	var log lockedBuffer
	begun := time.Now()
	s = startSiteLogged(t, fast, &log, func(c *Config) {
		c.FastStartBehind, c.Addr = 50, addr
		c.PublicURL = "http://127.0.0.1:0" // the links the replayed site made
	})
	t.Logf("fast start ready after %s", time.Since(begun).Round(time.Millisecond))
	answers := <-probed
	if len(answers) < 2 || !strings.HasPrefix(answers[0], "503 not ready: ") || answers[len(answers)-1] != "200 ready" {
		t.Fatalf("/readyz during the fast start answered %q, want 503s with a reason, then 200", answers)
	}
	if !slices.ContainsFunc(answers, func(a string) bool { return strings.Contains(a, "building the projections from git") }) {
		t.Errorf("/readyz never said the projections were being built: %q", answers)
	}
	if !strings.Contains(log.String(), "fast start: projections built from git") {
		t.Fatalf("the log does not say the fast path was taken:\n%s", log.String())
	}
	tok = s.token("admin@example.org")
	if diff := cmp.Diff(wantView, s.view(tok)); diff != "" {
		t.Fatalf("catalogue built from git differs from the replayed one (-replayed +fast):\n%s", diff)
	}
	if err := samePages(wantPages, s.pages(t, paths)); err != nil {
		t.Fatalf("pages built from git differ from the replayed ones: %v", err)
	}

	// The outbox publishes the backlog behind readiness; the consumers pass
	// over it and stay healthy, and a post written now comes through.
	later := func(title, word string) {
		t.Helper()
		mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody(title, "status", "published", "content", "About "+word+"."), "Prefer", "wait=10"), 201)
		if r := s.get("/search?q=" + word); r.status != 200 || !strings.Contains(string(r.body), title) {
			t.Fatalf("search for %s after the fast start: %d %s", word, r.status, r.body)
		}
		if r := s.get("/"); !strings.Contains(string(r.body), title) {
			t.Fatalf("home page lacks %q after the fast start", title)
		}
	}
	later("Written after the fast start", "zeppelin")
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		r := s.get("/metrics")
		for _, l := range strings.Split(string(r.body), "\n") {
			if strings.HasPrefix(l, "chronicle_publish_lag_commits ") && l != "chronicle_publish_lag_commits 0" {
				return fmt.Errorf("backlog not yet published: %s", l)
			}
		}
		return nil
	})
	mustStatus(t, s.do("GET", "/readyz", "", nil), 200)
	afterView, afterPages := s.view(tok), s.pages(t, paths)
	s.stop()
	if strings.Contains(log.String(), "projection stopped") {
		t.Fatalf("a projection stopped on the backlog:\n%s", log.String())
	}

	// Restarted: nothing to build, nothing applied twice, and writes still arrive.
	var again lockedBuffer
	s = startSiteLogged(t, fast, &again, func(c *Config) { c.FastStartBehind = 50 })
	if strings.Contains(again.String(), "fast start: building") {
		t.Fatalf("fast start taken again on projections that are up to date:\n%s", again.String())
	}
	if diff := cmp.Diff(afterView, s.view(tok)); diff != "" {
		t.Fatalf("catalogue after a restart differs (-before +after):\n%s", diff)
	}
	if err := samePages(afterPages, s.pages(t, paths)); err != nil {
		t.Fatalf("pages after a restart differ: %v", err)
	}
	later("Written after the restart", "dirigible")
	if strings.Contains(again.String(), "projection stopped") {
		t.Fatalf("a projection stopped after the restart:\n%s", again.String())
	}
}

// A writer whose projections' state was deleted while it was stopped,
// when the stream holds only the last of its events (its retention
// dropped the others), builds them from its own repository (too few
// commits behind for a fast start) and then follows the stream: it
// answers as before, and a later write shows. They used to halt on the
// gap until an operator rebuilt them.
func TestWriterBuildsPastAGapFromItsRepository(t *testing.T) {
	t.Parallel()
	url := startNATSServer(t)
	data := t.TempDir()
	addAccount(t, data, "ann@example.org", auth.RoleEditor)
	onCluster := onNATS(url, "writer")
	w := startSite(t, data, onCluster)
	tok := w.token("ann@example.org")
	publish := func(title string) apiPost {
		res := w.do("POST", "/api/v1/posts", tok, postBody(title, "status", "published"), "Prefer", "wait=5")
		mustStatus(t, res, 201)
		var p apiPost
		res.json(t, &p)
		return p
	}
	for i := range 3 {
		publish(fmt.Sprintf("Post %d about lighthouses", i))
	}
	view := func() string {
		return string(w.get("/api/v1/posts?per_page=100").body) + string(w.get("/api/v1/search?q=lighthouses").body)
	}
	before := view()
	w.stop()
	if err := os.RemoveAll(filepath.Join(data, "projections")); err != nil {
		t.Fatal(err)
	}
	stream, done := eventsStream(t, url)
	if err := stream.Purge(t.Context(), jetstream.WithPurgeKeep(1)); err != nil {
		t.Fatal(err)
	}
	done()
	if st := streamState(t, url); st.Msgs != 1 || st.FirstSeq < 3 {
		t.Fatalf("stream after the purge: %+v, want only its last event", st)
	}
	w = startSite(t, data, onCluster)
	if after := view(); after != before {
		t.Fatalf("after the projections were built from the repository:\n%s\nwant\n%s", after, before)
	}
	later := publish("Written after, about lighthouses")
	if err := wantStatus("the later post", w.get("/posts/"+later.Slug), 200); err != nil {
		t.Fatal(err)
	}
}
