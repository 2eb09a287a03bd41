package command

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

// ErrNothingToRollBack: the site's files already equal the revision's.
var ErrNothingToRollBack = errors.New("nothing to roll back: the site's files already equal that revision's")

// RollbackFile is one file a rollback changes.
type RollbackFile struct {
	Path   string
	Action string // what the rollback does to it: "added", "modified" or "deleted"
	// Subject is what the file is part of ("post/<id>", "category/<slug>",
	// "media/<id>", "site/settings"…), Title the post's title or the
	// category's name (as the site has it now, else as it comes back).
	Subject, Title string
}

// RollbackPlan is what rolling the site back to a revision changes,
// against the head it was worked out on.
type RollbackPlan struct {
	To    repo.Commit
	Head  repo.Hash
	Files []RollbackFile
}

// PlanRollback lists every file that rolling the site back to commit to
// (on main's first-parent chain) would change, and changes nothing.
func (w *Writer) PlanRollback(to repo.Hash) (RollbackPlan, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	head, err := w.sync()
	if err != nil {
		return RollbackPlan{}, err
	}
	return w.planRollback(head, to)
}

func (w *Writer) planRollback(head, to repo.Hash) (RollbackPlan, error) {
	r := w.log.Repo()
	if to.IsZero() || head.IsZero() {
		return RollbackPlan{}, fmt.Errorf("commit %s: %w", to, ErrNotOnMain)
	}
	if _, err := r.FirstParents(head, to); errors.Is(err, repo.ErrNotFound) {
		return RollbackPlan{}, fmt.Errorf("commit %s: %w", shortHash(to.String()), ErrNotOnMain)
	} else if err != nil {
		return RollbackPlan{}, err
	}
	c, err := r.ReadCommit(to)
	if err != nil {
		return RollbackPlan{}, err
	}
	changes, err := r.Diff(head, to)
	if err != nil {
		return RollbackPlan{}, err
	}
	plan := RollbackPlan{To: c, Head: head, Files: make([]RollbackFile, 0, len(changes))}
	for _, ch := range changes {
		f := RollbackFile{Path: ch.Path, Action: "modified"}
		switch {
		case ch.Old.IsZero():
			f.Action = "added"
		case ch.New.IsZero():
			f.Action = "deleted"
		}
		// The head's side first: what an admin knows the file as now.
		if f.Subject, f.Title, err = w.deriver.FileSubject(ch.Path, ch.New, ch.Old, to, head); err != nil {
			return RollbackPlan{}, err
		}
		plan.Files = append(plan.Files, f)
	}
	return plan, nil
}

// Rollback commits the site's files back to exactly those of commit to
// (on main's first-parent chain): one new commit whose tree is to's tree
// (media originals, kept by SHA-256 outside git, stay; their pointers and
// metadata follow the tree). Its events are site.rolled_back, then the
// ordinary ones of every file it changes. When nothing would change the
// answer is ErrNothingToRollBack and nothing is committed. The plan
// returned is the one the commit was made from.
func (w *Writer) Rollback(ctx context.Context, actor Actor, to repo.Hash) (Written, RollbackPlan, error) {
	if err := actor.policy().Check(policy.Rollback); err != nil {
		return Written{}, RollbackPlan{}, err
	}
	var plan RollbackPlan
	res, err := w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		var err error
		if plan, err = w.planRollback(head, to); err != nil {
			return nil, err
		}
		if len(plan.Files) == 0 {
			return nil, ErrNothingToRollBack
		}
		when := plan.To.Author.When.UTC().Format("2006-01-02 15:04 UTC")
		b := w.batch(actor, "site", string(events.SiteRolledBack), fmt.Sprintf("Roll back the site to %s (%s)", to.String()[:12], when))
		b.Message += fmt.Sprintf("%s: %s\n", gitlog.TrailerRolledBackTo, to)
		b.Tree = plan.To.Tree
		return b, nil
	})
	return res, plan, err
}

// CommitAt is the newest commit of main's first-parent chain whose
// author time is at or before t (ErrNotFound when all are later).
func (w *Writer) CommitAt(t time.Time) (repo.Hash, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	head, err := w.sync()
	if err != nil {
		return repo.ZeroHash, err
	}
	c, err := w.log.Repo().AtOrBefore(head, t)
	if errors.Is(err, repo.ErrNotFound) {
		return repo.ZeroHash, fmt.Errorf("no commit at or before %s: %w", t.UTC().Format(time.RFC3339), ErrNotFound)
	}
	return c.Hash, err
}
