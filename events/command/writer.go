// Package command is the write side: the Writer turns editors' commands
// into commits, checked against an index of the head, and the push policy
// checks a git push as the API would check the same changes. Every path
// that changes content goes through here.
package command

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

var (
	// ErrNotFound: no post or category with that id or slug.
	ErrNotFound = errors.New("not found")
	// ErrStale: the If-Match version is not the current one (or "*" was
	// given for a resource that does not exist).
	ErrStale = errors.New("the resource changed since the version given in If-Match")
)

// ConflictError refuses a write that clashes with the current content,
// such as a slug already taken.
type ConflictError struct {
	Field, Detail string
}

func (e *ConflictError) Error() string { return e.Field + ": " + e.Detail }

// Actor is the account a write is made by.
type Actor struct {
	Name, Email string
	// Role is what the account may do: every write is judged by it
	// (events/policy). No role may do nothing.
	Role policy.Role
}

// policy is the actor as the policy judges it.
func (a Actor) policy() policy.Actor { return policy.Actor{Email: a.Email, Role: a.Role} }

// PostInput is what an editor sets on a post; the rest is derived.
type PostInput struct {
	Title        string
	Slug         string // empty: derive from the title on create, keep on update
	Content      string
	Excerpt      string
	Status       content.Status
	PublishedAt  *time.Time
	Categories   []string
	Tags         []string
	FeatureImage string
	Gallery      []string
	EmbedURL     string
	Meta         content.Meta
	// Author is whose post it is: empty keeps the post's (on create, the
	// actor's). Only editors and admins give a post to another account.
	Author string
	// ReviewNote is what an editor asks the author to change; it is
	// kept only on a draft (a post sent back), and only editors and
	// admins write one.
	ReviewNote string
}

// Written is the outcome of a write: the events of its commit and the
// cursor just after them (wait for projections to reach it for
// read-your-writes).
type Written struct {
	Events []events.Event
	Cursor events.Cursor
	Post   *content.Post
	// Version is the resource's version after the write, for categories,
	// settings, profile and media: the git blob of its file ("" when the
	// file is absent), the same value its ETag carries. For posts it is
	// Post.Blob.
	Version string
}

// BlobVersion is the version (ETag) of a content file: its git blob id,
// which is what If-Match is checked against.
func BlobVersion(data []byte) string { return repo.BlobHash(data).String() }

// Log is what the writer needs of the event log: appending a commit's
// worth of changes on top of the head it read (gitlog.GitLog), and the
// repository it reads the head's files from.
type Log interface {
	Append(ctx context.Context, b gitlog.Batch) ([]events.Event, events.Cursor, error)
	Repo() *repo.Repo
}

// Reader reads posts and media items from git exactly as derivation does
// (gitlog.Deriver), so what the writer checks against is what readers
// were told.
type Reader interface {
	ReadPost(path string, blob, at repo.Hash) (*content.Post, error)
	ReadMediaItem(at repo.Hash, id string, uploaded bool) (m *content.Media, described bool, err error)
	// Who tells who made a commit (the pusher of a pushed one).
	Who(c repo.Commit) (actor, author, pusher string, err error)
	// FileSubject tells what a file is part of, and its title.
	FileSubject(path string, old, new, parent, at repo.Hash) (subject, title string, err error)
}

// Writer turns editors' commands into commits. It is the only writer of the
// repository inside the process; it keeps an index of the head (ids, slugs,
// paths, versions) to check commands without scanning the tree, and brings
// it up to date whenever main moved outside it (a push, the git CLI).
type Writer struct {
	log      Log
	deriver  Reader
	logger   *slog.Logger
	now      func() time.Time
	onCommit func(events.Cursor)
	observe  func(time.Duration, int)
	lfsDir   string

	mu       sync.Mutex
	idx      *index
	lastIDms uint64 // the time part of the last id made (newPostID)
	// inFlight are the commits of pushes checked and noted but perhaps not
	// on main yet (ValidatePush): by commit. Under mu.
	inFlight map[repo.Hash]pushInFlight
}

type indexedPost struct {
	path, slug, blob string
	categories       []string
	author           string         // whose post it is, for judging pushes
	status           content.Status // the same
	reviewNote       string
	due              time.Time // when a scheduled post is to be published; zero otherwise
	// scheduledBy is who scheduled it, when the index saw it come in
	// the one commit since the last sync; "" when it came among several
	// (the first sync, a push of many): the scheduler then asks git.
	scheduledBy string
}

type index struct {
	head       repo.Hash
	actorOf    repo.Hash // the commit actor was read from (headActor)
	actor      string
	posts      map[string]indexedPost  // by id
	bySlug     map[string]string       // slug → id
	byPath     map[string]string       // path → id
	categories map[string]string       // slug → blob
	media      map[string]indexedMedia // by id
}

// indexedMedia is a media item as the deriver reads it: whole metadata
// from an upload, or a picture added with git (and perhaps a description).
type indexedMedia struct {
	blob       string // the version: the metadata file's blob, else the picture's
	ext        string // the picture's extension: media/<id>.<ext>
	meta       bool   // media/<id>.yaml exists
	described  bool   // the facts come from the picture, the yaml only describes it
	uploadedBy string // who may change it besides editors
}

