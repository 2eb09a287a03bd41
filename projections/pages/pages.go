// Package pages is the projection that builds the public site: home,
// post, category, tag and archive pages (paginated), the about page,
// feeds, the sitemap and robots.txt. Its model (published posts with their
// Markdown already rendered and sanitised, categories, settings, profile)
// is stored in bbolt with the checkpoint; memory holds the model less
// the posts' HTML, which is read from bbolt when a page shows it. Pages
// are kept rendered in memory with their gzip form and an ETag, up to a
// bound in bytes (the hot pages stay, see pageCache); an event drops
// exactly the pages it affects and renders the hot ones again at once
// (the changed posts, first pages of the lists they are in, feeds). Any
// other page is rendered from the model on its next request: template
// work and a bbolt read, never Markdown and never git.
package pages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/render"
)

// Name is the projection's stable name.
const Name = "pages"

var (
	bPosts      = []byte("posts")
	bCategories = []byte("categories")
	bSite       = []byte("site")
	kCheckpoint = []byte("checkpoint")
	kSettings   = []byte("settings")
	kProfile    = []byte("profile")
	kUpdated    = []byte("updated")
	bMedia      = []byte("media")
	bEmbeds     = []byte("embeds")
)

// Config configures the projection.
type Config struct {
	Path     string // the bbolt file
	ThemeDir string // <data>/theme: templates/ and static/ override the built-in theme
	BaseURL  string // public URL of the site when the settings give none
	Renderer *render.Renderer
	Logger   *slog.Logger
	// CacheBytes bounds the rendered pages kept in memory (0:
	// DefaultCacheBytes).
	CacheBytes int64
}

// post is a published post with its rendered body. The live
// projection's posts leave HTML empty in memory: bbolt has it (see body).
type post struct {
	content.Post
	HTML       string    `json:"html"`
	Summary    string    `json:"summary"`
	FirstImage string    `json:"first_image"`
	date       time.Time // listing date, UTC: published, else created
	tagSlugs   []string  // Slugify of each of Tags (slugs cost a regexp each)
	lazy       *lazyDoc  // a snapshot's post: Markdown not rendered yet
}

// lazyDoc renders a snapshot's post the first time a page shows it: a
// past site has thousands of posts and a reader opens a few pages.
type lazyDoc struct {
	once sync.Once
	md   *render.Renderer
	src  string
	doc  render.Doc
}

// rendered returns the post's HTML, summary and first image, rendering
// its Markdown now if it was left for later.
func (ps *post) rendered() (html, summary, firstImage string) {
	l := ps.lazy
	if l == nil {
		return ps.HTML, ps.Summary, ps.FirstImage
	}
	l.once.Do(func() { l.doc, l.src = l.md.Markdown(l.src), "" })
	return l.doc.HTML, l.doc.Summary, l.doc.FirstImage
}

// body returns the post's HTML: a snapshot's from memory (rendered at
// first use), the live projection's from bbolt, where Apply stored it.
// Callers hold mu for reading.
func (p *Pages) body(ps *post) (string, error) {
	if ps.lazy != nil || ps.HTML != "" || p.db == nil {
		h, _, _ := ps.rendered()
		return h, nil
	}
	var html string
	err := p.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bPosts).Get([]byte(ps.ID))
		if v == nil {
			return nil // deleted since; the event's Apply drops this page
		}
		var stored struct {
			HTML string `json:"html"`
		}
		if err := json.Unmarshal(v, &stored); err != nil {
			return err
		}
		html = stored.HTML
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read post %s: %w", ps.ID, err)
	}
	return html, nil
}

// summary is what lists and feeds show of the post.
func (ps *post) summary() string {
	if firstOf(ps.Excerpt) != "" {
		return ps.Excerpt // rendering unneeded
	}
	_, s, _ := ps.rendered()
	return firstOf(ps.Excerpt, s)
}

// derive sets the fields computed from the post.
func (ps *post) derive() *post {
	ps.date = listDate(&ps.Post)
	ps.tagSlugs = make([]string, len(ps.Tags))
	for i, t := range ps.Tags {
		ps.tagSlugs[i] = content.Slugify(t)
	}
	return ps
}

