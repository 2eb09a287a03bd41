package command

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

// ErrNotOnMain: the commit is not on main's first-parent chain (or does
// not exist), so it is not part of the log. It wraps ErrNotFound.
var ErrNotOnMain = fmt.Errorf("%w: not a commit of main's history", ErrNotFound)

// LaterCommit is a commit of main after the one to revert that changed
// some of the same files.
type LaterCommit struct {
	Hash    string
	Summary string   // its message's first line
	Files   []string // the files it shares with the commit to revert
}

// RevertConflictError refuses a revert because later commits changed
// some of the same files: undoing the commit would undo them too, or
// mix the two. Nothing is committed.
type RevertConflictError struct {
	Commit string
	Later  []LaterCommit // oldest first
}

func (e *RevertConflictError) Error() string {
	return fmt.Sprintf("commit %s cannot be reverted: %s changed the same files since", shortHash(e.Commit), plural(len(e.Later), "later commit"))
}

// UnrevertableError refuses a revert that has no meaning: a merge, the
// root commit, a commit that changed nothing.
type UnrevertableError struct{ Detail string }

func (e *UnrevertableError) Error() string { return e.Detail }

// RevertRefusedError refuses a revert whose result the push policy
// refuses (a slug taken since, a category still used, the settings
// changed by an editor…): each problem names a file and why.
type RevertRefusedError struct{ Problems []string }

func (e *RevertRefusedError) Error() string {
	return "the revert would leave the site in a state a push is refused for: " + strings.Join(e.Problems, "; ")
}

// Revert commits the undoing of commit h, which must be on main's
// first-parent chain: every file h changed goes back to its state in h's
// parent, in one new commit whose message is git's own for a revert plus
// the writer's trailers. Its events are the ordinary ones of what it
// changes, as for a git revert pushed by hand. When a later commit of
// main changed one of the same files the answer is a
// *RevertConflictError; for a merge or the root commit an
// *UnrevertableError. What the revert leaves is checked as a push of it
// would be (by actor's role), so the
// API's revert allows exactly what a pushed git revert does; a refusal
// is a *RevertRefusedError.
func (w *Writer) Revert(ctx context.Context, actor Actor, h repo.Hash) (Written, error) {
	if err := actor.policy().Check(policy.Revert); err != nil {
		return Written{}, err
	}
	return w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		r := w.log.Repo()
		if h.IsZero() || head.IsZero() {
			return nil, fmt.Errorf("commit %s: %w", h, ErrNotOnMain)
		}
		c, err := r.ReadCommit(h)
		if err != nil || len(c.Parents) != 1 {
			// No commit, a root or a merge: first whether it is main's at
			// all (for the usual commit, the walk below tells).
			if _, ferr := r.FirstParents(head, h); errors.Is(ferr, repo.ErrNotFound) {
				return nil, fmt.Errorf("commit %s: %w", shortHash(h.String()), ErrNotOnMain)
			} else if ferr != nil {
				return nil, ferr
			}
			if err != nil {
				return nil, err
			}
		}
		switch {
		case len(c.Parents) == 0:
			return nil, &UnrevertableError{Detail: "the first commit of the site cannot be reverted: it has nothing before it to go back to (roll the site back instead)"}
		case len(c.Parents) > 1:
			return nil, &UnrevertableError{Detail: fmt.Sprintf("commit %s is a merge: revert the commits it brought, one by one", shortHash(h.String()))}
		}
		changes, err := r.Diff(c.Parents[0], h)
		if err != nil {
			return nil, err
		}
		paths := make([]string, len(changes))
		for i, ch := range changes {
			paths[i] = ch.Path
		}
		// The commits after h (which also tells h is on main's chain).
		later, err := r.TouchedSince(head, h, paths)
		if errors.Is(err, repo.ErrNotFound) {
			return nil, fmt.Errorf("commit %s: %w", shortHash(h.String()), ErrNotOnMain)
		}
		if err != nil {
			return nil, err
		}
		if len(changes) == 0 {
			return nil, &UnrevertableError{Detail: fmt.Sprintf("commit %s changed no file: there is nothing to revert", shortHash(h.String()))}
		}
		var clash []LaterCommit
		for _, l := range later {
			clash = append(clash, LaterCommit{Hash: l.Commit.Hash.String(), Summary: subjectLine(l.Commit.Message), Files: l.Paths})
		}
		if len(clash) > 0 {
			return nil, &RevertConflictError{Commit: h.String(), Later: clash}
		}
		undo := make([]repo.Change, 0, len(changes))
		as := repo.PushedCommit{Hash: h}
		for _, ch := range changes {
			if ch.Old.IsZero() {
				undo = append(undo, repo.Change{Path: ch.Path, Delete: true})
				as.Changes = append(as.Changes, repo.PushedFile{Path: ch.Path, Old: ch.New})
				continue
			}
			b, err := r.ReadBlob(ch.Old)
			if err != nil {
				return nil, err
			}
			undo = append(undo, repo.Change{Path: ch.Path, Data: b})
			as.Changes = append(as.Changes, repo.PushedFile{Path: ch.Path, Old: ch.New, New: ch.Old, Mode: repo.ModeRegular, Size: int64(len(b)), Data: b})
		}
		base := func(path string) ([]byte, bool, error) {
			blob, err := r.Stat(head, path)
			if err != nil || blob.IsZero() {
				return nil, false, err
			}
			b, err := r.ReadBlob(blob)
			return b, err == nil, err
		}
		// Pictures it brings back were checked when first committed: their
		// facts are in the store's sidecars, so no image reader is needed.
		problems, err := checkPush(ctx, w.idx, newLFSObjects(w.lfsDir, nil), []repo.PushedCommit{as}, PushRequest{Pusher: actor.Email, Role: actor.Role}, base)
		if err != nil {
			return nil, err
		}
		if len(problems) > 0 {
			for i, p := range problems {
				problems[i] = strings.TrimPrefix(p, "commit "+short(h)+": ")
			}
			return nil, &RevertRefusedError{Problems: problems}
		}
		// git revert's own message, so both read the same in any log.
		summary := "Revert \"" + subjectLine(c.Message) + "\"\n\nThis reverts commit " + h.String() + "."
		return w.batch(actor, "commit/"+h.String(), "commit.reverted", summary, undo...), nil
	})
}

// subjectLine is a message's first line.
func subjectLine(msg string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	return s
}

func shortHash(h string) string { return h[:min(len(h), 12)] }
