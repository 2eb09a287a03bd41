// Package history is the history projection: for every subject (a post,
// a category, the settings, the profile, a media item) the changes that
// touched it, newest first, each with who made it, its version and what
// it changed. Revision lists, diffs and restores read it instead of
// walking git per request; a revision's full state is then read from its
// one commit. State lives in a bbolt file, each batch and its checkpoint
// in one transaction.
package history

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/projections"
)

// Name is the projection's stable name.
const Name = "history"

var (
	bRevisions  = []byte("revisions") // subject \x00 height index → Revision
	bCommits    = []byte("commits")   // commit → height
	bCounts     = []byte("counts")    // subject → revisions so far (uint64)
	bMeta       = []byte("meta")
	kCheckpoint = []byte("checkpoint")
)

// Revision is one change of a subject: the event that made it, without
// the subject's full state (read that from the commit), but with enough
// of it (State, ContentHash) to tell what the next change changed.
type Revision struct {
	Commit  string      `json:"revision"`
	Height  int64       `json:"height"`
	Index   int         `json:"index"`
	Type    events.Type `json:"type"`
	Subject string      `json:"subject"`
	Actor   string      `json:"actor"`
	Author  string      `json:"author,omitempty"`
	Pusher  string      `json:"pusher,omitempty"`
	Time    time.Time   `json:"time"`
	// Version counts the subject's revisions up to this one (1 is the
	// first), across deletions and restores.
	Version int `json:"version"`
	// Summary says in one line what the change did.
	Summary string `json:"summary"`
	// Changed names the fields this revision changed from the one before
	// it ("content" for a post's text); empty for a first revision.
	Changed []string `json:"changed,omitempty"`
	// Deleted: the subject no longer existed after this change.
	Deleted bool `json:"deleted,omitempty"`
	// RestoredFrom is the revision a restore brought back.
	RestoredFrom string `json:"restored_from,omitempty"`

	// State is the subject's state after the change, as the event
	// carried it, minus a post's text (ContentHash stands for it).
	State       json.RawMessage `json:"-"`
	ContentHash string          `json:"-"`
}

// stored is how a revision is kept: Revision with its state.
type stored struct {
	Revision
	State       json.RawMessage `json:"state,omitempty"`
	ContentHash string          `json:"content_hash,omitempty"`
}

// History is the projection. Reads are safe from any goroutine.
type History struct {
	db *bolt.DB

	mu sync.RWMutex
	cp projections.Checkpoint
}

var _ projections.Projection = (*History)(nil)

// Open opens (or creates) the history stored at path.
func Open(path string) (*History, error) {
	h := &History{}
	db, err := projections.OpenWithCheckpoint(path, &h.cp, bRevisions, bCommits, bCounts)
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	h.db = db
	return h, nil
}

// Close closes the file.
func (h *History) Close() error { return h.db.Close() }

// Name implements projections.Projection.
func (h *History) Name() string { return Name }

// Checkpoint implements projections.Projection.
func (h *History) Checkpoint() projections.Checkpoint {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.cp
}

// Reset implements projections.Projection.
func (h *History) Reset() error {
	if err := projections.ResetBuckets(h.db, bRevisions, bCommits, bCounts, bMeta); err != nil {
		return fmt.Errorf("reset history: %w", err)
	}
	h.mu.Lock()
	h.cp = projections.Checkpoint{}
	h.mu.Unlock()
	return nil
}

