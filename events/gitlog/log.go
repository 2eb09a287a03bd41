// Package gitlog is the event log kept in git: main's first-parent history
// is the log, and a commit's events are derived (Deriver) as a pure
// function of its parent's tree, its own tree and its metadata, so a commit
// made with the git CLI yields the same kind of events as one made through
// the API, and replaying history yields the same events every time.
package gitlog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/repo"
)

// Batch is one commit's worth of file changes.
type Batch struct {
	Parent  string // expected head commit; "" for the first commit
	Changes []repo.Change
	Tree    repo.Hash // instead of Changes: the commit's whole tree (a rollback)
	Message string
	Author  repo.Signature
}

// GitLog is the Log kept in a git repository's first-parent history.
type GitLog struct {
	repo    *repo.Repo
	deriver *Deriver
	bulk    int // bulkDiffs; tests lower it

	mu         sync.Mutex
	knownHead  repo.Hash // a commit whose height is known
	knownCount int64
}

var _ events.Log = (*GitLog)(nil)

// NewGitLog returns the log of r.
func NewGitLog(r *repo.Repo, d *Deriver) *GitLog {
	return &GitLog{repo: r, deriver: d, bulk: bulkDiffs}
}

// Repo is the repository the log lives in.
func (l *GitLog) Repo() *repo.Repo { return l.repo }

