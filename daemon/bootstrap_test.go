package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// streamState reads the events stream's state on the NATS server at url.
func streamState(t testing.TB, url string) jetstream.StreamState {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(context.Background(), bus.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State
}

// startSiteUnready is startSite without waiting for /readyz.
func startSiteUnready(t testing.TB, data string, mods ...func(*Config)) *site {
	t.Helper()
	cfg := testConfig(data)
	for _, m := range mods {
		m(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	s := &site{t: t, data: data, cancel: cancel, done: make(chan error, 1)}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	go func() { s.done <- Serve(ctx, cfg, log, ready) }()
	select {
	case addr := <-ready:
		s.url = "http://" + addr
	case err := <-s.done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not start")
	}
	t.Cleanup(s.stop)
	return s
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
func TestReadNodeBootstrapsFromTheWriter(t *testing.T) {
	t.Parallel()
	url := startNATSServer(t)
	wdata := t.TempDir()
	addAccount(t, wdata, "ann@example.org", auth.RoleEditor)
	w := startSite(t, wdata, onNATS(url, "writer"), func(c *Config) { c.StreamMaxAge = time.Second })
	tok := w.token("ann@example.org")
	var slugs []string
	for i := range 6 {
		res := w.do("POST", "/api/v1/posts", tok, postBody(fmt.Sprintf("Early post %d about lighthouses", i), "status", "published"), "Prefer", "wait=5")
		mustStatus(t, res, 201)
		var p apiPost
		res.json(t, &p)
		slugs = append(slugs, p.Slug)
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
	start := time.Now()
	r := startSite(t, t.TempDir(), readNode(url, "reader", w.url), func(c *Config) { c.WriterAccount, c.WriterToken = "ann@example.org", pat })
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
	var list struct{ Total int }
	r.get("/api/v1/posts?per_page=100").json(t, &list)
	if list.Total != 8 {
		t.Fatalf("%d posts on the read node, want 8", list.Total)
	}
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
