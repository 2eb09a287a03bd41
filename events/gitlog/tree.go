package gitlog

import (
	"github.com/chronicle-cms/chronicle/events"
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
	return d.derive(c, repo.ZeroHash, 0)
}
