package pages

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/render"
)

// testSite is a pages projection fed events by hand.
type testSite struct {
	t *testing.T
	p *Pages
	n int64
}

func newTestSite(t *testing.T) *testSite {
	t.Helper()
	p, err := Open(Config{Path: filepath.Join(t.TempDir(), "pages.db"), BaseURL: "https://example.org", Renderer: render.New(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &testSite{t: t, p: p}
}

// event is the next event of the site's log, alone in its commit.
func (s *testSite) event(typ events.Type, data any) (events.Event, projections.Checkpoint) {
	s.t.Helper()
	s.n++
	b, err := json.Marshal(data)
	if err != nil {
		s.t.Fatal(err)
	}
	c := fmt.Sprintf("%040d", s.n)
	e := events.Event{ID: c + "-0", Type: typ, Commit: c, Height: s.n, Count: 1, Data: b, Time: time.Date(2026, 1, 1, 0, 0, int(s.n), 0, time.UTC)}
	return e, projections.Checkpoint{Cursor: events.End(c, s.n, 1)}
}

func (s *testSite) apply(typ events.Type, data any) {
	s.t.Helper()
	e, cp := s.event(typ, data)
	if err := s.p.Apply(context.Background(), []events.Event{e}, cp); err != nil {
		s.t.Fatal(err)
	}
}

func (s *testSite) page(path string) string {
	s.t.Helper()
	pg := s.p.Lookup(path)
	if pg == nil {
		s.t.Fatalf("no page at %s", path)
	}
	return string(pg.Body)
}

var navRE = regexp.MustCompile(`(?s)<nav aria-label="Site">(.*?)</nav>`)
var linkRE = regexp.MustCompile(`<a href="([^"]*)"[^>]*>([^<]*)</a>`)

// header lists the site navigation's links as "label=href".
func header(page string) []string {
	var out []string
	for _, m := range linkRE.FindAllStringSubmatch(navRE.FindStringSubmatch(page)[1], -1) {
		out = append(out, m[2]+"="+m[1])
	}
	return out
}

func TestNavigationChosenBySettings(t *testing.T) {
	s := newTestSite(t)
	for _, name := range []string{"Zebra", "Apples", "Cooking", "Books", "Diving", "Eels", "Fish"} {
		s.apply(events.CategoryCreated, events.CategoryData{Category: content.Category{Slug: strings.ToLower(name), Name: name}})
	}
	// Seven categories, no choice made: the first few by name.
	got := strings.Join(header(s.page("/")), " ")
	if want := "Home=/ Apples=/category/apples Books=/category/books Cooking=/category/cooking Diving=/category/diving About=/about"; got != want {
		t.Errorf("default header:\n got %s\nwant %s", got, want)
	}

	// Chosen: in order, a link, a renamed category, one that does not exist.
	var st content.Settings
	if err := json.Unmarshal([]byte(`{"title":"Blog","language":"en","posts_per_page":10,
		"navigation":["zebra",{"label":"Go posts","url":"/tag/go"},{"category":"fish","label":"Seafood"},"gone"]}`), &st); err != nil {
		t.Fatal(err)
	}
	s.apply(events.SettingsChanged, events.SettingsData{Settings: st})
	got = strings.Join(header(s.page("/category/zebra")), " ")
	if want := "Home=/ Zebra=/category/zebra Go posts=/tag/go Seafood=/category/fish About=/about"; got != want {
		t.Errorf("chosen header:\n got %s\nwant %s", got, want)
	}
	if page := s.page("/category/zebra"); !strings.Contains(page, `<a href="/category/zebra" aria-current="page">Zebra</a>`) {
		t.Error("the current category is not marked")
	}

	// An empty list: none.
	st.Navigation = &[]content.NavItem{}
	s.apply(events.SettingsChanged, events.SettingsData{Settings: st})
	if got := strings.Join(header(s.page("/")), " "); got != "Home=/ About=/about" {
		t.Errorf("empty navigation: %s", got)
	}
}

func TestNavigationSettingsAreValidated(t *testing.T) {
	ok := "title: Blog\nnavigation:\n  - news\n  - label: Go\n    url: /tag/go\n  - label: Elsewhere\n    url: https://example.org/\n  - category: fish\n    label: Seafood\n"
	s, err := content.ParseSettings([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(*s.Navigation); n != 4 {
		t.Fatalf("%d items", n)
	}
	// Written back the way it was read, and the same over JSON.
	out, _ := content.MarshalSettings(&s)
	if !strings.Contains(string(out), "navigation:\n  - news\n  - label: Go\n    url: /tag/go\n") {
		t.Errorf("written as\n%s", out)
	}
	j, _ := json.Marshal(s)
	if !strings.Contains(string(j), `"navigation":["news",{"label":"Go","url":"/tag/go"},{"label":"Elsewhere","url":"https://example.org/"},{"category":"fish","label":"Seafood"}]`) {
		t.Errorf("JSON: %s", j)
	}
	if s, _ := content.ParseSettings([]byte("title: Blog\n")); s.Navigation != nil {
		t.Error("navigation left out should be nil (the default)")
	}
	for yaml, want := range map[string]string{
		"navigation:\n  - Not A Slug\n":                        "navigation[0].category",
		"navigation:\n  - url: /x\n":                           "navigation[0].label: is required",
		"navigation:\n  - label: X\n    url: javascript:x\n":   "navigation[0].url",
		"navigation:\n  - label: X\n    url: //evil.example\n": "navigation[0].url",
		"navigation:\n  - news\n  - news\n":                    "already in the navigation",
		"navigation:\n  - label: X\n    href: /x\n":            "unknown field \"href\"",
		"navigation:\n  - {}\n":                                "navigation[0]: is empty",
		"navigation:\n  - category: news\n    url: /x\n":       "not both",
		"navigation: [" + strings.Repeat("a, ", 13) + "]\n":    "at most 12",
	} {
		_, err := content.ParseSettings([]byte("title: Blog\n" + yaml))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", yaml, err, want)
		}
	}
}

// Posts carry a byline; an upload's caption goes under it when it stands
// alone in its paragraph; list pages show feature images as thumbnails.
func TestBylineCaptionsAndThumbnails(t *testing.T) {
	s := newTestSite(t)
	s.apply(events.ProfileChanged, events.ProfileData{Profile: content.Profile{Name: "Ann <Writer>"}})
	s.apply(events.MediaUploaded, events.MediaData{Media: content.Media{ID: "harbour-1", Width: 700, Height: 450, Alt: "Harbour", Caption: "Dawn & <mist>"}})
	at := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	s.apply(events.PostCreated, events.PostData{Post: content.Post{ID: "p1", Slug: "trip", Title: "Trip", Status: content.Published, PublishedAt: &at,
		FeatureImage: "harbour-1", Content: "Before.\n\n![The harbour](media:harbour-1)\n\nInline ![small](media:harbour-1) here.\n"}})

	post := s.page("/posts/trip")
	for _, want := range []string{
		`<span class="byline">By <a href="/about" rel="author">Ann &lt;Writer&gt;</a></span>`,
		`<figure class="inline"><img src="/media/harbour-1/w640" srcset="/media/harbour-1/w320 320w, /media/harbour-1/w640 640w, /media/harbour-1/original 700w" sizes="(min-width: 44rem) 42rem, 100vw" width="700" height="450" alt="The harbour" loading="lazy" decoding="async"/><figcaption>Dawn &amp; &lt;mist&gt;</figcaption></figure>`,
		`<p>Inline <img src="/media/harbour-1/w640" srcset=`, // within text: no figure
	} {
		if !strings.Contains(post, want) {
			t.Errorf("post page lacks\n%s", want)
		}
	}
	if strings.Contains(post, "<p><figure") {
		t.Error("a figure inside a paragraph")
	}
	thumb := `<img class="thumb" src="/media/harbour-1/w640" srcset="/media/harbour-1/w320 320w, /media/harbour-1/w640 640w, /media/harbour-1/original 700w" sizes="(min-width: 44rem) 9rem, 30vw" width="700" height="450" alt="" loading="lazy" decoding="async">`
	for _, path := range []string{"/", "/archive/2026", "/archive/2026/02"} {
		if page := s.page(path); !strings.Contains(page, thumb) {
			t.Errorf("%s lacks the thumbnail", path)
		}
	}
}