// WriterConfig configures a Writer.
type WriterConfig struct {
	Now      func() time.Time    // defaults to time.Now
	OnCommit func(events.Cursor) // called after every commit, e.g. to wake the outbox
	// Observe, if set, gets the duration of each successful append and the
	// number of events it produced.
	Observe func(d time.Duration, events int)
	// LFSDir is the Git LFS store that pushed pointers must point into.
	LFSDir string
}

// NewWriter returns a writer appending to l.
func NewWriter(l Log, d Reader, logger *slog.Logger, cfg WriterConfig) *Writer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OnCommit == nil {
		cfg.OnCommit = func(events.Cursor) {}
	}
	if cfg.Observe == nil {
		cfg.Observe = func(time.Duration, int) {}
	}
	return &Writer{log: l, deriver: d, logger: logger, now: cfg.Now, onCommit: cfg.OnCommit, observe: cfg.Observe, lfsDir: cfg.LFSDir,
		inFlight: map[repo.Hash]pushInFlight{},
		idx: &index{posts: map[string]indexedPost{}, bySlug: map[string]string{}, byPath: map[string]string{}, categories: map[string]string{},
			media: map[string]indexedMedia{}}}
}

// sync brings the index to the current head. Callers hold mu.
// readPostBlobs reads the posts' files among changes in one go when they
// are many (the first sync of a site): from a git process, not blob by
// blob under the repository's lock, which a fast start's build is reading
// at the same time. Fewer are read one by one, where they are needed.
func readPostBlobs(r *repo.Repo, changes []repo.FileChange) (map[repo.Hash][]byte, error) {
	var hs []repo.Hash
	for _, ch := range changes {
		if content.IsPostPath(ch.Path) && !ch.New.IsZero() {
			hs = append(hs, ch.New)
		}
	}
	blobs := map[repo.Hash][]byte{}
	if len(hs) < 64 {
		return blobs, nil
	}
	return blobs, r.EachBlob(context.Background(), hs, func(h repo.Hash, b []byte) error {
		blobs[h] = b
		return nil
	})
}

func (w *Writer) sync() (repo.Hash, error) {
	r := w.log.Repo()
	head, err := r.Head()
	if err != nil {
		return head, err
	}
	if head == w.idx.head {
		return head, nil
	}
	changes, err := r.Diff(w.idx.head, head)
	if err != nil {
		return head, fmt.Errorf("index diff: %w", err)
	}
	blobs, err := readPostBlobs(r, changes)
	if err != nil {
		return head, fmt.Errorf("index posts: %w", err)
	}
	mediaIDs := map[string]bool{} // media items changed: read as the deriver reads them
	for _, ch := range changes {
		switch {
		case content.IsPostPath(ch.Path):
			if id, ok := w.idx.byPath[ch.Path]; ok {
				w.idx.remove(id)
			}
			if ch.New.IsZero() {
				continue
			}
			b, ok := blobs[ch.New]
			if !ok {
				if b, err = r.ReadBlob(ch.New); err != nil {
					return head, err
				}
			}
			p, err := content.ParseCommittedPost(b, content.FileDefaults{Path: ch.Path})
			if err != nil {
				continue // invalid files are not posts, as in Derive
			}
			if _, dup := w.idx.posts[p.ID]; dup {
				continue
			}
			ip := indexedPost{path: ch.Path, slug: p.Slug, blob: ch.New.String(), categories: p.Categories,
				author: p.Author, status: p.Status, reviewNote: p.ReviewNote}
			if p.Status == content.Scheduled && p.PublishedAt != nil {
				ip.due = *p.PublishedAt
				if ip.scheduledBy, err = w.headActor(head); err != nil {
					return head, err
				}
			}
			w.idx.add(p.ID, ip)
		case strings.HasPrefix(ch.Path, content.MediaDir):
			if id, ok := content.MediaItemOf(ch.Path); ok {
				mediaIDs[id] = true
			}
		case content.IsCategoryPath(ch.Path):
			slug := content.CategorySlug(ch.Path)
			delete(w.idx.categories, slug)
			if !ch.New.IsZero() {
				if b, err := r.ReadBlob(ch.New); err != nil {
					return head, err
				} else if _, err := content.ParseCommittedCategory(ch.Path, b); err == nil {
					w.idx.categories[slug] = ch.New.String()
				}
			}
		}
	}
	for id := range mediaIDs {
		delete(w.idx.media, id)
		m, described, err := w.deriver.ReadMediaItem(head, id, false)
		if err != nil {
			return head, fmt.Errorf("index media %s: %w", id, err)
		}
		if m == nil {
			continue
		}
		meta, err := r.Stat(head, content.MediaMetaPath(id))
		if err != nil {
			return head, fmt.Errorf("index media %s: %w", id, err)
		}
		w.idx.media[id] = indexedMedia{blob: m.Blob, ext: m.Ext, meta: !meta.IsZero(), described: described, uploadedBy: m.UploadedBy}
	}
	w.idx.head = head
	return head, nil
}

