package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// eventsStream opens the events stream on the NATS server at url; done
// closes the connection.
func eventsStream(t testing.TB, url string) (s jetstream.Stream, done func()) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err == nil {
		s, err = js.Stream(context.Background(), bus.StreamName)
	}
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	return s, nc.Close
}

// streamState reads the events stream's state on the NATS server at url.
func streamState(t testing.TB, url string) jetstream.StreamState {
	t.Helper()
	s, done := eventsStream(t, url)
	defer done()
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State
}

// purgeStream drops every message of the events stream on the NATS
// server at url, as its retention does with old ones.
func purgeStream(t testing.TB, url string) {
	t.Helper()
	s, done := eventsStream(t, url)
	defer done()
	if err := s.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// startSiteUnready is startSite without waiting for /readyz.
func startSiteUnready(t testing.TB, data string, mods ...func(*Config)) *site {
	t.Helper()
	return serveSite(t, data, testWriter{t}, slog.LevelInfo, mods...)
}

func readyz(t testing.TB, s *site) (int, string) {
	t.Helper()
	resp, err := http.Get(s.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// sameAnswers fails unless the two nodes answer each path alike (their
// own addresses, in links, aside).
func sameAnswers(t testing.TB, a, b *site, paths ...string) {
	t.Helper()
	for _, p := range paths {
		ra, rb := a.get(p), b.get(p)
		ba := strings.ReplaceAll(string(ra.body), a.url, "SITE")
		bb := strings.ReplaceAll(string(rb.body), b.url, "SITE")
		if ra.status != 200 || rb.status != ra.status || ba != bb {
			t.Errorf("%s: %d and %d, bodies equal: %v\n%s\n---\n%s", p, ra.status, rb.status, ba == bb, ba, bb)
		}
	}
}

// A writer whose stream keeps events one second. A read node started
// after the first events were dropped cannot follow the stream alone:
// without credentials for the writer's repository it serves, not ready,
// saying why; with them it clones the writer's repository, builds its
// projections from it, then follows the stream, and answers as the
// writer does (catalogue, pages, search), a write made after included.
// Started while the writer is unreachable, it answers 503, having
// nothing, and tries again. Stopped while the stream drops more, and
// started again with the writer unreachable, it serves what it had, not
// ready, and tries again until the writer answers; then it is equal to
// the writer again.
func TestReadNodeBootstrapsFromTheWriter(t *testing.T) {
	t.Parallel()
	url := startNATSServer(t)
	wdata := t.TempDir()
	addAccount(t, wdata, "ann@example.org", auth.RoleEditor)
	w := startSite(t, wdata, onNATS(url, "writer"), func(c *Config) { c.StreamMaxAge = time.Second })
	tok := w.token("ann@example.org")
	publishOn := func(s *site, title string) string { // the new post's slug
		res := s.do("POST", "/api/v1/posts", tok, postBody(title, "status", "published"), "Prefer", "wait=5")
		mustStatus(t, res, 201)
		var p apiPost
		res.json(t, &p)
		return p.Slug
	}
	publish := func(title string) string { return publishOn(w, title) }
	var slugs []string
	for i := range 6 {
		slugs = append(slugs, publish(fmt.Sprintf("Early post %d about lighthouses", i)))
	}
	up := w.upload(tok, "harbour.jpg", testJPEG(500, 300))
	mustStatus(t, up, 201)
	var pic struct{ ID string }
	up.json(t, &pic)
	// A backup of the writer's data as it is now, its repository and
	// its LFS store: restored in its place at the end.
	backup := t.TempDir()
	if out, err := gitTry(t, ".", "clone", "-q", "--bare", filepath.Join(wdata, "site.git"), filepath.Join(backup, "site.git")); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if err := os.CopyFS(filepath.Join(backup, "lfs"), os.DirFS(filepath.Join(wdata, "lfs"))); err != nil {
		t.Fatal(err)
	}
	eventstest.CheckFor(t, 10*time.Second, 100*time.Millisecond, func() error {
		if st := streamState(t, url); st.FirstSeq <= 1 {
			return fmt.Errorf("the stream still starts at %d", st.FirstSeq)
		}
		return nil
	})
	mustStatus(t, w.do("POST", "/api/v1/posts", tok, postBody("Kept in the stream, about harbours", "status", "published"), "Prefer", "wait=5"), 201)
	st := streamState(t, url)
	t.Logf("stream: first sequence %d, last %d, %d messages", st.FirstSeq, st.LastSeq, st.Msgs)

	// No way to bootstrap: not ready, and why.
	lost := startSiteUnready(t, t.TempDir(), readNode(url, "lost", w.url))
	eventstest.CheckFor(t, 5*time.Second, pollEvery, func() error {
		code, body := readyz(t, lost)
		if code != 503 || !strings.Contains(body, "no longer holds") || !strings.Contains(body, "--writer-token") {
			return fmt.Errorf("/readyz of a node that cannot bootstrap: %d %s", code, body)
		}
		return nil
	})
	lost.stop()

	pat := strings.TrimSpace(cli(t, "token", "create", "--nats-url", url, "--data", t.TempDir(), "--email", "ann@example.org", "--name", "read nodes"))
	// The read node reaches the writer through a proxy that can answer
	// as if the writer were down.
	wu, err := neturl.Parse(w.url)
	if err != nil {
		t.Fatal(err)
	}
	var writerDown atomic.Bool
	var toWriter atomic.Pointer[http.Handler]
	writerAt := func(h http.Handler) { toWriter.Store(&h) }
	writerAt(httputil.NewSingleHostReverseProxy(wu))
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		if writerDown.Load() {
			http.Error(rw, "502 Bad Gateway: the writer does not answer", http.StatusBadGateway)
			return
		}
		(*toWriter.Load()).ServeHTTP(rw, req)
	}))
	defer front.Close()
	rdata := t.TempDir()
	reader := []func(*Config){readNode(url, "reader", front.URL), func(c *Config) { c.WriterAccount, c.WriterToken = "ann@example.org", pat }}
	// Started with nothing, while the writer is unreachable: it has
	// nothing to serve (503 everywhere) and tries again.
	// (The node is not started until then: probed at its address.)
	writerDown.Store(true)
	addr := freeAddr(t)
	probed := make(chan error, 1)
	go func() {
		defer writerDown.Store(false)
		var last string
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(pollEvery) {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				continue // not listening yet
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if last = fmt.Sprintf("%d %s", resp.StatusCode, b); resp.StatusCode != 503 || !strings.Contains(last, "attempt 1: failed") {
				continue
			}
			home, err := http.Get("http://" + addr + "/")
			if err != nil {
				probed <- err
				return
			}
			home.Body.Close()
			if home.StatusCode != 503 {
				probed <- fmt.Errorf("the home page of a read node with nothing yet: %d, want 503", home.StatusCode)
				return
			}
			probed <- nil
			return
		}
		probed <- fmt.Errorf("/readyz of a new read node while the writer is unreachable: %s, want 503 and its first attempt failed", last)
	}()
	start := time.Now()
	r := startSite(t, rdata, append(reader, func(c *Config) {
		c.Addr, c.PublicURL = addr, "http://127.0.0.1:0" // the writer's links
	})...)
	if err := <-probed; err != nil {
		t.Fatal(err)
	}
	t.Logf("read node bootstrapped and ready in %s", time.Since(start).Round(time.Millisecond))

	// Followed the stream after the clone: a later write is there.
	res := w.do("POST", "/api/v1/posts", tok, postBody("Written after the bootstrap, about lighthouses", "status", "published"), "Prefer", "wait=5")
	mustStatus(t, res, 201)
	var later apiPost
	res.json(t, &later)
	eventstest.CheckFor(t, 5*time.Second, pollEvery, func() error {
		return wantStatus("the later post on the read node", r.get("/api/v1/posts/"+later.ID), 200)
	})
	paths := []string{"/api/v1/posts?per_page=100", "/api/v1/search?q=lighthouses", "/api/v1/search?q=harbours", "/", "/posts/" + later.Slug}
	for _, s := range slugs[:3] {
		paths = append(paths, "/posts/"+s)
	}
	sameAnswers(t, w, r, paths...)
	// The picture: the variant built on the read node from the original
	// in the Object Store is the writer's, byte for byte.
	for _, p := range []string{"/media/" + pic.ID + "/original", "/media/" + pic.ID + "/w320.jpg"} {
		eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
			want, got := w.get(p), r.get(p)
			if want.status != 200 || got.status != 200 || string(want.body) != string(got.body) {
				return fmt.Errorf("%s: writer %d, read node %d, same bytes %v", p, want.status, got.status, string(want.body) == string(got.body))
			}
			return nil
		})
	}
	total := func(s *site) int {
		var list struct{ Total int }
		s.get("/api/v1/posts?per_page=100").json(t, &list)
		return list.Total
	}
	if n := total(r); n != 8 {
		t.Fatalf("%d posts on the read node, want 8", n)
	}

	// Stopped; two posts written meanwhile, and dropped by the stream
	// (purged rather than waited for: its retention would in a second).
	r.stop()
	var missed []string
	for i := range 2 {
		missed = append(missed, publish(fmt.Sprintf("Written while a read node was away %d, about lighthouses", i)))
	}
	purgeStream(t, url)
	// Started again, the writer unreachable: it serves what it had, not
	// ready, saying what it does, and tries again.
	writerDown.Store(true)
	restart := time.Now()
	var rlog syncBuffer
	r = serveSite(t, rdata, io.MultiWriter(testWriter{t}, &rlog), slog.LevelInfo, reader...)
	if err := wantStatus("a post it had", r.get("/posts/"+later.Slug), 200); err != nil {
		t.Fatal(err)
	}
	if err := wantStatus("a post it missed", r.get("/posts/"+missed[0]), 404); err != nil {
		t.Fatal(err)
	}
	if n := total(r); n != 8 {
		t.Fatalf("%d posts on the read node while it cannot bootstrap, want the 8 it had", n)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		code, body := readyz(t, r)
		// Any attempt: they come half a second, then one, two seconds
		// apart, and a loaded machine may look after the first.
		if code != 503 || !strings.Contains(body, "recovering") || !regexp.MustCompile(`attempt \d+: failed`).MatchString(body) || !strings.Contains(body, "502") {
			return fmt.Errorf("/readyz while the writer is unreachable: %d %s", code, body)
		}
		t.Logf("/readyz while the writer is unreachable: %s", body)
		return nil
	})
	writerDown.Store(false)
	r.waitReady()
	t.Logf("read node ready again %s after its restart", time.Since(restart).Round(time.Millisecond))
	for _, s := range missed {
		paths = append(paths, "/posts/"+s)
	}
	sameAnswers(t, w, r, paths...)
	if n := total(r); n != 10 {
		t.Fatalf("%d posts on the read node, want 10", n)
	}
	failed := metric(t, r, `chronicle_projection_recoveries_total{node="reader",result="failed"}`)
	ok := metric(t, r, `chronicle_projection_recoveries_total{node="reader",result="ok"}`)
	if failed < 1 || ok != 1 {
		t.Fatalf("bootstraps since the restart on /metrics: %v failed, %v ok; want 1 or more failed, then 1 ok", failed, ok)
	}

	// The writer's data replaced by the backup: its main lacks the
	// commits made since, which the read node applied. The stream,
	// emptied by its retention, gets the restored history from the
	// restored writer, then new writes that reach the read node's height
	// with other commits: the read node finds the stream off its history.
	// Meanwhile its --writer-url leads to the old repository (a writer
	// briefly serving something odd): it builds nothing again, serves
	// what it has, and says why. Once it leads to the restored writer,
	// the read node builds its projections again from nothing, once each,
	// keeping its picture's variants, and ends equal to the writer.
	w.stop()
	commits := func(dir string) int {
		out, err := gitTry(t, ".", "--git-dir", filepath.Join(dir, "site.git"), "rev-list", "--count", "--first-parent", "main")
		n, _ := strconv.Atoi(strings.TrimSpace(out))
		if err != nil || n == 0 {
			t.Fatalf("count commits in %s: %v %s", dir, err, out)
		}
		return n
	}
	gone := commits(wdata) - commits(backup)
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	writerAt(&cgi.Handler{Path: gitPath, Args: []string{"http-backend"}, Root: "/git",
		Env: []string{"GIT_PROJECT_ROOT=" + wdata, "GIT_HTTP_EXPORT_ALL=1"}})
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if st := streamState(t, url); st.Msgs > 0 {
			return fmt.Errorf("the stream holds %d events", st.Msgs)
		}
		return nil
	})
	variants, _ := filepath.Glob(filepath.Join(rdata, "projections", "variants", "*", "w320.jpg"))
	if len(variants) != 1 {
		t.Fatalf("the read node's w320.jpg variants: %v, want one", variants)
	}
	variantBefore, err := os.Stat(variants[0])
	if err != nil {
		t.Fatal(err)
	}
	w2 := startSite(t, backup, onNATS(url, "writer"), func(c *Config) { c.StreamMaxAge = time.Second })
	var restored []string
	for i := range gone {
		restored = append(restored, publishOn(w2, fmt.Sprintf("Written on the restored writer %d, about lighthouses", i)))
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		code, body := readyz(t, r)
		if code != 503 || !strings.Contains(body, "does not follow the history") || !strings.Contains(body, "the stream does not follow the writer's repository") {
			return fmt.Errorf("/readyz while the stream is off its history and the writer's address serves the old repository: %d %s", code, body)
		}
		t.Logf("/readyz while the writer's address serves the old repository: %s", body)
		return nil
	})
	if err := wantStatus("a post of the old history while nothing is built again", r.get("/posts/"+later.Slug), 200); err != nil {
		t.Fatal(err)
	}
	names := []string{"catalogue", "pages", "search", "media", "history", "audit"}
	for _, p := range names {
		if n := metric(t, r, `chronicle_projection_resets_total{node="reader",projection="`+p+`"}`); n > 0 {
			t.Fatalf("%s reset %v times while the writer's address served the old repository", p, n)
		}
	}
	writerAt(httputil.NewSingleHostReverseProxy(mustParse(t, w2.url)))
	r.waitReady()
	for _, p := range names {
		if n := metric(t, r, `chronicle_projection_resets_total{node="reader",projection="`+p+`"}`); n != 1 {
			t.Errorf("%s reset %v times, want once", p, n)
		}
	}
	if err := wantStatus("a post the restored writer does not have", r.get("/posts/"+later.Slug), 404); err != nil {
		t.Fatal(err)
	}
	paths = []string{"/api/v1/posts?per_page=100", "/api/v1/search?q=lighthouses", "/", "/posts/" + slugs[0], "/posts/" + restored[len(restored)-1],
		"/media/" + pic.ID + "/w320.jpg"}
	sameAnswers(t, w2, r, paths...)
	if n := total(r); n != 6+gone {
		t.Fatalf("%d posts on the read node, want the restored writer's %d", n, 6+gone)
	}
	variantAfter, err := os.Stat(variants[0])
	if err != nil || !os.SameFile(variantBefore, variantAfter) || !variantAfter.ModTime().Equal(variantBefore.ModTime()) {
		t.Fatalf("the picture's variant was made again (%v): the reset dropped what holds in any history", err)
	}
	if n := strings.Count(rlog.String(), "built again from nothing"); n < 1 {
		t.Fatal("no warning that the read node's projections were built again")
	} else {
		t.Logf("%d warning(s) that projections were built again", n)
	}
}

