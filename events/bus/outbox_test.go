package bus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/repo"
)

var quiet = slog.New(slog.DiscardHandler)

// site is a repository with its log.
type site struct {
	log  *events.GitLog
	head string
}

func newSite(t *testing.T) *site {
	t.Helper()
	r, err := repo.Open(filepath.Join(t.TempDir(), "site.git"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &site{log: events.NewGitLog(r, events.NewDeriver(r, quiet))}
}

func (s *site) post(t *testing.T, id, content string) events.Cursor {
	t.Helper()
	_, cur, err := s.log.Append(context.Background(), events.Batch{Parent: s.head, Message: "post " + id + "\n",
		Changes: []repo.Change{{Path: "posts/2026/" + id + ".md", Data: []byte("---\nid: " + id + "\ntitle: " + id + "\n---\n" + content)}},
		Author:  repo.Signature{Name: "A", Email: "a@example.org", When: time.Unix(1700000000, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	s.head = cur.Commit
	return cur
}

// runServer starts a JetStream server on a loopback port with its store
// in dir (port 0: any).
func runServer(t *testing.T, dir string, port int) *server.Server {
	t.Helper()
	if port == 0 {
		port = -1
	}
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

func connect(t *testing.T, ns *server.Server) (*nats.Conn, jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := bus.EnsureStream(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js, s
}

func count(t *testing.T, s jetstream.Stream) uint64 {
	t.Helper()
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// An event too large for a message is published by reference and read
// back whole; small ones stay inline.
func TestLargeEventsTravelByReference(t *testing.T) {
	ctx := context.Background()
	ns := runServer(t, t.TempDir(), 0)
	_, js, stream := connect(t, ns)
	bodies, err := bus.OpenBodies(ctx, js, bus.BodiesConfig{MaxPayload: 1 << 20, MaxInline: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	s := newSite(t)
	big := strings.Repeat("<&> ", 50_000) // 200 KB that HTML escaping would make 1 MB
	s.post(t, "big", big)
	s.post(t, "small", "words")
	if err := bus.NewOutbox(s.log, js, stream, quiet, bus.OutboxConfig{Bodies: bodies}).Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	codec := events.NewCodec()
	for seq, want := range map[uint64]string{1: big, 2: "words"} {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if byRef := len(m.Data) == 0; byRef != (seq == 1) {
			t.Errorf("message %d: %d bytes inline", seq, len(m.Data))
		}
		data, err := bodies.Data(ctx, m.Header, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if seq == 1 && bytes.Contains(data, []byte(`\u003c`)) {
			t.Error("the body is HTML-escaped")
		}
		e, err := codec.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		var p events.PostData
		if err := json.Unmarshal(e.Data, &p); err != nil {
			t.Fatal(err)
		}
		if p.Post.Content != want {
			t.Errorf("message %d: content of %d bytes, want %d", seq, len(p.Post.Content), len(want))
		}
	}
	// Without the object store, a consumer says what it lacks.
	m, _ := stream.GetMsg(ctx, 1)
	if _, err := (*bus.Bodies)(nil).Data(ctx, m.Header, m.Data); !errors.Is(err, bus.ErrNoBodies) {
		t.Fatalf("no object store: %v", err)
	}
}

// logLines collects log records for inspection.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}
func (l *logLines) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

// A publication the server refuses holds back the events after it: the
// outbox says so until it goes through, logs it once, not at every
// retry, and publishes everything in order once the cause is gone.
func TestOutboxReportsAFailureOnceAndResumes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := runServer(t, t.TempDir(), 0)
	_, js, stream := connect(t, ns)
	cfg := stream.CachedInfo().Config
	cfg.MaxMsgSize = 256 // every event is refused
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	s := newSite(t)
	s.post(t, "a", "first")
	var lines logLines
	o := bus.NewOutbox(s.log, js, stream, slog.New(slog.NewTextHandler(&lines, nil)), bus.OutboxConfig{Interval: 50 * time.Millisecond})
	go o.Run(ctx)
	eventstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if o.Failure() == nil || lines.count("level=ERROR") == 0 {
			return errors.New("no failure reported")
		}
		return nil
	})
	s.post(t, "b", "second")
	o.Kick()
	time.Sleep(300 * time.Millisecond) // several retries
	if n := lines.count("level=ERROR"); n != 1 {
		t.Fatalf("failure logged %d times:\n%s", n, lines.buf.String())
	}
	if !strings.Contains(lines.buf.String(), "after=") || count(t, stream) != 0 {
		t.Fatalf("log: %s, %d messages", lines.buf.String(), count(t, stream))
	}
	cfg.MaxMsgSize = -1
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	eventstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if o.Failure() != nil || count(t, stream) != 2 {
			return fmt.Errorf("failure %v, %d messages", o.Failure(), count(t, stream))
		}
		return nil
	})
	if lines.count("publishing resumed") != 1 {
		t.Fatalf("no word of the recovery:\n%s", lines.buf.String())
	}
}

// NATS going away loses nothing: commits made meanwhile are published, in
// order and once, when it is back.
func TestOutboxWhileNATSIsDownAndBack(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	ns := runServer(t, dir, 0)
	port := ns.Addr().(*net.TCPAddr).Port
	_, js, stream := connect(t, ns)
	s := newSite(t)
	s.post(t, "a", "before")
	o := bus.NewOutbox(s.log, js, stream, quiet, bus.OutboxConfig{Interval: 50 * time.Millisecond, AckWait: 200 * time.Millisecond})
	if err := o.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	ns.Shutdown()
	ns.WaitForShutdown()
	go o.Run(ctx)
	s.post(t, "b", "while down")
	s.post(t, "c", "while down")
	o.Kick()
	eventstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if o.Failure() == nil {
			return errors.New("no failure while NATS is down")
		}
		return nil
	})
	runServer(t, dir, port)
	eventstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if o.Failure() != nil {
			return o.Failure()
		}
		if n := count(t, stream); n != 3 {
			return fmt.Errorf("%d messages, want 3", n)
		}
		return nil
	})
	if got := o.Published(); got.Commit != s.head {
		t.Fatalf("published up to %s, head %s", got.Commit, s.head)
	}
}

// A stream whose last event is not on main's history — another
// repository's — is not republished over: the outbox stops and says why.
func TestOutboxStopsWhenTheStreamDiverged(t *testing.T) {
	ctx := context.Background()
	ns := runServer(t, t.TempDir(), 0)
	_, js, stream := connect(t, ns)
	a, b := newSite(t), newSite(t)
	a.post(t, "a1", "x")
	a.post(t, "a2", "x")
	if err := bus.NewOutbox(a.log, js, stream, quiet, bus.OutboxConfig{}).Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	b.post(t, "b1", "y")
	b.post(t, "b2", "y")
	b.post(t, "b3", "y")
	err := bus.NewOutbox(b.log, js, stream, quiet, bus.OutboxConfig{}).Reconcile(ctx)
	if !errors.Is(err, bus.ErrDiverged) || !strings.Contains(err.Error(), a.head) {
		t.Fatalf("another repository's stream: %v", err)
	}
	if n := count(t, stream); n != 2 {
		t.Fatalf("%d messages after the refusal, want 2", n)
	}
}
