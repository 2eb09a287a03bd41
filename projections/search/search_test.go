package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/render"
)

var height int64

func apply(t *testing.T, ix *Index, typ events.Type, data any) {
	t.Helper()
	height++
	b, _ := json.Marshal(data)
	e := events.Event{ID: fmt.Sprint(height), Type: typ, Height: height, Count: 1, Schema: 1, Data: b}
	if err := ix.Apply(context.Background(), []events.Event{e}, projections.Checkpoint{Cursor: e.Cursor(), Seq: uint64(height)}); err != nil {
		t.Fatal(err)
	}
}

func post(id, title, body string, status content.Status, year int, cats []string, tags ...string) events.PostData {
	at := time.Date(year, 5, 1, 0, 0, 0, 0, time.UTC)
	return events.PostData{Post: content.Post{ID: id, Slug: "s-" + id, Title: title, Content: body, Status: status,
		PublishedAt: &at, CreatedAt: at, Categories: cats, Tags: tags}}
}

func ids(r Result) string {
	var s []string
	for _, h := range r.Hits {
		s = append(s, h.ID)
	}
	return strings.Join(s, ",")
}

func TestSearch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.bleve")
	ix, err := Open(path, render.New())
	if err != nil {
		t.Fatal(err)
	}
	apply(t, ix, events.PostCreated, post("a", "Running a marathon", "Training plans for **runners** who love long distances.", content.Published, 2025, []string{"sport"}, "Health"))
	apply(t, ix, events.PostCreated, post("b", "Baking bread", "A sourdough starter needs patience. Long distances are not involved.", content.Published, 2026, []string{"food"}, "Kitchen"))
	apply(t, ix, events.PostCreated, post("c", "Secret draft about marathons", "marathon marathon", content.Draft, 2026, nil))
	apply(t, ix, events.PostCreated, post("d", "Hostile", "Beware `<script>alert(1)</script>` marathon tricks", content.Published, 2026, []string{"sport"}))

	for _, tc := range []struct{ q, want string }{
		{"marathon", "a,d"},         // stemmed: marathons/marathon; the draft never
		{"maraton", "a,d"},          // one typo
		{"sourd", "b"},              // prefix while typing
		{`"long distances"`, "b,a"}, // phrase (newest first)
		{`"distances long"`, ""},    // phrase order matters
		{"marathon category:sport", "a,d"},
		{"category:food", "b"},
		{"tag:health", "a"},
		{"year:2025", "a"},
		{"draft", ""},
	} {
		r, err := ix.Search(Query{Q: tc.q, Sort: "date"})
		if err != nil {
			t.Fatal(err)
		}
		got := ids(r)
		if tc.want == "a,d" && got == "d,a" {
			got = "a,d"
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.q, got, tc.want)
		}
	}
	r, _ := ix.Search(Query{Q: "marathon", Sort: "relevance"})
	if ids(r) != "a,d" {
		t.Errorf("relevance order %s: the title match should come first", ids(r))
	}
	if !strings.Contains(r.Hits[0].TitleHTML, "<mark>Marathon</mark>") && !strings.Contains(r.Hits[0].TitleHTML, "<mark>marathon</mark>") {
		t.Errorf("title not highlighted: %q", r.Hits[0].TitleHTML)
	}
	if s := r.Hits[1].Snippet; strings.Contains(s, "<script") || !strings.Contains(s, "&lt;script&gt;") {
		t.Errorf("snippet not escaped: %q", s)
	}
	all, _ := ix.Search(Query{})
	if all.Total != 3 || fmt.Sprint(all.Facets["categories"]) != "[{sport 2} {food 1}]" || fmt.Sprint(all.Facets["year"]) != "[{2026 2} {2025 1}]" {
		t.Errorf("facets %v, total %d", all.Facets, all.Total)
	}
	page2, _ := ix.Search(Query{PerPage: 2, Page: 2, Sort: "date"})
	if page2.Total != 3 || page2.TotalPages != 2 || len(page2.Hits) != 1 {
		t.Errorf("page 2: %+v", page2)
	}

	// Unpublish and delete remove posts from search.
	apply(t, ix, events.PostUnpublished, post("a", "Running a marathon", "x", content.Draft, 2025, nil))
	apply(t, ix, events.PostDeleted, post("d", "Hostile", "", content.Published, 2026, nil))
	if r, _ := ix.Search(Query{Q: "marathon"}); r.Total != 0 {
		t.Errorf("unpublished and deleted posts still match: %s", ids(r))
	}

	// A language change re-analyses what is indexed: French stemming.
	apply(t, ix, events.PostCreated, post("f", "Les chevaux", "Nous aimons les chevaux.", content.Published, 2026, nil))
	apply(t, ix, events.SettingsChanged, events.SettingsData{Settings: content.Settings{Title: "T", Language: "fr", PostsPerPage: 10}})
	if r, _ := ix.Search(Query{Q: "cheval"}); ids(r) != "f" {
		t.Errorf("French stemming after a language change: %q", ids(r))
	}

	cp := ix.Checkpoint()
	ix.Close()
	ix, err = Open(path, render.New())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.Checkpoint() != cp || ix.lang != "fr" {
		t.Fatalf("after reopen: checkpoint %+v (want %+v), analyzer %s", ix.Checkpoint(), cp, ix.lang)
	}
	if r, _ := ix.Search(Query{Q: "baking"}); ids(r) != "b" {
		t.Errorf("after reopen: %q", ids(r))
	}
}

