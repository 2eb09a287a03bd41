// Package search is the full-text search projection: a bleve index of the
// published posts, kept by events. Drafts, unpublished and deleted posts
// are never in it. The checkpoint is stored inside the index, in the same
// batch as the documents it covers.
package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/da"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/de"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/en"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/es"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fi"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fr"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/it"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/nl"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/no"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/pt"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ru"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/sv"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/render"
)

// Name is the projection's stable name.
const Name = "search"

var checkpointKey = []byte("chronicle:checkpoint")

// analyzers maps a site language's primary subtag to a bleve analyzer;
// other languages get the standard (unstemmed) analyzer.
var analyzers = map[string]string{
	"en": "en", "fr": "fr", "de": "de", "es": "es", "it": "it", "pt": "pt", "nl": "nl", "sv": "sv",
	"da": "da", "no": "no", "nb": "no", "nn": "no", "fi": "fi", "ru": "ru", "ja": "cjk", "zh": "cjk", "ko": "cjk",
}

// AnalyzerFor returns the analyzer used for a site language.
func AnalyzerFor(lang string) string {
	primary, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if a, ok := analyzers[primary]; ok {
		return a
	}
	return standard.Name
}

// doc is what is indexed for a post. Type selects the document mapping,
// and so the analyzer of the site's language when the post was indexed.
type doc struct {
	Type        string    `json:"type"`
	Title       string    `json:"title"`
	Content     string    `json:"content"` // stored for snippets, not indexed: see Body
	Excerpt     string    `json:"excerpt"` // stored, not indexed
	Body        string    `json:"body"`    // title, tags, the content's text and the excerpt, indexed, not stored
	TagNames    []string  `json:"tag_names"`
	Tags        []string  `json:"tags"`       // tag slugs, for filters and facets
	Categories  []string  `json:"categories"` // category slugs
	Year        string    `json:"year"`
	PublishedAt time.Time `json:"published_at"`
	Slug        string    `json:"slug"`
}

// BleveType selects the document mapping (bleve's Classifier).
func (d doc) BleveType() string { return d.Type }

// Index is the projection.
type Index struct {
	path string
	md   *render.Renderer

	mu     sync.RWMutex
	idx    bleve.Index
	cp     projections.Checkpoint
	lang   string // analyzer for new documents and queries
	posts  int
	facets *facetTable
}

var _ projections.Projection = (*Index)(nil)

// Open opens or creates the index at path.
func Open(path string, md *render.Renderer) (*Index, error) {
	ix := &Index{path: path, md: md, lang: AnalyzerFor("en")}
	idx, err := bleve.OpenUsing(path, indexConfig())
	if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		idx, err = newIndex(path)
	}
	if err != nil {
		return nil, fmt.Errorf("open search index %s: %w", path, err)
	}
	ix.idx = idx
	stale, err := ix.loadMeta()
	if err != nil {
		idx.Close()
		return nil, err
	}
	if stale {
		if err := ix.Reset(); err != nil {
			return nil, fmt.Errorf("make search index %s again for the new mapping: %w", path, err)
		}
	}
	return ix, nil
}

// OpenMemory returns an index that lives in memory only (the same
// mapping and analysers), for searching the site as it stood at a past
// commit: events applied to it are not stored anywhere. Reset is not for
// it.
func OpenMemory(md *render.Renderer) (*Index, error) {
	idx, err := bleve.NewUsing("", newMapping(), scorch.Name, scorch.Name, indexConfig())
	if err != nil {
		return nil, fmt.Errorf("create search index in memory: %w", err)
	}
	return &Index{md: md, lang: AnalyzerFor("en"), idx: idx, facets: newFacetTable()}, nil
}

// loadMeta reads the index's checkpoint, analyzer and facets, or reports
// it stale: written with another mapping (see mappingVersion).
func (ix *Index) loadMeta() (stale bool, err error) {
	b, err := ix.idx.GetInternal(checkpointKey)
	if err != nil {
		return false, fmt.Errorf("read search checkpoint: %w", err)
	}
	var m meta
	if b != nil {
		if err := json.Unmarshal(b, &m); err != nil {
			return false, fmt.Errorf("read search checkpoint: %w", err)
		}
		if m.Mapping != mappingVersion {
			return true, nil
		}
	}
	ix.cp = m.Checkpoint
	if m.Analyzer != "" {
		ix.lang = m.Analyzer
	}
	n, err := ix.idx.DocCount()
	if err != nil {
		return false, fmt.Errorf("count search documents: %w", err)
	}
	ix.posts = int(n)
	ix.facets = newFacetTable()
	return false, ix.facets.load(ix.idx)
}

