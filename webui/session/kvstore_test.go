package session

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Two nodes' stores on one sessions bucket, on a real nats-server: a
// session one commits the other finds, until it expires or either
// deletes it; the bucket holds digests, never a token.
func TestKVStoreSharedByNodes(t *testing.T) {
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
	var kvs []jetstream.KeyValue
	open := func() *KVStore {
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		s, err := OpenKV(ctx, js, time.Hour, 1)
		if err != nil {
			t.Fatal(err)
		}
		kvs = append(kvs, s.kv)
		return s
	}
	a, b := open(), open()
	now := time.Now()
	b.now = func() time.Time { return now }
	const token = "tok-abcdefghijklmnopqrstuvwxyz0123456789"
	if _, ok, err := b.Find(token); ok || err != nil {
		t.Fatalf("unknown token: found %v, %v", ok, err)
	}
	if err := a.Commit(token, []byte("data-1"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := b.Find(token); !ok || err != nil || string(got) != "data-1" {
		t.Fatalf("the other node finds %q %v %v", got, ok, err)
	}
	keys, err := kvs[0].Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		e, _ := kvs[0].Get(ctx, k)
		if strings.Contains(k, "tok-") || strings.Contains(string(e.Value()), "tok-") {
			t.Fatalf("the bucket holds the token: %s", k)
		}
	}
	if err := a.Commit("other", []byte("x"), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if _, ok, _ := b.Find("other"); ok {
		t.Fatal("an expired session was found")
	}
	if err := b.Delete(token); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := a.Find(token); ok || err != nil {
		t.Fatalf("deleted on one node, the other finds it: %v %v", ok, err)
	}
	if err := a.Delete("never-was"); err != nil {
		t.Fatal(err)
	}
}