// Apply implements projections.Projection.
func (h *History) Apply(ctx context.Context, evs []events.Event, cp projections.Checkpoint) error {
	err := h.db.Update(func(tx *bolt.Tx) error {
		revs, commits, counts := tx.Bucket(bRevisions), tx.Bucket(bCommits), tx.Bucket(bCounts)
		for i := range evs {
			e := &evs[i]
			if err := commits.Put([]byte(e.Commit), be64(uint64(e.Height))); err != nil {
				return err
			}
			if !Tracked(e.Type) {
				continue
			}
			r, err := revisionOf(e)
			if errors.Is(err, events.ErrUnknownType) {
				continue
			}
			if err != nil {
				return fmt.Errorf("event %s: %w", e.ID, err)
			}
			n := uint64(0)
			if v := counts.Get([]byte(e.Subject)); v != nil {
				n = binary.BigEndian.Uint64(v)
			}
			r.Version = int(n) + 1
			if prev, ok := lastOf(revs, e.Subject); ok {
				r.Changed = changed(&prev, &r)
			}
			r.Summary = summarize(&r)
			data, err := json.Marshal(&r)
			if err != nil {
				return err
			}
			if err := revs.Put(key(e.Subject, e.Height, e.Index), data); err != nil {
				return err
			}
			if err := counts.Put([]byte(e.Subject), be64(n+1)); err != nil {
				return err
			}
		}
		return projections.PutJSON(tx.Bucket(bMeta), string(kCheckpoint), &cp)
	})
	if err != nil {
		return fmt.Errorf("store history batch: %w", err)
	}
	h.mu.Lock()
	h.cp = cp
	h.mu.Unlock()
	return nil
}

// Tracked reports whether events of type t are revisions of their
// subject: changes people make. A resolved embed (the daemon's own
// reaction) and a rollback's marker are not.
func Tracked(t events.Type) bool {
	return t != events.EmbedResolved && t != events.SiteRolledBack
}

// revisionOf makes the stored revision of an event.
func revisionOf(e *events.Event) (stored, error) {
	r := stored{Revision: Revision{Commit: e.Commit, Height: e.Height, Index: e.Index, Type: e.Type, Subject: e.Subject,
		Actor: e.Actor, Author: e.Author, Pusher: e.Pusher, Time: e.Time}}
	pl, err := e.Payload()
	if err != nil {
		return r, err
	}
	var state any
	switch d := pl.(type) {
	case events.PostData:
		p := d.Post
		sum := sha256.Sum256([]byte(p.Content))
		r.ContentHash = hex.EncodeToString(sum[:16])
		// Fields that are bookkeeping, not what an editor changed.
		p.Content, p.Version, p.Revision, p.Blob, p.UpdatedAt = "", 0, "", "", time.Time{}
		state, r.Deleted, r.RestoredFrom = p, e.Type == events.PostDeleted, d.RestoredFrom
	case events.CategoryData:
		state, r.Deleted, r.RestoredFrom = d.Category, e.Type == events.CategoryDeleted, d.RestoredFrom
	case events.SettingsData:
		state, r.RestoredFrom = d.Settings, d.RestoredFrom
	case events.ProfileData:
		state, r.RestoredFrom = d.Profile, d.RestoredFrom
	case events.MediaData:
		state, r.Deleted, r.RestoredFrom = d.Media, e.Type == events.MediaDeleted, d.RestoredFrom
	default:
		return r, fmt.Errorf("%w: %s has no subject state", events.ErrUnknownType, e.Type)
	}
	if r.State, err = json.Marshal(state); err != nil {
		return r, err
	}
	return r, nil
}

func lastOf(revs *bolt.Bucket, subject string) (stored, bool) {
	c := revs.Cursor()
	prefix := append([]byte(subject), 0)
	k, v := c.Seek(append(bytes.Clone(prefix), 0xff))
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return stored{}, false
	}
	var s stored
	if err := json.Unmarshal(v, &s); err != nil {
		return stored{}, false
	}
	return s, true
}

// ErrNotFound means no such subject or revision.
var ErrNotFound = errors.New("not found")

// Page is one page of a subject's revisions, newest first.
type Page struct {
	Items []Revision
	Total int
}

