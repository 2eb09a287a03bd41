// Package audit is the audit log's read model: every event of the log
// without its payload (who, what, when, which commit) and a one-line
// summary, in a bbolt file keyed by the event's position, so the newest
// events come first by a reverse scan and a page resumes from a cursor
// without counting what came before. It also maps commits to their
// height and times to commits, for whoever travels in time.
package audit

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/projections"
)

// Name is the projection's stable name.
const Name = "audit"

var (
	bEvents  = []byte("events")  // height(8) index(4) → stored
	bCommits = []byte("commits") // height(8) → commitInfo
	bHashes  = []byte("hashes")  // commit hash → height(8)
	bTimes   = []byte("times")   // time(8, ordered) height(8) → nothing
	bMeta    = projections.MetaBucket
	kCP      = projections.CheckpointKey
)

// Record is one event as the audit log shows it.
type Record struct {
	ID      string      `json:"id"`
	Type    events.Type `json:"type"`
	Subject string      `json:"subject"`
	Actor   string      `json:"actor"`
	Author  string      `json:"author,omitempty"`
	Pusher  string      `json:"pusher,omitempty"`
	Time    time.Time   `json:"time"`
	Commit  string      `json:"commit"`
	Height  int64       `json:"height"`
	Index   int         `json:"index"`
	Summary string      `json:"summary,omitempty"`
}

// Pos is an event's place in the log.
type Pos struct {
	Height int64
	Index  int
}

// stored is what a record keeps per event; the commit and its time are
// the commit's, stored once per commit. It is encoded as a version byte
// and six length-prefixed strings: a tenth of JSON's cost to write and
// read, which an export of the whole log pays per event.
type stored struct {
	Type                                    events.Type
	Subject, Actor, Author, Pusher, Summary string
}

const storedVersion = 1

func (s *stored) encode() []byte {
	fields := [...]string{string(s.Type), s.Subject, s.Actor, s.Author, s.Pusher, s.Summary}
	n := 1
	for _, f := range fields {
		n += binary.MaxVarintLen32 + len(f)
	}
	b := make([]byte, 1, n)
	b[0] = storedVersion
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

var errStored = errors.New("malformed record")

func (s *stored) decode(b []byte) error {
	if len(b) == 0 || b[0] != storedVersion {
		return errStored
	}
	b = b[1:]
	var typ string
	for _, f := range [...]*string{&typ, &s.Subject, &s.Actor, &s.Author, &s.Pusher, &s.Summary} {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return errStored
		}
		*f, b = string(b[k:k+int(n)]), b[k+int(n):]
	}
	s.Type = events.Type(typ)
	return nil
}

type commitInfo struct {
	Commit string    `json:"c"`
	Time   time.Time `json:"t"`
}

// Log is the projection. Reads are safe from any goroutine.
type Log struct {
	db *bolt.DB

	mu sync.RWMutex
	cp projections.Checkpoint
}

var _ projections.Projection = (*Log)(nil)

// Open opens (or creates) the audit log stored at path.
func Open(path string) (*Log, error) {
	l := &Log{}
	db, err := projections.OpenWithCheckpoint(path, &l.cp, bEvents, bCommits, bHashes, bTimes)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	l.db = db
	return l, nil
}

// Close closes the file.
func (l *Log) Close() error { return l.db.Close() }

// Name implements projections.Projection.
func (l *Log) Name() string { return Name }

// Checkpoint implements projections.Projection.
func (l *Log) Checkpoint() projections.Checkpoint {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cp
}

// Reset implements projections.Projection.
func (l *Log) Reset() error {
	if err := projections.ResetBuckets(l.db, bEvents, bCommits, bHashes, bTimes, bMeta); err != nil {
		return fmt.Errorf("reset audit log: %w", err)
	}
	l.mu.Lock()
	l.cp = projections.Checkpoint{}
	l.mu.Unlock()
	return nil
}

