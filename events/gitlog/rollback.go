package gitlog

import (
	"errors"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/repo"
)

// rollback is the site.rolled_back event of commit c, or nil. A commit
// is a rollback when its Chronicle-Rolled-Back-To trailer names a commit
// on its own first-parent ancestry whose tree is exactly c's tree: that
// is a fact of the repository, not a claim, so it holds for pushed
// commits too. The ancestry check keeps derivation a function of c
// alone: an ancestor is there whenever c is, whereas a commit on some
// other ref may come and go.
func (d *Deriver) rollback(c repo.Commit, base events.Event, files int) (*events.Event, error) {
	target, ok, err := d.rolledBackTo(c)
	if err != nil || !ok {
		return nil, err
	}
	e := base
	e.Type, e.Subject = events.SiteRolledBack, "site"
	e, err = events.Encode(e, events.RollbackData{To: target.Hash.String(), ToTime: target.Author.When.UTC(), Files: files})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// rolledBackTo is the commit c is a rollback to, if it is one (see
// rollback).
func (d *Deriver) rolledBackTo(c repo.Commit) (repo.Commit, bool, error) {
	v := Trailers(c.Message)[TrailerRolledBackTo]
	to := repo.ParseHash(v)
	if to.IsZero() || to.String() != v || len(c.Parents) == 0 {
		return repo.Commit{}, false, nil
	}
	target, err := d.repo.ReadCommit(to)
	if errors.Is(err, repo.ErrNotFound) {
		return repo.Commit{}, false, nil
	}
	if err != nil {
		return repo.Commit{}, false, err
	}
	if target.Tree != c.Tree {
		return repo.Commit{}, false, nil
	}
	d.mu.Lock()
	ok, known := d.rollbacks[c.Hash]
	d.mu.Unlock()
	if !known {
		_, err := d.repo.FirstParents(c.Parents[0], to)
		switch {
		case errors.Is(err, repo.ErrNotFound):
			ok = false
		case err != nil:
			return repo.Commit{}, false, err
		default:
			ok = true
		}
		d.mu.Lock()
		d.rollbacks[c.Hash] = ok
		d.mu.Unlock()
	}
	return target, ok, nil
}