func (ix *index) add(id string, p indexedPost) {
	ix.posts[id] = p
	ix.bySlug[p.slug] = id
	ix.byPath[p.path] = id
}

func (ix *index) remove(id string) {
	p, ok := ix.posts[id]
	if !ok {
		return
	}
	delete(ix.posts, id)
	if ix.bySlug[p.slug] == id {
		delete(ix.bySlug, p.slug)
	}
	if ix.byPath[p.path] == id {
		delete(ix.byPath, p.path)
	}
}

// Sync loads the index; call once at start so the first write is fast.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.sync()
	return err
}

// command runs build against an up-to-date index and commits its changes,
// retrying when main moved outside the daemon between the two.
func (w *Writer) command(ctx context.Context, build func(head repo.Hash) (*gitlog.Batch, error)) (Written, error) {
	start := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for attempt := 0; ; attempt++ {
		head, err := w.sync()
		if err != nil {
			return Written{}, err
		}
		b, err := build(head)
		if err != nil || b == nil {
			return Written{}, err
		}
		if !head.IsZero() {
			b.Parent = head.String()
		}
		evs, cur, err := w.log.Append(ctx, *b)
		if errors.Is(err, repo.ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return Written{}, fmt.Errorf("commit: %w", err)
		}
		w.observe(time.Since(start), len(evs))
		w.onCommit(cur)
		return Written{Events: evs, Cursor: cur}, nil
	}
}

func (w *Writer) batch(actor Actor, subject, event, summary string, changes ...repo.Change) *gitlog.Batch {
	msg := fmt.Sprintf("%s\n\n%s: %s\n%s: %s\n%s: %s\n", summary, gitlog.TrailerEvent, event, gitlog.TrailerSubject, subject, gitlog.TrailerActor, actor.Email)
	name := actor.Name
	if name == "" {
		name = actor.Email
	}
	return &gitlog.Batch{Changes: changes, Message: msg, Author: repo.Signature{Name: name, Email: actor.Email, When: w.now()}}
}

func quote(s string) string {
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return "“" + s + "”"
}

// CreatePost commits a new post.
func (w *Writer) CreatePost(ctx context.Context, actor Actor, in PostInput) (Written, error) {
	var id string
	res, err := w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		now := w.now().UTC().Truncate(time.Second)
		id = w.newPostID()
		p := content.Post{ID: id, CreatedAt: now, UpdatedAt: now, Author: actor.Email}
		in.apply(&p, now)
		if err := actor.policy().Post(nil, &p); err != nil {
			return nil, err
		}
		if in.Slug == "" {
			p.Slug = w.freeSlug(content.Slugify(in.Title), id)
		} else if other, taken := w.idx.bySlug[in.Slug]; taken {
			return nil, w.slugTaken(actor, in.Slug, other)
		}
		if err := w.validate(&p, nil); err != nil {
			return nil, err
		}
		p.Path = w.freePath(fmt.Sprintf("%s%d/%s.md", content.PostsDir, p.CreatedAt.Year(), p.Slug))
		data, err := content.MarshalPost(&p)
		if err != nil {
			return nil, err
		}
		return w.batch(actor, "post/"+id, string(events.PostCreated), "Create post "+quote(p.Title),
			repo.Change{Path: p.Path, Data: data}), nil
	})
	if err != nil {
		return res, err
	}
	return w.withPost(res, id)
}

// UpdatePost replaces a post's editable fields. ifMatch, when not empty,
// must be the post's current version (its blob) or the write is ErrStale.
func (w *Writer) UpdatePost(ctx context.Context, actor Actor, id, ifMatch string, in PostInput) (Written, error) {
	return w.EditPost(ctx, actor, id, ifMatch, func(content.Post) (PostInput, error) { return in, nil })
}

