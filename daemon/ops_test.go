package daemon

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

func TestUserAddWorksWhileTheDaemonRuns(t *testing.T) {
	data := t.TempDir()
	var out, errOut bytes.Buffer
	// Before the first start.
	if code := Main([]string{"user", "add", "--data", data, "--email", "First@Example.org", "--role", "admin", "--password-stdin"},
		"test", strings.NewReader(password+"\n"), &out, &errOut); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut.String())
	}
	s := startSite(t, data)
	s.token("first@example.org")
	// While it runs, and through the environment for --data.
	t.Setenv("CHRONICLE_DATA", data)
	if code := Main([]string{"user", "add", "--email", "second@example.org", "--password-stdin"},
		"test", strings.NewReader(password), &out, &errOut); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut.String())
	}
	tok := s.token("second@example.org")
	// An editor by default: may write posts, not settings.
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("From the second account")), 201)
	mustStatus(t, s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "x"}), 403)

	for _, tc := range []struct {
		args []string
		pw   string
		want string
	}{
		{[]string{"--email", "x@example.org"}, password, "--password-stdin"},
		{[]string{"--email", "not-an-email", "--password-stdin"}, password, "not an email address"},
		{[]string{"--email", "x@example.org", "--role", "owner", "--password-stdin"}, password, "role must be"},
		{[]string{"--email", "x@example.org", "--password-stdin"}, "short", "10 to 1024 characters"},
		{[]string{"--email", "second@example.org", "--password-stdin"}, password, "account exists"},
	} {
		errOut.Reset()
		code := Main(append([]string{"user", "add", "--data", data}, tc.args...), "test", strings.NewReader(tc.pw), &out, &errOut)
		if code == 0 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("user add %v: code %d, stderr %q, want %q", tc.args, code, errOut.String(), tc.want)
		}
	}
	// Hashes are argon2id and the files private.
	files, _ := filepath.Glob(filepath.Join(data, "accounts", "*.json"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		st, _ := os.Stat(f)
		if !bytes.Contains(b, []byte(`"$argon2id$v=19$m=65536,t=3,p=2$`)) || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, content %s", f, st.Mode(), b)
		}
	}
}

// SIGTERM drains in-flight requests and stops everything in order; the
// process exits 0 and the data directory opens cleanly again.
func TestSIGTERMShutsDownInOrder(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ann@example.org", auth.RoleEditor)
	var logged syncBuffer
	s, cmd := startProcessLogging(t, data, &logged, "--log-level", "info")
	tok := s.token("ann@example.org")
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("Before shutdown"), "Prefer", "wait=5"), 201)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit within 20s of SIGTERM")
	}
	// In this order: nothing is written to a store after it is closed, and
	// NATS outlives everything that publishes or consumes.
	log, at := logged.String(), -1
	for _, step := range []string{"shutting down: draining requests", "shutdown: requests drained", "shutdown: outbox, repacker and scheduler stopped",
		"shutdown: projection consumers stopped", "shutdown: projection stores closed", "shutdown: NATS connection closed",
		"shutdown: embedded NATS stopped", "shutdown: repository closed"} {
		i := strings.Index(log, step)
		if i < 0 || i < at {
			t.Fatalf("%q missing or out of order in the daemon's log:\n%s", step, log)
		}
		at = i
	}
	s = startSite(t, data)
	var l struct{ Total int }
	s.do("GET", "/api/v1/posts?status=draft", s.token("ann@example.org"), nil).json(t, &l)
	if l.Total != 1 {
		t.Fatalf("%d posts after restart", l.Total)
	}
}

// With --nats-url the same binary uses an external NATS server (Debian's
// nats-server): a writer node and a read-only node both serve the post.
func TestExternalNATS(t *testing.T) {
	t.Parallel()
	url := startNATSServer(t)

	wdata, rdata := t.TempDir(), t.TempDir()
	addAccount(t, wdata, "ann@example.org", auth.RoleEditor)
	w := startSite(t, wdata, onNATS(url, "writer"))
	r := startSite(t, rdata, readNode(url, "reader", ""))
	tok := w.token("ann@example.org")
	res := w.do("POST", "/api/v1/posts", tok, postBody("Everywhere", "status", "published"), "Prefer", "wait=5")
	mustStatus(t, res, 201)
	var p apiPost
	res.json(t, &p)
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		return wantStatus("read node: /api/v1/posts/"+p.ID, r.do("GET", "/api/v1/posts/"+p.ID, "", nil), 200)
	})
	// The read node has no repository and refuses writes clearly.
	addAccount(t, rdata, "ann@example.org", auth.RoleEditor)
	mustStatus(t, r.do("POST", "/api/v1/posts", r.token("ann@example.org"), postBody("Nope")), 503)
	if _, err := os.Stat(filepath.Join(rdata, "site.git")); !os.IsNotExist(err) {
		t.Fatalf("read node created a repository: %v", err)
	}
}

// natsServerBin is Debian's nats-server: a test needing it fails on CI
// without it (.ci/run installs it) and is skipped elsewhere.
func natsServerBin(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("nats-server is not installed: .ci/run installs Debian's nats-server")
		}
		t.Skip("nats-server not installed (apt-get install nats-server)")
	}
	return bin
}

// startNATSServer starts Debian's nats-server with JetStream on a free
// loopback port, for as long as the test runs, and returns its URL.
func startNATSServer(t testing.TB) string {
	t.Helper()
	bin := natsServerBin(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ns := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-sd", t.TempDir())
	ns.Stderr = testWriter{t}
	if err := ns.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Process.Kill(); ns.Wait() })
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return fmt.Errorf("nats-server not listening yet: %w", err)
		}
		return c.Close()
	})
	return fmt.Sprintf("nats://127.0.0.1:%d", port)
}

// onNATS makes a site a node of the NATS server at url, named node.
func onNATS(url, node string) func(*Config) {
	return func(c *Config) { c.NatsURL, c.Node = url, node }
}

// readNode makes a site a read node of the NATS server at url,
// forwarding writes to writerURL ("": refusing them).
func readNode(url, node, writerURL string) func(*Config) {
	return func(c *Config) { c.NatsURL, c.Node, c.ReadOnly, c.WriterURL = url, node, true, writerURL }
}

// syncBuffer is a bytes.Buffer safe to write from a process's output
// while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }
