// Package objectstore shares the LFS store's originals through a JetStream
// Object Store bucket, so that nodes without the writer's disk can read
// them. The writer puts every original it holds (Put, Backfill), keyed by
// its SHA-256, before the event naming it is published; a read node
// fetches an original the first time it needs one into a bounded cache on
// its own disk (Cache.Path), checking the bytes against their name.
package objectstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/repo/lfs"
)

// Bucket is the Object Store bucket the originals live in.
const Bucket = "chronicle-media"

// Store is the bucket of originals.
type Store struct {
	obs jetstream.ObjectStore

	mu sync.Mutex // one put at a time: never the same object twice at once
}

// putTimeout bounds one put, so a NATS that stops answering fails the
// outbox's pass (which retries) instead of holding it for ever.
const putTimeout = 2 * time.Minute

// Open opens the bucket, creating it if no node has yet.
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Store, error) {
	if replicas <= 0 {
		replicas = 1
	}
	obs, err := js.ObjectStore(ctx, Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		obs, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: Bucket, Replicas: replicas,
			Description: "Chronicle's media originals, by SHA-256", Storage: jetstream.FileStorage})
		if errors.Is(err, jetstream.ErrBucketExists) { // another node was first
			obs, err = js.ObjectStore(ctx, Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", Bucket, err)
	}
	return &Store{obs: obs}, nil
}

// Put copies the object oid of the LFS store in dir into the bucket,
// unless the bucket has it already: putting twice is harmless.
func (s *Store) Put(ctx context.Context, dir, oid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, putTimeout)
	defer cancel()
	path, err := lfs.Local(dir).Path(ctx, oid)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	info, err := s.obs.GetInfo(ctx, oid)
	switch {
	case err == nil && !info.Deleted && info.Size == uint64(st.Size()):
	case err == nil || errors.Is(err, jetstream.ErrObjectNotFound):
		if _, err := s.obs.Put(ctx, jetstream.ObjectMeta{Name: oid}, f); err != nil {
			return fmt.Errorf("put original %s: %w", oid[:12], err)
		}
	default:
		return fmt.Errorf("look up original %s: %w", oid[:12], err)
	}
	return nil
}

// Backfill puts every object of the LFS store in dir that the bucket
// lacks: the originals stored before this node shared them. It returns
// how many it looked at.
func (s *Store) Backfill(ctx context.Context, dir string) (int, error) {
	n := 0
	err := lfs.Walk(dir, func(oid string) error {
		n++
		return s.Put(ctx, dir, oid)
	})
	return n, err
}

// Cache keeps the originals a read node fetched from the bucket on its
// disk, up to a size, dropping those read least recently first.
type Cache struct {
	store    *Store
	dir      string
	maxBytes int64

	mu       sync.Mutex
	fetching map[string]*fetch
}

type fetch struct {
	done chan struct{}
	err  error
}

// NewCache returns a cache in dir of at most maxBytes (default 1 GiB; an
// original larger than that is still fetched, and kept alone).
func NewCache(s *Store, dir string, maxBytes int64) *Cache {
	if maxBytes <= 0 {
		maxBytes = 1 << 30
	}
	// Fetches a crash interrupted.
	partial, _ := filepath.Glob(filepath.Join(dir, "*", ".fetch-*"))
	for _, p := range partial {
		os.Remove(p)
	}
	return &Cache{store: s, dir: dir, maxBytes: maxBytes, fetching: map[string]*fetch{}}
}

func (c *Cache) path(oid string) string { return filepath.Join(c.dir, oid[:2], oid) }

// Path returns where the original oid is on this disk, fetching it from
// the bucket first if it is not. An original the bucket does not have is
// an error wrapping fs.ErrNotExist.
func (c *Cache) Path(ctx context.Context, oid string) (string, error) {
	if !lfs.ValidOID(oid) {
		return "", fmt.Errorf("original %q: %w", oid, fs.ErrNotExist)
	}
	p := c.path(oid)
	if _, err := os.Stat(p); err == nil {
		now := time.Now()
		os.Chtimes(p, now, now) // read recently: kept longest
		return p, nil
	}
	c.mu.Lock()
	f, ok := c.fetching[oid]
	if !ok {
		f = &fetch{done: make(chan struct{})}
		c.fetching[oid] = f
		go func() {
			// Not bound to one request: others may wait for the same bytes.
			fctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			f.err = c.fetch(fctx, oid)
			c.mu.Lock()
			delete(c.fetching, oid)
			c.mu.Unlock()
			close(f.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if f.err != nil {
		return "", f.err
	}
	return p, nil
}

// fetch copies an original from the bucket into the cache, checking its
// bytes hash to its name, then trims the cache.
func (c *Cache) fetch(ctx context.Context, oid string) error {
	res, err := c.store.obs.Get(ctx, oid)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("original %s is not in the %s bucket: %w", oid[:12], Bucket, fs.ErrNotExist)
	}
	if err != nil {
		return fmt.Errorf("get original %s: %w", oid[:12], err)
	}
	defer res.Close()
	p := c.path(oid)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), res)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("get original %s: %w", oid[:12], err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != oid {
		return fmt.Errorf("original %s: the bucket's bytes hash to %s", oid[:12], got[:12])
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return err
	}
	c.trim(p)
	return nil
}

// trim removes the originals read least recently until the cache fits,
// keeping the one just fetched.
func (c *Cache) trim(keep string) {
	type entry struct {
		path string
		size int64
		at   time.Time
	}
	var all []entry
	var total int64
	filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || !lfs.ValidOID(d.Name()) {
			return nil
		}
		if info, err := d.Info(); err == nil {
			all = append(all, entry{p, info.Size(), info.ModTime()})
			total += info.Size()
		}
		return nil
	})
	if total <= c.maxBytes {
		return
	}
	slices.SortFunc(all, func(a, b entry) int { return a.at.Compare(b.at) })
	for _, e := range all {
		if total <= c.maxBytes {
			return
		}
		if e.path == keep {
			continue
		}
		if err := os.Remove(e.path); err == nil {
			total -= e.size
		}
	}
}
