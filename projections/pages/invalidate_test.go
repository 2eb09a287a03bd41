package pages

import (
	"slices"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
)

// published is a published post whose slug is its id.
func published(id, date string, cats []string, tags ...string) content.Post {
	at, err := time.Parse(time.DateOnly, date)
	if err != nil {
		panic(err)
	}
	return content.Post{ID: id, Slug: id, Title: "Post " + id, Content: "Text of " + id + ".", Status: content.Published,
		PublishedAt: &at, CreatedAt: at, UpdatedAt: at, Categories: cats, Tags: tags}
}

// invalidationSite has five posts, newest first e, d, c, b, a.
func invalidationSite(t *testing.T) *testSite {
	s := newTestSite(t)
	for _, p := range []content.Post{
		published("a", "2024-03-01", []string{"books"}, "Go"),
		published("b", "2024-06-01", []string{"books"}, "Rust"),
		published("c", "2025-01-10", []string{"food"}, "Go"),
		published("d", "2025-02-10", []string{"food"}),
		published("e", "2025-03-10", []string{"travel"}, "Sea"),
	} {
		s.apply(events.PostCreated, events.PostData{Post: p})
	}
	return s
}

// dropped applies one event to the model and returns the pages of
// universe that it drops from a cache holding all of them.
func (s *testSite) dropped(typ events.Type, data any, universe []string) []string {
	s.t.Helper()
	e, cp := s.event(typ, data)
	b, err := s.p.decode([]events.Event{e})
	if err != nil {
		s.t.Fatal(err)
	}
	s.p.mu.Lock()
	iv, _ := s.p.update(b, cp)
	s.p.mu.Unlock()
	cache := newPageCache(0)
	for _, k := range universe {
		cache.store(k, &Page{})
	}
	iv.drop(cache)
	var out []string
	for _, k := range universe {
		if _, ok := cache.load(k); !ok {
			out = append(out, k)
		}
		if _, ok := cache.load(k); ok == iv.drops(k) {
			s.t.Errorf("drops(%q) = %v but the page is %s", k, iv.drops(k), map[bool]string{true: "cached", false: "gone"}[ok])
		}
	}
	return out
}