// EditPost changes a post to what edit makes of its current state. edit
// runs under the writer's lock on the state the commit is made on top of
// (again if main moved meanwhile), so a partial change (PATCH) applies
// atomically and never undoes a concurrent one. An error from edit is
// returned as it is. When nothing changes, nothing is committed and
// Written.Post is the current state.
func (w *Writer) EditPost(ctx context.Context, actor Actor, id, ifMatch string, edit func(cur content.Post) (PostInput, error)) (Written, error) {
	var unchanged *content.Post
	res, err := w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		unchanged = nil
		cur, err := w.currentFor(actor, head, id, ifMatch)
		if err != nil {
			return nil, err
		}
		in, err := edit(*cur)
		if err != nil {
			return nil, err
		}
		now := w.now().UTC().Truncate(time.Second)
		p := *cur
		if in.Slug != "" && in.Slug != cur.Slug {
			if other, taken := w.idx.bySlug[in.Slug]; taken && other != id {
				return nil, w.slugTaken(actor, in.Slug, other)
			}
			p.Slug = in.Slug
		}
		in.Slug = p.Slug
		in.apply(&p, now)
		if p.PublishedAt == nil && p.Status == content.Published {
			p.PublishedAt = cur.PublishedAt
		}
		if err := actor.policy().Post(cur, &p); err != nil {
			return nil, err
		}
		if err := w.validate(&p, cur); err != nil {
			return nil, err
		}
		if p.Slug != cur.Slug {
			p.Path = w.freePath(path.Join(path.Dir(cur.Path), p.Slug+".md"))
		}
		if gitlog.SamePost(cur, &p) && p.Path == cur.Path {
			unchanged = cur
			return nil, nil // nothing changed: no commit, no event
		}
		p.UpdatedAt = now
		data, err := content.MarshalPost(&p)
		if err != nil {
			return nil, err
		}
		// Compared as derivation will read the file, not as asked: a
		// difference the file cannot keep (the newline it ends the text
		// with anyway) is no change, and must not become a commit that
		// derives no event.
		if back, err := content.ParseCommittedPost(data, content.FileDefaults{Path: p.Path}); err == nil && p.Path == cur.Path && gitlog.SamePost(cur, &back) {
			unchanged = cur
			return nil, nil
		}
		changes := []repo.Change{{Path: p.Path, Data: data}}
		if p.Path != cur.Path {
			changes = append(changes, repo.Change{Path: cur.Path, Delete: true})
		}
		typ := gitlog.PostChange(cur, &p)
		return w.batch(actor, "post/"+id, string(typ), "Update post "+quote(p.Title), changes...), nil
	})
	if err != nil {
		return res, err
	}
	if unchanged != nil {
		res.Post = unchanged
		return res, nil
	}
	return w.withPost(res, id)
}

// DeletePost removes a post's file.
func (w *Writer) DeletePost(ctx context.Context, actor Actor, id, ifMatch string) (Written, error) {
	return w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		cur, err := w.currentFor(actor, head, id, ifMatch)
		if err != nil {
			return nil, err
		}
		if err := actor.policy().Post(cur, nil); err != nil {
			return nil, err
		}
		changes := []repo.Change{{Path: cur.Path, Delete: true}}
		if emb, err := w.log.Repo().Stat(head, content.EmbedPath(id)); err != nil {
			return nil, err
		} else if !emb.IsZero() {
			changes = append(changes, repo.Change{Path: content.EmbedPath(id), Delete: true}) // its resolved embed goes too
		}
		return w.batch(actor, "post/"+id, string(events.PostDeleted), "Delete post "+quote(cur.Title), changes...), nil
	})
}

// Post reads a post's current state from the head (not the catalogue).
func (w *Writer) Post(id string) (*content.Post, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	head, err := w.sync()
	if err != nil {
		return nil, err
	}
	return w.current(head, id, "")
}

// slugTaken is the conflict of a slug post other has: named to whom may
// read it, else only "taken", so a slug tells nothing of others' drafts.
// Callers hold mu.
func (w *Writer) slugTaken(actor Actor, slug, other string) error {
	e := w.idx.posts[other]
	if actor.policy().CanRead(&content.Post{Author: e.author, Status: e.status}) {
		return &ConflictError{Field: "slug", Detail: fmt.Sprintf("%q is already used by post %s", slug, other)}
	}
	return &ConflictError{Field: "slug", Detail: fmt.Sprintf("%q is taken: choose another", slug)}
}

// currentFor is current for actor to change: a post actor may not read
// is not found, and one it may not change is refused before its version
// is compared, so a version tells nothing to who may not write.
func (w *Writer) currentFor(actor Actor, head repo.Hash, id, ifMatch string) (*content.Post, error) {
	cur, err := w.current(head, id, "")
	if err != nil {
		return nil, err
	}
	a := actor.policy()
	if !a.CanRead(cur) {
		return nil, fmt.Errorf("post %s: %w", id, ErrNotFound)
	}
	if err := a.Post(cur, cur); err != nil {
		return nil, err
	}
	if !matches(ifMatch, w.idx.posts[id].blob) {
		return nil, fmt.Errorf("post %s: %w", id, ErrStale)
	}
	return cur, nil
}

func (w *Writer) current(head repo.Hash, id, ifMatch string) (*content.Post, error) {
	e, ok := w.idx.posts[id]
	if !ok {
		return nil, fmt.Errorf("post %s: %w", id, ErrNotFound)
	}
	if !matches(ifMatch, e.blob) {
		return nil, fmt.Errorf("post %s: %w", id, ErrStale)
	}
	p, err := w.deriver.ReadPost(e.path, repo.ParseHash(e.blob), head)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("post %s: %w", id, ErrNotFound)
	}
	return p, nil
}

func (w *Writer) withPost(res Written, id string) (Written, error) {
	for _, e := range res.Events {
		if e.Subject == "post/"+id {
			var d events.PostData
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return res, err
			}
			res.Post = &d.Post
		}
	}
	return res, nil
}