// Pages is the projection and its read side.
type Pages struct {
	cfg   Config
	db    *bolt.DB
	theme *theme

	mu          sync.RWMutex // the model; held for reading while a page renders
	cp          projections.Checkpoint
	posts       map[string]*post // published, by id
	bySlug      map[string]*post
	categories  map[string]content.Category
	settings    content.Settings
	profile     content.Profile
	bio         render.Doc // the profile's bio, rendered when it changed
	media       map[string]image
	embeds      map[string]content.Embed // by post id
	siteUpdated time.Time                // last change of settings, profile or categories
	ix          indexes

	// cache holds rendered pages by path. Written under mu (so a render
	// never stores a page older than the model), read without locks.
	cache    *pageCache
	compress *compressor

	snapshot bool // memory only, Markdown rendered lazily (NewSnapshot)
}

// indexes are sorted views of the published posts, newest first.
type indexes struct {
	all      []*post
	byCat    map[string][]*post
	byTag    map[string][]*post // by tag slug
	tagNames map[string]string
	byYear   map[int][]*post
	byMonth  map[[2]int][]*post
}

var _ projections.Projection = (*Pages)(nil)

// Open opens the projection's store and loads the theme.
func Open(cfg Config) (*Pages, error) {
	if cfg.Renderer == nil {
		cfg.Renderer = render.New()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	th, err := loadTheme(cfg.ThemeDir)
	if err != nil {
		return nil, err
	}
	db, err := projections.OpenStore(cfg.Path)
	if err != nil {
		return nil, err
	}
	p := &Pages{cfg: cfg, db: db, theme: th, compress: &compressor{todo: make(chan *Page, 256)}, cache: newPageCache(cfg.CacheBytes)}
	if err := p.load(); err != nil {
		db.Close()
		return nil, err
	}
	return p, nil
}

// NewSnapshot returns an instance of the projection that lives in memory
// only, for the site as it stood at a past commit (time travel): events
// applied to it are not stored, nothing is rendered ahead, and a post's
// Markdown is rendered when a page first shows it. Its pages are the
// ones the live projection renders from the same events.
func NewSnapshot(cfg Config) (*Pages, error) {
	if cfg.Renderer == nil {
		cfg.Renderer = render.New()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	th, err := loadTheme(cfg.ThemeDir)
	if err != nil {
		return nil, err
	}
	p := &Pages{cfg: cfg, theme: th, compress: &compressor{todo: make(chan *Page, 256)}, cache: newPageCache(cfg.CacheBytes), snapshot: true}
	p.mu.Lock()
	p.clear()
	p.mu.Unlock()
	return p, nil
}

// Close closes the store.
func (p *Pages) Close() error {
	if p.db == nil {
		return nil
	}
	return p.db.Close()
}

// Name implements projections.Projection.
func (p *Pages) Name() string { return Name }

func (p *Pages) clear() {
	p.cp = projections.Checkpoint{}
	p.posts, p.bySlug = map[string]*post{}, map[string]*post{}
	p.categories = map[string]content.Category{}
	p.media = map[string]image{}
	p.embeds = map[string]content.Embed{}
	p.settings, p.profile, p.siteUpdated = content.DefaultSettings(), content.Profile{}, time.Time{}
	p.reindex()
	p.cache.clear()
}

func (p *Pages) load() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	err := p.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bPosts, bCategories, bSite, bMedia, bEmbeds} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bEmbeds).ForEach(func(k, v []byte) error {
			var e content.Embed
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			p.embeds[string(k)] = e
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bMedia).ForEach(func(k, v []byte) error {
			var im image
			if err := json.Unmarshal(v, &im); err != nil {
				return err
			}
			p.media[im.ID] = im
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bPosts).ForEach(func(k, v []byte) error {
			var ps post
			if err := json.Unmarshal(v, &ps); err != nil {
				return fmt.Errorf("post %s: %w", k, err)
			}
			ps.derive()
			ps.HTML = "" // read from bbolt when a page shows it
			p.posts[ps.ID], p.bySlug[ps.Slug] = &ps, &ps
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bCategories).ForEach(func(k, v []byte) error {
			var c content.Category
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			p.categories[c.Slug] = c
			return nil
		}); err != nil {
			return err
		}
		site := tx.Bucket(bSite)
		for k, v := range map[string]any{string(kSettings): &p.settings, string(kProfile): &p.profile, string(kCheckpoint): &p.cp, string(kUpdated): &p.siteUpdated} {
			if b := site.Get([]byte(k)); b != nil {
				if err := json.Unmarshal(b, v); err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load pages: %w", err)
	}
	p.bio = p.cfg.Renderer.Markdown(p.profile.Bio)
	p.reindex()
	p.warm(p.hotKeys(nil, nil))
	return nil
}

// Checkpoint implements projections.Projection.
func (p *Pages) Checkpoint() projections.Checkpoint {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cp
}

// Reset implements projections.Projection.
func (p *Pages) Reset() error {
	err := projections.ResetBuckets(p.db, bPosts, bCategories, bSite, bMedia, bEmbeds)
	if err != nil {
		return fmt.Errorf("reset pages: %w", err)
	}
	p.mu.Lock()
	p.clear()
	p.mu.Unlock()
	return nil
}

// Apply implements projections.Projection.
func (p *Pages) Apply(ctx context.Context, evs []events.Event, cp projections.Checkpoint) error {
	// Render Markdown before taking any lock: it is the costly part.
	b, err := p.decode(evs)
	if err != nil {
		return err
	}
	if p.db != nil {
		if err := p.db.Update(func(tx *bolt.Tx) error { return b.store(tx, cp) }); err != nil {
			return fmt.Errorf("store pages batch: %w", err)
		}
		for _, c := range b.posts {
			if c.post != nil {
				c.post.HTML = "" // stored: read from bbolt when a page shows it
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	iv, hot := p.update(b, cp)
	iv.drop(p.cache)
	if !p.snapshot {
		p.warm(hot)
	}
	return nil
}

// batch is the effect of a batch of events, decoded and rendered.
type batch struct {
	posts       []postChange
	cats        map[string]*content.Category // nil: deleted
	images      map[string]*image            // nil: deleted
	embeds      map[string]content.Embed     // by post id
	settings    *content.Settings
	profile     *content.Profile
	bio         render.Doc
	siteUpdated time.Time
}

type postChange struct {
	id   string
	post *post // new state; nil: gone from the public site
}

// decode reads a batch's payloads and renders their Markdown.
// renderAll renders, on every core, the Markdown of the published posts
// of a large batch (a rebuild, a fast start), by index in evs; a small
// batch's posts are rendered where decode needs them.
func (p *Pages) renderAll(evs []events.Event, pls []events.Payload) map[int]render.Doc {
	if p.snapshot || len(evs) < 64 {
		return nil
	}
	var todo []int
	var srcs []string
	for i, pl := range pls {
		if d, ok := pl.(events.PostData); ok && evs[i].Type != events.PostDeleted && d.Post.Status == content.Published {
			todo, srcs = append(todo, i), append(srcs, d.Post.Content)
		}
	}
	docs := make([]render.Doc, len(todo))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for j := w; j < len(todo); j += workers {
				docs[j] = p.cfg.Renderer.Markdown(srcs[j])
			}
		})
	}
	wg.Wait()
	out := make(map[int]render.Doc, len(todo))
	for j, i := range todo {
		out[i] = docs[j]
	}
	return out
}

func (p *Pages) decode(evs []events.Event) (*batch, error) {
	b := &batch{cats: map[string]*content.Category{}, images: map[string]*image{}, embeds: map[string]content.Embed{}}
	pls := make([]events.Payload, len(evs)) // nil: a type this build does not know
	for i := range evs {
		pl, err := evs[i].Payload()
		if err != nil && !errors.Is(err, events.ErrUnknownType) {
			return nil, fmt.Errorf("event %s: %w", evs[i].ID, err)
		}
		pls[i] = pl
	}
	docs := p.renderAll(evs, pls)
	for i, e := range evs {
		switch d := pls[i].(type) {
		case events.PostData:
			c := postChange{id: d.Post.ID}
			if e.Type != events.PostDeleted && d.Post.Status == content.Published {
				ps := &post{Post: d.Post}
				if p.snapshot {
					ps.lazy = &lazyDoc{md: p.cfg.Renderer, src: d.Post.Content}
				} else {
					doc, ok := docs[i]
					if !ok {
						doc = p.cfg.Renderer.Markdown(d.Post.Content)
					}
					ps.HTML, ps.Summary, ps.FirstImage = doc.HTML, doc.Summary, doc.FirstImage
				}
				ps.Content = ""
				c.post = ps.derive()
			}
			b.posts = append(b.posts, c)
		case events.CategoryData:
			if e.Type == events.CategoryDeleted {
				b.cats[d.Category.Slug] = nil
			} else {
				c := d.Category
				b.cats[c.Slug] = &c
			}
			b.siteUpdated = e.Time
		case events.EmbedData:
			b.embeds[d.PostID] = d.Embed
		case events.MediaData:
			if e.Type == events.MediaDeleted {
				b.images[d.Media.ID] = nil
			} else {
				im := imageOf(d.Media)
				b.images[im.ID] = &im
			}
		case events.SettingsData:
			b.settings, b.siteUpdated = &d.Settings, e.Time
		case events.ProfileData:
			b.profile, b.siteUpdated = &d.Profile, e.Time
			b.bio = p.cfg.Renderer.Markdown(d.Profile.Bio)
		}
	}
	return b, nil
}

// store writes the batch and the checkpoint in one transaction.
func (b *batch) store(tx *bolt.Tx, cp projections.Checkpoint) error {
	for _, c := range b.posts {
		if err := projections.PutJSON(tx.Bucket(bPosts), c.id, c.post); err != nil {
			return err
		}
	}
	for slug, c := range b.cats {
		if err := projections.PutJSON(tx.Bucket(bCategories), slug, c); err != nil {
			return err
		}
	}
	for id, im := range b.images {
		if err := projections.PutJSON(tx.Bucket(bMedia), id, im); err != nil {
			return err
		}
	}
	for id, e := range b.embeds {
		if err := projections.PutJSON(tx.Bucket(bEmbeds), id, &e); err != nil {
			return err
		}
	}
	site := tx.Bucket(bSite)
	if b.settings != nil {
		if err := projections.PutJSON(site, string(kSettings), b.settings); err != nil {
			return err
		}
	}
	if b.profile != nil {
		if err := projections.PutJSON(site, string(kProfile), b.profile); err != nil {
			return err
		}
	}
	if !b.siteUpdated.IsZero() {
		if err := projections.PutJSON(site, string(kUpdated), &b.siteUpdated); err != nil {
			return err
		}
	}
	return projections.PutJSON(site, string(kCheckpoint), &cp)
}

// update applies the batch to the model and returns the cached pages it
// drops and the pages to render again at once. Callers hold mu for
// writing.
func (p *Pages) update(b *batch, cp projections.Checkpoint) (invalidation, []string) {
	var before, after []*post
	for _, c := range b.posts {
		if old := p.posts[c.id]; old != nil {
			before = append(before, old)
			delete(p.bySlug, old.Slug)
			delete(p.posts, c.id)
		}
		if c.post != nil {
			p.posts[c.id], p.bySlug[c.post.Slug] = c.post, c.post
			after = append(after, c.post)
		}
	}
	for slug, c := range b.cats {
		if c == nil {
			delete(p.categories, slug)
		} else {
			p.categories[slug] = *c
		}
	}
	for id, im := range b.images {
		if im == nil {
			delete(p.media, id)
		} else {
			p.media[id] = *im
		}
	}
	for id, e := range b.embeds {
		p.embeds[id] = e
	}
	if b.settings != nil {
		p.settings = *b.settings
	}
	if b.profile != nil {
		p.profile, p.bio = *b.profile, b.bio
	}
	if !b.siteUpdated.IsZero() {
		p.siteUpdated = b.siteUpdated
	}
	p.cp = cp
	oldIx := p.ix
	p.reindex()

	var embedded []*post // published posts whose embed changed
	for id := range b.embeds {
		if ps, ok := p.posts[id]; ok {
			embedded = append(embedded, ps)
		}
	}
	// Chrome (title, navigation, language, page size) is on every page;
	// an image may be on any post.
	chrome := len(b.cats) > 0 || b.settings != nil || b.profile != nil || len(b.images) > 0
	iv := affected(oldIx, p.ix, change{chrome: chrome, posts: len(b.posts) > 0, before: before, after: after, embedded: embedded})
	return iv, p.hotKeys(before, append(after, embedded...))
}

// reindex rebuilds the sorted views. Callers hold mu for writing.
func (p *Pages) reindex() {
	ix := indexes{byCat: map[string][]*post{}, byTag: map[string][]*post{}, tagNames: map[string]string{},
		byYear: map[int][]*post{}, byMonth: map[[2]int][]*post{}}
	ix.all = p.sortedPosts()
	tagCount := map[string]map[string]int{}
	for _, ps := range ix.all {
		for _, c := range ps.Categories {
			ix.byCat[c] = append(ix.byCat[c], ps)
		}
		for i, t := range ps.Tags {
			s := ps.tagSlugs[i]
			ix.byTag[s] = append(ix.byTag[s], ps)
			if tagCount[s] == nil {
				tagCount[s] = map[string]int{}
			}
			tagCount[s][t]++
		}
		d := pubDate(ps)
		ix.byYear[d.Year()] = append(ix.byYear[d.Year()], ps)
		k := [2]int{d.Year(), int(d.Month())}
		ix.byMonth[k] = append(ix.byMonth[k], ps)
	}
	for s, names := range tagCount {
		ix.tagNames[s] = content.TagName(names)
	}
	p.ix = ix
}

// sortedPosts returns the published posts, newest first. It starts from
// the previous order, since an event changes a few posts of thousands:
// the unchanged keep their places and the rest are merged in (sorting all
// of them again was most of an edit's time on a large site).
func (p *Pages) sortedPosts() []*post {
	kept := make([]*post, 0, len(p.posts))
	placed := make(map[*post]bool, len(p.ix.all))
	for _, ps := range p.ix.all {
		if p.posts[ps.ID] == ps {
			kept = append(kept, ps)
			placed[ps] = true
		}
	}
	var added []*post
	for _, ps := range p.posts {
		if !placed[ps] {
			added = append(added, ps)
		}
	}
	sort.Slice(added, func(i, j int) bool { return newer(added[i], added[j]) })
	all := make([]*post, 0, len(p.posts))
	for len(kept) > 0 && len(added) > 0 {
		if newer(added[0], kept[0]) {
			all, added = append(all, added[0]), added[1:]
		} else {
			all, kept = append(all, kept[0]), kept[1:]
		}
	}
	return append(append(all, kept...), added...)
}

func listDate(p *content.Post) time.Time {
	if p.PublishedAt != nil {
		return p.PublishedAt.UTC()
	}
	return p.CreatedAt.UTC()
}

func pubDate(ps *post) time.Time { return ps.date }

func newer(a, b *post) bool {
	if !a.date.Equal(b.date) {
		return a.date.After(b.date)
	}
	return a.ID > b.ID
}

// change is what a batch changed, as far as the page cache is concerned.
type change struct {
	chrome        bool    // categories, settings, profile or images: every page shows them
	posts         bool    // any post event, published or not
	before, after []*post // the changed posts' public states before and after
	embedded      []*post // published posts whose embed was resolved
}

// invalidation is the set of cached pages a batch drops.
type invalidation struct {
	all      bool
	paths    map[string]bool
	prefixes []string // these pages and those below them (see under)
}

// drops reports whether the page at path is dropped.
func (iv invalidation) drops(path string) bool {
	return iv.all || iv.paths[path] || slices.ContainsFunc(iv.prefixes, func(pre string) bool { return under(path, pre) })
}

// drop removes the dropped pages from cache.
func (iv invalidation) drop(cache *pageCache) {
	if iv.all {
		cache.clear()
		return
	}
	cache.drop(iv.drops)
}

// affected computes the pages a change drops, given the indexes before
// (old) and after (cur) it. A change of chrome drops everything. A change
// of posts drops the posts' own pages under old and new slugs, their
// neighbours' and the pages of posts sharing a category or tag (prev/next
// and related links), the lists, archives and feeds they were or are in,
// the home page, the feeds and the sitemap. A resolved embed drops its
// post's page.
func affected(old, cur indexes, ch change) invalidation {
	if ch.chrome {
		return invalidation{all: true}
	}
	iv := invalidation{paths: map[string]bool{}}
	for _, ps := range ch.embedded {
		iv.paths[PostURL(ps.Slug)] = true
	}
	if !ch.posts {
		return iv
	}
	for _, k := range []string{"/", "/feed.xml", "/rss.xml", "/feed.json"} {
		iv.paths[k] = true
	}
	iv.prefixes = []string{"/page", "/sitemap"}
	changed := append(slices.Clip(ch.before), ch.after...)
	cats, tags, years := map[string]bool{}, map[string]bool{}, map[int]bool{}
	for _, ixs := range []indexes{old, cur} {
		for _, ps := range changed {
			iv.paths[PostURL(ps.Slug)] = true
			if i := indexOf(ixs.all, ps); i >= 0 {
				for _, n := range []int{i - 1, i + 1} {
					if n >= 0 && n < len(ixs.all) {
						iv.paths[PostURL(ixs.all[n].Slug)] = true
					}
				}
			}
			for _, c := range ps.Categories {
				cats[c] = true
			}
			for _, t := range ps.tagSlugs {
				tags[t] = true
			}
			years[pubDate(ps).Year()] = true
		}
	}
	// Posts sharing a category or tag may list a changed post as related.
	for _, ixs := range []indexes{old, cur} {
		for c := range cats {
			for _, q := range ixs.byCat[c] {
				iv.paths[PostURL(q.Slug)] = true
			}
		}
		for t := range tags {
			for _, q := range ixs.byTag[t] {
				iv.paths[PostURL(q.Slug)] = true
			}
		}
	}
	for c := range cats {
		iv.prefixes = append(iv.prefixes, "/category/"+c)
	}
	for t := range tags {
		iv.prefixes = append(iv.prefixes, "/tag/"+t)
	}
	for y := range years {
		iv.prefixes = append(iv.prefixes, fmt.Sprintf("/archive/%d", y))
	}
	return iv
}

// under reports whether path is pre or below it; "/sitemap" also covers
// "/sitemap-2.xml".
func under(path, pre string) bool {
	return path == pre || strings.HasPrefix(path, pre+"/") || (pre == "/sitemap" && strings.HasPrefix(path, pre))
}

// hotWarmPosts is how many changed posts a batch may have for their pages
// to be rendered at once; a bigger batch (a replay, a large push) leaves
// them to their first request.
const hotWarmPosts = 32

// hotKeys are the pages rendered right after a change: the changed posts,
// the home page, first pages of their lists, the feeds. Callers hold mu.
func (p *Pages) hotKeys(before, after []*post) []string {
	keys := []string{"/", "/feed.xml", "/rss.xml", "/feed.json", "/about"}
	if len(after) <= hotWarmPosts {
		for _, ps := range after {
			keys = append(keys, PostURL(ps.Slug))
		}
	}
	seen := map[string]bool{}
	for _, ps := range append(before, after...) {
		for _, c := range ps.Categories {
			seen["/category/"+c] = true
		}
		for _, t := range ps.tagSlugs {
			seen["/tag/"+t] = true
		}
	}
	for k := range seen {
		keys = append(keys, k)
	}
	return keys
}

// warm renders keys not in the cache. Callers hold mu.
func (p *Pages) warm(keys []string) {
	for _, k := range keys {
		if _, ok := p.cache.load(k); ok {
			continue
		}
		if pg := p.render(k); pg != nil {
			p.store(k, pg)
		}
	}
}

// store caches a rendered page; a failed render (500) is not kept, so
// that the next request tries again.
func (p *Pages) store(key string, pg *Page) {
	if pg.Status != 500 {
		p.cache.store(key, pg)
	}
}

// Cached returns the page at path if it is rendered, without waiting for
// anything: the fast path for readers.
func (p *Pages) Cached(path string) *Page {
	pg, _ := p.cache.load(path)
	return pg
}

// CacheSize returns the bytes the rendered pages in memory take (bodies
// and compressed forms, as the bound counts them) and how many there are.
func (p *Pages) CacheSize() (bytes int64, pages int) { return p.cache.size() }

// Lookup returns the page at a public path, rendering it if it is not in
// the cache, or nil if there is none (see NotFound).
func (p *Pages) Lookup(path string) *Page {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if pg, ok := p.cache.load(path); ok {
		return pg
	}
	pg := p.render(path)
	if pg != nil {
		p.store(path, pg)
	}
	return pg
}

// NotFound is the themed 404 page.
func (p *Pages) NotFound() *Page {
	p.mu.RLock()
	defer p.mu.RUnlock()
	const key = "\x00404"
	if pg, ok := p.cache.load(key); ok {
		return pg
	}
	pg := p.renderNotFound()
	p.store(key, pg)
	return pg
}

// Settings returns the site settings the pages are built with.
func (p *Pages) Settings() content.Settings {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.settings
}

// PostURL is the public path of a post by slug.
func PostURL(slug string) string { return "/posts/" + slug }
