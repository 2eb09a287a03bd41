package repo

import (
	"fmt"
	"time"
)

// ChangedPaths returns which of paths commit h changed against its first
// parent (all those it has, for a root commit), in the order given. Only
// the trees on those paths are read, so checking a long run of commits
// for a few files costs little per commit.
func (r *Repo) ChangedPaths(h Hash, paths []string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.readCommit(h)
	if err != nil {
		return nil, err
	}
	parentTree := emptyTree
	if len(c.Parents) > 0 {
		pc, err := r.readCommit(c.Parents[0])
		if err != nil {
			return nil, err
		}
		parentTree = pc.Tree
	}
	var out []string
	for _, p := range paths {
		a, _, err := r.lookup(parentTree, p)
		if err != nil {
			return nil, err
		}
		b, _, err := r.lookup(c.Tree, p)
		if err != nil {
			return nil, err
		}
		if a.Hash != b.Hash || a.Mode != b.Mode {
			out = append(out, p)
		}
	}
	return out, nil
}

// AtOrBefore returns the newest commit on the first-parent chain from
// head whose author time is at or before t, or ErrNotFound when every
// commit is later.
func (r *Repo) AtOrBefore(head Hash, t time.Time) (Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for cur := head; !cur.IsZero(); {
		c, err := r.readCommit(cur)
		if err != nil {
			return Commit{}, err
		}
		if !c.Author.When.After(t) {
			return c, nil
		}
		cur = ZeroHash
		if len(c.Parents) > 0 {
			cur = c.Parents[0]
		}
	}
	return Commit{}, fmt.Errorf("%w: no commit at or before %s", ErrNotFound, t.UTC().Format(time.RFC3339))
}
