// Package events is Chronicle's event catalogue: the types of event
// (post.created, media.uploaded…), their envelope, typed payloads and codec,
// and the cursor that places an event in the log (its commit's height on
// main's first-parent chain plus its index within the commit). Readers
// depend on this package and the Log contract here; the model is in
// content, the git-backed log and derivation in gitlog, the write side in
// command.
package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-cms/chronicle/events/content"
)

// Type names an event. The strings are part of the stored format: never
// rename one, add a new type instead.
type Type string

const (
	PostCreated     Type = "post.created"
	PostUpdated     Type = "post.updated"
	PostPublished   Type = "post.published"
	PostUnpublished Type = "post.unpublished"
	PostDeleted     Type = "post.deleted"
	CategoryCreated Type = "category.created"
	CategoryUpdated Type = "category.updated"
	CategoryDeleted Type = "category.deleted"
	SettingsChanged Type = "settings.changed"
	ProfileChanged  Type = "profile.changed"

	// A restore brings a subject back to its state at an earlier
	// revision (undeleting it if need be) in one new commit; readers
	// treat it as the new state, like an update. See RestoredFrom.
	PostRestored     Type = "post.restored"
	CategoryRestored Type = "category.restored"
	SettingsRestored Type = "settings.restored"
	ProfileRestored  Type = "profile.restored"
	MediaRestored    Type = "media.restored"

	// SiteRolledBack is the first event of a commit whose tree equals an
	// earlier commit's: the whole site brought back to that revision.
	// The commit's per-file events follow it, so readers that ignore it
	// still follow the rollback.
	SiteRolledBack Type = "site.rolled_back"

	// The review of a post: its author submits it (status pending), an
	// editor sends it back with a note (status draft and review_note)
	// or approves it, publishing it (PostPublished) or scheduling it.
	// PostScheduled is any change that makes a post scheduled.
	PostSubmitted        Type = "post.submitted"
	PostChangesRequested Type = "post.changes_requested"
	PostScheduled        Type = "post.scheduled"
)

// Event is the envelope every event travels in.
type Event struct {
	ID      string          `json:"id"`               // "<commit>-<index>": stable across replays
	Type    Type            `json:"type"`             // one of the catalogue's types
	Subject string          `json:"subject"`          // what changed: "post/<id>", "category/<slug>", "site/settings", "site/profile"
	Actor   string          `json:"actor"`            // who made the change: the API's account, the pusher of a pushed commit, else the commit's author
	Author  string          `json:"author,omitempty"` // who a pushed commit claims made it (author line or trailer), when not the pusher
	Pusher  string          `json:"pusher,omitempty"` // the account that pushed the commit over git, if it was pushed
	Time    time.Time       `json:"time"`             // the commit's author time
	Commit  string          `json:"commit"`           // the commit the event was derived from
	Height  int64           `json:"height"`           // the commit's position on main's first-parent chain, root = 1
	Index   int             `json:"index"`            // position within the commit
	Count   int             `json:"count"`            // events in the commit
	Schema  int             `json:"schema"`           // version of Data's shape for this type
	Data    json.RawMessage `json:"data"`             // the full new state, see PostData etc.

	shared *decoded // Data decoded once for every copy of the event (ShareDecoding)
}

// Cursor is the position just after an event.
func (e *Event) Cursor() Cursor {
	return Cursor{Commit: e.Commit, Height: e.Height, Index: e.Index, Count: e.Count}
}

// PostData is the payload of post events: the new state, and for updates
// the previous one (without content), so readers can fix what it left.
// A deleted post's Post is its last state.
type PostData struct {
	Post     content.Post  `json:"post"`
	Previous *content.Post `json:"previous,omitempty"`
	// RestoredFrom is the revision (commit) a restore brought back; set
	// only on the *.restored types.
	RestoredFrom string `json:"restored_from,omitempty"`
}

// CategoryData is the payload of category events.
type CategoryData struct {
	Category     content.Category  `json:"category"`
	Previous     *content.Category `json:"previous,omitempty"`
	RestoredFrom string            `json:"restored_from,omitempty"`
}

// SettingsData is the payload of settings.changed.
type SettingsData struct {
	Settings     content.Settings `json:"settings"`
	RestoredFrom string           `json:"restored_from,omitempty"`
}

// ProfileData is the payload of profile.changed.
type ProfileData struct {
	Profile      content.Profile `json:"profile"`
	RestoredFrom string          `json:"restored_from,omitempty"`
}

// ErrUnknownType is returned for an event type this build does not know;
// consumers skip such events rather than fail.
var ErrUnknownType = errors.New("events: unknown event type")

// ErrNotInLog means a cursor names a commit that is not on main's
// first-parent chain (any more): the history was rewritten under a
// reader, which must not carry on from there.
var ErrNotInLog = errors.New("events: not in the log")

// upcaster rewrites a payload from one schema version to the next.
type upcaster func(json.RawMessage) (json.RawMessage, error)