func eventKey(height int64, index int) []byte {
	k := make([]byte, 12)
	binary.BigEndian.PutUint64(k, uint64(height))
	binary.BigEndian.PutUint32(k[8:], uint32(index))
	return k
}

func heightKey(height int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(height)) }

// timeKey orders times as bytes: seconds since 1970 with the sign bit
// flipped, nanoseconds, then the height. (Seconds, not UnixNano: a
// commit may claim any year.)
func timeKey(t time.Time, height int64) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(t.Unix())^(1<<63))
	k = binary.BigEndian.AppendUint32(k, uint32(t.Nanosecond()))
	return binary.BigEndian.AppendUint64(k, uint64(height))
}

func timeKeyHeight(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[12:])) }

// Apply implements projections.Projection. The payload is read once
// here for the summary; the stored record keeps none of it.
func (l *Log) Apply(ctx context.Context, evs []events.Event, cp projections.Checkpoint) error {
	err := l.db.Update(func(tx *bolt.Tx) error {
		be, bc, bh, bt := tx.Bucket(bEvents), tx.Bucket(bCommits), tx.Bucket(bHashes), tx.Bucket(bTimes)
		// Events and commits arrive in key order: pages filled, not
		// split in half, keep the file small.
		be.FillPercent, bc.FillPercent = 0.9, 0.9
		var last int64
		for i := range evs {
			e := &evs[i]
			if e.Height != last {
				last = e.Height
				hk := heightKey(e.Height)
				// A replay of a commit (the runtime never sends one, but
				// a rebuild after a rewritten main might) replaces its
				// time entry rather than leave the old one behind.
				if old := bc.Get(hk); old != nil {
					var ci commitInfo
					if json.Unmarshal(old, &ci) == nil {
						bt.Delete(timeKey(ci.Time, e.Height))
						bh.Delete([]byte(ci.Commit))
					}
				}
				ci, err := json.Marshal(commitInfo{Commit: e.Commit, Time: e.Time.UTC()})
				if err != nil {
					return err
				}
				if err := bc.Put(hk, ci); err != nil {
					return err
				}
				if err := bh.Put([]byte(e.Commit), hk); err != nil {
					return err
				}
				if err := bt.Put(timeKey(e.Time, e.Height), nil); err != nil {
					return err
				}
			}
			v := (&stored{Type: e.Type, Subject: e.Subject, Actor: e.Actor, Author: e.Author, Pusher: e.Pusher, Summary: Summary(e)}).encode()
			if err := be.Put(eventKey(e.Height, e.Index), v); err != nil {
				return err
			}
		}
		return projections.PutJSON(tx.Bucket(bMeta), string(kCP), &cp)
	})
	if err != nil {
		return fmt.Errorf("store audit batch: %w", err)
	}
	l.mu.Lock()
	l.cp = cp
	l.mu.Unlock()
	return nil
}

// MaxSummary bounds a summary, in bytes.
const MaxSummary = 200

// Summary is one line telling what an event changed: the post's title,
// the category's name, the media's file name…, and the revision a
// restore came from. An event whose payload cannot be read gets none:
// the log still shows it happened.
func Summary(e *events.Event) string {
	pl, err := e.Payload()
	if err != nil {
		return ""
	}
	var s, from string
	switch d := pl.(type) {
	case events.PostData:
		s, from = d.Post.Title, d.RestoredFrom
		if d.Previous != nil && d.Previous.Title != d.Post.Title && d.Previous.Title != "" {
			s = d.Previous.Title + " → " + d.Post.Title
		}
	case events.CategoryData:
		s, from = d.Category.Name, d.RestoredFrom
	case events.SettingsData:
		s, from = d.Settings.Title, d.RestoredFrom
	case events.ProfileData:
		s, from = d.Profile.Name, d.RestoredFrom
	case events.MediaData:
		s, from = d.Media.OriginalName, d.RestoredFrom
		if s == "" {
			s = d.Media.Alt
		}
	case events.EmbedData:
		s = d.Embed.URL
	case events.RollbackData:
		s = fmt.Sprintf("back to %s (%s), %d files", short(d.To), d.ToTime.UTC().Format(time.RFC3339), d.Files)
	}
	if from != "" {
		s += " (from " + short(from) + ")"
	}
	return clip(strings.Join(strings.Fields(s), " "), MaxSummary)
}

