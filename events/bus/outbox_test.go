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
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/repo"
)

var quiet = slog.New(slog.DiscardHandler)

// site is a repository with its log.
type site struct {
	log  *gitlog.GitLog
	head string
}

func newSite(t *testing.T) *site {
	t.Helper()
	r, err := repo.Open(filepath.Join(t.TempDir(), "site.git"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &site{log: gitlog.NewGitLog(r, gitlog.NewDeriver(r, quiet))}
}

func (s *site) post(t *testing.T, id, content string) events.Cursor {
	t.Helper()
	_, cur, err := s.log.Append(context.Background(), gitlog.Batch{Parent: s.head, Message: "post " + id + "\n",
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
	s, err := bus.EnsureStream(context.Background(), js, bus.StreamConfig{})
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

// commit makes one commit on main adding a post per id, and returns its
// events.
func (s *site) commit(t *testing.T, ids ...string) []events.Event {
	t.Helper()
	var changes []repo.Change
	for _, id := range ids {
		changes = append(changes, repo.Change{Path: "posts/2026/" + id + ".md", Data: []byte("---\nid: " + id + "\ntitle: " + id + "\n---\n" + id)})
	}
	evs, cur, err := s.log.Append(context.Background(), gitlog.Batch{Parent: s.head, Message: "posts " + strings.Join(ids, ", ") + "\n",
		Changes: changes, Author: repo.Signature{Name: "A", Email: "a@example.org", When: time.Unix(1700000000, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	s.head = cur.Commit
	return evs
}

// logIDs is the id of every event on main, in order.
func logIDs(t *testing.T, l *gitlog.GitLog) []string {
	t.Helper()
	var ids []string
	if err := l.Read(context.Background(), events.Cursor{}, func(e events.Event) error {
		ids = append(ids, e.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// streamIDs is the message id of every message in the stream, in order.
func streamIDs(t *testing.T, s jetstream.Stream) []string {
	t.Helper()
	ctx := context.Background()
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		ids = append(ids, m.Header.Get(jetstream.MsgIDHeader))
	}
	return ids
}

// sameIDs fails unless the stream holds exactly the log's events, in its
// order, each once.
func sameIDs(t *testing.T, stream jetstream.Stream, l *gitlog.GitLog) {
	t.Helper()
	got, want := streamIDs(t, stream), logIDs(t, l)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("the stream holds\n%s\nwant the log's\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The writer dies after committing and before publishing everything: one
// commit's events half published, a later commit not at all, and the
// server goes down with it. A new outbox on the same log and stream, after
// the restart, publishes exactly what is missing, in order, nothing twice.
func TestOutboxAfterACrashBetweenCommitAndPublish(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ns := runServer(t, dir, 0)
	port := ns.Addr().(*net.TCPAddr).Port
	nc, js, stream := connect(t, ns)
	s := newSite(t)
	s.post(t, "a", "published")
	if err := bus.NewOutbox(s.log, js, stream, quiet, bus.OutboxConfig{}).Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	published := streamIDs(t, stream)
	// A commit of three events of which the outbox got the first out, as
	// the outbox sends it: chained to the message before.
	evs := s.commit(t, "b", "c", "d")
	if len(evs) != 3 {
		t.Fatalf("a commit of three posts has %d events", len(evs))
	}
	m, err := bus.Message(&evs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.PublishMsg(ctx, m, jetstream.WithExpectLastMsgID(published[len(published)-1])); err != nil {
		t.Fatal(err)
	}
	// And one committed, never published.
	s.post(t, "e", "committed only")
	nc.Close()
	ns.Shutdown()
	ns.WaitForShutdown()
	// The restart: the same store, a new connection, a new outbox.
	ns = runServer(t, dir, port)
	_, js, stream = connect(t, ns)
	if n := count(t, stream); n != 2 {
		t.Fatalf("%d messages before the new outbox, want 2: the test does not test what it says", n)
	}
	o := bus.NewOutbox(s.log, js, stream, quiet, bus.OutboxConfig{})
	if err := o.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	sameIDs(t, stream, s.log)
	if got := o.Published(); got.Commit != s.head || !got.Done() {
		t.Fatalf("published up to %+v, want the whole of head %s", got, s.head)
	}
	// Another pass, and another outbox, find nothing left to publish.
	if err := o.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if err := bus.NewOutbox(s.log, js, stream, quiet, bus.OutboxConfig{}).Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	sameIDs(t, stream, s.log)
}

// The same event published twice is in the stream once: its message id
// is the event id, which the server remembers (also across a restart,
// from its store). So an outbox that republishes what another already
// published — a writer that sent its messages but crashed before the
// acknowledgements, then came back with what it knew — adds nothing, and
// carries on from there.
func TestRepublishedEventsAreDropped(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ns := runServer(t, dir, 0)
	port := ns.Addr().(*net.TCPAddr).Port
	_, js, stream := connect(t, ns)
	s := newSite(t)
	s.post(t, "a", "x")
	s.post(t, "b", "x")
	stale := bus.NewOutbox(s.log, js, stream, quiet, bus.OutboxConfig{})
	if err := stale.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	s.post(t, "c", "x")
	s.commit(t, "d", "e")
	if err := bus.NewOutbox(s.log, js, stream, quiet, bus.OutboxConfig{}).Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	sameIDs(t, stream, s.log)
	// The stale outbox still has b as the stream's last message: it sends
	// c, d and e again, chained to b.
	if err := stale.Reconcile(ctx); err != nil {
		t.Fatalf("republishing what the stream has: %v", err)
	}
	sameIDs(t, stream, s.log)
	if got := stale.Published(); got.Commit != s.head || !got.Done() {
		t.Fatalf("the stale outbox published up to %+v, want the whole of head %s", got, s.head)
	}
	// And it carries on from there.
	s.post(t, "f", "x")
	if err := stale.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	sameIDs(t, stream, s.log)

	// One event published by hand, before and after a server restart.
	var first events.Event
	if err := s.log.Read(ctx, events.Cursor{}, func(e events.Event) error {
		if first.ID == "" {
			first = e
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	republish := func(js jetstream.JetStream) {
		t.Helper()
		m, err := bus.Message(&first)
		if err != nil {
			t.Fatal(err)
		}
		ack, err := js.PublishMsg(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if !ack.Duplicate || ack.Sequence != 1 {
			t.Fatalf("the first event again: %+v, want a duplicate of message 1", ack)
		}
	}
	republish(js)
	ns.Shutdown()
	ns.WaitForShutdown()
	ns = runServer(t, dir, port)
	_, js, stream = connect(t, ns)
	republish(js)
	sameIDs(t, stream, s.log)
}

// Past the server's duplicate window the ids are forgotten, and the
// chain (each message names the one before it) is what keeps a stale
// outbox from publishing events again: the server refuses them, the
// outbox reports it, re-reads the stream's position and carries on from
// there, without a copy.
func TestStaleOutboxBeyondTheDuplicateWindow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := runServer(t, t.TempDir(), 0)
	_, js, stream := connect(t, ns)
	cfg := stream.CachedInfo().Config
	cfg.Duplicates = 200 * time.Millisecond
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	s := newSite(t)
	s.post(t, "a", "x")
	stale := bus.NewOutbox(s.log, js, stream, quiet, bus.OutboxConfig{Interval: 50 * time.Millisecond})
	if err := stale.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	b := s.commit(t, "b")
	s.post(t, "c", "x")
	if err := bus.NewOutbox(s.log, js, stream, quiet, bus.OutboxConfig{}).Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	wrongLast := func(err error) bool {
		var apiErr *jetstream.APIError
		return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.ErrorCode(server.JSStreamWrongLastMsgIDErrF)
	}
	// Wait for the server to forget b's id: a probe that names a wrong
	// last message stores nothing either way, acknowledged as a duplicate
	// while the id is remembered, refused once it is not.
	eventstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		m, err := bus.Message(&b[0])
		if err != nil {
			return err
		}
		ack, err := js.PublishMsg(ctx, m, jetstream.WithExpectLastMsgID("no such message"))
		if !wrongLast(err) {
			return fmt.Errorf("b's id still remembered: ack %+v, err %v", ack, err)
		}
		return nil
	})
	// b is no duplicate any more, but the stream's last message is c, not a.
	if err := stale.Reconcile(ctx); !wrongLast(err) {
		t.Fatalf("republishing b after a, with c last: %v", err)
	}
	sameIDs(t, stream, s.log)
	go stale.Run(ctx)
	eventstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if got := stale.Published(); got.Commit != s.head {
			return fmt.Errorf("the stale outbox is at %s, head %s, failure %v", got.Commit, s.head, stale.Failure())
		}
		return nil
	})
	s.post(t, "d", "x")
	stale.Kick()
	eventstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if got := stale.Published(); got.Commit != s.head || stale.Failure() != nil {
			return fmt.Errorf("the outbox is at %s, head %s, failure %v", got.Commit, s.head, stale.Failure())
		}
		return nil
	})
	sameIDs(t, stream, s.log)
}

// BeforePublish runs before each event is published, in order; while it
// fails, that event and the ones after it wait, and none is lost.
func TestOutboxRunsBeforePublishFirst(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := runServer(t, t.TempDir(), 0)
	_, js, stream := connect(t, ns)
	s := newSite(t)
	a, b := s.post(t, "a", "first"), s.post(t, "b", "second")
	var mu sync.Mutex
	refuse := "b"
	var seen []string
	before := func(_ context.Context, e events.Event) error {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(e.ID, refuse) {
			return errors.New("its original is not shared yet")
		}
		// The stream holds none of this event or those after it.
		if n := count(t, stream); n > uint64(len(seen)) {
			t.Errorf("%d events published before %s, want at most %d", n, e.ID, len(seen))
		}
		seen = append(seen, e.ID)
		return nil
	}
	refuse = b.Commit
	o := bus.NewOutbox(s.log, js, stream, quiet, bus.OutboxConfig{Interval: 50 * time.Millisecond, BeforePublish: before})
	go o.Run(ctx)
	eventstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if o.Failure() == nil || count(t, stream) != 1 {
			return fmt.Errorf("failure %v, %d messages", o.Failure(), count(t, stream))
		}
		return nil
	})
	if o.Published() != a {
		t.Fatalf("published up to %+v, want %+v", o.Published(), a)
	}
	mu.Lock()
	refuse = "none"
	mu.Unlock()
	eventstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if o.Failure() != nil || count(t, stream) != 2 {
			return fmt.Errorf("failure %v, %d messages", o.Failure(), count(t, stream))
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("before ran for %v", seen)
	}
}