func mustParse(t testing.TB, raw string) *neturl.URL {
	t.Helper()
	u, err := neturl.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// metric reads one series' value from a node's /metrics (-1 if absent).
func metric(t testing.TB, s *site, series string) float64 {
	t.Helper()
	r := s.get("/metrics")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(r.body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// titles lists the titles of every published post a node has, page by
// page.
func titles(t testing.TB, s *site) []string {
	t.Helper()
	var out []string
	for page := 1; ; page++ {
		var l struct {
			Items []apiPost
			Total int
		}
		s.get(fmt.Sprintf("/api/v1/posts?per_page=100&page=%d", page)).json(t, &l)
		for _, p := range l.Items {
			out = append(out, p.Title)
		}
		if len(l.Items) == 0 || len(out) >= l.Total {
			return out
		}
	}
}

// A read node (its own process) killed with SIGKILL while the writer
// takes writes, then started again, resumes from its checkpoints: it
// applies only what it had not (fewer events than the writer's whole
// log, by at least what it had applied before the kill), and ends with
// every write, each once.
func TestReadNodeKilledResumesFromItsCheckpoint(t *testing.T) {
	t.Parallel()
	url := startNATSServer(t)
	wdata, rdata := t.TempDir(), t.TempDir()
	addAccount(t, wdata, "ann@example.org", auth.RoleEditor)
	w := startSite(t, wdata, onNATS(url, "writer"))
	tok := w.token("ann@example.org")
	readFlags := []string{"--nats-url", url, "--read-only", "--node", "reader"}
	r, cmd := startProcess(t, rdata, readFlags...)

	const total, workers, killAfter = 60, 4, 20
	start := time.Now()
	written := make(chan int, total)
	done := make(chan struct{})
	go func() {
		defer close(done)
		next := make(chan int)
		go func() {
			for i := range total {
				next <- i
			}
			close(next)
		}()
		finished := make(chan struct{})
		for range workers {
			go func() {
				defer func() { finished <- struct{}{} }()
				for i := range next {
					res := w.do("POST", "/api/v1/posts", tok, postBody(fmt.Sprintf("Write %03d", i), "status", "published"))
					if res.status != 201 {
						t.Errorf("write %d: %d %s", i, res.status, res.body)
						return
					}
					written <- i
				}
			}()
		}
		for range workers {
			<-finished
		}
	}()
	series := `chronicle_projection_events_applied_total{node="reader",projection="catalogue"}`
	before := 0.0 // applied by the read node before the kill, at least
	for n := 0; n < killAfter; n++ {
		<-written
		if v := metric(t, r, series); v > before {
			before = v
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	t.Logf("read node killed after %d acknowledged writes (%s), having applied at least %v events", killAfter, time.Since(start).Round(time.Millisecond), before)
	if before <= 0 {
		t.Fatal("the read node applied nothing before the kill: the test shows nothing")
	}
	r, _ = startProcess(t, rdata, readFlags...)
	t.Logf("read node ready again at %s", time.Since(start).Round(time.Millisecond))
	<-done
	t.Logf("all %d writes acknowledged at %s", total, time.Since(start).Round(time.Millisecond))
	want := float64(total)
	eventstest.CheckFor(t, 15*time.Second, 100*time.Millisecond, func() error {
		if got := metric(t, w, `chronicle_projection_events_applied_total{node="writer",projection="catalogue"}`); got != want {
			return fmt.Errorf("the writer applied %v events, want %v", got, want)
		}
		if lag := metric(t, r, `chronicle_projection_lag_events{node="reader",projection="catalogue"}`); lag != 0 {
			return fmt.Errorf("the read node's catalogue lags by %v events", lag)
		}
		if code, body := readyz(t, r); code != 200 {
			return fmt.Errorf("read node /readyz: %d %s", code, body)
		}
		return nil
	})
	after := metric(t, r, series)
	t.Logf("caught up at %s", time.Since(start).Round(time.Millisecond))
	t.Logf("after the restart the read node applied %v events of %v", after, want)
	if after <= 0 || after > want-before {
		t.Fatalf("the restarted read node applied %v events; the log has %v and it had applied %v before: it did not resume from its checkpoint", after, want, before)
	}
	got := titles(t, r)
	seen := map[string]int{}
	for _, title := range got {
		seen[title]++
	}
	for i := range total {
		if title := fmt.Sprintf("Write %03d", i); seen[title] != 1 {
			t.Errorf("%q is on the read node %d times", title, seen[title])
		}
	}
	if len(got) != total {
		t.Errorf("%d posts on the read node, want %d", len(got), total)
	}
}

// A read node that fell behind (stopped while 600 posts came in one
// push) answers /readyz with 503 and its lag, by projection, while it
// catches up, and its /metrics show the lag under its node's name; then
// 200 once it is within --ready-max-lag.
func TestReadNodeReadinessFollowsItsLag(t *testing.T) {
	t.Parallel()
	url := startNATSServer(t)
	wdata, rdata := t.TempDir(), t.TempDir()
	addAccount(t, wdata, "ann@example.org", auth.RoleEditor)
	w := startSite(t, wdata, onNATS(url, "writer"))
	const maxLag = 5
	reader := func(c *Config) {
		readNode(url, "reader", "")(c)
		c.ReadyMaxLag = maxLag
	}
	r := startSite(t, rdata, reader)
	r.stop()

	const posts = 600
	work := t.TempDir() + "/w"
	if out, err := gitTry(t, ".", "clone", "-q", w.remote("ann@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	for i := range posts {
		write(t, fmt.Sprintf("%s/posts/2026/bulk-%03d.md", work, i), fmt.Sprintf("---\ntitle: Bulk %03d\nstatus: published\n---\nPost number %d.\n", i, i))
	}
	gitTry(t, work, "add", "-A")
	gitTry(t, work, "commit", "-q", "-m", "Many posts")
	if out, err := gitTry(t, work, "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	eventstest.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		if st := streamState(t, url); st.LastSeq < posts {
			return fmt.Errorf("%d events published", st.LastSeq)
		}
		return nil
	})

	r = startSiteUnready(t, rdata, reader)
	var lagging string
	var lagMetric float64
	eventstest.CheckFor(t, 20*time.Second, 10*time.Millisecond, func() error {
		code, body := readyz(t, r)
		if code == 503 && lagging == "" {
			lagging = body
			lagMetric = metric(t, r, `chronicle_projection_lag_events{node="reader",projection="search"}`)
		}
		if code != 200 {
			return fmt.Errorf("/readyz: %d %s", code, body)
		}
		return nil
	})
	t.Logf("while behind: %q; search lag metric %v", lagging, lagMetric)
	if !strings.Contains(lagging, "lagging: events behind the stream") || !regexp.MustCompile(`[a-z]+ \d+`).MatchString(lagging) {
		t.Fatalf("/readyz while the read node was behind: %q, want 503 with its lag", lagging)
	}
	if lagMetric < 0 {
		t.Fatal("no chronicle_projection_lag_events series for the read node's search projection")
	}
	if v := metric(t, r, `chronicle_projection_lag_events{node="reader",projection="search"}`); v > maxLag {
		t.Fatalf("ready with the search projection %v events behind", v)
	}
	if got := titles(t, r); len(got) != posts {
		t.Fatalf("%d posts on the read node, want %d", len(got), posts)
	}
}
