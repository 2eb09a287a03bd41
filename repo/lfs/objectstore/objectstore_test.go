package objectstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/repo/lfs"
)

// startJetStream runs an in-process nats-server with JetStream.
func startJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	ns, err := server.NewServer(&server.Options{JetStream: true, StoreDir: t.TempDir(), DontListen: true, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// stored puts b in an LFS store in dir and returns its id.
func stored(t *testing.T, dir string, b []byte) string {
	t.Helper()
	sum := sha256.Sum256(b)
	oid := hex.EncodeToString(sum[:])
	p := lfs.ObjectPath(dir, oid)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return oid
}

func TestOriginalsReachAnotherNodesCache(t *testing.T) {
	ctx := context.Background()
	js := startJetStream(t)
	writer, err := Open(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	lfsDir := t.TempDir()
	small := bytes.Repeat([]byte("a picture, "), 1000)
	big := bytes.Repeat([]byte{7, 1, 3}, 300_000) // several chunks
	a, b := stored(t, lfsDir, small), stored(t, lfsDir, big)
	if err := writer.Put(ctx, lfsDir, a); err != nil {
		t.Fatal(err)
	}
	first, err := writer.obs.GetInfo(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.Put(ctx, lfsDir, a); err != nil { // again: nothing sent
		t.Fatal(err)
	}
	if again, err := writer.obs.GetInfo(ctx, a); err != nil || again.NUID != first.NUID {
		t.Fatalf("putting the same original again stored it again (%v)", err)
	}
	// Stored before sharing began: the backfill shares it.
	if n, err := writer.Backfill(ctx, lfsDir); err != nil || n != 2 {
		t.Fatalf("backfill: %d objects, %v", n, err)
	}
	if err := writer.Put(ctx, lfsDir, stringOID("0")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("putting an object the store lacks: %v", err)
	}

	// Another node, with only the bucket.
	reader, err := Open(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	cacheDir := t.TempDir()
	c := NewCache(reader, cacheDir, int64(len(big))+10) // room for one of the two
	for _, tc := range []struct {
		oid  string
		want []byte
	}{{a, small}, {b, big}, {a, small}} {
		p, err := c.Path(ctx, tc.oid)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Fatalf("%s: %d bytes, %v", tc.oid[:8], len(got), err)
		}
	}
	// Bounded: fetching a again dropped b, read less recently.
	if _, err := os.Stat(c.path(b)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the cache kept both originals past its bound: %v", err)
	}
	if _, err := c.Path(ctx, stringOID("1")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("an original in no bucket: %v", err)
	}
	if _, err := c.Path(ctx, "../../etc/passwd"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a name that is no SHA-256: %v", err)
	}

	// Bytes that do not hash to their name are refused, not cached.
	forged := stringOID("2")
	if _, err := reader.obs.PutBytes(ctx, forged, []byte("not these bytes")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Path(ctx, forged); err == nil {
		t.Fatal("bytes under another's name were accepted")
	}
	if _, err := os.Stat(c.path(forged)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("forged bytes were cached")
	}
}

func stringOID(digit string) string { return string(bytes.Repeat([]byte(digit), 64)) }