// Height returns the height of h on main's first-parent chain (root = 1).
func (l *GitLog) Height(h repo.Hash) (int64, error) {
	if h.IsZero() {
		return 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if h == l.knownHead {
		return l.knownCount, nil
	}
	chain, err := l.repo.FirstParents(h, l.knownHead)
	if errors.Is(err, repo.ErrNotFound) && !l.knownHead.IsZero() {
		// The head known before is not behind h: counted from the root.
		l.knownHead, l.knownCount = repo.ZeroHash, 0
		chain, err = l.repo.FirstParents(h, repo.ZeroHash)
	}
	if err != nil {
		return 0, err
	}
	l.knownHead, l.knownCount = h, l.knownCount+int64(len(chain))
	return l.knownCount, nil
}

// Head implements Log.
func (l *GitLog) Head() (events.Cursor, error) {
	h, err := l.repo.Head()
	if err != nil || h.IsZero() {
		return events.Cursor{}, err
	}
	height, err := l.Height(h)
	if err != nil {
		return events.Cursor{}, err
	}
	evs, err := l.deriver.Derive(h, height)
	if err != nil {
		return events.Cursor{}, err
	}
	return events.End(h.String(), height, len(evs)), nil
}

// Append implements Log.
func (l *GitLog) Append(ctx context.Context, b Batch) ([]events.Event, events.Cursor, error) {
	parent := repo.ZeroHash
	if b.Parent != "" {
		parent = repo.ParseHash(b.Parent)
	}
	h, err := l.repo.Commit(ctx, repo.CommitRequest{Parent: parent, Changes: b.Changes, Tree: b.Tree, Message: b.Message, Author: b.Author})
	if err != nil {
		return nil, events.Cursor{}, err
	}
	height, err := l.Height(h)
	if err != nil {
		return nil, events.Cursor{}, err
	}
	evs, err := l.deriver.Derive(h, height)
	if err != nil {
		return nil, events.Cursor{}, fmt.Errorf("derive events of %s: %w", h, err)
	}
	return evs, events.End(h.String(), height, len(evs)), nil
}

// bulkDiffs is the length of history from which Read takes the commits'
// changes from one git process (repo.Diffs) rather than diffing each.
const bulkDiffs = 64

// Read implements Log.
func (l *GitLog) Read(ctx context.Context, after events.Cursor, fn func(events.Event) error) error {
	head, err := l.repo.Head()
	if err != nil {
		return err
	}
	if after.Commit != "" && !after.Done() {
		evs, err := l.deriver.Derive(repo.ParseHash(after.Commit), after.Height)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if after.After(&e) {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
	}
	chain, err := l.repo.FirstParents(head, repo.ParseHash(after.Commit))
	if errors.Is(err, repo.ErrNotFound) {
		return fmt.Errorf("read log after %s: %w: %w", after.Commit, events.ErrNotInLog, err)
	}
	if err != nil {
		return fmt.Errorf("read log after %s: %w", after.Commit, err)
	}
	if len(chain) >= l.bulk {
		return l.readBulk(ctx, after, chain, head, fn)
	}
	for i, h := range chain {
		if err := ctx.Err(); err != nil {
			return err
		}
		evs, err := l.deriver.Derive(h, after.Height+1+int64(i))
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// readBulk is Read over a long history: every commit's changes come
// from one git log process, and its posts' files from one git cat-file
// process, asked a few dozen commits ahead, so git reads the next
// commits while this one is derived.
func (l *GitLog) readBulk(ctx context.Context, after events.Cursor, chain []repo.Hash, head repo.Hash, fn func(events.Event) error) error {
	ctx, cancel := context.WithCancel(ctx)
	diffs, err := l.repo.FirstParentDiffs(ctx, repo.ParseHash(after.Commit), head)
	if err != nil {
		cancel()
		return fmt.Errorf("read log after %s: %w", after.Commit, err)
	}
	blobs, err := l.repo.Blobs(ctx)
	if err != nil {
		cancel()
		diffs.Close()
		return fmt.Errorf("read log after %s: %w", after.Commit, err)
	}
	type commitChanges struct {
		h       repo.Hash
		changes []repo.FileChange
		asked   []repo.Hash // post files asked of blobs, in order
		err     error
	}
	ahead := make(chan commitChanges, 64)
	go func() {
		defer close(ahead)
		for range chain {
			c, changes, err := diffs.Next()
			var asked []repo.Hash
			for _, ch := range changes {
				if content.IsPostPath(ch.Path) && !ch.New.IsZero() {
					asked = append(asked, ch.New)
				}
			}
			// Sent before it is asked for: the reader then takes git's
			// answers, and git never waits on a full pipe for ever.
			select {
			case ahead <- commitChanges{h: c, changes: changes, asked: asked, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil || blobs.Ask(asked...) != nil {
				return // the reader stops at the error, or at git's end
			}
		}
	}()
	defer func() {
		cancel() // stops both git processes, and so the goroutine
		for range ahead {
		}
		diffs.Close()
		blobs.Close()
	}()
	i := 0
	for cc := range ahead {
		if cc.err != nil {
			return fmt.Errorf("read log after %s: %w", after.Commit, cc.err)
		}
		if cc.h != chain[i] {
			return fmt.Errorf("read log after %s: git log gave commit %s where the first-parent chain has %s", after.Commit, cc.h, chain[i])
		}
		pre := make(map[repo.Hash][]byte, len(cc.asked))
		for _, h := range cc.asked {
			b, ok, err := blobs.Take(h)
			if err != nil {
				return fmt.Errorf("read log after %s: %w", after.Commit, err)
			}
			if ok {
				pre[h] = b
			}
		}
		evs, err := l.deriver.deriveChanged(cc.h, after.Height+1+int64(i), cc.changes, pre)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := fn(e); err != nil {
				return err
			}
		}
		i++
	}
	if i < len(chain) {
		return fmt.Errorf("read log after %s: %w", after.Commit, errors.Join(ctx.Err(), fmt.Errorf("git log ended after %d commits of %d", i, len(chain))))
	}
	return nil
}

// EventsAt returns the events of commit at height on main's first-parent
// chain (as the history projection recorded it): one derivation, no walk.
func (l *GitLog) EventsAt(commit string, height int64) ([]events.Event, error) {
	h := repo.ParseHash(commit)
	if h.IsZero() {
		return nil, fmt.Errorf("commit %q: %w", commit, repo.ErrNotFound)
	}
	return l.deriver.Derive(h, height)
}

// Contains reports whether c's commit is on main's first-parent chain
// at c's height (the zero cursor always is). Its cost grows with the
// distance from main's head to c.
func (l *GitLog) Contains(c events.Cursor) (bool, error) {
	if c.Commit == "" {
		return true, nil
	}
	head, err := l.repo.Head()
	if err != nil {
		return false, err
	}
	chain, err := l.repo.FirstParents(head, repo.ParseHash(c.Commit))
	if errors.Is(err, repo.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	height, err := l.Height(head)
	if err != nil {
		return false, err
	}
	return height-int64(len(chain)) == c.Height, nil
}

// Recent returns the events of the newest commits on main, newest first,
// until it has at least limit events or reaches the first commit.
func (l *GitLog) Recent(limit int) ([]events.Event, error) {
	head, err := l.repo.Head()
	if err != nil || head.IsZero() {
		return nil, err
	}
	height, err := l.Height(head)
	if err != nil {
		return nil, err
	}
	var out []events.Event
	for cur := head; !cur.IsZero() && len(out) < limit; height-- {
		evs, err := l.deriver.Derive(cur, height)
		if err != nil {
			return nil, err
		}
		for i := len(evs) - 1; i >= 0; i-- {
			out = append(out, evs[i])
		}
		c, err := l.repo.ReadCommit(cur)
		if err != nil {
			return nil, err
		}
		cur = repo.ZeroHash
		if len(c.Parents) > 0 {
			cur = c.Parents[0]
		}
	}
	return out, nil
}

// Activity is one commit of main as an activity list shows it, read from
// the commit's metadata alone (no derivation), so a commit of ten
// thousand files costs what a commit of one does.
type Activity struct {
	Commit  string
	Time    time.Time
	Actor   string // as derivation tells it: the pusher of a pushed commit
	Summary string // the message's first line
	Event   string // the Chronicle-Event trailer, if the writer made the commit
}

// RecentActivity returns main's newest commits, newest first, at most
// limit of them.
func (l *GitLog) RecentActivity(limit int) ([]Activity, error) {
	head, err := l.repo.Head()
	if err != nil || head.IsZero() {
		return nil, err
	}
	var out []Activity
	for cur := head; !cur.IsZero() && len(out) < limit; {
		c, err := l.repo.ReadCommit(cur)
		if err != nil {
			return nil, err
		}
		actor, _, pusher, err := l.deriver.Who(c)
		if err != nil {
			return nil, err
		}
		summary, _, _ := strings.Cut(c.Message, "\n")
		a := Activity{Commit: c.Hash.String(), Time: c.Author.When, Actor: actor, Summary: summary}
		if pusher == "" {
			a.Event = Trailers(c.Message)[TrailerEvent] // a pushed commit's trailers are its pusher's claims
		}
		out = append(out, a)
		cur = repo.ZeroHash
		if len(c.Parents) > 0 {
			cur = c.Parents[0]
		}
	}
	return out, nil
}
