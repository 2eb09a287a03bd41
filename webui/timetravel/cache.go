package timetravel

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/chronicle-cms/chronicle/repo"
)

// cache keeps the snapshots of the last few commits visited: the first
// page at a commit builds its snapshot, the next ones are rendered from
// it. Two requests for the same commit share one build.
type cache struct {
	size int
	// builds bounds the snapshots being built at once: a build holds a
	// whole site in memory, and a request for yet another commit while
	// they run waits its turn, then is told to come back (ErrBusy),
	// rather than start one more.
	builds chan struct{}

	mu    sync.Mutex
	slots map[repo.Hash]*slot
	lru   *list.List // of *slot, most recent first
}

type slot struct {
	commit repo.Hash
	ready  chan struct{} // closed when snap or err is set
	snap   *snapshot
	err    error
	elem   *list.Element
	refs   int  // requests using snap
	gone   bool // evicted: closed when the last request is done
}

// maxBuilds is how many snapshots are built at once, and buildWait how
// long a request for another commit waits for one of them to end.
const (
	maxBuilds = 2
	buildWait = 10 * time.Second
)

// ErrBusy: as many snapshots as allowed are being built; try again soon.
var ErrBusy = errors.New("the site at other commits is being built: try again in a few seconds")

func newCache(size int) *cache {
	return &cache{size: size, builds: make(chan struct{}, maxBuilds), slots: map[repo.Hash]*slot{}, lru: list.New()}
}

// get returns the snapshot of commit h, building it with mk if it is
// not kept; release must be called when the request is done with it.
func (c *cache) get(ctx context.Context, h repo.Hash, mk func() (*snapshot, error)) (*snapshot, func(), error) {
	c.mu.Lock()
	s, ok := c.slots[h]
	if !ok {
		// A new build waits for one of the few build slots (not holding
		// mu), for a while: past that, the request is told to come back.
		c.mu.Unlock()
		wait := time.NewTimer(buildWait)
		select {
		case c.builds <- struct{}{}:
			wait.Stop()
		case <-ctx.Done():
			wait.Stop()
			return nil, nil, ctx.Err()
		case <-wait.C:
			return nil, nil, ErrBusy
		}
		c.mu.Lock()
		if s, ok = c.slots[h]; ok {
			<-c.builds // another request started it meanwhile
		} else {
			s = &slot{commit: h, ready: make(chan struct{})}
			s.elem = c.lru.PushFront(s)
			c.slots[h] = s
			c.evict()
			go c.fill(s, mk)
		}
	}
	c.lru.MoveToFront(s.elem)
	s.refs++
	c.mu.Unlock()
	release := func() { c.release(s) }
	select {
	case <-s.ready:
	case <-ctx.Done():
		release()
		return nil, nil, ctx.Err()
	}
	if s.err != nil {
		release()
		return nil, nil, s.err
	}
	return s.snap, release, nil
}

// fill builds a slot's snapshot; a failed build is forgotten, so the
// next request tries again.
func (c *cache) fill(s *slot, mk func() (*snapshot, error)) {
	snap, err := mk()
	<-c.builds
	c.mu.Lock()
	s.snap, s.err = snap, err
	if err != nil && c.slots[s.commit] == s {
		delete(c.slots, s.commit)
		c.lru.Remove(s.elem)
	}
	if s.gone && s.refs == 0 && snap != nil {
		defer snap.close()
	}
	c.mu.Unlock()
	close(s.ready)
}

// evict drops the least recently used snapshots beyond the cache's
// size. Callers hold mu.
func (c *cache) evict() {
	for c.lru.Len() > c.size {
		s := c.lru.Remove(c.lru.Back()).(*slot)
		delete(c.slots, s.commit)
		s.gone = true
		if s.refs == 0 && s.snap != nil {
			go s.snap.close()
		}
	}
}

func (c *cache) release(s *slot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.refs--
	if s.gone && s.refs == 0 && s.snap != nil {
		go s.snap.close()
	}
}
