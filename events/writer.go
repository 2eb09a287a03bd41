package events

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chronicle-cms/chronicle/repo"
)

var (
	// ErrNotFound: no post or category with that id or slug.
	ErrNotFound = errors.New("not found")
	// ErrStale: the If-Match version is not the current one.
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
}

// PostInput is what an editor sets on a post; the rest is derived.
type PostInput struct {
	Title        string
	Slug         string // empty: derive from the title on create, keep on update
	Content      string
	Excerpt      string
	Status       Status
	PublishedAt  *time.Time
	Categories   []string
	Tags         []string
	FeatureImage string
	Gallery      []string
	EmbedURL     string
	Meta         Meta
}

// Written is the outcome of a write: the events of its commit and the
// cursor just after them (wait for projections to reach it for
// read-your-writes).
type Written struct {
	Events []Event
	Cursor Cursor
	Post   *Post
}

// Writer turns editors' commands into commits. It is the only writer of the
// repository inside the process; it keeps an index of the head (ids, slugs,
// paths, versions) to check commands without scanning the tree, and brings
// it up to date whenever main moved outside it (a push, the git CLI).
type Writer struct {
	log      *GitLog
	deriver  *Deriver
	logger   *slog.Logger
	now      func() time.Time
	onCommit func(Cursor)
	observe  func(time.Duration, int)
	lfsDir   string

	mu  sync.Mutex
	idx *index
}

type indexedPost struct {
	path, slug, blob string
	categories       []string
}

type index struct {
	head       repo.Hash
	posts      map[string]indexedPost  // by id
	bySlug     map[string]string       // slug → id
	byPath     map[string]string       // path → id
	categories map[string]string       // slug → blob
	media      map[string]indexedMedia // by id
}

type indexedMedia struct{ blob, ext string }

// WriterConfig configures a Writer.
type WriterConfig struct {
	Now      func() time.Time // defaults to time.Now
	OnCommit func(Cursor)     // called after every commit, e.g. to wake the outbox
	// Observe, if set, gets the duration of each successful append and the
	// number of events it produced.
	Observe func(d time.Duration, events int)
	// LFSDir is the Git LFS store that pushed pointers must point into.
	LFSDir string
}

// NewWriter returns a writer appending to l.
func NewWriter(l *GitLog, d *Deriver, logger *slog.Logger, cfg WriterConfig) *Writer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OnCommit == nil {
		cfg.OnCommit = func(Cursor) {}
	}
	if cfg.Observe == nil {
		cfg.Observe = func(time.Duration, int) {}
	}
	return &Writer{log: l, deriver: d, logger: logger, now: cfg.Now, onCommit: cfg.OnCommit, observe: cfg.Observe, lfsDir: cfg.LFSDir,
		idx: &index{posts: map[string]indexedPost{}, bySlug: map[string]string{}, byPath: map[string]string{}, categories: map[string]string{},
			media: map[string]indexedMedia{}}}
}

