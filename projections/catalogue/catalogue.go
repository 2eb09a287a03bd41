// Package catalogue is the read model the API serves: posts by id and
// slug, filtered by status, category and tag, categories, tags with
// counts, settings and profile. State lives in memory for reads and in a
// bbolt file for durability; each batch of events is published to memory,
// then written with the checkpoint in one bbolt transaction (undone in
// memory if that fails). Posts' text (Content, most of a post) stays in
// memory only until its transaction commits: from then on bbolt alone
// keeps it, read for the posts a read returns.
package catalogue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections"
)

// Name is the projection's stable name.
const Name = "catalogue"

var (
	bPosts      = []byte("posts")
	bCategories = []byte("categories")
	bSite       = []byte("site")
	bMeta       = []byte("meta")
	bMedia      = []byte("media")
	kCheckpoint = []byte("checkpoint")
	kSettings   = []byte("settings")
	kProfile    = []byte("profile")
)

// Catalogue is the projection. Reads are safe from any goroutine.
type Catalogue struct {
	db *bolt.DB

	mu         sync.RWMutex
	cp         projections.Checkpoint
	posts      map[string]*content.Post // Content left empty once stored: see withContent
	held       map[string]bool          // posts whose Content memory still has: their batch is not stored yet
	bySlug     map[string]string
	categories map[string]content.Category
	settings   content.Settings
	profile    content.Profile
	media      map[string]content.Media
	// sorted lists posts newest first; nil when stale. Built lazily by a
	// reader (under the read lock, which keeps the posts still).
	sorted atomic.Pointer[[]*content.Post]
	// tags is Tags' answer; nil when stale. Counting them reads every
	// post's tags, which the admin's every page asks for.
	tags atomic.Pointer[[]Tag]
}

var _ projections.Projection = (*Catalogue)(nil)

// Open opens (or creates) the catalogue stored at path.
func Open(path string) (*Catalogue, error) {
	db, err := projections.OpenStore(path)
	if err != nil {
		return nil, err
	}
	c := &Catalogue{db: db}
	if err := c.load(); err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the file.
func (c *Catalogue) Close() error { return c.db.Close() }

// Name implements projections.Projection.
func (c *Catalogue) Name() string { return Name }

func (c *Catalogue) clear() {
	c.cp = projections.Checkpoint{}
	c.posts = map[string]*content.Post{}
	c.held = map[string]bool{}
	c.bySlug = map[string]string{}
	c.categories = map[string]content.Category{}
	c.settings = content.DefaultSettings()
	c.profile = content.Profile{}
	c.media = map[string]content.Media{}
	c.sorted.Store(nil)
	c.tags.Store(nil)
}

func (c *Catalogue) load() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clear()
	return c.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bPosts, bCategories, bSite, bMeta, bMedia} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bMedia).ForEach(func(k, v []byte) error {
			var m content.Media
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("media %s: %w", k, err)
			}
			c.media[m.ID] = m
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bPosts).ForEach(func(k, v []byte) error {
			var p content.Post
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("post %s: %w", k, err)
			}
			p.Content = "" // read from bbolt when asked for
			c.posts[p.ID], c.bySlug[p.Slug] = &p, p.ID
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bCategories).ForEach(func(k, v []byte) error {
			var cat content.Category
			if err := json.Unmarshal(v, &cat); err != nil {
				return fmt.Errorf("category %s: %w", k, err)
			}
			c.categories[cat.Slug] = cat
			return nil
		}); err != nil {
			return err
		}
		for k, v := range map[string]any{string(kSettings): &c.settings, string(kProfile): &c.profile} {
			if b := tx.Bucket(bSite).Get([]byte(k)); b != nil {
				if err := json.Unmarshal(b, v); err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
			}
		}
		if b := tx.Bucket(bMeta).Get(kCheckpoint); b != nil {
			return json.Unmarshal(b, &c.cp)
		}
		return nil
	})
}

// Checkpoint implements projections.Projection.
func (c *Catalogue) Checkpoint() projections.Checkpoint {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cp
}

// Reset implements projections.Projection.
func (c *Catalogue) Reset() error {
	err := projections.ResetBuckets(c.db, bPosts, bCategories, bSite, bMeta, bMedia)
	if err != nil {
		return fmt.Errorf("reset catalogue: %w", err)
	}
	c.mu.Lock()
	c.clear()
	c.mu.Unlock()
	return nil
}

// change is the effect of a batch on memory (or what undoes it).
type change struct {
	posts      map[string]*content.Post // nil value: deleted
	categories map[string]*content.Category
	settings   *content.Settings
	profile    *content.Profile
	media      map[string]*content.Media
}