// meta is stored with every batch: the checkpoint, the analyzer the
// site's language selects and the mapping's version.
type meta struct {
	Checkpoint projections.Checkpoint `json:"checkpoint"`
	Analyzer   string                 `json:"analyzer"`
	Mapping    int                    `json:"mapping,omitempty"`
}

// mappingVersion changes when newMapping does. bleve keeps the mapping an
// index was created with, so an index of another version is made again
// (empty: the runtime feeds it from its zero checkpoint). Version 2 has no
// _all field and no doc values but the date's; 3 has the title and tags
// in the body. An index of version 3 whose fields name the plain analyzers
// rather than their memoising twins (memo.go) is not stale: both make the
// same tokens.
const mappingVersion = 3

// indexConfig lets a batch return once it is searchable, before it is on
// disk (scorch persists it moments later, with fsync). A crash may then
// lose the last batches, but never half of one: the checkpoint is in the
// same batch, the index comes back at an older checkpoint, and the runtime
// replays the events after it. Waiting for the disk made an edit reach
// search 7 ms later (25 ms at p99).
func indexConfig() map[string]any { return map[string]any{"unsafe_batch": true} }

func newIndex(path string) (bleve.Index, error) {
	return bleve.NewUsing(path, newMapping(), scorch.Name, scorch.Name, indexConfig())
}

func newMapping() mapping.IndexMapping {
	im := bleve.NewIndexMapping()
	im.TypeField = "type"
	im.DefaultAnalyzer = standard.Name
	seen := map[string]bool{}
	for _, a := range append([]string{standard.Name}, values(analyzers)...) {
		if seen[a] {
			continue
		}
		seen[a] = true
		im.AddDocumentMapping("post_"+a, postMapping(a))
	}
	im.DefaultMapping = postMapping(standard.Name)
	return im
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func postMapping(analyzer string) *mapping.DocumentMapping {
	// No field is in bleve's composite _all field, and only the date has
	// doc values (for sorting): either doubled the cost of indexing.
	// Positions (term vectors) only where phrases are looked for.
	text := func(vectors, store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerOf(analyzer) // the same tokens as analyzer's (see memo.go)
		f.IncludeTermVectors = vectors
		f.IncludeInAll = false
		f.DocValues = false
		f.Store = store
		return f
	}
	stored := func() *mapping.FieldMapping {
		f := text(false, true)
		f.Index = false
		return f
	}
	keyword := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Store = true
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	dm := bleve.NewDocumentMapping()
	dm.AddFieldMappingsAt("title", text(true, true))
	dm.AddFieldMappingsAt("body", text(true, false))
	dm.AddFieldMappingsAt("tag_names", text(false, true))
	dm.AddFieldMappingsAt("content", stored())
	dm.AddFieldMappingsAt("excerpt", stored())
	dm.AddFieldMappingsAt("tags", keyword())
	dm.AddFieldMappingsAt("categories", keyword())
	dm.AddFieldMappingsAt("year", keyword())
	dm.AddFieldMappingsAt("slug", keyword())
	dm.AddFieldMappingsAt("type", keyword())
	pub := bleve.NewDateTimeFieldMapping()
	pub.Store = true
	pub.IncludeInAll = false
	dm.AddFieldMappingsAt("published_at", pub)
	dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	return dm
}

// Close waits until the index is on disk, then closes it.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.path == "" {
		return ix.idx.Close() // in memory: nothing to wait for
	}
	return errors.Join(ix.flush(), ix.idx.Close())
}

// flush writes the checkpoint again, in a batch whose persistence it waits
// for, and so for every batch before it (see indexConfig): without it a
// closing index would lose its last batches, and `chronicle rebuild` its
// work.
func (ix *Index) flush() error {
	b := ix.idx.NewBatch()
	m, _ := json.Marshal(meta{Checkpoint: ix.cp, Analyzer: ix.lang, Mapping: mappingVersion})
	b.SetInternal(checkpointKey, m)
	persisted := make(chan error, 1)
	b.SetPersistedCallback(func(err error) { persisted <- err })
	if err := ix.idx.Batch(b); err != nil {
		return fmt.Errorf("flush search index: %w", err)
	}
	select {
	case err := <-persisted:
		if err != nil {
			return fmt.Errorf("flush search index: %w", err)
		}
		return nil
	case <-time.After(time.Minute):
		return errors.New("flush search index: not on disk after a minute")
	}
}

// Name implements projections.Projection.
func (ix *Index) Name() string { return Name }

// Checkpoint implements projections.Projection.
func (ix *Index) Checkpoint() projections.Checkpoint {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.cp
}

// Reset implements projections.Projection.
func (ix *Index) Reset() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.idx.Close(); err != nil {
		return err
	}
	if err := os.RemoveAll(ix.path); err != nil {
		return fmt.Errorf("remove search index: %w", err)
	}
	idx, err := newIndex(ix.path)
	if err != nil {
		return fmt.Errorf("create search index: %w", err)
	}
	ix.idx, ix.cp, ix.lang, ix.posts, ix.facets = idx, projections.Checkpoint{}, AnalyzerFor("en"), 0, newFacetTable()
	return nil
}