func (in *PostInput) apply(p *content.Post, now time.Time) {
	p.Title, p.Content, p.Excerpt = in.Title, in.Content, in.Excerpt
	if in.Slug != "" {
		p.Slug = in.Slug
	}
	p.Status = in.Status
	if p.Status == "" {
		p.Status = content.Draft
	}
	p.PublishedAt = in.PublishedAt
	if p.PublishedAt != nil {
		t := p.PublishedAt.UTC().Truncate(time.Second)
		p.PublishedAt = &t
	} else if p.Status == content.Published && p.CreatedAt.Equal(now) {
		p.PublishedAt = &now
	}
	p.Categories, p.Tags, p.Gallery = nonNil(content.CategoryRefs(in.Categories)), nonNil(in.Tags), nonNil(in.Gallery)
	p.FeatureImage, p.EmbedURL, p.Meta = in.FeatureImage, in.EmbedURL, in.Meta
	p.Content = strings.ReplaceAll(p.Content, "\r\n", "\n")
	if in.Author != "" {
		p.Author = in.Author
	}
	p.ReviewNote = strings.TrimSpace(strings.ReplaceAll(in.ReviewNote, "\r\n", "\n"))
	if p.Status != content.Draft {
		p.ReviewNote = "" // answered: submitted again, or published
	}
}

func nonNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// validate checks a post the API writes: the rules of every post, and
// that what it refers to exists. References cur (the post before this
// change, nil on create) already had are not checked again, so a post
// whose picture was deleted can still be edited.
func (w *Writer) validate(p *content.Post, cur *content.Post) error {
	keepID := ""
	if cur != nil {
		keepID = cur.ID // chosen when it was created, perhaps under older rules
	}
	fe := content.ValidatePostKeepingID(p, keepID)
	for _, c := range p.Categories {
		if _, ok := w.idx.categories[c]; !ok && content.ValidSlug(c) {
			fe.Add("categories", 0, "no category %q: create it first", c)
		}
	}
	for _, f := range []struct{ field, v, old string }{{"feature_image", p.FeatureImage, ""}, {"meta.image", p.Meta.Image, ""}} {
		if cur != nil {
			f.old = map[string]string{"feature_image": cur.FeatureImage, "meta.image": cur.Meta.Image}[f.field]
		}
		if id, ok := strings.CutPrefix(f.v, content.MediaRefPrefix); ok && f.v != f.old && content.ValidID(id) {
			if _, exists := w.idx.media[id]; !exists {
				fe.Add(f.field, 0, "no media %q: upload it first (POST /api/v1/media)", content.Clip(id))
			}
		}
	}
	return fe.Err("")
}

// freeSlug returns base, or base-2, base-3… if base is taken.
func (w *Writer) freeSlug(base, id string) string {
	if base == "" {
		base = "post-" + id[:8]
	}
	s := base
	for i := 2; ; i++ {
		if other, taken := w.idx.bySlug[s]; !taken || other == id {
			return s
		}
		suffix := fmt.Sprintf("-%d", i)
		s = strings.TrimRight(base[:min(len(base), content.MaxSlug-len(suffix))], "-") + suffix
	}
}

// freePath avoids a file of another post (one whose slug differs from its
// file name, as hand-written files may).
func (w *Writer) freePath(p string) string {
	stem := strings.TrimSuffix(p, ".md")
	for i := 2; ; i++ {
		if _, taken := w.idx.byPath[p]; !taken {
			return p
		}
		p = fmt.Sprintf("%s-%d.md", stem, i)
	}
}

// newPostID returns a new id that sorts after every id this writer made
// before: 48 bits of Unix milliseconds, then 80 random bits (the layout
// of a ULID, in the same lower-case base32). Lists order posts of the
// same date by id, newest first, so posts published in the same second
// are listed in the order they were made. Callers hold mu.
func (w *Writer) newPostID() string {
	b := make([]byte, 16)
	rand.Read(b[6:])
	ms := uint64(w.now().UnixMilli())
	if ms <= w.lastIDms {
		ms = w.lastIDms + 1 // same millisecond (or a clock step back): still after the last
	}
	w.lastIDms = ms
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	return content.NewID(b)
}

// PutCategory creates or replaces a category; created reports which.
func (w *Writer) PutCategory(ctx context.Context, actor Actor, c content.Category, ifMatch string) (Written, bool, error) {
	return w.EditCategory(ctx, actor, c.Slug, ifMatch, func(content.Category, bool) (content.Category, error) { return c, nil })
}

// EditCategory sets the category at slug to what edit makes of its
// current state (exists is false, and cur has only the slug, when there
// is none), under the writer's lock as EditPost does; created reports
// whether it was new. Written.Version is the category's version after.
func (w *Writer) EditCategory(ctx context.Context, actor Actor, slug, ifMatch string, edit func(cur content.Category, exists bool) (content.Category, error)) (Written, bool, error) {
	if err := actor.policy().Check(policy.EditCategories); err != nil {
		return Written{}, false, err
	}
	created := false
	version := ""
	res, err := w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		blob, exists := w.idx.categories[slug]
		if !matches(ifMatch, blob) {
			return nil, fmt.Errorf("category %s: %w", slug, ErrStale)
		}
		cur := content.Category{Slug: slug}
		if exists {
			b, err := w.log.Repo().ReadBlob(repo.ParseHash(blob))
			if err != nil {
				return nil, fmt.Errorf("read category %s: %w", slug, err)
			}
			if cur, err = content.ParseCommittedCategory(content.CategoryPath(slug), b); err != nil {
				return nil, err
			}
		}
		c, err := edit(cur, exists)
		if err != nil {
			return nil, err
		}
		c.Slug = slug
		if err := content.ValidateCategory(&c).Err(""); err != nil {
			return nil, err
		}
		data, err := content.MarshalCategory(&c)
		if err != nil {
			return nil, err
		}
		version = BlobVersion(data)
		if version == blob {
			return nil, nil // nothing changed: no commit, no event
		}
		created = !exists
		typ, verb := events.CategoryUpdated, "Update"
		if created {
			typ, verb = events.CategoryCreated, "Create"
		}
		return w.batch(actor, "category/"+slug, string(typ), verb+" category "+quote(c.Name),
			repo.Change{Path: content.CategoryPath(slug), Data: data}), nil
	})
	res.Version = version
	return res, created, err
}