func short(commit string) string { return commit[:min(len(commit), 12)] }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// Filter selects records. Empty fields match everything.
type Filter struct {
	Actor string // the actor, the pusher or the claimed author, ignoring case
	// Types match an event's type exactly, or by prefix when they end in
	// "." ("post." is every post event).
	Types   []string
	Subject string    // exactly, e.g. "post/<id>"
	Since   time.Time // at or after
	Until   time.Time // at or before
	// After continues a listing: only records after it in the order
	// asked for (older than it, newest first; newer, oldest first).
	After *Pos
	// Oldest lists oldest first; the default is newest first.
	Oldest bool
}

func (f *Filter) match(r *Record) bool {
	if f.Actor != "" && !strings.EqualFold(r.Actor, f.Actor) && !strings.EqualFold(r.Pusher, f.Actor) && !strings.EqualFold(r.Author, f.Actor) {
		return false
	}
	if f.Subject != "" && r.Subject != f.Subject {
		return false
	}
	if !f.Since.IsZero() && r.Time.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && r.Time.After(f.Until) {
		return false
	}
	if len(f.Types) == 0 {
		return true
	}
	for _, t := range f.Types {
		if string(r.Type) == t || (strings.HasSuffix(t, ".") && strings.HasPrefix(string(r.Type), t)) {
			return true
		}
	}
	return false
}

// ErrStop ends a Query early without an error.
var ErrStop = errors.New("audit: stop")

// chunk is how many records Query reads in one read transaction.
const chunk = 256