// Codec decodes stored events, upcasting old payloads to the current schema.
type Codec struct {
	// current maps each type to its current schema version; upcast[t][i]
	// turns version i+1 into i+2.
	current map[Type]int
	upcast  map[Type][]upcaster
}

// NewCodec returns the codec for this build's catalogue.
func NewCodec() *Codec {
	c := &Codec{current: map[Type]int{}, upcast: map[Type][]upcaster{}}
	for _, t := range []Type{PostCreated, PostUpdated, PostPublished, PostUnpublished, PostDeleted,
		CategoryCreated, CategoryUpdated, CategoryDeleted, SettingsChanged, ProfileChanged,
		MediaUploaded, MediaUpdated, MediaDeleted, EmbedResolved,
		PostRestored, CategoryRestored, SettingsRestored, ProfileRestored, MediaRestored, SiteRolledBack,
		PostSubmitted, PostChangesRequested, PostScheduled} {
		c.register(t, 1)
	}
	return c
}

// register declares a type once at its current version; a second
// registration is a programming error.
func (c *Codec) register(t Type, version int, ups ...upcaster) {
	if _, dup := c.current[t]; dup {
		panic(fmt.Sprintf("events: type %q registered twice", t))
	}
	if len(ups) != version-1 {
		panic(fmt.Sprintf("events: type %q at version %d needs %d upcasters", t, version, version-1))
	}
	c.current[t] = version
	c.upcast[t] = ups
}

// Schema returns the current schema version of t.
func (c *Codec) Schema(t Type) int { return c.current[t] }

// Decode parses an event and upcasts its payload to the current schema.
func (c *Codec) Decode(b []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(b, &e); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	cur, ok := c.current[e.Type]
	if !ok {
		return e, fmt.Errorf("%w: %q", ErrUnknownType, e.Type)
	}
	if e.Schema > cur {
		return e, fmt.Errorf("%w: %q schema %d is newer than this build's %d", ErrUnknownType, e.Type, e.Schema, cur)
	}
	for e.Schema < cur {
		if e.Schema < 1 {
			return e, fmt.Errorf("decode event %s: schema %d", e.ID, e.Schema)
		}
		d, err := c.upcast[e.Type][e.Schema-1](e.Data)
		if err != nil {
			return e, fmt.Errorf("upcast %s from schema %d: %w", e.ID, e.Schema, err)
		}
		e.Data, e.Schema = d, e.Schema+1
	}
	return e, nil
}

// Cursor is a position in the log: just after event Index of the commit
// at Height. The zero Cursor is the beginning. Count is the number of
// events of that commit, so a cursor knows whether the commit is done.
type Cursor struct {
	Commit string `json:"commit"`
	Height int64  `json:"height"`
	Index  int    `json:"index"`
	Count  int    `json:"count"`
}

// After reports whether e comes after the cursor.
func (c Cursor) After(e *Event) bool {
	return e.Height > c.Height || (e.Height == c.Height && e.Index > c.Index)
}

// Before orders cursors.
func (c Cursor) Before(d Cursor) bool {
	return c.Height < d.Height || (c.Height == d.Height && c.Index < d.Index)
}

// Done reports whether every event of the cursor's commit is behind it.
func (c Cursor) Done() bool { return c.Index >= c.Count-1 }

// End is the cursor after all events of a commit.
func End(commit string, height int64, count int) Cursor {
	return Cursor{Commit: commit, Height: height, Index: count - 1, Count: count}
}

// encode sets e's payload to v, without HTML escaping: a post full of
// "<" would otherwise grow sixfold on its way to readers.
func Encode(e Event, v any) (Event, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return e, fmt.Errorf("encode %s payload: %w", e.Type, err)
	}
	e.Data = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return e, nil
}

// Log is the event log as its readers see it: the outbox, replays and
// anything that follows main. How events are appended belongs to the
// log's kind (gitlog.GitLog commits them); eventstest.Run checks the
// whole contract of an implementation.
type Log interface {
	// Head is the cursor after the last event on main.
	Head() (Cursor, error)
	// Read calls fn for every event after the cursor, in order.
	Read(ctx context.Context, after Cursor, fn func(Event) error) error
}

// EmbedResolved is recorded when an embed URL was resolved.
const EmbedResolved Type = "embed.resolved"

// EmbedData is its payload.
type EmbedData struct {
	PostID string        `json:"post_id"`
	Embed  content.Embed `json:"embed"`
}

// Media event types.
const (
	MediaUploaded Type = "media.uploaded"
	MediaUpdated  Type = "media.updated"
	MediaDeleted  Type = "media.deleted"
)

// MediaData is the payload of media events.
type MediaData struct {
	Media        content.Media `json:"media"`
	RestoredFrom string        `json:"restored_from,omitempty"`
}

// RollbackData is the payload of site.rolled_back.
type RollbackData struct {
	To     string    `json:"to"`      // the commit whose content the site now has
	ToTime time.Time `json:"to_time"` // that commit's time
	Files  int       `json:"files"`   // files the rollback changed
}
