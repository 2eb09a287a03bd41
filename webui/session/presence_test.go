package session

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events/eventstest"
)

// Two nodes' views of one bucket, on a real nats-server: each sees the
// other's editors, keeps its first "since", and an editor without a
// heartbeat drops out after the TTL.
func TestPresence(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	ctx := context.Background()
	open := func() *Presence {
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		p, err := OpenPresence(ctx, js, time.Second, 1)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := open(), open()
	if err := a.Touch(ctx, "post1", "ann@example.org", "Ann"); err != nil {
		t.Fatal(err)
	}
	first := time.Now()
	time.Sleep(50 * time.Millisecond)
	if err := b.Touch(ctx, "post1", "bob@example.org", "Bob"); err != nil {
		t.Fatal(err)
	}
	if err := b.Touch(ctx, "post2", "carl@example.org", "Carl"); err != nil {
		t.Fatal(err)
	}
	others, err := b.Others(ctx, "post1", "bob@example.org")
	if err != nil || len(others) != 1 || others[0].Email != "ann@example.org" || others[0].Name != "Ann" {
		t.Fatalf("bob sees %+v, %v", others, err)
	}
	since := others[0].Since
	if err := a.Touch(ctx, "post1", "ann@example.org", "Ann"); err != nil { // a heartbeat
		t.Fatal(err)
	}
	if o, _ := b.Others(ctx, "post1", "bob@example.org"); len(o) != 1 || !o[0].Since.Equal(since) || since.After(first) {
		t.Fatalf("a heartbeat moved since: %+v, was %v", o, since)
	}
	// Bob keeps his heartbeat up; Ann stops: she drops out after the TTL.
	eventstest.CheckFor(t, 10*time.Second, 100*time.Millisecond, func() error {
		b.Touch(ctx, "post1", "bob@example.org", "Bob")
		o, err := b.Others(ctx, "post1", "bob@example.org")
		if err != nil || len(o) != 0 {
			return fmt.Errorf("bob still sees %+v (%v)", o, err)
		}
		return nil
	})
	if o, _ := a.Others(ctx, "post1", "ann@example.org"); len(o) != 1 || o[0].Email != "bob@example.org" {
		t.Fatalf("ann sees %+v", o)
	}
	if err := b.Leave(ctx, "post1", "bob@example.org"); err != nil {
		t.Fatal(err)
	}
	if o, _ := a.Others(ctx, "post1", "ann@example.org"); len(o) != 0 {
		t.Fatalf("bob left but ann sees %+v", o)
	}
}
