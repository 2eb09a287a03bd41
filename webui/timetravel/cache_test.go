package timetravel

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/repo"
)

// TestCacheBoundsBuilds: while maxBuilds snapshots are being built, a
// request for another commit waits (here until its deadline) instead of
// starting a build of its own; once they are done, it gets one.
func TestCacheBoundsBuilds(t *testing.T) {
	c := newCache(8)
	hold := make(chan struct{})
	started := make(chan struct{}, maxBuilds)
	mk := func() (*snapshot, error) {
		started <- struct{}{}
		<-hold
		return nil, errors.New("built nothing") // forgotten: the test needs no snapshot
	}
	var wg sync.WaitGroup
	for i := range maxBuilds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.get(context.Background(), repo.BlobHash([]byte{byte(i)}), mk)
		}()
	}
	for range maxBuilds {
		<-started
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, _, err := c.get(ctx, repo.BlobHash([]byte("another")), mk); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a build beyond %d at once did not wait: %v", maxBuilds, err)
	}
	select {
	case <-started:
		t.Fatal("a third build started")
	default:
	}
	close(hold)
	wg.Wait()
	if _, _, err := c.get(context.Background(), repo.BlobHash([]byte("another")), mk); errors.Is(err, ErrBusy) {
		t.Fatal("still busy after the builds ended")
	}
}