// Query calls fn for each record matching f, newest first unless
// f.Oldest, until fn returns an error (ErrStop ends it quietly).
//
// It reads chunk records at a time, each chunk in a read transaction of
// its own that has ended before fn sees the records: fn may be slow (an
// export to a slow client) without holding a transaction open, which
// would keep bbolt's writer (this projection's Apply) from growing the
// file. Records appended meanwhile are seen by an oldest-first query,
// not by a newest-first one (they are above its start).
//
// A time range narrows the scan to the heights of the commits within it
// (from the time index) before records are read, so a day of a long
// history reads about a day's records.
func (l *Log) Query(ctx context.Context, f Filter, fn func(Record) error) error {
	lo, hi := int64(1), int64(1<<62)
	if !f.Since.IsZero() || !f.Until.IsZero() {
		var ok bool
		l.db.View(func(tx *bolt.Tx) error {
			lo, hi, ok = heightsBetween(tx.Bucket(bTimes), f.Since, f.Until)
			return nil
		})
		if !ok {
			return nil
		}
	}
	buf := make([]Record, 0, chunk)
	for {
		buf = buf[:0]
		more := false
		err := l.db.View(func(tx *bolt.Tx) error {
			var err error
			more, err = scan(ctx, tx, &f, lo, hi, func(r Record) bool {
				buf = append(buf, r)
				return len(buf) < chunk
			})
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range buf {
			if err := fn(r); errors.Is(err, ErrStop) {
				return nil
			} else if err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		last := buf[len(buf)-1]
		f.After = &Pos{Height: last.Height, Index: last.Index}
	}
}

// scan reads records matching f within heights [lo, hi] from f.After
// on, passing each to keep until it returns false; more reports whether
// it stopped there (rather than at the end).
func scan(ctx context.Context, tx *bolt.Tx, f *Filter, lo, hi int64, keep func(Record) bool) (more bool, err error) {
	bc := tx.Bucket(bCommits)
	var ci commitInfo
	ciHeight := int64(-1)
	c := tx.Bucket(bEvents).Cursor()
	var k, v []byte
	if f.Oldest {
		start := eventKey(lo, 0)
		if f.After != nil && f.After.Height >= lo {
			start = eventKey(f.After.Height, f.After.Index+1)
		}
		k, v = c.Seek(start)
	} else {
		end := eventKey(hi+1, 0)
		if f.After != nil && f.After.Height <= hi {
			end = eventKey(f.After.Height, f.After.Index)
		}
		if k, v = c.Seek(end); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
	}
	next := c.Next
	if !f.Oldest {
		next = c.Prev
	}
	n := 0
	for ; k != nil; k, v = next() {
		height, index := int64(binary.BigEndian.Uint64(k)), int(binary.BigEndian.Uint32(k[8:]))
		if height < lo || height > hi {
			return false, nil
		}
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return false, ctx.Err()
		}
		if height != ciHeight {
			if err := json.Unmarshal(bc.Get(k[:8]), &ci); err != nil {
				return false, fmt.Errorf("commit at height %d: %w", height, err)
			}
			ciHeight = height
		}
		var s stored
		if err := s.decode(v); err != nil {
			return false, fmt.Errorf("event at %d/%d: %w", height, index, err)
		}
		r := Record{ID: ci.Commit + "-" + strconv.Itoa(index), Type: s.Type, Subject: s.Subject, Actor: s.Actor, Author: s.Author,
			Pusher: s.Pusher, Time: ci.Time, Commit: ci.Commit, Height: height, Index: index, Summary: s.Summary}
		if f.match(&r) && !keep(r) {
			return true, nil
		}
	}
	return false, nil
}

// heightsBetween returns the lowest and highest heights of the commits
// whose time is within [since, until] (a zero bound is open).
func heightsBetween(b *bolt.Bucket, since, until time.Time) (lo, hi int64, ok bool) {
	c := b.Cursor()
	var k []byte
	if since.IsZero() {
		k, _ = c.First()
	} else {
		k, _ = c.Seek(timeKey(since, 0))
	}
	var limit []byte
	if !until.IsZero() {
		limit = timeKey(until, 1<<62)
	}
	lo, hi = 1<<62, 0
	for ; k != nil && (limit == nil || bytes.Compare(k, limit) <= 0); k, _ = c.Next() {
		h := timeKeyHeight(k)
		lo, hi = min(lo, h), max(hi, h)
	}
	return lo, hi, hi > 0
}

// Lookup places an event id ("<commit>-<index>") in the log.
func (l *Log) Lookup(id string) (Pos, bool) {
	commit, idx, ok := strings.Cut(id, "-")
	if !ok {
		return Pos{}, false
	}
	index, err := strconv.Atoi(idx)
	if err != nil || index < 0 || index > 1<<30 {
		return Pos{}, false
	}
	height, ok := l.Height(commit)
	return Pos{Height: height, Index: index}, ok
}

// Height returns a commit's height on main, if the log holds it.
func (l *Log) Height(commit string) (height int64, ok bool) {
	l.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bHashes).Get([]byte(commit)); len(v) == 8 {
			height, ok = int64(binary.BigEndian.Uint64(v)), true
		}
		return nil
	})
	return height, ok
}

// CommitAt returns the commit the site was at, at time t: the one with
// the latest time at or before t (of two with the same time, the higher).
// Commit times come from their authors; on a history whose times go
// back and forth (a push of old commits) this is the newest commit
// claiming a time at or before t, which is what a reader of the log
// would pick.
func (l *Log) CommitAt(t time.Time) (commit string, height int64, ok bool) {
	l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bTimes).Cursor()
		k, _ := c.Seek(timeKey(t.Add(time.Nanosecond), 0))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		if k == nil {
			return nil
		}
		height = timeKeyHeight(k)
		var ci commitInfo
		if json.Unmarshal(tx.Bucket(bCommits).Get(heightKey(height)), &ci) == nil {
			commit, ok = ci.Commit, true
		}
		return nil
	})
	return commit, height, ok
}