// Category reads a category and its version from the head (not the
// catalogue): what an answer's body and ETag both come from.
func (w *Writer) Category(slug string) (content.Category, string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.sync(); err != nil {
		return content.Category{}, "", err
	}
	blob, ok := w.idx.categories[slug]
	if !ok {
		return content.Category{}, "", fmt.Errorf("category %s: %w", slug, ErrNotFound)
	}
	b, err := w.log.Repo().ReadBlob(repo.ParseHash(blob))
	if err != nil {
		return content.Category{}, "", fmt.Errorf("read category %s: %w", slug, err)
	}
	c, err := content.ParseCommittedCategory(content.CategoryPath(slug), b)
	return c, blob, err
}

// DeleteCategory removes a category no post uses.
func (w *Writer) DeleteCategory(ctx context.Context, actor Actor, slug, ifMatch string) (Written, error) {
	if err := actor.policy().Check(policy.EditCategories); err != nil {
		return Written{}, err
	}
	return w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		blob, ok := w.idx.categories[slug]
		if !ok {
			return nil, fmt.Errorf("category %s: %w", slug, ErrNotFound)
		}
		if !matches(ifMatch, blob) {
			return nil, fmt.Errorf("category %s: %w", slug, ErrStale)
		}
		n := 0
		for _, p := range w.idx.posts {
			if slices.Contains(p.categories, slug) {
				n++
			}
		}
		if n > 0 {
			return nil, &ConflictError{Field: "slug", Detail: fmt.Sprintf("category %q is used by %s: remove it from them first", slug, plural(n, "post"))}
		}
		return w.batch(actor, "category/"+slug, string(events.CategoryDeleted), "Delete category "+quote(slug),
			repo.Change{Path: content.CategoryPath(slug), Delete: true}), nil
	})
}

// CategoryVersion is the current version (blob) of a category, or "".
func (w *Writer) CategoryVersion(slug string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.sync(); err != nil {
		return "", err
	}
	return w.idx.categories[slug], nil
}

// PutSettings replaces site/settings.yaml; ifMatch as in EditSettings.
func (w *Writer) PutSettings(ctx context.Context, actor Actor, ifMatch string, s content.Settings) (Written, error) {
	return w.editSiteFile(ctx, actor, content.SettingsPath, ifMatch, "site/settings", events.SettingsChanged, "Change settings", func([]byte) ([]byte, error) {
		if err := content.ValidateSettings(&s).Err(""); err != nil {
			return nil, err
		}
		return content.MarshalSettings(&s)
	})
}

// EditSettings sets the settings to what edit makes of the current ones
// (the defaults when site/settings.yaml is absent), under the writer's
// lock as EditPost does. ifMatch, when not empty, must be the file's
// current version. Written.Version is the version after.
func (w *Writer) EditSettings(ctx context.Context, actor Actor, ifMatch string, edit func(cur content.Settings) (content.Settings, error)) (Written, error) {
	return w.editSiteFile(ctx, actor, content.SettingsPath, ifMatch, "site/settings", events.SettingsChanged, "Change settings", func(cur []byte) ([]byte, error) {
		s := w.settingsOf(cur)
		s, err := edit(s)
		if err != nil {
			return nil, err
		}
		if err := content.ValidateSettings(&s).Err(""); err != nil {
			return nil, err
		}
		return content.MarshalSettings(&s)
	})
}

// PutProfile replaces site/profile.yaml; ifMatch as in EditSettings.
func (w *Writer) PutProfile(ctx context.Context, actor Actor, ifMatch string, p content.Profile) (Written, error) {
	return w.editSiteFile(ctx, actor, content.ProfilePath, ifMatch, "site/profile", events.ProfileChanged, "Change profile", func([]byte) ([]byte, error) {
		if err := content.ValidateProfile(&p).Err(""); err != nil {
			return nil, err
		}
		return content.MarshalProfile(&p)
	})
}

// EditProfile is EditSettings for site/profile.yaml.
func (w *Writer) EditProfile(ctx context.Context, actor Actor, ifMatch string, edit func(cur content.Profile) (content.Profile, error)) (Written, error) {
	return w.editSiteFile(ctx, actor, content.ProfilePath, ifMatch, "site/profile", events.ProfileChanged, "Change profile", func(cur []byte) ([]byte, error) {
		p, err := edit(w.profileOf(cur))
		if err != nil {
			return nil, err
		}
		if err := content.ValidateProfile(&p).Err(""); err != nil {
			return nil, err
		}
		return content.MarshalProfile(&p)
	})
}