func TestInvalidation(t *testing.T) {
	universe := []string{
		"/", "/page/2", "/about", "/feed.xml", "/rss.xml", "/feed.json", "/sitemap.xml", "/sitemap-2.xml", "/robots.txt",
		"/posts/a", "/posts/b", "/posts/b2", "/posts/c", "/posts/d", "/posts/e", "/posts/f",
		"/category/books", "/category/books/page/2", "/category/food", "/category/travel",
		"/tag/go", "/tag/go/feed.xml", "/tag/rust", "/tag/sea",
		"/archive/2024", "/archive/2024/06", "/archive/2025", "/archive/2025/03",
	}
	// lists is what any change of a public post drops: the home page and
	// its pages, the feeds, the sitemaps.
	lists := []string{"/", "/page/2", "/feed.xml", "/rss.xml", "/feed.json", "/sitemap.xml", "/sitemap-2.xml"}
	with := func(paths ...string) []string { return append(slices.Clone(lists), paths...) }
	everything := slices.Clone(universe)

	b := published("b", "2024-06-01", []string{"books"}, "Rust")
	renamed := b
	renamed.Slug = "b2"
	retitled := b
	retitled.Title = "Post b, again"
	moved := b
	moved.Categories = []string{"food"}
	retagged := published("c", "2025-01-10", []string{"food"}, "Go", "Rust")
	draft := published("e", "2025-03-10", []string{"travel"}, "Sea")
	draft.Status = content.Draft
	newDraft := published("z", "2025-04-01", []string{"travel"}, "Go")
	newDraft.Status, newDraft.PublishedAt = content.Draft, nil
	media := content.Media{ID: "m1", SHA256: "ab", Type: "image/png", Ext: "png", Width: 10, Height: 10, Bytes: 100}

	tests := []struct {
		name string
		typ  events.Type
		data any
		want []string
	}{
		{"post created: itself, its neighbour, posts sharing its category or tag, its lists",
			events.PostCreated, events.PostData{Post: published("f", "2025-04-01", []string{"food"}, "Go")},
			with("/posts/a", "/posts/c", "/posts/d", "/posts/e", "/posts/f",
				"/category/food", "/tag/go", "/tag/go/feed.xml", "/archive/2025", "/archive/2025/03")},
		{"post updated in place", events.PostUpdated, events.PostData{Post: retitled, Previous: &b},
			with("/posts/a", "/posts/b", "/posts/c", "/category/books", "/category/books/page/2", "/tag/rust", "/archive/2024", "/archive/2024/06")},
		{"post moved to another slug: both addresses", events.PostUpdated, events.PostData{Post: renamed, Previous: &b},
			with("/posts/a", "/posts/b", "/posts/b2", "/posts/c", "/category/books", "/category/books/page/2", "/tag/rust", "/archive/2024", "/archive/2024/06")},
		{"post moved to another category: both categories", events.PostUpdated, events.PostData{Post: moved, Previous: &b},
			with("/posts/a", "/posts/b", "/posts/c", "/posts/d", "/category/books", "/category/books/page/2", "/category/food",
				"/tag/rust", "/archive/2024", "/archive/2024/06")},
		{"tags changed: old and new tags", events.PostUpdated, events.PostData{Post: retagged},
			with("/posts/a", "/posts/b", "/posts/c", "/posts/d", "/category/food", "/tag/go", "/tag/go/feed.xml", "/tag/rust",
				"/archive/2025", "/archive/2025/03")},
		{"post deleted", events.PostDeleted, events.PostData{Post: published("a", "2024-03-01", []string{"books"}, "Go")},
			with("/posts/a", "/posts/b", "/posts/c", "/category/books", "/category/books/page/2", "/tag/go", "/tag/go/feed.xml",
				"/archive/2024", "/archive/2024/06")},
		{"post unpublished", events.PostUnpublished, events.PostData{Post: draft},
			with("/posts/d", "/posts/e", "/category/travel", "/tag/sea", "/archive/2025", "/archive/2025/03")},
		// Not public before or after; the lists are dropped all the same.
		{"draft saved", events.PostCreated, events.PostData{Post: newDraft}, with()},
		{"category created", events.CategoryCreated, events.CategoryData{Category: content.Category{Slug: "news", Name: "News"}}, everything},
		{"category renamed", events.CategoryUpdated, events.CategoryData{Category: content.Category{Slug: "books", Name: "Reading"}}, everything},
		{"category deleted", events.CategoryDeleted, events.CategoryData{Category: content.Category{Slug: "travel", Name: "Travel"}}, everything},
		{"settings changed", events.SettingsChanged, events.SettingsData{Settings: content.Settings{Title: "Renamed", PostsPerPage: 3}}, everything},
		{"profile changed", events.ProfileChanged, events.ProfileData{Profile: content.Profile{Name: "Ann"}}, everything},
		{"media uploaded", events.MediaUploaded, events.MediaData{Media: media}, everything},
		{"media deleted", events.MediaDeleted, events.MediaData{Media: media}, everything},
		{"embed resolved: the post alone", events.EmbedResolved,
			events.EmbedData{PostID: "e", Embed: content.Embed{URL: "https://example.org/x", Kind: "link"}}, []string{"/posts/e"}},
		{"embed resolved for a post not public", events.EmbedResolved,
			events.EmbedData{PostID: "z", Embed: content.Embed{URL: "https://example.org/x", Kind: "link"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := invalidationSite(t)
			got := s.dropped(tt.typ, tt.data, universe)
			want := slices.Clone(tt.want)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("dropped\n %q\nwant\n %q", got, want)
			}
		})
	}
}