// Apply implements projections.Projection.
func (ix *Index) Apply(ctx context.Context, evs []events.Event, cp projections.Checkpoint) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	// The batch ends with every document analysed for the language the
	// site has after it.
	lang := ix.lang
	posts := map[string]*content.Post{} // id → last state in the batch (nil: remove)
	var order []string
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
			if _, seen := posts[d.Post.ID]; !seen {
				order = append(order, d.Post.ID)
			}
			if e.Type == events.PostDeleted || d.Post.Status != content.Published {
				posts[d.Post.ID] = nil
			} else {
				p := d.Post
				posts[p.ID] = &p
			}
		case events.SettingsData:
			lang = AnalyzerFor(d.Settings.Language)
		}
	}
	b := ix.idx.NewBatch()
	if lang != ix.lang {
		if err := ix.reanalyse(b, lang, posts); err != nil {
			return err
		}
	}
	docs := make(map[string]doc, len(order))
	for _, id := range order {
		if p := posts[id]; p == nil {
			b.Delete(id)
		} else {
			docs[id] = ix.docOf(p, lang)
			if err := b.Index(id, docs[id]); err != nil {
				return fmt.Errorf("index %s: %w", id, err)
			}
		}
	}
	m, _ := json.Marshal(meta{Checkpoint: cp, Analyzer: lang, Mapping: mappingVersion})
	b.SetInternal(checkpointKey, m)
	if err := ix.idx.Batch(b); err != nil {
		return fmt.Errorf("write search batch: %w", err)
	}
	for _, id := range order {
		if d, ok := docs[id]; ok {
			ix.facets.set(id, d)
		} else {
			ix.facets.remove(id)
		}
	}
	ix.cp, ix.lang = cp, lang
	n, _ := ix.idx.DocCount()
	ix.posts = int(n)
	return nil
}

func (ix *Index) docOf(p *content.Post, analyzer string) doc {
	d := doc{Type: "post_" + analyzer, Title: p.Title, Content: ix.md.Text(p.Content), Excerpt: p.Excerpt, TagNames: p.Tags,
		Categories: p.Categories, Slug: p.Slug}
	d.Body = d.body()
	for _, t := range p.Tags {
		d.Tags = append(d.Tags, content.Slugify(t))
	}
	if p.PublishedAt != nil {
		d.PublishedAt = p.PublishedAt.UTC()
		d.Year = fmt.Sprint(d.PublishedAt.Year())
	}
	return d
}

// reanalyse re-indexes every stored document with another analyzer,
// except those the batch itself writes or removes.
func (ix *Index) reanalyse(b *bleve.Batch, analyzer string, skip map[string]*content.Post) error {
	q := bleve.NewMatchAllQuery()
	for from := 0; ; from += 1000 {
		req := bleve.NewSearchRequestOptions(q, 1000, from, false)
		req.Fields = []string{"*"}
		res, err := ix.idx.Search(req)
		if err != nil {
			return fmt.Errorf("read back for reanalysis: %w", err)
		}
		for _, h := range res.Hits {
			if _, ok := skip[h.ID]; ok {
				continue
			}
			d := docFromFields(h.Fields)
			d.Type = "post_" + analyzer
			if err := b.Index(h.ID, d); err != nil {
				return err
			}
		}
		if len(res.Hits) < 1000 {
			return nil
		}
	}
}

// body is every text a reader sees of a post in one field, as bleve's
// composite _all field would hold it, at the cost of analysing the title
// and tags twice (short) rather than the content: a word, a typo or a
// prefix is looked for in one dictionary and one posting list.
func (d doc) body() string {
	parts := append([]string{d.Title}, d.TagNames...)
	return strings.Join(append(parts, d.Content, d.Excerpt), "\n\n")
}

func docFromFields(f map[string]any) doc {
	str := func(k string) string { s, _ := f[k].(string); return s }
	list := func(k string) []string {
		switch v := f[k].(type) {
		case string:
			return []string{v}
		case []any:
			out := make([]string, 0, len(v))
			for _, x := range v {
				if s, ok := x.(string); ok {
					out = append(out, s)
				}
			}
			return out
		}
		return nil
	}
	d := doc{Title: str("title"), Content: str("content"), Excerpt: str("excerpt"), TagNames: list("tag_names"),
		Tags: list("tags"), Categories: list("categories"), Year: str("year"), Slug: str("slug")}
	d.Body = d.body()
	if t, err := time.Parse(time.RFC3339, str("published_at")); err == nil {
		d.PublishedAt = t
	}
	return d
}