// Apply implements projections.Projection.
func (c *Catalogue) Apply(ctx context.Context, evs []events.Event, cp projections.Checkpoint) error {
	ch := change{posts: map[string]*content.Post{}, categories: map[string]*content.Category{}, media: map[string]*content.Media{}}
	c.mu.RLock()
	current := func(id string) *content.Post {
		if p, ok := ch.posts[id]; ok {
			return p
		}
		return c.posts[id]
	}
	for _, e := range evs {
		pl, err := e.Payload()
		if errors.Is(err, events.ErrUnknownType) {
			continue
		}
		if err != nil {
			c.mu.RUnlock()
			return fmt.Errorf("event %s: %w", e.ID, err)
		}
		switch d := pl.(type) {
		case events.PostData:
			if e.Type == events.PostDeleted {
				ch.posts[d.Post.ID] = nil
				continue
			}
			p := d.Post
			p.Version = 1
			if prev := current(p.ID); prev != nil {
				p.Version = prev.Version + 1
			}
			ch.posts[p.ID] = &p
		case events.CategoryData:
			if e.Type == events.CategoryDeleted {
				ch.categories[d.Category.Slug] = nil
			} else {
				cat := d.Category
				ch.categories[cat.Slug] = &cat
			}
		case events.MediaData:
			if e.Type == events.MediaDeleted {
				ch.media[d.Media.ID] = nil
			} else {
				m := d.Media
				ch.media[m.ID] = &m
			}
		case events.SettingsData:
			ch.settings = &d.Settings
		case events.ProfileData:
			ch.profile = &d.Profile
		}
	}
	c.mu.RUnlock()

	// Readers see the batch as soon as it is in memory, before its
	// transaction is on disk: the events are already durable in the
	// stream (or in git, on one node), and the checkpoint (and with it
	// the acknowledgement, and "Prefer: wait") moves only once the
	// transaction committed. If it fails, memory is put back as it was
	// and the same events come again. Waiting for the disk first added
	// the transaction's 26 ms (p50) to 120 ms (p99) on a busy read node
	// to every edit's way to the API (BenchmarkReadNode, debug log).
	c.mu.Lock()
	undo := c.install(ch, true)
	c.mu.Unlock()
	err := c.db.Update(func(tx *bolt.Tx) error {
		for id, p := range ch.posts {
			if err := projections.PutJSON(tx.Bucket(bPosts), id, p); err != nil {
				return err
			}
		}
		for slug, cat := range ch.categories {
			if err := projections.PutJSON(tx.Bucket(bCategories), slug, cat); err != nil {
				return err
			}
		}
		for id, m := range ch.media {
			if err := projections.PutJSON(tx.Bucket(bMedia), id, m); err != nil {
				return err
			}
		}
		if ch.settings != nil {
			if err := projections.PutJSON(tx.Bucket(bSite), string(kSettings), ch.settings); err != nil {
				return err
			}
		}
		if ch.profile != nil {
			if err := projections.PutJSON(tx.Bucket(bSite), string(kProfile), ch.profile); err != nil {
				return err
			}
		}
		return projections.PutJSON(tx.Bucket(bMeta), string(kCheckpoint), &cp)
	})
	if err != nil {
		c.mu.Lock()
		c.install(undo, false)
		c.mu.Unlock()
		return fmt.Errorf("store catalogue batch: %w", err)
	}
	c.mu.Lock()
	c.cp = cp
	for id, p := range ch.posts {
		if p != nil {
			p.Content = "" // stored: read from bbolt when asked for
		}
		delete(c.held, id)
	}
	c.mu.Unlock()
	return nil
}

// install puts ch into memory and returns the change that undoes it;
// held says ch's posts still carry their text (a batch not yet stored),
// which reads then take from memory rather than bbolt. Callers hold mu.
func (c *Catalogue) install(ch change, held bool) change {
	undo := change{posts: map[string]*content.Post{}, categories: map[string]*content.Category{}, media: map[string]*content.Media{}}
	for id, p := range ch.posts {
		undo.posts[id] = c.posts[id]
		if held && p != nil {
			c.held[id] = true
		} else {
			delete(c.held, id)
		}
	}
	for slug := range ch.categories {
		if cat, ok := c.categories[slug]; ok {
			undo.categories[slug] = &cat
		} else {
			undo.categories[slug] = nil
		}
	}
	for id := range ch.media {
		if m, ok := c.media[id]; ok {
			undo.media[id] = &m
		} else {
			undo.media[id] = nil
		}
	}
	if ch.settings != nil {
		old := c.settings
		undo.settings = &old
	}
	if ch.profile != nil {
		old := c.profile
		undo.profile = &old
	}
	for id, p := range ch.posts {
		if old := c.posts[id]; old != nil && c.bySlug[old.Slug] == id {
			delete(c.bySlug, old.Slug)
		}
		if p == nil {
			delete(c.posts, id)
			continue
		}
		c.posts[id], c.bySlug[p.Slug] = p, id
	}
	for slug, cat := range ch.categories {
		if cat == nil {
			delete(c.categories, slug)
		} else {
			c.categories[slug] = *cat
		}
	}
	for id, m := range ch.media {
		if m == nil {
			delete(c.media, id)
		} else {
			c.media[id] = *m
		}
	}
	if ch.settings != nil {
		c.settings = *ch.settings
	}
	if ch.profile != nil {
		c.profile = *ch.profile
	}
	if len(ch.posts) > 0 {
		c.sorted.Store(nil)
		c.tags.Store(nil)
	}
	return undo
}