// Revisions returns page (from 1) of subject's revisions, newest first,
// perPage of them. Its cost is that of the page plus a skip over the
// pages before it, never of the whole history.
func (h *History) Revisions(subject string, page, perPage int) (Page, error) {
	var out Page
	err := h.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bCounts).Get([]byte(subject)); v != nil {
			out.Total = int(binary.BigEndian.Uint64(v))
		}
		skip := (page - 1) * perPage
		if skip >= out.Total {
			return nil
		}
		prefix := append([]byte(subject), 0)
		c := tx.Bucket(bRevisions).Cursor()
		k, v := c.Seek(append(bytes.Clone(prefix), 0xff))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out.Items) < perPage; k, v = c.Prev() {
			if skip > 0 {
				skip--
				continue
			}
			r, err := decode(v)
			if err != nil {
				return err
			}
			out.Items = append(out.Items, r)
		}
		return nil
	})
	return out, err
}

// Revision returns subject's revision made by commit (its last one in
// that commit, should it have several).
func (h *History) Revision(subject, commit string) (Revision, error) {
	var out Revision
	err := h.db.View(func(tx *bolt.Tx) error {
		hv := tx.Bucket(bCommits).Get([]byte(commit))
		if hv == nil {
			return fmt.Errorf("revision %s of %s: %w", commit, subject, ErrNotFound)
		}
		prefix := append(append([]byte(subject), 0), hv...)
		c := tx.Bucket(bRevisions).Cursor()
		var last []byte
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			last = v
		}
		if last == nil {
			return fmt.Errorf("revision %s of %s: %w", commit, subject, ErrNotFound)
		}
		var err error
		out, err = decode(last)
		return err
	})
	return out, err
}

// Height returns the height of a commit the projection has seen.
func (h *History) Height(commit string) (int64, bool) {
	var height int64
	var ok bool
	_ = h.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bCommits).Get([]byte(commit)); v != nil {
			height, ok = int64(binary.BigEndian.Uint64(v)), true
		}
		return nil
	})
	return height, ok
}

func decode(v []byte) (Revision, error) {
	var s stored
	if err := json.Unmarshal(v, &s); err != nil {
		return Revision{}, fmt.Errorf("decode revision: %w", err)
	}
	r := s.Revision
	r.State, r.ContentHash = s.State, s.ContentHash
	return r, nil
}

func key(subject string, height int64, index int) []byte {
	k := make([]byte, 0, len(subject)+13)
	k = append(k, subject...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, uint64(height))
	return binary.BigEndian.AppendUint32(k, uint32(index))
}

func be64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// Reader is the history with its revisions' full states: the index from
// the projection, a state from the one commit that made it (never a walk
// of the log).
type Reader struct {
	*History
	// Events derives the events of the commit at height on main.
	Events func(commit string, height int64) ([]events.Event, error)
}

// State returns the event that made rev, whose payload is the subject's
// whole state after it (for a deletion, its last state).
func (r Reader) State(rev Revision) (events.Event, error) {
	evs, err := r.Events(rev.Commit, rev.Height)
	if err != nil {
		return events.Event{}, fmt.Errorf("events of %s: %w", rev.Commit, err)
	}
	for _, e := range evs {
		if e.Index == rev.Index && e.Subject == rev.Subject {
			return e, nil
		}
	}
	return events.Event{}, fmt.Errorf("revision %s of %s: %w (the commit no longer derives it)", rev.Commit, rev.Subject, ErrNotFound)
}

// Previous returns the revision of rev's subject just before it.
func (h *History) Previous(rev Revision) (Revision, bool, error) {
	var out Revision
	var ok bool
	err := h.db.View(func(tx *bolt.Tx) error {
		prefix := append([]byte(rev.Subject), 0)
		c := tx.Bucket(bRevisions).Cursor()
		k, _ := c.Seek(key(rev.Subject, rev.Height, rev.Index))
		if k == nil {
			return nil
		}
		k, v := c.Prev()
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		var err error
		out, err = decode(v)
		ok = err == nil
		return err
	})
	return out, ok, err
}
