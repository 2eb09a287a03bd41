package pages

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
)

// feedSite has three published posts, written out of order, and a newer
// draft; titles and excerpts carry the characters that need escaping.
func feedSite(t *testing.T) *testSite {
	s := newTestSite(t)
	s.apply(events.SettingsChanged, events.SettingsData{Settings: content.Settings{Title: "Tom & <Jerry>", Description: "Cats & mice"}})
	s.apply(events.ProfileChanged, events.ProfileData{Profile: content.Profile{Name: "Ann", Email: "ann@example.org"}})
	cest := time.FixedZone("CEST", 2*3600)
	for _, p := range []content.Post{
		{ID: "p-old", Slug: "fish", Title: `Fish & "chips" <b>`, Excerpt: "Less < more & so on",
			Content: "Body with <i>raw</i> & **bold**.", Status: content.Published,
			PublishedAt: ptr(time.Date(2024, 1, 5, 9, 0, 0, 0, time.UTC)),
			CreatedAt:   time.Date(2024, 1, 4, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)},
		{ID: "p-new", Slug: "summer", Title: "Summer", Content: "First paragraph.\n\nSecond.", Status: content.Published,
			PublishedAt: ptr(time.Date(2024, 6, 1, 12, 30, 0, 0, cest)), // 10:30 UTC
			CreatedAt:   time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2024, 6, 2, 12, 0, 0, 0, cest)},
		{ID: "p-mid", Slug: "spring", Title: "Spring", Content: "Flowers.", Status: content.Published,
			PublishedAt: ptr(time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)),
			CreatedAt:   time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)},
		{ID: "p-draft", Slug: "unfinished", Title: "Unfinished", Content: "Not yet.", Status: content.Draft,
			CreatedAt: time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)},
	} {
		s.apply(events.PostCreated, events.PostData{Post: p})
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// feedItem is what the three formats say about a post; a date a format
// does not carry stays zero.
type feedItem struct {
	ID, Title, Link, Summary string
	Published, Updated       time.Time
	Content                  string
}

func parseAtom(t *testing.T, b []byte) []feedItem {
	var f struct {
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Summary string `xml:"summary"`
			Content string `xml:"content"`
			Link    struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var out []feedItem
	for _, e := range f.Entries {
		// summary and content are type="html": escaped once more.
		out = append(out, feedItem{ID: e.ID, Title: e.Title, Link: e.Link.Href, Summary: html.UnescapeString(e.Summary),
			Updated: parseTime(t, time.RFC3339, e.Updated), Content: e.Content})
	}
	return out
}

func parseRSS(t *testing.T, b []byte) []feedItem {
	var f struct {
		Items []struct {
			GUID        string `xml:"guid"`
			Title       string `xml:"title"`
			Link        string `xml:"link"`
			Description string `xml:"description"`
			PubDate     string `xml:"pubDate"`
			Content     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var out []feedItem
	for _, it := range f.Items {
		out = append(out, feedItem{ID: it.GUID, Title: it.Title, Link: it.Link, Summary: html.UnescapeString(it.Description),
			Published: parseTime(t, time.RFC1123Z, it.PubDate), Content: it.Content})
	}
	return out
}

func parseJSONFeed(t *testing.T, b []byte) []feedItem {
	var f struct {
		Items []struct {
			ID            string    `json:"id"`
			Title         string    `json:"title"`
			URL           string    `json:"url"`
			Summary       string    `json:"summary"`
			ContentHTML   string    `json:"content_html"`
			DatePublished time.Time `json:"date_published"`
			DateModified  time.Time `json:"date_modified"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var out []feedItem
	for _, it := range f.Items {
		out = append(out, feedItem{ID: it.ID, Title: it.Title, Link: it.URL, Summary: it.Summary,
			Published: it.DatePublished, Updated: it.DateModified, Content: it.ContentHTML})
	}
	return out
}

func parseTime(t *testing.T, layout, s string) time.Time {
	t.Helper()
	at, err := time.Parse(layout, s)
	if err != nil {
		t.Fatalf("date %q: %v", s, err)
	}
	return at
}

// The three feeds list the published posts newest first by publication,
// each text escaped exactly once for its format and each date in UTC.
func TestFeedItems(t *testing.T) {
	s := feedSite(t)
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	all := []feedItem{
		{ID: "urn:chronicle:post:p-new", Title: "Summer", Link: "https://example.org/posts/summer", Summary: "First paragraph.",
			Published: utc(2024, 6, 1, 10, 30), Updated: utc(2024, 6, 2, 10, 0)},
		{ID: "urn:chronicle:post:p-mid", Title: "Spring", Link: "https://example.org/posts/spring", Summary: "Flowers.",
			Published: utc(2024, 3, 15, 0, 0), Updated: utc(2024, 3, 15, 0, 0)},
		{ID: "urn:chronicle:post:p-old", Title: `Fish & "chips" <b>`, Link: "https://example.org/posts/fish", Summary: "Less < more & so on",
			Published: utc(2024, 1, 5, 9, 0), Updated: utc(2024, 3, 1, 8, 0)},
	}
	tests := []struct {
		path               string
		contentType        string
		parse              func(*testing.T, []byte) []feedItem
		published, updated bool // which dates the format carries
	}{
		{"/feed.xml", "application/atom+xml; charset=utf-8", parseAtom, false, true},
		{"/rss.xml", "application/rss+xml; charset=utf-8", parseRSS, true, false},
		{"/feed.json", "application/feed+json; charset=utf-8", parseJSONFeed, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			pg := s.p.Lookup(tt.path)
			if pg == nil || pg.Status != 200 || pg.ContentType != tt.contentType {
				t.Fatalf("page %+v, want 200 %s", pg, tt.contentType)
			}
			got := tt.parse(t, pg.Body)
			if len(got) != len(all) {
				t.Fatalf("%d items, want %d (the draft left out)", len(got), len(all))
			}
			for i, want := range all {
				g := got[i]
				if !strings.Contains(g.Content, "<p>") {
					t.Errorf("item %d: content %q is not the post's HTML", i, g.Content)
				}
				g.Content = ""
				if !tt.published {
					want.Published = time.Time{}
				}
				if !tt.updated {
					want.Updated = time.Time{}
				}
				if !g.Published.Equal(want.Published) || !g.Updated.Equal(want.Updated) {
					t.Errorf("item %d dates: published %v updated %v, want %v %v", i, g.Published, g.Updated, want.Published, want.Updated)
				}
				g.Published, g.Updated, want.Published, want.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
				if g != want {
					t.Errorf("item %d:\n got %+v\nwant %+v", i, g, want)
				}
			}
			// The Markdown's "&" is an entity in the post's HTML, and
			// its raw HTML is gone (sanitised), whatever the format.
			if c := got[2].Content; !strings.Contains(c, "raw &amp; <strong>bold</strong>") || strings.Contains(c, "<i>") {
				t.Errorf("content of the escaped post: %q", c)
			}
		})
	}
}

// The feeds as a whole, compared with testdata/feeds; run with
// UPDATE_GOLDEN=1 to write them again after a deliberate change.
func TestFeedsGolden(t *testing.T) {
	s := feedSite(t)
	for _, name := range []string{"feed.xml", "rss.xml", "feed.json"} {
		got := s.p.Lookup("/" + name).Body
		file := filepath.Join("testdata", "feeds", name)
		if os.Getenv("UPDATE_GOLDEN") != "" {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s:\n%s", name, file, got)
		}
	}
}