// Post returns a post by id.
func (c *Catalogue) Post(id string) (content.Post, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.posts[id]
	if !ok {
		return content.Post{}, false
	}
	out := []content.Post{*p}
	c.withContent(out)
	return out[0], true
}

// withContent fills in the posts' Content from bbolt, which alone keeps
// it once a post's batch is stored (until then memory has it: held). A
// post stored at another version than memory has cannot be seen while
// Apply keeps that order; should it be, it is taken whole as stored, so
// text and fields always belong together. Callers hold the read lock.
func (c *Catalogue) withContent(posts []content.Post) {
	c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bPosts)
		for i := range posts {
			if c.held[posts[i].ID] {
				continue // its batch is not stored yet: memory has the text
			}
			v := b.Get([]byte(posts[i].ID))
			if v == nil {
				continue
			}
			var stored content.Post
			if err := json.Unmarshal(v, &stored); err != nil {
				continue // written by Apply from a content.Post: cannot happen short of a corrupt file, which load reports
			}
			if stored.Version != posts[i].Version {
				posts[i] = stored
				continue
			}
			posts[i].Content = stored.Content
		}
		return nil
	})
}

// PostBySlug returns a post by slug.
func (c *Catalogue) PostBySlug(slug string) (content.Post, bool) {
	c.mu.RLock()
	id, ok := c.bySlug[slug]
	c.mu.RUnlock()
	if !ok {
		return content.Post{}, false
	}
	return c.Post(id)
}

// Query filters and pages the post list. Empty fields match everything.
type Query struct {
	Status   content.Status
	Category string
	Tag      string // a tag's slug
	// Search keeps posts whose title or slug holds every word of it
	// (ignoring case): the admin's filter, drafts included, unlike the
	// search index, which holds published posts only.
	Search  string
	Sort    Sort
	Page    int // from 1
	PerPage int
	// Visible, when set, keeps only the posts it accepts (the admin:
	// those the account may read).
	Visible func(*content.Post) bool
}

// Sort orders a post list.
type Sort string

const (
	Newest  Sort = ""       // by date (published, else created), newest first
	Oldest  Sort = "oldest" // by date, oldest first
	ByTitle Sort = "title"  // by title, ignoring case
)

// Date is the date a post is listed by: published, else created.
func Date(p *content.Post) time.Time {
	if p.PublishedAt != nil {
		return *p.PublishedAt
	}
	return p.CreatedAt
}

// sortedLocked returns the posts newest first. Callers hold the read lock.
func (c *Catalogue) sortedLocked() []*content.Post {
	if s := c.sorted.Load(); s != nil {
		return *s
	}
	s := make([]*content.Post, 0, len(c.posts))
	for _, p := range c.posts {
		s = append(s, p)
	}
	sort.Slice(s, func(i, j int) bool {
		di, dj := Date(s[i]), Date(s[j])
		if !di.Equal(dj) {
			return di.After(dj)
		}
		return s[i].ID > s[j].ID
	})
	c.sorted.CompareAndSwap(nil, &s)
	return s
}

