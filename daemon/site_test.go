package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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

// Tiny helpers for whole-daemon tests: a real repository, an embedded
// nats-server, the catalogue on disk and a real HTTP listener.

var cheapHash = auth.Argon2Params{Time: 1, Memory: 8 * 1024, Threads: 1}

const password = "correct horse battery staple"

type site struct {
	t      testing.TB
	data   string
	url    string
	cancel context.CancelFunc
	done   chan error
}

func testConfig(data string) Config {
	return Config{DataDir: data, Addr: "127.0.0.1:0", TokenTTL: time.Hour, ReconcileInterval: 200 * time.Millisecond,
		RepackInterval: time.Hour, ShutdownTimeout: 5 * time.Second, LogLevel: "warn", LogFormat: "text",
		MediaMaxMiB: 25, MediaMaxMegapixels: 50, MediaMaxSide: 20000, ImageWorkers: 2, MetricsAllow: []string{"127.0.0.0/8"},
		// git hooks run this test binary as the chronicle command (see TestMain).
		HookCommand: os.Args[0], HookEnv: []string{"CHRONICLE_TEST_MAIN=1", "GORACE=" + os.Getenv("GORACE")},
		// The production cost is what the CLI's subprocesses use (the
		// README's user add, for one) and webui/auth's tests check.
		PasswordHash: cheapHash}
}

func startSite(t testing.TB, data string, mods ...func(*Config)) *site {
	t.Helper()
	s := serveSite(t, data, testWriter{t}, slog.LevelWarn, mods...)
	s.waitReady()
	return s
}

// serveSite starts the daemon in this process with its log from level up
// in out, and returns once it listens (not once it is ready).
func serveSite(t testing.TB, data string, out io.Writer, level slog.Level, mods ...func(*Config)) *site {
	t.Helper()
	cfg := testConfig(data)
	for _, m := range mods {
		m(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	s := &site{t: t, data: data, cancel: cancel, done: make(chan error, 1)}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
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

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func (s *site) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		s.t.Error("daemon did not stop within 30s")
	}
}

func (s *site) waitReady() {
	s.t.Helper()
	eventstest.CheckFor(s.t, 30*time.Second, pollEvery, func() error {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			return fmt.Errorf("GET /readyz: %w", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET /readyz: status %d, want 200: %s", resp.StatusCode, bytes.TrimSpace(body))
		}
		return nil
	})
}

// pollEvery is how often the tests look again at what they wait for.
const pollEvery = 20 * time.Millisecond

// wantStatus says what is wrong with r, the answer to what, unless its
// status is want: for polling with eventstest.CheckFor.
func wantStatus(what string, r response, want int) error {
	if r.status != want {
		return fmt.Errorf("%s: status %d, want %d", what, r.status, want)
	}
	return nil
}

func addAccount(t testing.TB, data, email string, role auth.Role) {
	t.Helper()
	if _, err := auth.NewStore(filepath.Join(data, "accounts"), cheapHash).Add(email, "", role, password, true); err != nil {
		t.Fatal(err)
	}
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) problem(t testing.TB) (detail string, fields []string) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, body %s", ct, r.body)
	}
	var p struct {
		Status int
		Detail string
		Errors []struct{ Field string }
	}
	r.json(t, &p)
	if p.Status != r.status {
		t.Fatalf("problem status %d != %d", p.Status, r.status)
	}
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	return p.Detail, fields
}

// do sends a request; body is JSON-encoded unless it is a string or []byte.
func (s *site) do(method, path, token string, body any, headers ...string) response {
	s.t.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		raw = j
	}
	if body != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	res := response{status: resp.StatusCode, header: resp.Header, body: b}
	checkResponse(s.t, req, raw, res)
	return res
}

func (s *site) token(email string) string {
	s.t.Helper()
	r := s.do("POST", "/api/v1/auth/token", "", map[string]string{"email": email, "password": password})
	if r.status != 200 {
		s.t.Fatalf("token: %d %s", r.status, r.body)
	}
	var tok struct{ Token string }
	r.json(s.t, &tok)
	return tok.Token
}

func (s *site) repoDir() string { return filepath.Join(s.data, "site.git") }

func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Hand Writer", "GIT_AUTHOR_EMAIL=hand@example.org",
		"GIT_COMMITTER_NAME=Hand Writer", "GIT_COMMITTER_EMAIL=hand@example.org", "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func mustStatus(t testing.TB, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
}

func postBody(title string, extra ...any) map[string]any {
	m := map[string]any{"title": title, "content": "Some *Markdown* for " + title + ".\n"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func decodeBody(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
