// Package pages is the projection that builds the public site: home,
// post, category, tag and archive pages (paginated), the about page,
// feeds, the sitemap and robots.txt. Its model (published posts with their
// Markdown already rendered and sanitised, categories, settings, profile)
// is stored in bbolt with the checkpoint. Pages are kept rendered in
// memory with their gzip form and an ETag; an event drops exactly the
// pages it affects and renders the hot ones again at once (the changed
// posts, first pages of the lists they are in, feeds). Any other dropped
// page is rendered from the model on its next request: template work
// only, never Markdown and never git.
package pages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/chronicle-cms/chronicle/events"
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
}

// post is a published post with its rendered body.
type post struct {
	events.Post
	HTML       string    `json:"html"`
	Summary    string    `json:"summary"`
	FirstImage string    `json:"first_image"`
	date       time.Time // listing date, UTC: published, else created
	tagSlugs   []string  // Slugify of each of Tags (slugs cost a regexp each)
}

// derive sets the fields computed from the post.
func (ps *post) derive() *post {
	ps.date = listDate(&ps.Post)
	ps.tagSlugs = make([]string, len(ps.Tags))
	for i, t := range ps.Tags {
		ps.tagSlugs[i] = events.Slugify(t)
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
	categories  map[string]events.Category
	settings    events.Settings
	profile     events.Profile
	bio         render.Doc // the profile's bio, rendered when it changed
	media       map[string]image
	embeds      map[string]events.Embed // by post id
	siteUpdated time.Time               // last change of settings, profile or categories
	ix          indexes

	// cache holds rendered pages by path. Written under mu (so a render
	// never stores a page older than the model), read without locks.
	cache  sync.Map
	brotli *compressor
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
	p := &Pages{cfg: cfg, db: db, theme: th, brotli: &compressor{todo: make(chan *Page, 256)}}
	if err := p.load(); err != nil {
		db.Close()
		return nil, err
	}
	return p, nil
}

// Close closes the store.
func (p *Pages) Close() error { return p.db.Close() }

// Name implements projections.Projection.
func (p *Pages) Name() string { return Name }

func (p *Pages) clear() {
	p.cp = projections.Checkpoint{}
	p.posts, p.bySlug = map[string]*post{}, map[string]*post{}
	p.categories = map[string]events.Category{}
	p.media = map[string]image{}
	p.embeds = map[string]events.Embed{}
	p.settings, p.profile, p.siteUpdated = events.DefaultSettings(), events.Profile{}, time.Time{}
	p.reindex()
	p.cache.Clear()
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
			var e events.Embed
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
			p.posts[ps.ID], p.bySlug[ps.Slug] = &ps, &ps
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bCategories).ForEach(func(k, v []byte) error {
			var c events.Category
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
	type change struct {
		post  *post // new state; nil: gone from the public site
		id    string
		event events.Event
	}
	var postChanges []change
	var cats = map[string]*events.Category{}
	images := map[string]*image{}
	embeds := map[string]events.Embed{}
	var settings *events.Settings
	var profile *events.Profile
	var bio render.Doc
	var siteUpdated time.Time
	for _, e := range evs {
		pl, err := e.Payload()
		if errors.Is(err, events.ErrUnknownType) {
			continue
		}
		if err != nil {
			return fmt.Errorf("event %s: %w", e.ID, err)
		}
		switch d := pl.(type) {
		case events.PostData:
			c := change{id: d.Post.ID, event: e}
			if e.Type != events.PostDeleted && d.Post.Status == events.Published {
				doc := p.cfg.Renderer.Markdown(d.Post.Content)
				ps := (&post{Post: d.Post, HTML: doc.HTML, Summary: doc.Summary, FirstImage: doc.FirstImage}).derive()
				ps.Content = ""
				c.post = ps
			}
			postChanges = append(postChanges, c)
		case events.CategoryData:
			if e.Type == events.CategoryDeleted {
				cats[d.Category.Slug] = nil
			} else {
				c := d.Category
				cats[c.Slug] = &c
			}
			siteUpdated = e.Time
		case events.EmbedData:
			embeds[d.PostID] = d.Embed
		case events.MediaData:
			if e.Type == events.MediaDeleted {
				images[d.Media.ID] = nil
			} else {
				im := imageOf(d.Media)
				images[im.ID] = &im
			}
		case events.SettingsData:
			settings, siteUpdated = &d.Settings, e.Time
		case events.ProfileData:
			profile, siteUpdated = &d.Profile, e.Time
			bio = p.cfg.Renderer.Markdown(d.Profile.Bio)
		}
	}

	err := p.db.Update(func(tx *bolt.Tx) error {
		for _, c := range postChanges {
			if err := projections.PutJSON(tx.Bucket(bPosts), c.id, c.post); err != nil {
				return err
			}
		}
		for slug, c := range cats {
			if err := projections.PutJSON(tx.Bucket(bCategories), slug, c); err != nil {
				return err
			}
		}
		for id, im := range images {
			if err := projections.PutJSON(tx.Bucket(bMedia), id, im); err != nil {
				return err
			}
		}
		for id, e := range embeds {
			if err := projections.PutJSON(tx.Bucket(bEmbeds), id, &e); err != nil {
				return err
			}
		}
		site := tx.Bucket(bSite)
		if settings != nil {
			if err := projections.PutJSON(site, string(kSettings), settings); err != nil {
				return err
			}
		}
		if profile != nil {
			if err := projections.PutJSON(site, string(kProfile), profile); err != nil {
				return err
			}
		}
		if !siteUpdated.IsZero() {
			if err := projections.PutJSON(site, string(kUpdated), &siteUpdated); err != nil {
				return err
			}
		}
		return projections.PutJSON(site, string(kCheckpoint), &cp)
	})
	if err != nil {
		return fmt.Errorf("store pages batch: %w", err)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	var before, after []*post
	for _, c := range postChanges {
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
	for slug, c := range cats {
		if c == nil {
			delete(p.categories, slug)
		} else {
			p.categories[slug] = *c
		}
	}
	for id, im := range images {
		if im == nil {
			delete(p.media, id)
		} else {
			p.media[id] = *im
		}
	}
	for id, e := range embeds {
		p.embeds[id] = e
	}
	if settings != nil {
		p.settings = *settings
	}
	if profile != nil {
		p.profile, p.bio = *profile, bio
	}
	if !siteUpdated.IsZero() {
		p.siteUpdated = siteUpdated
	}
	p.cp = cp
	oldIx := p.ix
	p.reindex()

	// Chrome (title, navigation, language, page size) is on every page;
	// an image may be on any post: drop everything.
	chrome := len(cats) > 0 || settings != nil || profile != nil || len(images) > 0
	if chrome {
		p.cache.Clear()
	} else if len(postChanges) > 0 {
		p.invalidate(oldIx, before, after)
	}
	for id := range embeds {
		if ps, ok := p.posts[id]; ok {
			p.cache.Delete(PostURL(ps.Slug))
			after = append(after, ps) // render it again now
		}
	}
	p.warm(p.hotKeys(before, after))
	return nil
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
		ix.tagNames[s] = events.TagName(names)
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

func listDate(p *events.Post) time.Time {
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

// invalidate drops every cached page a change of posts can affect: the
// posts' own pages under old and new slugs, their neighbours' and the
// pages of posts sharing a category or tag (prev/next and related links),
// and the lists, archives and feeds they were or are in. Callers hold mu.
func (p *Pages) invalidate(old indexes, before, after []*post) {
	drop := map[string]bool{"/": true, "/feed.xml": true, "/rss.xml": true, "/feed.json": true}
	prefixes := []string{"/page", "/sitemap"}
	cats, tags, years := map[string]bool{}, map[string]bool{}, map[int]bool{}
	for _, ixs := range []indexes{old, p.ix} {
		for _, ps := range append(before, after...) {
			drop[PostURL(ps.Slug)] = true
			if i := indexOf(ixs.all, ps); i >= 0 {
				for _, n := range []int{i - 1, i + 1} {
					if n >= 0 && n < len(ixs.all) {
						drop[PostURL(ixs.all[n].Slug)] = true
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
	for _, ixs := range []indexes{old, p.ix} {
		for c := range cats {
			for _, q := range ixs.byCat[c] {
				drop[PostURL(q.Slug)] = true
			}
		}
		for t := range tags {
			for _, q := range ixs.byTag[t] {
				drop[PostURL(q.Slug)] = true
			}
		}
	}
	for c := range cats {
		prefixes = append(prefixes, "/category/"+c)
	}
	for t := range tags {
		prefixes = append(prefixes, "/tag/"+t)
	}
	for y := range years {
		prefixes = append(prefixes, fmt.Sprintf("/archive/%d", y))
	}
	p.cache.Range(func(key, _ any) bool {
		k := key.(string)
		if drop[k] || slices.ContainsFunc(prefixes, func(pre string) bool { return under(k, pre) }) {
			p.cache.Delete(k)
		}
		return true
	})
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
		if _, ok := p.cache.Load(k); ok {
			continue
		}
		if pg := p.render(k); pg != nil {
			p.store(k, pg)
		}
	}
}

func (p *Pages) store(key string, pg *Page) { p.cache.Store(key, pg) }

// Cached returns the page at path if it is rendered, without waiting for
// anything: the fast path for readers.
func (p *Pages) Cached(path string) *Page {
	if v, ok := p.cache.Load(path); ok {
		return v.(*Page)
	}
	return nil
}

// Lookup returns the page at a public path, rendering it if it is not in
// the cache, or nil if there is none (see NotFound).
func (p *Pages) Lookup(path string) *Page {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if v, ok := p.cache.Load(path); ok {
		return v.(*Page)
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
	if v, ok := p.cache.Load(key); ok {
		return v.(*Page)
	}
	pg := p.renderNotFound()
	p.store(key, pg)
	return pg
}

// Settings returns the site settings the pages are built with.
func (p *Pages) Settings() events.Settings {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.settings
}

// PostURL is the public path of a post by slug.
func PostURL(slug string) string { return "/posts/" + slug }
