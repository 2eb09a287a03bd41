package projections_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/repo"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	log    *gitlog.GitLog
	js     jetstream.JetStream
	stream jetstream.Stream
	outbox *bus.Outbox
	head   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ns, nc, err := bus.StartEmbedded(bus.EmbeddedConfig{StoreDir: filepath.Join(t.TempDir(), "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close(); ns.Shutdown(); ns.WaitForShutdown() })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := bus.EnsureStream(context.Background(), js, bus.StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	l := newLog(t)
	return &env{log: l, js: js, stream: s, outbox: bus.NewOutbox(l, js, s, quiet, bus.OutboxConfig{})}
}

// newLog is the log of a new repository.
func newLog(t *testing.T) *gitlog.GitLog {
	t.Helper()
	r, err := repo.Open(filepath.Join(t.TempDir(), "site.git"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return gitlog.NewGitLog(r, gitlog.NewDeriver(r, quiet))
}

func (e *env) commit(t *testing.T, changes ...repo.Change) events.Cursor {
	t.Helper()
	_, cur, err := e.log.Append(context.Background(), gitlog.Batch{Parent: e.head, Changes: changes, Message: "x\n",
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

// flaky is a projection that fails while fail says so, recording what it
// applied.
type flaky struct {
	projections.Projection
	fail func(evs []events.Event) error

	mu      sync.Mutex
	applied []string // event ids, in the order applied
	tries   int
}

func (f *flaky) Apply(ctx context.Context, evs []events.Event, cp projections.Checkpoint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries++
	if err := f.fail(evs); err != nil {
		return err
	}
	if err := f.Projection.Apply(ctx, evs, cp); err != nil {
		return err
	}
	for _, e := range evs {
		f.applied = append(f.applied, e.ID)
	}
	return nil
}

func (f *flaky) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.applied...)
}

func openCatalogue(t *testing.T) *catalogue.Catalogue {
	t.Helper()
	cat, err := catalogue.Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	return cat
}

// touches reports whether a batch holds the event of post id.
func touches(evs []events.Event, id string) bool {
	for _, e := range evs {
		if e.Subject == "post/"+id {
			return true
		}
	}
	return false
}

// allIDs lists the ids of every event in the log.
func (e *env) allIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	if err := e.log.Read(context.Background(), events.Cursor{}, func(ev events.Event) error {
		ids = append(ids, ev.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// sameAsRebuild checks that cat holds what a fresh rebuild from git holds.
func (e *env) sameAsRebuild(t *testing.T, cat *catalogue.Catalogue, ids ...string) {
	t.Helper()
	fresh := openCatalogue(t)
	if err := projections.Rebuild(context.Background(), []projections.Projection{fresh}, e.log, nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		got, _ := cat.Post(id)
		want, _ := fresh.Post(id)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("post %s: projection has %+v, a rebuild %+v", id, got, want)
		}
	}
}

// A projection that fails several times on one event, while the events
// after it are already delivered, applies every event exactly once and
// in order once it recovers, and ends as a rebuild would.
func TestProjectionRetriesAFailedEventNeverSkipsIt(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failures := 0
	trying, release := make(chan struct{}), make(chan struct{})
	f := &flaky{Projection: openCatalogue(t), fail: func(evs []events.Event) error {
		if touches(evs, "p3") && failures < 3 {
			if failures++; failures == 1 {
				close(trying)
				<-release // meanwhile, the events after it arrive
			}
			return fmt.Errorf("failure %d on p3", failures)
		}
		return nil
	}}
	rt := projections.NewRuntime(e.js, e.stream, quiet, projections.RuntimeConfig{Backoff: 20 * time.Millisecond}, f)
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		e.commit(t, post(fmt.Sprintf("p%d", i), fmt.Sprintf("Title %d", i)))
		if err := e.outbox.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
	}
	<-trying
	var last events.Cursor
	for i := 4; i < 8; i++ {
		last = e.commit(t, post(fmt.Sprintf("p%d", i), fmt.Sprintf("Title %d", i)))
	}
	last = e.commit(t, post("p3", "Changed"), post("p9", "Nine"))
	if err := e.outbox.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // delivered to the consumer, waiting behind p3
	close(release)
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	if err := rt.WaitFor(wctx, last); err != nil {
		t.Fatalf("not caught up after %d failures: %v", failures, err)
	}
	if got, want := f.ids(), e.allIDs(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("applied\n%v\nwant each event once, in order\n%v", got, want)
	}
	if failures != 3 {
		t.Fatalf("failed %d times, want 3", failures)
	}
	if err := rt.Health(); err != nil {
		t.Fatalf("still reported stopped: %v", err)
	}
	e.sameAsRebuild(t, f.Projection.(*catalogue.Catalogue), "p0", "p3", "p7", "p9")
	cancel()
	rt.Wait()
}

// A projection whose event keeps failing stops there: nothing after it is
// applied, it says why, and it resumes by itself once the cause is gone.
func TestPoisonEventHaltsTheProjectionUntilFixed(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	missing := filepath.Join(t.TempDir(), "needed-file")
	release := make(chan struct{})
	f := &flaky{Projection: openCatalogue(t), fail: func(evs []events.Event) error {
		if touches(evs, "p0") {
			<-release // until p1…p4 wait behind it, to come in one batch
		}
		if touches(evs, "p2") {
			if _, err := os.Stat(missing); err != nil {
				return fmt.Errorf("cannot apply p2: %w", err)
			}
		}
		return nil
	}}
	rt := projections.NewRuntime(e.js, e.stream, quiet, projections.RuntimeConfig{Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}, f)
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var cursors []events.Cursor
	for i := range 5 {
		cursors = append(cursors, e.commit(t, post(fmt.Sprintf("p%d", i), "T")))
	}
	if err := e.outbox.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	// p1 comes in one batch with the poison event p2: the projection must
	// still stop exactly before p2, with p1 applied.
	time.Sleep(300 * time.Millisecond)
	close(release)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := rt.WaitFor(wctx, cursors[1]); err != nil {
		t.Fatal(err)
	}
	// Several tries, and stopped now.
	eventstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		f.mu.Lock()
		tries := f.tries
		f.mu.Unlock()
		if err := rt.Health(); tries < 6 || err == nil {
			return fmt.Errorf("%d tries so far, health %v", tries, err)
		}
		return nil
	})
	err := rt.Health()
	if err == nil || !strings.Contains(err.Error(), "catalogue") || !strings.Contains(err.Error(), "needed-file") {
		t.Fatalf("health: %v", err)
	}
	if rt.Reached(cursors[2]) {
		t.Fatal("the poison event counts as applied")
	}
	if got := f.ids(); len(got) != 2 {
		t.Fatalf("applied past the poison event: %v", got)
	}
	if err := os.WriteFile(missing, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rt.WaitFor(wctx, cursors[4]); err != nil {
		t.Fatalf("did not resume once the file was back: %v", err)
	}
	if got, want := f.ids(), e.allIDs(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("applied %v, want %v", got, want)
	}
	if err := rt.Health(); err != nil {
		t.Fatalf("still stopped: %v", err)
	}
	cancel()
	rt.Wait()
}

// A consumer lost with nothing behind it (deleted by an operator, a
// failover) is recreated, and the projection is not left reported as
// stopped for want of an event to apply.
func TestLostConsumerWithNothingPendingIsNotAStop(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cat := openCatalogue(t)
	rt := projections.NewRuntime(e.js, e.stream, quiet, projections.RuntimeConfig{Backoff: 10 * time.Millisecond}, cat)
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	last := e.commit(t, post("p0", "T"))
	if err := e.outbox.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := rt.WaitFor(wctx, last); err != nil {
		t.Fatal(err)
	}
	if err := e.stream.DeleteConsumer(ctx, cat.Name()); err != nil {
		t.Fatal(err)
	}
	eventstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if _, err := e.stream.Consumer(ctx, cat.Name()); err != nil {
			return fmt.Errorf("consumer not recreated: %w", err)
		}
		return rt.Health()
	})
	next := e.commit(t, post("p1", "T"))
	if err := e.outbox.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rt.WaitFor(wctx, next); err != nil {
		t.Fatal(err)
	}
	cancel()
	rt.Wait()
}

// A stream that no longer starts at sequence 1 (purged, or limited by
// age or size) lacks the first events: a projection without a checkpoint
// halts with ErrGap, saying so, rather than apply the rest without them.
// Built from git up to a commit, it attaches just after that commit's
// events in the stream and applies the rest, none twice.
func TestStreamNotStartingAtOne(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range 4 {
		e.commit(t, post(fmt.Sprintf("p%d", i), "T"))
	}
	if err := e.outbox.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.stream.Purge(ctx, jetstream.WithPurgeKeep(2)); err != nil {
		t.Fatal(err)
	}
	cat := openCatalogue(t)
	rt := projections.NewRuntime(e.js, e.stream, quiet, projections.RuntimeConfig{Backoff: 10 * time.Millisecond}, cat)
	rctx, rcancel := context.WithCancel(ctx)
	if err := rt.Start(rctx); err != nil {
		t.Fatal(err)
	}
	eventstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if h := rt.Halted(); len(h) != 1 || !errors.Is(h[0].Err, projections.ErrGap) {
			return fmt.Errorf("halted: %v, want ErrGap", h)
		}
		return nil
	})
	if _, ok := cat.Post("p2"); ok {
		t.Fatal("an event after the gap was applied")
	}
	rcancel()
	rt.Wait()

	// Built from git (as a read node's bootstrap does), then two more
	// commits, one published before the runtime starts.
	if err := projections.Rebuild(ctx, []projections.Projection{cat}, e.log, nil); err != nil {
		t.Fatal(err)
	}
	e.commit(t, post("p4", "T"))
	if err := e.outbox.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	rt = projections.NewRuntime(e.js, e.stream, quiet, projections.RuntimeConfig{Backoff: 10 * time.Millisecond}, cat)
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	last := e.commit(t, post("p5", "T"))
	if err := e.outbox.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := rt.WaitFor(wctx, last); err != nil {
		t.Fatalf("%v (health: %v)", err, rt.Health())
	}
	for i := range 6 {
		if _, ok := cat.Post(fmt.Sprintf("p%d", i)); !ok {
			t.Fatalf("p%d missing", i)
		}
	}
	if cp := cat.Checkpoint(); cp.Cursor != last || cp.Seq == 0 {
		t.Fatalf("checkpoint %+v, want %+v with its sequence", cp, last)
	}
	cancel()
	rt.Wait()
}

// CatchUp feeds each projection from git what is after its own
// checkpoint, once; a runtime started after it applies none of the
// backlog again, whether already in the stream when it attaches (skipped
// by position) or published after (passed over from the headers), and
// then applies new events.
func TestCatchUpFromGitThenAttach(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	none := func([]events.Event) error { return nil }
	empty, ahead := &flaky{Projection: openCatalogue(t), fail: none}, &flaky{Projection: openCatalogue(t), fail: none}
	for i := 0; i < 10; i++ {
		e.commit(t, post(fmt.Sprintf("p%d", i%4), fmt.Sprintf("Title %d", i)))
	}
	if _, err := projections.CatchUp(ctx, []projections.Projection{ahead}, e.log, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.outbox.Reconcile(ctx); err != nil { // the stream holds the first 10 commits' events
		t.Fatal(err)
	}
	first := len(e.allIDs(t))
	var head events.Cursor
	for i := 10; i < 20; i++ {
		head = e.commit(t, post(fmt.Sprintf("p%d", i%4), fmt.Sprintf("Title %d", i)))
	}
	reached, err := projections.CatchUp(ctx, []projections.Projection{empty, ahead}, e.log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reached != head {
		t.Fatalf("CatchUp reached %+v, want the head %+v", reached, head)
	}
	all := e.allIDs(t)
	if got := empty.ids(); !reflect.DeepEqual(got, all) {
		t.Fatalf("the empty projection applied %v, want every event once: %v", got, all)
	}
	if got := ahead.ids(); !reflect.DeepEqual(got, all) {
		t.Fatalf("the projection already at commit 10 applied %v in all, want every event once: %v", got, all)
	}
	if first == 0 || first == len(all) {
		t.Fatalf("%d of %d events before the second CatchUp: the test needs some", first, len(all))
	}

	// Two consumers, two names.
	rt := projections.NewRuntime(e.js, e.stream, quiet, projections.RuntimeConfig{}, empty, named{ahead, "ahead"})
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	go e.outbox.Run(ctx)
	after := e.commit(t, post("p9", "After"))
	e.outbox.Kick()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := rt.WaitFor(wctx, after); err != nil {
		t.Fatal(err)
	}
	all = e.allIDs(t)
	for _, f := range []*flaky{empty, ahead} {
		if got := f.ids(); !reflect.DeepEqual(got, all) {
			t.Fatalf("after attaching, applied %v, want every event once: %v", got, all)
		}
	}
	if hs := rt.Halted(); len(hs) > 0 {
		t.Fatalf("halted: %+v", hs)
	}
	e.sameAsRebuild(t, empty.Projection.(*catalogue.Catalogue), "p0", "p1", "p2", "p3", "p9")
	cancel()
	rt.Wait()
}

// named gives a projection another name (and so its own consumer).
type named struct {
	projections.Projection
	name string
}

func (n named) Name() string { return n.name }

// A projection that falls behind while it runs (here it fails while the
// stream drops the events it has not applied) is handed to Recover, and
// held meanwhile, with the others going on: a failed attempt is retried
// after the backoff, Recovery says how it goes, and once past the gap the
// projection follows the stream again, every event applied once.
func TestGapWhileRunningIsRecovered(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stuck atomic.Bool
	behind := &flaky{Projection: openCatalogue(t), fail: func([]events.Event) error {
		if stuck.Load() {
			return errors.New("disk full")
		}
		return nil
	}}
	other := &flaky{Projection: openCatalogue(t), fail: func([]events.Event) error { return nil }}
	var calls atomic.Int32
	attempting, release := make(chan struct{}), make(chan struct{})
	recover := func(ctx context.Context, ps []projections.Projection, why []error, status func(string)) error {
		if len(ps) != 1 || ps[0] != projections.Projection(behind) || len(why) != 1 || !errors.Is(why[0], projections.ErrGap) {
			return fmt.Errorf("asked to recover %v (%v), want only the projection behind, with its gap", ps, why)
		}
		switch calls.Add(1) {
		case 1:
			// It fails until now: events its consumer held before the
			// purge are not applied after it.
			stuck.Store(false)
			return errors.New("the writer is unreachable")
		case 2:
			status("fetching")
			close(attempting)
			<-release
		}
		_, err := projections.CatchUp(ctx, ps, e.log, nil)
		return err
	}
	rt := projections.NewRuntime(e.js, e.stream, quiet, projections.RuntimeConfig{Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Recover: recover}, behind, named{other, "other"})
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	publish := func(ids ...string) (last events.Cursor) {
		for _, id := range ids {
			last = e.commit(t, post(id, "T"))
		}
		if err := e.outbox.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		return last
	}
	if err := rt.WaitFor(wctx, publish("p0", "p1")); err != nil {
		t.Fatal(err)
	}
	stuck.Store(true)
	p3 := publish("p2", "p3")
	eventstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if other.Checkpoint().Cursor != p3 || len(rt.Halted()) == 0 {
			return fmt.Errorf("other at %+v, halted %v", other.Checkpoint(), rt.Halted())
		}
		return nil
	})
	if err := e.stream.Purge(ctx, jetstream.WithPurgeKeep(1)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-attempting:
	case <-wctx.Done():
		t.Fatalf("no second attempt: %d calls, recovery %v, halted %v", calls.Load(), rt.Recovery(), rt.Halted())
	}
	if err := rt.Recovery(); err == nil || !strings.Contains(err.Error(), "attempt 2: fetching") || !errors.Is(err, projections.ErrGap) {
		t.Fatalf("Recovery during the second attempt: %v", err)
	}
	if _, ok := behind.Projection.(*catalogue.Catalogue).Post("p2"); ok {
		t.Fatal("an event after the gap was applied before the recovery")
	}
	close(release)
	if err := rt.WaitFor(wctx, p3); err != nil {
		t.Fatalf("%v (recovery: %v)", err, rt.Recovery())
	}
	last := publish("p4")
	if err := rt.WaitFor(wctx, last); err != nil {
		t.Fatalf("%v (health: %v)", err, rt.Health())
	}
	if err := rt.Recovery(); err != nil || calls.Load() != 2 {
		t.Fatalf("after the recovery: %v, %d calls", err, calls.Load())
	}
	all := e.allIDs(t)
	for _, f := range []*flaky{behind, other} {
		if got := f.ids(); !reflect.DeepEqual(got, all) {
			t.Fatalf("applied %v, want every event once: %v", got, all)
		}
	}
	if cp := behind.Checkpoint(); cp.Cursor != last || cp.Seq == 0 {
		t.Fatalf("checkpoint %+v, want %+v with its sequence: it follows the stream again", cp, last)
	}
	e.sameAsRebuild(t, behind.Projection.(*catalogue.Catalogue), "p0", "p1", "p2", "p3", "p4")
	cancel()
	rt.Wait()
}

// another is a second repository publishing to e's stream: a writer
// whose data was replaced, or restored from an older backup.
func (e *env) another(t *testing.T) *env {
	t.Helper()
	l := newLog(t)
	return &env{log: l, js: e.js, stream: e.stream, outbox: bus.NewOutbox(l, e.js, e.stream, quiet, bus.OutboxConfig{})}
}

// When the stream stops following a projection's history (the writer's
// repository replaced, and the stream purged and published again from
// it), a runtime with RecoverDiverged hands the projection to Recover,
// which puts it onto the stream's history (here, Forget and CatchUp
// from the new repository, as a read node's bootstrap does); it then
// follows the stream again, equal to a rebuild of the new history. A
// runtime without it (the writer's) halts with ErrDiverged, and never
// calls Recover for it.
func TestDivergedProjectionIsRecoveredWhereAllowed(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.commit(t, post("a0", "Old"))
	old := e.commit(t, post("a1", "Old"))
	if err := e.outbox.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	b := e.another(t)
	var calls [2]atomic.Int32
	recoverFrom := func(i int) projections.RecoverFunc {
		return func(ctx context.Context, ps []projections.Projection, why []error, status func(string)) error {
			calls[i].Add(1)
			var de *projections.DivergedError
			if len(why) != 1 || !errors.As(why[0], &de) || de.Commit != old.Commit || de.Event.Height != old.Height || de.Event.Commit == old.Commit {
				return fmt.Errorf("%w: why %v, want the new history's event at the height of %s", projections.ErrCannotRecover, why, old.Commit)
			}
			for _, p := range ps {
				if err := projections.Forget(p); err != nil {
					return err
				}
			}
			_, err := projections.CatchUp(ctx, ps, b.log, nil)
			return err
		}
	}
	reader, writer := openCatalogue(t), openCatalogue(t)
	cfg := projections.RuntimeConfig{Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	rcfg, wcfg := cfg, cfg
	rcfg.Node, rcfg.Recover, rcfg.RecoverDiverged = "reader", recoverFrom(0), true
	wcfg.Node, wcfg.Recover = "writer", recoverFrom(1)
	rrt := projections.NewRuntime(e.js, e.stream, quiet, rcfg, reader)
	wrt := projections.NewRuntime(e.js, e.stream, quiet, wcfg, writer)
	for _, rt := range []*projections.Runtime{rrt, wrt} {
		if err := rt.Start(ctx); err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		err := rt.WaitFor(wctx, old)
		wcancel()
		if err != nil {
			t.Fatal(err)
		}
	}

	// The new history passes the old one's height: the event at the
	// projections' height is another commit's.
	if err := e.stream.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	var recovered events.Cursor
	for _, id := range []string{"b0", "b1", "b2"} {
		recovered = b.commit(t, post(id, "New"))
	}
	if err := b.outbox.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	eventstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if h := wrt.Halted(); len(h) != 1 || !errors.Is(h[0].Err, projections.ErrDiverged) {
			return fmt.Errorf("the writer's runtime: halted %v, want ErrDiverged", h)
		}
		if reader.Checkpoint().Cursor != recovered || len(rrt.Halted()) > 0 {
			return fmt.Errorf("the reader at %+v, halted %v", reader.Checkpoint(), rrt.Halted())
		}
		return nil
	})
	last := b.commit(t, post("b3", "New"))
	if err := b.outbox.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := rrt.WaitFor(wctx, last); err != nil {
		t.Fatalf("%v (recovery: %v, health: %v)", err, rrt.Recovery(), rrt.Health())
	}
	if cp := reader.Checkpoint(); cp.Cursor != last || cp.Seq == 0 {
		t.Fatalf("checkpoint %+v, want %+v with its sequence: it follows the stream again", cp, last)
	}
	for _, id := range []string{"a0", "a1"} {
		if _, ok := reader.Post(id); ok {
			t.Fatalf("post %s of the old history is still there", id)
		}
	}
	b.sameAsRebuild(t, reader, "b0", "b1", "b2", "b3")
	if h := rrt.Halted(); len(h) > 0 {
		t.Fatalf("the reader halted: %v", h)
	}
	if n := calls[0].Load(); n != 1 {
		t.Fatalf("Recover called %d times on the reader, want once", n)
	}
	if n := calls[1].Load(); n != 0 {
		t.Fatalf("Recover called %d times on the writer, whose history is the truth: want never", n)
	}
	if _, ok := writer.Post("a1"); !ok || writer.Checkpoint().Cursor != old {
		t.Fatalf("the writer's projection moved: at %+v", writer.Checkpoint())
	}
	cancel()
	rrt.Wait()
	wrt.Wait()
}
