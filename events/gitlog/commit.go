package gitlog

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/repo"
)

// Bounds of a commit's diff (CommitView): a file larger than
// MaxDiffFileBytes on either side gets a note instead of its diff, and
// once the diffs shown reach MaxDiffBytes in all, or MaxDiffFiles files
// are listed, the rest is left out (Truncated).
const (
	MaxDiffFileBytes = 256 << 10
	MaxDiffBytes     = 2 << 20
	MaxDiffFiles     = 1000
)

// FileDiff is one file a commit changed against its first parent.
type FileDiff struct {
	Path    string
	Status  string // "added", "modified" or "deleted"
	Old     repo.Hash
	New     repo.Hash
	Subject string // what the file is part of: "post/<id>", "category/<slug>"…; "" for other files
	Title   string // the post's title or the category's name, when it has one
	// Diff is the unified diff of a text file; empty when Note says why
	// there is none (binary, a Git LFS pointer, too large, left out).
	Diff           string
	Added, Deleted int
	Binary         bool
	OldLFS, NewLFS *content.LFSPointer // when that side is a Git LFS pointer
	Note           string
}

// CommitView is one commit of main as an admin reads it: its metadata,
// who made it (as Who tells), its derived events and its diff.
type CommitView struct {
	Commit                repo.Commit
	Height                int64
	Actor, Author, Pusher string
	Events                []events.Event
	Files                 []FileDiff
	Truncated             bool // files or diffs were left out to bound the answer
}

// ErrNotOnMain means a commit is not on main's first-parent chain (or
// does not exist): it is not part of the log.
var ErrNotOnMain = errors.New("not a commit of main's history")

// Locate returns h's height on main's first-parent chain, or an error
// wrapping ErrNotOnMain. Its cost grows with h's distance from the head.
func (l *GitLog) Locate(h repo.Hash) (int64, error) {
	head, err := l.repo.Head()
	if err != nil {
		return 0, err
	}
	if h.IsZero() || head.IsZero() {
		return 0, fmt.Errorf("commit %s: %w", h, ErrNotOnMain)
	}
	chain, err := l.repo.FirstParents(head, h)
	if errors.Is(err, repo.ErrNotFound) {
		return 0, fmt.Errorf("commit %s: %w", h, ErrNotOnMain)
	}
	if err != nil {
		return 0, err
	}
	height, err := l.Height(head)
	if err != nil {
		return 0, err
	}
	return height - int64(len(chain)), nil
}

// Commit returns the view of commit h, which must be on main's
// first-parent chain (else an error wrapping ErrNotOnMain).
func (l *GitLog) Commit(h repo.Hash) (CommitView, error) {
	height, err := l.Locate(h)
	if err != nil {
		return CommitView{}, err
	}
	c, err := l.repo.ReadCommit(h)
	if err != nil {
		return CommitView{}, err
	}
	v := CommitView{Commit: c, Height: height}
	if v.Actor, v.Author, v.Pusher, err = l.deriver.Who(c); err != nil {
		return CommitView{}, err
	}
	if v.Events, err = l.deriver.Derive(h, height); err != nil {
		return CommitView{}, fmt.Errorf("derive %s: %w", h, err)
	}
	var parent repo.Hash
	if len(c.Parents) > 0 {
		parent = c.Parents[0]
	}
	changes, err := l.repo.Diff(parent, h)
	if err != nil {
		return CommitView{}, err
	}
	total := 0
	for i, ch := range changes {
		if i == MaxDiffFiles {
			v.Truncated = true
			break
		}
		f, err := l.deriver.fileDiff(ch, parent, h, total >= MaxDiffBytes)
		if err != nil {
			return CommitView{}, err
		}
		if f.Note == noteLeftOut {
			v.Truncated = true
		}
		total += len(f.Diff)
		v.Files = append(v.Files, f)
	}
	return v, nil
}

const noteLeftOut = "diff left out: the commit's diff is too large to show whole"

// fileDiff is one changed file with its diff, unless skip.
func (d *Deriver) fileDiff(ch repo.FileChange, parent, h repo.Hash, skip bool) (FileDiff, error) {
	f := FileDiff{Path: ch.Path, Old: ch.Old, New: ch.New, Status: "modified"}
	switch {
	case ch.Old.IsZero():
		f.Status = "added"
	case ch.New.IsZero():
		f.Status = "deleted"
	}
	var err error
	if f.Subject, f.Title, err = d.FileSubject(ch.Path, ch.Old, ch.New, parent, h); err != nil {
		return f, err
	}
	if skip {
		f.Note = noteLeftOut
		return f, nil
	}
	var sides [2][]byte
	for i, b := range []repo.Hash{ch.Old, ch.New} {
		if b.IsZero() {
			continue
		}
		n, err := d.repo.BlobSize(b)
		if err != nil {
			return f, err
		}
		if n > MaxDiffFileBytes {
			f.Note = fmt.Sprintf("diff left out: the file is larger than %d KiB", MaxDiffFileBytes>>10)
			return f, nil
		}
		if sides[i], err = d.repo.ReadBlob(b); err != nil {
			return f, err
		}
		if sides[i] == nil {
			sides[i] = []byte{}
		}
	}
	for i, s := range sides {
		if p, ok := content.ParseLFSPointer(s); ok && s != nil {
			if i == 0 {
				f.OldLFS = &p
			} else {
				f.NewLFS = &p
			}
		}
		if bytes.IndexByte(s[:min(len(s), 8000)], 0) >= 0 {
			f.Binary = true // git's own test: a NUL in the first 8000 bytes
		}
	}
	switch {
	case f.Binary:
		f.Note = "binary file: no diff"
	case f.OldLFS != nil || f.NewLFS != nil:
		f.Note = "Git LFS pointer: the file's bytes are stored outside git, by their SHA-256"
	default:
		f.Diff, f.Added, f.Deleted = repo.UnifiedDiff(ch.Path, ch.Old, ch.New, sides[0], sides[1])
	}
	return f, nil
}

// FileSubject tells what a changed file is part of ("post/<id>",
// "category/<slug>", "media/<id>", "site/settings", "site/profile") and
// its title or name when it has one, read from its newer side, else its
// older: old is the blob at commit parent, new the blob at commit at.
func (d *Deriver) FileSubject(path string, old, new, parent, at repo.Hash) (subject, title string, err error) {
	switch {
	case content.IsPostPath(path):
		for _, s := range []struct{ blob, at repo.Hash }{{new, at}, {old, parent}} {
			p, err := d.ReadPost(path, s.blob, s.at)
			if err != nil {
				return "", "", err
			}
			if p != nil {
				return "post/" + p.ID, p.Title, nil
			}
		}
	case content.IsCategoryPath(path):
		for _, b := range []repo.Hash{new, old} {
			c, err := d.readCategory(path, b)
			if err != nil {
				return "", "", err
			}
			if c != nil {
				return "category/" + c.Slug, c.Name, nil
			}
		}
		return "category/" + content.CategorySlug(path), "", nil
	case content.IsEmbedPath(path):
		return "post/" + content.EmbedPostID(path), "", nil
	case strings.HasPrefix(path, content.MediaDir):
		if id, ok := content.MediaItemOf(path); ok {
			return "media/" + id, "", nil
		}
	case path == content.SettingsPath:
		return "site/settings", "", nil
	case path == content.ProfilePath:
		return "site/profile", "", nil
	}
	return "", "", nil
}
