package projections_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/repo"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	log    *events.GitLog
	js     jetstream.JetStream
	stream jetstream.Stream
	outbox *bus.Outbox
	head   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	r, err := repo.Open(filepath.Join(dir, "site.git"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ns, nc, err := bus.StartEmbedded(bus.EmbeddedConfig{StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close(); ns.Shutdown(); ns.WaitForShutdown() })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := bus.EnsureStream(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	l := events.NewGitLog(r, events.NewDeriver(r, quiet))
	return &env{log: l, js: js, stream: s, outbox: bus.NewOutbox(l, js, s, quiet, bus.OutboxConfig{})}
}

func (e *env) commit(t *testing.T, changes ...repo.Change) events.Cursor {
	t.Helper()
	_, cur, err := e.log.Append(context.Background(), events.Batch{Parent: e.head, Changes: changes, Message: "x\n",
		Author: repo.Signature{Name: "A", Email: "a@example.org", When: time.Unix(1700000000, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	e.head = cur.Commit
	return cur
}

func post(id, title string) repo.Change {
	return repo.Change{Path: "posts/2026/" + id + ".md", Data: []byte("---\nid: " + id + "\ntitle: " + title + "\ncreated_at: 2026-01-01T00:00:00Z\n---\n")}
}

func (e *env) msgs(t *testing.T) uint64 {
	info, err := e.stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestOutboxPublishesEachEventOnceAndResumesMidCommit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.commit(t, post("a", "A"), post("b", "B"))
	e.commit(t, repo.Change{Path: "README", Data: []byte("no events")})
	if err := e.outbox.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.msgs(t); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}
	// A fresh outbox (a restart) publishes nothing twice.
	if err := bus.NewOutbox(e.log, e.js, e.stream, quiet, bus.OutboxConfig{}).Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.msgs(t); n != 2 {
		t.Fatalf("%d messages after a second pass, want 2", n)
	}
	// A crash after the first of a commit's three events: the next outbox
	// publishes exactly the other two.
	cur := e.commit(t, post("c", "C"), post("d", "D"), post("f", "F"))
	var first events.Event
	e.log.Read(ctx, events.Cursor{Commit: cur.Commit, Height: cur.Height, Index: -1, Count: 3}, func(ev events.Event) error {
		if ev.Index == 0 {
			first = ev
		}
		return nil
	})
	m, _ := bus.Message(&first)
	if _, err := e.js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := bus.NewOutbox(e.log, e.js, e.stream, quiet, bus.OutboxConfig{}).Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.msgs(t); n != 5 {
		t.Fatalf("%d messages, want 5", n)
	}
}

func TestProjectionSkipsWhatItAppliedAndWaits(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cat, err := catalogue.Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	rt := projections.NewRuntime(e.js, e.stream, quiet, projections.RuntimeConfig{}, cat)
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var last events.Cursor
	for i := 0; i < 20; i++ {
		last = e.commit(t, post(fmt.Sprintf("p%d", i%5), fmt.Sprintf("Title %d", i)))
	}
	go e.outbox.Run(ctx)
	e.outbox.Kick()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := rt.WaitFor(wctx, last); err != nil {
		t.Fatal(err)
	}
	p, _ := cat.Post("p4")
	if p.Version != 4 || p.Title != "Title 19" {
		t.Fatalf("p4: version %d title %q", p.Version, p.Title)
	}
	// The same events again under other message ids (as after the stream
	// was recreated and republished): the checkpoint makes them no-ops.
	err = e.log.Read(ctx, events.Cursor{}, func(ev events.Event) error {
		m, _ := bus.Message(&ev)
		m.Header.Set(jetstream.MsgIDHeader, "again-"+ev.ID)
		_, err := e.js.PublishMsg(ctx, m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	after := e.commit(t, post("p0", "Final"))
	e.outbox.Kick()
	if err := rt.WaitFor(wctx, after); err != nil {
		t.Fatal(err)
	}
	if p, _ := cat.Post("p4"); p.Version != 4 {
		t.Fatalf("redelivered events applied again: p4 at version %d", p.Version)
	}
	if p, _ := cat.Post("p0"); p.Version != 5 || p.Title != "Final" {
		t.Fatalf("p0: version %d title %q", p.Version, p.Title)
	}
	if !rt.Reached(after) {
		t.Fatal("Reached is false after WaitFor")
	}
	cancel()
	rt.Wait()
}