// editSiteFile rewrites one site file from its current bytes (nil when
// absent) under the writer's lock; an unchanged file is not committed.
func (w *Writer) editSiteFile(ctx context.Context, actor Actor, file, ifMatch, subject string, typ events.Type, summary string, edit func(cur []byte) ([]byte, error)) (Written, error) {
	if err := actor.policy().Check(siteFileCapability(file)); err != nil {
		return Written{}, err
	}
	version := ""
	res, err := w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		cur, blob, err := w.siteFile(head, file)
		if err != nil {
			return nil, err
		}
		if !matches(ifMatch, blob) {
			return nil, fmt.Errorf("%s: %w", subject, ErrStale)
		}
		data, err := edit(cur)
		if err != nil {
			return nil, err
		}
		version = BlobVersion(data)
		if version == blob {
			return nil, nil // nothing changed: no commit, no event
		}
		return w.batch(actor, subject, string(typ), summary, repo.Change{Path: file, Data: data}), nil
	})
	res.Version = version
	return res, err
}

// siteFile reads a file at head: its bytes (nil when absent) and version.
func (w *Writer) siteFile(head repo.Hash, file string) ([]byte, string, error) {
	if head.IsZero() {
		return nil, "", nil
	}
	h, err := w.log.Repo().Stat(head, file)
	if err != nil {
		return nil, "", fmt.Errorf("stat %s: %w", file, err)
	}
	if h.IsZero() {
		return nil, "", nil
	}
	b, err := w.log.Repo().ReadBlob(h)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", file, err)
	}
	return b, h.String(), nil
}

// Settings reads the settings and their version ("" when the file is
// absent) from the head.
func (w *Writer) Settings() (content.Settings, string, error) {
	b, v, err := w.readSiteFile(content.SettingsPath)
	if err != nil {
		return content.DefaultSettings(), v, err
	}
	return w.settingsOf(b), v, nil
}

// settingsOf reads a stored settings file as derivation does: one that
// today's rules refuse (written by hand, or under older rules) counts as
// the defaults, which is what readers see, rather than failing reads and
// edits of the settings.
func (w *Writer) settingsOf(b []byte) content.Settings {
	if b == nil {
		return content.DefaultSettings()
	}
	s, err := content.ParseSettings(b)
	if err != nil {
		w.logger.Warn("the stored settings are invalid; they count as the defaults", "err", err)
		return content.DefaultSettings()
	}
	return s
}

// Profile reads the profile and its version from the head.
func (w *Writer) Profile() (content.Profile, string, error) {
	b, v, err := w.readSiteFile(content.ProfilePath)
	if err != nil {
		return content.Profile{}, v, err
	}
	return w.profileOf(b), v, nil
}

// profileOf is settingsOf for the profile: one today's rules refuse
// counts as the empty profile readers see.
func (w *Writer) profileOf(b []byte) content.Profile {
	if b == nil {
		return content.Profile{}
	}
	p, err := content.ParseProfile(b)
	if err != nil {
		w.logger.Warn("the stored profile is invalid; it counts as empty", "err", err)
		return content.Profile{}
	}
	return p
}

func (w *Writer) readSiteFile(file string) ([]byte, string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	head, err := w.sync()
	if err != nil {
		return nil, "", err
	}
	return w.siteFile(head, file)
}

// siteFileCapability is what changing a site file takes.
func siteFileCapability(file string) policy.Capability {
	if file == content.SettingsPath {
		return policy.EditSettings
	}
	return policy.EditProfile
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// UploadMedia commits a new media item whose bytes are already durable in
// the LFS store: its metadata file and its LFS pointer, one commit.
func (w *Writer) UploadMedia(ctx context.Context, actor Actor, m content.Media) (Written, content.Media, error) {
	res, err := w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		m.ID = w.newPostID()
		m.UploadedAt = w.now().UTC().Truncate(time.Second)
		m.UploadedBy = actor.Email
		if err := actor.policy().Media(nil, &m); err != nil {
			return nil, err
		}
		if err := content.ValidateMediaText(m.Alt, m.Caption).Err(""); err != nil {
			return nil, err
		}
		data, err := content.MarshalYAML(&m)
		if err != nil {
			return nil, err
		}
		name := firstNonEmpty(m.OriginalName, m.ID+"."+m.Ext)
		changes := []repo.Change{{Path: content.MediaMetaPath(m.ID), Data: data},
			{Path: content.MediaFilePath(m.ID, m.Ext), Data: content.LFSPointerFile(m.SHA256, m.Bytes)}}
		if attrs, err := w.log.Repo().Stat(head, content.GitAttributesPath); err != nil {
			return nil, err
		} else if attrs.IsZero() {
			changes = append(changes, repo.Change{Path: content.GitAttributesPath, Data: []byte(content.GitAttributes)})
		}
		return w.batch(actor, "media/"+m.ID, string(events.MediaUploaded), "Upload "+quote(name), changes...), nil
	})
	return res, m, err
}

