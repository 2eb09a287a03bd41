package repo

import (
	"fmt"
	"time"
)

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

// Touched is a commit that changed some of the paths asked about.
type Touched struct {
	Commit Commit
	Paths  []string
}

// TouchedSince returns the commits of the first-parent chain from head
// back to (not including) since that changed any of paths against their
// first parent, oldest first, each with the paths it changed. A since
// that is not on the chain is ErrNotFound. Each commit is read once and
// only the trees on the paths are looked at.
func (r *Repo) TouchedSince(head, since Hash, paths []string) ([]Touched, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var chain []Commit // newest first
	for cur := head; cur != since; {
		if cur.IsZero() {
			return nil, fmt.Errorf("%w: %s is not an ancestor of %s", ErrNotFound, short(since), short(head))
		}
		c, err := r.readCommit(cur)
		if err != nil {
			return nil, err
		}
		chain = append(chain, c)
		cur = ZeroHash
		if len(c.Parents) > 0 {
			cur = c.Parents[0]
		}
	}
	entries := func(tree Hash) ([]Hash, error) {
		out := make([]Hash, len(paths))
		for i, p := range paths {
			e, ok, err := r.lookup(tree, p)
			if err != nil {
				return nil, err
			}
			if ok {
				out[i] = e.Hash
			}
		}
		return out, nil
	}
	prev := make([]Hash, len(paths))
	if !since.IsZero() {
		c, err := r.readCommit(since)
		if err != nil {
			return nil, err
		}
		if prev, err = entries(c.Tree); err != nil {
			return nil, err
		}
	}
	var out []Touched
	for i := len(chain) - 1; i >= 0; i-- {
		cur, err := entries(chain[i].Tree)
		if err != nil {
			return nil, err
		}
		var changed []string
		for j := range paths {
			if cur[j] != prev[j] {
				changed = append(changed, paths[j])
			}
		}
		if len(changed) > 0 {
			out = append(out, Touched{Commit: chain[i], Paths: changed})
		}
		prev = cur
	}
	return out, nil
}
