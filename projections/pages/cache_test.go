package pages

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/render"
)

// heldBytes adds up what the cached pages hold, counted from the pages
// themselves rather than from the cache's own tally.
func heldBytes(c *pageCache) (n int64, pages int) {
	c.m.Range(func(_, v any) bool {
		pg := v.(*Page)
		n += pg.cost()
		if pg.gz != nil {
			n += int64(len(pg.gz.Body))
		}
		if br := pg.br.Load(); br != nil {
			n += int64(len(br.Body))
		}
		pages++
		return true
	})
	return n, pages
}

// The page cache holds no more than its bound, keeps the page readers
// keep asking for, and a page it dropped is rendered again byte for byte
// (its body read back from bbolt), with the same ETags, also after the
// projection is reopened.
func TestPageCacheBoundAndRenderAgain(t *testing.T) {
	const bound = 48 << 10
	path := filepath.Join(t.TempDir(), "pages.db")
	open := func() *Pages {
		p, err := Open(Config{Path: path, BaseURL: "https://example.org", Renderer: render.New(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), CacheBytes: bound})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	s := &testSite{t: t, p: open()}
	const posts = 40
	for i := range posts {
		ps := published(fmt.Sprintf("p%02d", i), fmt.Sprintf("2025-01-%02d", 1+i%28), []string{"books"}, "Go")
		ps.Content = fmt.Sprintf("Body of post %d, *rendered*.\n\n%s", i, strings.Repeat("A paragraph of words that fills the page. ", 30))
		s.apply(events.PostCreated, events.PostData{Post: ps})
	}
	if h := s.p.posts["p07"].HTML; h != "" {
		t.Errorf("the model keeps a post's HTML in memory (%d bytes); bbolt has it", len(h))
	}

	type seen struct {
		body       []byte
		etag, gzip string
	}
	first := map[string]seen{}
	for i := range posts {
		key := PostURL(fmt.Sprintf("p%02d", i))
		pg := s.p.Lookup(key)
		if pg == nil {
			t.Fatalf("no page at %s", key)
		}
		if !bytes.Contains(pg.Body, []byte(fmt.Sprintf("Body of post %d, <em>rendered</em>.", i))) {
			t.Fatalf("%s lacks its body", key)
		}
		first[key] = seen{pg.Body, pg.ETag, pg.Gzip().Header.Get("Etag")}
		s.p.Cached(PostURL("p00")) // a reader keeps reading this one
		if n, _ := s.p.CacheSize(); n > bound {
			t.Fatalf("after %s the cache counts %d bytes, over its bound of %d", key, n, bound)
		}
		if n, c := heldBytes(s.p.cache); n > bound {
			t.Fatalf("after %s the %d cached pages hold %d bytes, over the bound of %d", key, c, n, bound)
		}
	}
	n, cached := s.p.CacheSize()
	if cached >= posts || cached < 3 {
		t.Fatalf("%d of %d post pages cached (%d bytes): the bound should keep some and drop the others", cached, posts, n)
	}
	if s.p.Cached(PostURL("p00")) == nil {
		t.Error("the page a reader kept asking for was dropped")
	}

	check := func(p *Pages, when string) {
		t.Helper()
		again := 0
		for key, want := range first {
			if p.Cached(key) == nil {
				again++
			}
			pg := p.Lookup(key)
			if !bytes.Equal(pg.Body, want.body) || pg.ETag != want.etag || pg.Gzip().Header.Get("Etag") != want.gzip {
				t.Errorf("%s: %s differs from its first rendering", when, key)
			}
		}
		if again == 0 {
			t.Errorf("%s: no page was rendered again", when)
		}
	}
	check(s.p, "rendered again")
	s.p.Close()
	p := open()
	defer p.Close()
	check(p, "after reopening")
}

// A large batch (a rebuild's) renders its posts on every core: its pages
// are those of the same posts applied one by one.
func TestLargeBatchRendersAsOneByOne(t *testing.T) {
	one, all := newTestSite(t), newTestSite(t)
	var evs []events.Event
	for i := range 70 {
		ps := published(fmt.Sprintf("p%02d", i), fmt.Sprintf("2025-01-%02d", 1+i%28), []string{"books"}, "Go")
		ps.Content = fmt.Sprintf("Post %d with *emphasis* and `code`.\n\n```go\nfunc f%d() {}\n```\n", i, i)
		d := events.PostData{Post: ps}
		one.apply(events.PostCreated, d)
		e, _ := all.event(events.PostCreated, d)
		evs = append(evs, e)
	}
	if err := all.p.Apply(context.Background(), evs, projections.Checkpoint{Cursor: evs[len(evs)-1].Cursor()}); err != nil {
		t.Fatal(err)
	}
	for i := range 70 {
		path := "/posts/" + one.p.posts[fmt.Sprintf("p%02d", i)].Slug
		if a, b := one.page(path), all.page(path); a != b || !strings.Contains(b, fmt.Sprintf("<span class=\"nf\">f%d<", i)) {
			t.Fatalf("%s applied in a batch:\n%s\none by one:\n%s", path, b, a)
		}
	}
}