// UpdateMedia changes a media item's alt text and caption.
func (w *Writer) UpdateMedia(ctx context.Context, actor Actor, id, ifMatch, alt, caption string) (Written, content.Media, error) {
	return w.EditMedia(ctx, actor, id, ifMatch, func(content.Media) (string, string, error) { return alt, caption, nil })
}

// EditMedia sets a media item's alt text and caption to what edit makes of
// its current metadata, under the writer's lock as EditPost does.
func (w *Writer) EditMedia(ctx context.Context, actor Actor, id, ifMatch string, edit func(cur content.Media) (alt, caption string, err error)) (Written, content.Media, error) {
	var m content.Media
	version := ""
	res, err := w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		e, ok := w.idx.media[id]
		if !ok {
			return nil, fmt.Errorf("media %s: %w", id, ErrNotFound)
		}
		if err := actor.policy().Media(&content.Media{ID: id, UploadedBy: e.uploadedBy}, nil); err != nil {
			return nil, err
		}
		if !matches(ifMatch, e.blob) {
			return nil, fmt.Errorf("media %s: %w", id, ErrStale)
		}
		cur, _, err := w.deriver.ReadMediaItem(head, id, true)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			return nil, fmt.Errorf("media %s: %w", id, ErrNotFound)
		}
		m = *cur
		if m.Alt, m.Caption, err = edit(m); err != nil {
			return nil, err
		}
		if err := content.ValidateMediaText(m.Alt, m.Caption).Err(""); err != nil {
			return nil, err
		}
		var data []byte
		if e.described {
			// A picture added with git keeps only a description next to
			// it: its facts stay those of whatever picture is there.
			data, err = w.mediaDescription(head, id, e, m.Alt, m.Caption)
		} else {
			data, err = content.MarshalYAML(&m)
		}
		if err != nil {
			return nil, err
		}
		version = BlobVersion(data)
		if version == e.blob {
			return nil, nil // nothing changed: no commit, no event
		}
		return w.batch(actor, "media/"+id, string(events.MediaUpdated), "Describe media "+id,
			repo.Change{Path: content.MediaMetaPath(id), Data: data}), nil
	})
	res.Version = version
	m.Blob = version
	return res, m, err
}

// mediaDescription is media/<id>.yaml describing a picture added with git:
// the description it had (if any) with a new alt text and caption.
func (w *Writer) mediaDescription(head repo.Hash, id string, e indexedMedia, alt, caption string) ([]byte, error) {
	desc := content.Media{ID: id}
	if e.meta {
		r := w.log.Repo()
		h, err := r.Stat(head, content.MediaMetaPath(id))
		if err != nil {
			return nil, err
		}
		b, err := r.ReadBlob(h)
		if err != nil {
			return nil, err
		}
		if desc, err = content.ParseCommittedMediaMeta(content.MediaMetaPath(id), b); err != nil {
			return nil, err
		}
	}
	out := struct {
		ID           string     `yaml:"id"`
		Alt          string     `yaml:"alt,omitempty"`
		Caption      string     `yaml:"caption,omitempty"`
		OriginalName string     `yaml:"original_name,omitempty"`
		UploadedAt   *time.Time `yaml:"uploaded_at,omitempty"`
		UploadedBy   string     `yaml:"uploaded_by,omitempty"`
	}{ID: id, Alt: alt, Caption: caption, OriginalName: desc.OriginalName, UploadedBy: desc.UploadedBy}
	if !desc.UploadedAt.IsZero() {
		out.UploadedAt = &desc.UploadedAt
	}
	return content.MarshalYAML(&out)
}

// DeleteMedia removes a media item from the site (history, and the LFS
// store, keep its bytes).
func (w *Writer) DeleteMedia(ctx context.Context, actor Actor, id, ifMatch string) (Written, error) {
	return w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		e, ok := w.idx.media[id]
		if !ok {
			return nil, fmt.Errorf("media %s: %w", id, ErrNotFound)
		}
		if err := actor.policy().Media(&content.Media{ID: id, UploadedBy: e.uploadedBy}, nil); err != nil {
			return nil, err
		}
		if !matches(ifMatch, e.blob) {
			return nil, fmt.Errorf("media %s: %w", id, ErrStale)
		}
		var changes []repo.Change
		if e.meta {
			changes = append(changes, repo.Change{Path: content.MediaMetaPath(id), Delete: true})
		}
		if pic, err := w.log.Repo().Stat(head, content.MediaFilePath(id, e.ext)); err != nil {
			return nil, err
		} else if !pic.IsZero() {
			changes = append(changes, repo.Change{Path: content.MediaFilePath(id, e.ext), Delete: true})
		}
		return w.batch(actor, "media/"+id, string(events.MediaDeleted), "Delete media "+id, changes...), nil
	})
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// matches applies an If-Match value to a resource's current version
// (its blob, "" if it does not exist): "" is no condition, "*" any
// existing version (RFC 9110), else exactly that one.
func matches(ifMatch, blob string) bool {
	switch ifMatch {
	case "":
		return true
	case "*":
		return blob != ""
	}
	return ifMatch == blob
}