// Posts returns one page of matching posts, newest first, and the total.
func (c *Catalogue) Posts(q Query) ([]content.Post, int) {
	if q.Page < 1 {
		q.Page = 1
	}
	if q.PerPage < 1 {
		q.PerPage = 20
	}
	words := strings.Fields(strings.ToLower(q.Search))
	keep := func(p *content.Post) bool {
		if q.Visible != nil && !q.Visible(p) {
			return false
		}
		if q.Status != "" && p.Status != q.Status {
			return false
		}
		if q.Category != "" && !slices.Contains(p.Categories, q.Category) {
			return false
		}
		if q.Tag != "" && !slices.ContainsFunc(p.Tags, func(t string) bool { return content.Slugify(t) == q.Tag }) {
			return false
		}
		if len(words) > 0 {
			hay := strings.ToLower(p.Title) + " " + p.Slug
			for _, w := range words {
				if !strings.Contains(hay, w) {
					return false
				}
			}
		}
		return true
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	sorted := c.sortedLocked()
	var out []content.Post
	total, skip := 0, (q.Page-1)*q.PerPage
	take := func(p *content.Post) {
		total++
		if total > skip && len(out) < q.PerPage {
			out = append(out, *p)
		}
	}
	switch q.Sort {
	case Oldest:
		for i := len(sorted) - 1; i >= 0; i-- {
			if keep(sorted[i]) {
				take(sorted[i])
			}
		}
	case ByTitle:
		var matched []*content.Post
		for _, p := range sorted {
			if keep(p) {
				matched = append(matched, p)
			}
		}
		slices.SortStableFunc(matched, func(a, b *content.Post) int {
			return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
		})
		for _, p := range matched {
			take(p)
		}
	default:
		for _, p := range sorted {
			if keep(p) {
				take(p)
			}
		}
	}
	c.withContent(out)
	return out, total
}

// Categories lists categories by name.
func (c *Catalogue) Categories() []content.Category {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]content.Category, 0, len(c.categories))
	for _, cat := range c.categories {
		out = append(out, cat)
	}
	content.SortCategories(out)
	return out
}

// Category returns one category.
func (c *Catalogue) Category(slug string) (content.Category, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	cat, ok := c.categories[slug]
	return cat, ok
}

// Tag is a tag with the number of posts carrying it.
type Tag struct {
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	Published int    `json:"published"` // published posts
	Total     int    `json:"total"`     // all posts, drafts included
}

// Tags lists tags by slug. A tag's name is its most used spelling.
func (c *Catalogue) Tags() []Tag {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if t := c.tags.Load(); t != nil {
		return slices.Clone(*t)
	}
	out := c.tagsOf(nil)
	c.tags.CompareAndSwap(nil, &out) // under the read lock: no post changed meanwhile
	return slices.Clone(out)
}

// TagsVisible is Tags counted over only the posts visible accepts (what
// an account may read): a tag only others' drafts carry is not listed.
func (c *Catalogue) TagsVisible(visible func(*content.Post) bool) []Tag {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.tagsOf(visible)
}

// tagsOf counts the tags of the posts visible accepts (nil: all).
// Callers hold mu.
func (c *Catalogue) tagsOf(visible func(*content.Post) bool) []Tag {
	type acc struct {
		Tag
		names map[string]int
	}
	m := map[string]*acc{}
	for _, p := range c.posts {
		if visible != nil && !visible(p) {
			continue
		}
		for _, t := range p.Tags {
			s := content.Slugify(t)
			a := m[s]
			if a == nil {
				a = &acc{Tag: Tag{Slug: s}, names: map[string]int{}}
				m[s] = a
			}
			a.Total++
			if p.Status == content.Published {
				a.Published++
			}
			a.names[t]++
		}
	}
	out := make([]Tag, 0, len(m))
	for _, a := range m {
		a.Name = content.TagName(a.names)
		out = append(out, a.Tag)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Slug < out[j].Slug })
	return out
}

// Settings returns the site settings.
func (c *Catalogue) Settings() content.Settings {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.settings
}

// Profile returns the author profile.
func (c *Catalogue) Profile() content.Profile {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.profile
}

// Snapshot is the whole state, for comparing two catalogues.
type Snapshot struct {
	Posts      map[string]content.Post
	Categories []content.Category
	Settings   content.Settings
	Profile    content.Profile
}

// Snapshot copies the state.
func (c *Catalogue) Snapshot() Snapshot {
	c.mu.RLock()
	s := Snapshot{Posts: map[string]content.Post{}, Settings: c.settings, Profile: c.profile}
	all := make([]content.Post, 0, len(c.posts))
	for _, p := range c.posts {
		all = append(all, *p)
	}
	c.withContent(all)
	for _, p := range all {
		s.Posts[p.ID] = p
	}
	c.mu.RUnlock()
	s.Categories = c.Categories()
	return s
}

// Media returns one media item.
func (c *Catalogue) Media(id string) (content.Media, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.media[id]
	return m, ok
}

// MediaList pages through media items, newest first, and the total.
func (c *Catalogue) MediaList(page, perPage int) ([]content.Media, int) {
	c.mu.RLock()
	all := make([]content.Media, 0, len(c.media))
	for _, m := range c.media {
		all = append(all, m)
	}
	c.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool {
		if !all[i].UploadedAt.Equal(all[j].UploadedAt) {
			return all[i].UploadedAt.After(all[j].UploadedAt)
		}
		return all[i].ID > all[j].ID
	})
	from := min(len(all), (page-1)*perPage)
	return all[from:min(len(all), from+perPage)], len(all)
}