// sync brings the index to the current head. Callers hold mu.
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
	for _, ch := range changes {
		switch {
		case IsPostPath(ch.Path):
			if id, ok := w.idx.byPath[ch.Path]; ok {
				w.idx.remove(id)
			}
			if ch.New.IsZero() {
				continue
			}
			b, err := r.ReadBlob(ch.New)
			if err != nil {
				return head, err
			}
			p, err := parsePost(b, fileDefaults{path: ch.Path})
			if err != nil {
				continue // invalid files are not posts, as in Derive
			}
			if _, dup := w.idx.posts[p.ID]; dup {
				continue
			}
			w.idx.add(p.ID, indexedPost{path: ch.Path, slug: p.Slug, blob: ch.New.String(), categories: p.Categories})
		case IsMediaMetaPath(ch.Path):
			id := mediaIDOf(ch.Path)
			delete(w.idx.media, id)
			if !ch.New.IsZero() {
				if b, err := r.ReadBlob(ch.New); err != nil {
					return head, err
				} else if m, err := ParseMedia(ch.Path, b); err == nil {
					w.idx.media[id] = indexedMedia{blob: ch.New.String(), ext: m.Ext}
				}
			}
		case IsCategoryPath(ch.Path):
			slug := CategorySlug(ch.Path)
			delete(w.idx.categories, slug)
			if !ch.New.IsZero() {
				if b, err := r.ReadBlob(ch.New); err != nil {
					return head, err
				} else if _, err := ParseCategory(ch.Path, b); err == nil {
					w.idx.categories[slug] = ch.New.String()
				}
			}
		}
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
func (w *Writer) command(ctx context.Context, build func(head repo.Hash) (*Batch, error)) (Written, error) {
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

func (w *Writer) batch(actor Actor, subject, event, summary string, changes ...repo.Change) *Batch {
	msg := fmt.Sprintf("%s\n\n%s: %s\n%s: %s\n%s: %s\n", summary, TrailerEvent, event, TrailerSubject, subject, TrailerActor, actor.Email)
	name := actor.Name
	if name == "" {
		name = actor.Email
	}
	return &Batch{Changes: changes, Message: msg, Author: repo.Signature{Name: name, Email: actor.Email, When: w.now()}}
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
	res, err := w.command(ctx, func(head repo.Hash) (*Batch, error) {
		now := w.now().UTC().Truncate(time.Second)
		id = newPostID()
		p := Post{ID: id, CreatedAt: now, UpdatedAt: now}
		in.apply(&p, now)
		if in.Slug == "" {
			p.Slug = w.freeSlug(Slugify(in.Title), id)
		} else if other, taken := w.idx.bySlug[in.Slug]; taken {
			return nil, &ConflictError{Field: "slug", Detail: fmt.Sprintf("%q is already used by post %s", in.Slug, other)}
		}
		if err := w.validate(&p); err != nil {
			return nil, err
		}
		p.Path = w.freePath(fmt.Sprintf("%s%d/%s.md", PostsDir, p.CreatedAt.Year(), p.Slug))
		data, err := MarshalPost(&p)
		if err != nil {
			return nil, err
		}
		return w.batch(actor, "post/"+id, string(PostCreated), "Create post "+quote(p.Title),
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
	res, err := w.command(ctx, func(head repo.Hash) (*Batch, error) {
		cur, err := w.current(head, id, ifMatch)
		if err != nil {
			return nil, err
		}
		now := w.now().UTC().Truncate(time.Second)
		p := *cur
		if in.Slug != "" && in.Slug != cur.Slug {
			if other, taken := w.idx.bySlug[in.Slug]; taken && other != id {
				return nil, &ConflictError{Field: "slug", Detail: fmt.Sprintf("%q is already used by post %s", in.Slug, other)}
			}
			p.Slug = in.Slug
		}
		in.Slug = p.Slug
		in.apply(&p, now)
		if p.PublishedAt == nil && p.Status == Published {
			p.PublishedAt = cur.PublishedAt
		}
		if err := w.validate(&p); err != nil {
			return nil, err
		}
		if p.Slug != cur.Slug {
			p.Path = w.freePath(path.Join(path.Dir(cur.Path), p.Slug+".md"))
		}
		if samePost(cur, &p) && p.Path == cur.Path {
			return nil, nil // nothing changed: no commit, no event
		}
		p.UpdatedAt = now
		data, err := MarshalPost(&p)
		if err != nil {
			return nil, err
		}
		changes := []repo.Change{{Path: p.Path, Data: data}}
		if p.Path != cur.Path {
			changes = append(changes, repo.Change{Path: cur.Path, Delete: true})
		}
		typ := PostUpdated
		switch {
		case cur.Status != Published && p.Status == Published:
			typ = PostPublished
		case cur.Status == Published && p.Status != Published:
			typ = PostUnpublished
		}
		return w.batch(actor, "post/"+id, string(typ), "Update post "+quote(p.Title), changes...), nil
	})
	if err != nil {
		return res, err
	}
	return w.withPost(res, id)
}

// DeletePost removes a post's file.
func (w *Writer) DeletePost(ctx context.Context, actor Actor, id, ifMatch string) (Written, error) {
	return w.command(ctx, func(head repo.Hash) (*Batch, error) {
		cur, err := w.current(head, id, ifMatch)
		if err != nil {
			return nil, err
		}
		changes := []repo.Change{{Path: cur.Path, Delete: true}}
		if emb, err := w.log.Repo().Stat(head, EmbedPath(id)); err != nil {
			return nil, err
		} else if !emb.IsZero() {
			changes = append(changes, repo.Change{Path: EmbedPath(id), Delete: true}) // its resolved embed goes too
		}
		return w.batch(actor, "post/"+id, string(PostDeleted), "Delete post "+quote(cur.Title), changes...), nil
	})
}

// Post reads a post's current state from the head (not the catalogue).
func (w *Writer) Post(id string) (*Post, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	head, err := w.sync()
	if err != nil {
		return nil, err
	}
	return w.current(head, id, "")
}

func (w *Writer) current(head repo.Hash, id, ifMatch string) (*Post, error) {
	e, ok := w.idx.posts[id]
	if !ok {
		return nil, fmt.Errorf("post %s: %w", id, ErrNotFound)
	}
	if ifMatch != "" && ifMatch != e.blob {
		return nil, fmt.Errorf("post %s: %w", id, ErrStale)
	}
	p, err := w.deriver.readPost(e.path, fromHex(e.blob), head)
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
			var d PostData
			if err := jsonUnmarshal(e.Data, &d); err != nil {
				return res, err
			}
			res.Post = &d.Post
		}
	}
	return res, nil
}

func (in *PostInput) apply(p *Post, now time.Time) {
	p.Title, p.Content, p.Excerpt = in.Title, in.Content, in.Excerpt
	if in.Slug != "" {
		p.Slug = in.Slug
	}
	p.Status = in.Status
	if p.Status == "" {
		p.Status = Draft
	}
	p.PublishedAt = in.PublishedAt
	if p.PublishedAt != nil {
		t := p.PublishedAt.UTC().Truncate(time.Second)
		p.PublishedAt = &t
	} else if p.Status == Published && p.CreatedAt.Equal(now) {
		p.PublishedAt = &now
	}
	p.Categories, p.Tags, p.Gallery = nonNil(in.Categories), nonNil(in.Tags), nonNil(in.Gallery)
	p.FeatureImage, p.EmbedURL, p.Meta = in.FeatureImage, in.EmbedURL, in.Meta
	p.Content = strings.ReplaceAll(p.Content, "\r\n", "\n")
}

func nonNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func (w *Writer) validate(p *Post) error {
	fe := validatePost(p)
	for _, c := range p.Categories {
		if _, ok := w.idx.categories[c]; !ok && ValidSlug(c) {
			fe.add("categories", 0, "no category %q: create it first", c)
		}
	}
	return fe.err("")
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
		s = strings.TrimRight(base[:min(len(base), MaxSlug-len(suffix))], "-") + suffix
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

func newPostID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return NewID(b)
}

// PutCategory creates or replaces a category; created reports which.
func (w *Writer) PutCategory(ctx context.Context, actor Actor, c Category, ifMatch string) (Written, bool, error) {
	created := false
	res, err := w.command(ctx, func(head repo.Hash) (*Batch, error) {
		blob, exists := w.idx.categories[c.Slug]
		if ifMatch != "" && ifMatch != blob {
			return nil, fmt.Errorf("category %s: %w", c.Slug, ErrStale)
		}
		if err := ValidateCategory(&c).err(""); err != nil {
			return nil, err
		}
		data, err := MarshalCategory(&c)
		if err != nil {
			return nil, err
		}
		created = !exists
		typ, verb := CategoryUpdated, "Update"
		if created {
			typ, verb = CategoryCreated, "Create"
		}
		return w.batch(actor, "category/"+c.Slug, string(typ), verb+" category "+quote(c.Name),
			repo.Change{Path: CategoryPath(c.Slug), Data: data}), nil
	})
	return res, created, err
}

// DeleteCategory removes a category no post uses.
func (w *Writer) DeleteCategory(ctx context.Context, actor Actor, slug, ifMatch string) (Written, error) {
	return w.command(ctx, func(head repo.Hash) (*Batch, error) {
		blob, ok := w.idx.categories[slug]
		if !ok {
			return nil, fmt.Errorf("category %s: %w", slug, ErrNotFound)
		}
		if ifMatch != "" && ifMatch != blob {
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
		return w.batch(actor, "category/"+slug, string(CategoryDeleted), "Delete category "+quote(slug),
			repo.Change{Path: CategoryPath(slug), Delete: true}), nil
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

// PutSettings replaces site/settings.yaml.
func (w *Writer) PutSettings(ctx context.Context, actor Actor, s Settings) (Written, error) {
	return w.command(ctx, func(head repo.Hash) (*Batch, error) {
		if err := ValidateSettings(&s).err(""); err != nil {
			return nil, err
		}
		data, err := MarshalSettings(&s)
		if err != nil {
			return nil, err
		}
		return w.batch(actor, "site/settings", string(SettingsChanged), "Change settings",
			repo.Change{Path: SettingsPath, Data: data}), nil
	})
}

// PutProfile replaces site/profile.yaml.
func (w *Writer) PutProfile(ctx context.Context, actor Actor, p Profile) (Written, error) {
	return w.command(ctx, func(head repo.Hash) (*Batch, error) {
		if err := ValidateProfile(&p).err(""); err != nil {
			return nil, err
		}
		data, err := MarshalProfile(&p)
		if err != nil {
			return nil, err
		}
		return w.batch(actor, "site/profile", string(ProfileChanged), "Change profile",
			repo.Change{Path: ProfilePath, Data: data}), nil
	})
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// UploadMedia commits a new media item whose bytes are already durable in
// the LFS store: its metadata file and its LFS pointer, one commit.
func (w *Writer) UploadMedia(ctx context.Context, actor Actor, m Media) (Written, Media, error) {
	res, err := w.command(ctx, func(head repo.Hash) (*Batch, error) {
		m.ID = newPostID()
		m.UploadedAt = w.now().UTC().Truncate(time.Second)
		if err := validateMediaText(m.Alt, m.Caption).err(""); err != nil {
			return nil, err
		}
		data, err := marshalYAML(&m)
		if err != nil {
			return nil, err
		}
		name := firstNonEmpty(m.OriginalName, m.ID+"."+m.Ext)
		changes := []repo.Change{{Path: MediaMetaPath(m.ID), Data: data},
			{Path: MediaFilePath(m.ID, m.Ext), Data: lfsPointer(m.SHA256, m.Bytes)}}
		if attrs, err := w.log.Repo().Stat(head, GitAttributesPath); err != nil {
			return nil, err
		} else if attrs.IsZero() {
			changes = append(changes, repo.Change{Path: GitAttributesPath, Data: []byte(GitAttributes)})
		}
		return w.batch(actor, "media/"+m.ID, string(MediaUploaded), "Upload "+quote(name), changes...), nil
	})
	return res, m, err
}

// UpdateMedia changes a media item's alt text and caption.
func (w *Writer) UpdateMedia(ctx context.Context, actor Actor, id, ifMatch, alt, caption string) (Written, Media, error) {
	var m Media
	res, err := w.command(ctx, func(head repo.Hash) (*Batch, error) {
		e, ok := w.idx.media[id]
		if !ok {
			return nil, fmt.Errorf("media %s: %w", id, ErrNotFound)
		}
		if ifMatch != "" && ifMatch != e.blob {
			return nil, fmt.Errorf("media %s: %w", id, ErrStale)
		}
		b, err := w.log.Repo().ReadBlob(fromHex(e.blob))
		if err != nil {
			return nil, err
		}
		if m, err = ParseMedia(MediaMetaPath(id), b); err != nil {
			return nil, err
		}
		m.Alt, m.Caption = alt, caption
		if err := validateMediaText(m.Alt, m.Caption).err(""); err != nil {
			return nil, err
		}
		data, err := marshalYAML(&m)
		if err != nil {
			return nil, err
		}
		return w.batch(actor, "media/"+id, string(MediaUpdated), "Describe media "+id,
			repo.Change{Path: MediaMetaPath(id), Data: data}), nil
	})
	return res, m, err
}

// DeleteMedia removes a media item from the site (history, and the LFS
// store, keep its bytes).
func (w *Writer) DeleteMedia(ctx context.Context, actor Actor, id, ifMatch string) (Written, error) {
	return w.command(ctx, func(head repo.Hash) (*Batch, error) {
		e, ok := w.idx.media[id]
		if !ok {
			return nil, fmt.Errorf("media %s: %w", id, ErrNotFound)
		}
		if ifMatch != "" && ifMatch != e.blob {
			return nil, fmt.Errorf("media %s: %w", id, ErrStale)
		}
		return w.batch(actor, "media/"+id, string(MediaDeleted), "Delete media "+id,
			repo.Change{Path: MediaMetaPath(id), Delete: true},
			repo.Change{Path: MediaFilePath(id, e.ext), Delete: true}), nil
	})
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