func TestSnippetsMarkWhatMatched(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "s.bleve"), render.New())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	long := strings.Repeat("filler words here ", 30) + "we were walking <b>by</b> the harbour lanterns " + strings.Repeat("more filler ", 30)
	for _, tc := range []struct {
		words  []string
		typing bool
		fuzzy  bool
		text   string
		width  int
		want   string
	}{
		{[]string{"walked"}, false, false, "Walking & running", 0, "<mark>Walking</mark> &amp; running"},
		{[]string{"walked"}, false, true, "talking", 0, "<mark>talking</mark>"}, // one edit from "walk", as the query matches
		{[]string{"walked"}, false, false, "talking", 0, "talking"},             // only when typos are forgiven
		{[]string{"harb"}, true, false, "The harbour", 0, "The <mark>harbour</mark>"},
		{[]string{"lantarn"}, false, true, "A lantern.", 0, "A <mark>lantern</mark>."},
		{[]string{"harbour"}, false, false, long, 120, "<mark>harbour</mark>"},
	} {
		got := ix.newMarker(tc.words, nil, tc.typing, tc.fuzzy).mark(tc.text, tc.width)
		if !strings.Contains(got, tc.want) || !strings.Contains(tc.want, "<mark>") && strings.Contains(got, "<mark>") {
			t.Errorf("%v in %.40q: %q", tc.words, tc.text, got)
		}
		if tc.width > 0 && (!strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "…") || len(got) > tc.width+60 || !strings.Contains(got, "&lt;b&gt;by&lt;/b&gt;")) {
			t.Errorf("window: %q", got)
		}
	}
}

// TestTyposForgivenWhenFewHits: a word as typed that finds fuzzyBelow
// posts or more is not widened to its misspellings; one that finds fewer is.
func TestTyposForgivenWhenFewHits(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "s.bleve"), render.New())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for i := range fuzzyBelow {
		apply(t, ix, events.PostCreated, post(fmt.Sprint("l", i), "Lights", "a paper lantern", content.Published, 2026, nil))
	}
	apply(t, ix, events.PostCreated, post("typo", "Lights", "a paper lantarn", content.Published, 2026, nil))
	for q, want := range map[string]int{"lantern ": fuzzyBelow, "lantarn ": fuzzyBelow + 1} {
		r, err := ix.Search(Query{Q: q})
		if err != nil || r.Total != want {
			t.Errorf("%q: %d hits (%v), want %d", q, r.Total, err, want)
		}
	}
}

// Batches return before they are on disk; closing the index waits for
// them, so a reopened index has every batch and its checkpoint.
func TestCloseKeepsEveryBatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s.bleve")
	ix, err := Open(dir, render.New())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		apply(t, ix, events.PostCreated, post(fmt.Sprint("k", i), "Kept", "kept words", content.Published, 2026, []string{"c"}))
	}
	want := ix.Checkpoint()
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err = Open(dir, render.New())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	r, err := ix.Search(Query{Q: "kept"})
	if ix.Checkpoint() != want || err != nil || r.Total != 50 || fmt.Sprint(r.Facets["categories"]) != "[{c 50}]" {
		t.Fatalf("reopened at %+v (want %+v) with %d hits, facets %v, %v", ix.Checkpoint(), want, r.Total, r.Facets, err)
	}
}

// An index written with an older mapping is made again, empty, so the
// runtime feeds it from the start with the mapping of today.
func TestIndexOfAnOlderMappingIsMadeAgain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s.bleve")
	ix, err := Open(dir, render.New())
	if err != nil {
		t.Fatal(err)
	}
	apply(t, ix, events.PostCreated, post("old", "Old", "older words", content.Published, 2026, nil))
	m, _ := json.Marshal(meta{Checkpoint: ix.Checkpoint(), Analyzer: ix.lang, Mapping: mappingVersion - 1})
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bleve.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := raw.NewBatch()
	b.SetInternal(checkpointKey, m)
	persisted := make(chan error, 1)
	b.SetPersistedCallback(func(err error) { persisted <- err })
	if err := raw.Batch(b); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(<-persisted, raw.Close()); err != nil {
		t.Fatal(err)
	}
	if ix, err = Open(dir, render.New()); err != nil {
		t.Fatal(err)
	}
	if r, err := ix.Search(Query{Q: "older"}); ix.Checkpoint() != (projections.Checkpoint{}) || err != nil || r.Total != 0 {
		t.Fatalf("reopened at %+v with %d hits (%v), want an empty index", ix.Checkpoint(), r.Total, err)
	}
	// Written today, it is kept.
	apply(t, ix, events.PostCreated, post("new", "New", "newer words", content.Published, 2026, nil))
	want := ix.Checkpoint()
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if ix, err = Open(dir, render.New()); err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if r, _ := ix.Search(Query{Q: "newer"}); ix.Checkpoint() != want || r.Total != 1 {
		t.Fatalf("reopened at %+v with %d hits, want %+v and 1", ix.Checkpoint(), r.Total, want)
	}
}

// A word is found wherever a reader sees it: title, text, excerpt, tags.
func TestEveryTextFieldIsSearched(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "s.bleve"), render.New())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	p := post("x", "Heron", "Wading *egret*", content.Published, 2026, nil, "Kingfisher")
	p.Post.Excerpt = "A bittern"
	apply(t, ix, events.PostCreated, p)
	for _, q := range []string{"heron", "egret", "bittern", "kingfisher", `"wading egret"`} {
		if r, err := ix.Search(Query{Q: q}); err != nil || ids(r) != "x" {
			t.Errorf("%s: %q, %v", q, ids(r), err)
		}
	}
}
