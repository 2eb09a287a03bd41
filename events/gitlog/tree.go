package gitlog

import (
	"sync"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/repo"
)

// DeriveTree returns the events that would build the whole tree of
// commit h from nothing: its events as if it were one commit over the
// empty tree. Applied to an empty read model they give the site as it
// stood at h (time travel), without replaying the history before it.
// Event times are h's; a file's own dates (created_at, updated_at…) are
// read as derivation always reads them. The commit's trailers are left
// out: a restore or rollback names what changed in that commit, not a
// whole tree.
func (d *Deriver) DeriveTree(h repo.Hash) ([]events.Event, error) {
	c, err := d.repo.ReadCommit(h)
	if err != nil {
		return nil, err
	}
	c.Message = ""
	return d.derive(c, repo.ZeroHash, 0, nil, nil)
}

// WithPostCache keeps up to n parsed posts by path and blob, for a
// deriver that reads many whole trees (time travel): two commits share
// most of their posts' files, and a file that states its own dates
// parses the same at any commit.
func WithPostCache(n int) DeriverOption {
	return func(d *Deriver) { d.posts = &postCache{max: n, m: map[postKey]content.Post{}} }
}

type postKey struct {
	path string
	blob repo.Hash
}

// postCache is dropped whole when full: simple, and a tree's walk fills
// it again.
type postCache struct {
	max int
	mu  sync.Mutex
	m   map[postKey]content.Post
}

func (c *postCache) get(path string, blob repo.Hash) (*content.Post, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	p, ok := c.m[postKey{path, blob}]
	c.mu.Unlock()
	return &p, ok
}

func (c *postCache) put(path string, blob repo.Hash, p content.Post) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[postKey{path, blob}] = p
}
