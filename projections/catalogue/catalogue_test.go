package catalogue

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections"
)

func ev(t *testing.T, typ events.Type, height int64, data any) events.Event {
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return events.Event{ID: fmt.Sprint(height), Type: typ, Height: height, Count: 1, Schema: 1, Data: b}
}

func post(id string, day int, status content.Status, tags ...string) events.PostData {
	at := time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC)
	return events.PostData{Post: content.Post{ID: id, Slug: "s-" + id, Title: id, Status: status, CreatedAt: at, PublishedAt: &at, Tags: tags}}
}

func TestPaginationAtTheEdges(t *testing.T) {
	for _, n := range []int{0, 1, 4, 5} { // 0, 1, n−1… per page 4: n, n+1
		c, err := Open(filepath.Join(t.TempDir(), "c.db"))
		if err != nil {
			t.Fatal(err)
		}
		var evs []events.Event
		for i := 0; i < n; i++ {
			evs = append(evs, ev(t, events.PostCreated, int64(i+1), post(fmt.Sprint("p", i), i+1, content.Published)))
		}
		if len(evs) > 0 {
			if err := c.Apply(context.Background(), evs, projections.Checkpoint{Cursor: evs[len(evs)-1].Cursor()}); err != nil {
				t.Fatal(err)
			}
		}
		for page := 1; page <= 3; page++ {
			items, total := c.Posts(Query{Page: page, PerPage: 4})
			want := min(4, max(0, n-(page-1)*4))
			if total != n || len(items) != want {
				t.Errorf("n=%d page %d: %d items of %d, want %d", n, page, len(items), total, want)
			}
			if len(items) > 0 && items[0].ID != fmt.Sprint("p", n-1-(page-1)*4) {
				t.Errorf("n=%d page %d starts with %s: not newest first", n, page, items[0].ID)
			}
		}
		c.Close()
	}
}

func TestStateSurvivesReopenAndReset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	evs := []events.Event{
		ev(t, events.PostCreated, 1, post("a", 1, content.Draft, "Go", "git")),
		ev(t, events.PostCreated, 2, post("b", 2, content.Published, "go")),
		ev(t, events.PostPublished, 3, post("a", 1, content.Published, "Go", "git")),
		ev(t, events.CategoryCreated, 4, events.CategoryData{Category: content.Category{Slug: "news", Name: "News"}}),
		ev(t, events.SettingsChanged, 5, events.SettingsData{Settings: content.Settings{Title: "T", Language: "en", PostsPerPage: 3}}),
		ev(t, events.PostDeleted, 6, post("b", 2, content.Published)),
	}
	cp := projections.Checkpoint{Cursor: evs[5].Cursor(), Seq: 6}
	if err := c.Apply(context.Background(), evs, cp); err != nil {
		t.Fatal(err)
	}
	want := c.Snapshot()
	if a := want.Posts["a"]; a.Version != 2 || len(want.Posts) != 1 || want.Settings.Title != "T" {
		t.Fatalf("state: %+v", want)
	}
	if tags := c.Tags(); len(tags) != 2 || tags[1].Name != "Go" || tags[1].Published != 1 || tags[0].Slug != "git" {
		t.Fatalf("tags: %+v", tags)
	}
	if _, ok := c.PostBySlug("s-b"); ok {
		t.Fatal("deleted post still found by slug")
	}
	c.Close()
	c, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.Snapshot(); !reflect.DeepEqual(got, want) || c.Checkpoint() != cp {
		t.Fatalf("after reopen: %+v, checkpoint %+v", got, c.Checkpoint())
	}
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if s := c.Snapshot(); len(s.Posts) != 0 || c.Checkpoint() != (projections.Checkpoint{}) {
		t.Fatalf("after reset: %+v", s)
	}
}

// The admin's list: words of the title or slug (any case, drafts too),
// and the three orders, with the filters and pages as usual.
func TestSearchAndSort(t *testing.T) {
	c, err := Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	titles := []string{"Zebra crossing", "apple harvest", "Mango season", "Apple pie recipe", "Banana bread"}
	var evs []events.Event
	for i, title := range titles {
		d := post(fmt.Sprint("p", i), i+1, content.Published)
		if i == 3 {
			d.Post.Status = content.Draft
		}
		d.Post.Title = title
		evs = append(evs, ev(t, events.PostCreated, int64(i+1), d))
	}
	if err := c.Apply(context.Background(), evs, projections.Checkpoint{Cursor: evs[len(evs)-1].Cursor()}); err != nil {
		t.Fatal(err)
	}
	ids := func(q Query) []string {
		q.PerPage = 10
		items, total := c.Posts(q)
		out := []string{}
		for _, p := range items {
			out = append(out, p.ID)
		}
		if total != len(out) {
			t.Errorf("%+v: total %d for %d items", q, total, len(out))
		}
		return out
	}
	for _, tc := range []struct {
		q    Query
		want []string
	}{
		{Query{}, []string{"p4", "p3", "p2", "p1", "p0"}},
		{Query{Sort: Oldest}, []string{"p0", "p1", "p2", "p3", "p4"}},
		{Query{Sort: ByTitle}, []string{"p1", "p3", "p4", "p2", "p0"}},
		{Query{Search: "APPLE"}, []string{"p3", "p1"}},
		{Query{Search: "apple pie"}, []string{"p3"}},
		{Query{Search: "s-p2"}, []string{"p2"}}, // the slug
		{Query{Search: "apple", Status: content.Published}, []string{"p1"}},
		{Query{Search: "kiwi"}, []string{}},
	} {
		if got := ids(tc.q); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.q, got, tc.want)
		}
	}
}

// A batch is in memory before its transaction commits; if the commit
// fails, memory is put back as it was (post, its slug, a category, the
// settings) and the checkpoint does not move, so the same events can
// come again and count each post's versions once.
func TestFailedCommitLeavesMemoryAsItWas(t *testing.T) {
	c, err := Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first := []events.Event{ev(t, events.PostCreated, 1, post("a", 1, content.Published))}
	if err := c.Apply(context.Background(), first, projections.Checkpoint{Cursor: first[0].Cursor()}); err != nil {
		t.Fatal(err)
	}
	before, _ := c.Post("a")
	moved := post("a", 2, content.Draft)
	moved.Post.Slug = "moved"
	batch := []events.Event{
		ev(t, events.PostUpdated, 2, moved),
		ev(t, events.PostCreated, 3, post("b", 3, content.Published)),
		ev(t, events.CategoryCreated, 4, events.CategoryData{Category: content.Category{Slug: "news", Name: "News"}}),
		ev(t, events.SettingsChanged, 5, events.SettingsData{Settings: content.Settings{Title: "Changed"}}),
	}
	settings := c.Settings()
	c.db.Close() // the next transaction fails
	if err := c.Apply(context.Background(), batch, projections.Checkpoint{Cursor: batch[3].Cursor()}); err == nil {
		t.Fatal("a batch applied with its store closed")
	}
	if p, _ := c.Post("a"); !reflect.DeepEqual(p, before) {
		t.Errorf("post a after the failed batch: %+v, want %+v", p, before)
	}
	if _, ok := c.Post("b"); ok {
		t.Error("post b of the failed batch is still in memory")
	}
	if p, ok := c.PostBySlug(before.Slug); !ok || p.ID != "a" {
		t.Errorf("slug %s: %+v %v, want post a", before.Slug, p, ok)
	}
	if _, ok := c.PostBySlug("moved"); ok {
		t.Error("the failed batch's slug still names a post")
	}
	if _, ok := c.Category("news"); ok {
		t.Error("the failed batch's category is still in memory")
	}
	if got := c.Settings(); !reflect.DeepEqual(got, settings) {
		t.Errorf("settings after the failed batch: %+v, want %+v", got, settings)
	}
	if c.Checkpoint().Cursor != first[0].Cursor() {
		t.Errorf("checkpoint %+v after the failed batch, want %+v", c.Checkpoint().Cursor, first[0].Cursor())
	}
}

// A batch is readable as soon as it is in memory, text included, while
// its transaction waits for the disk; once stored, the text comes from
// bbolt and is the same.
func TestBatchReadableWholeBeforeItIsStored(t *testing.T) {
	c, err := Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	first := post("a", 1, content.Published)
	first.Post.Content = "Old words."
	evs := []events.Event{ev(t, events.PostCreated, 1, first)}
	if err := c.Apply(context.Background(), evs, projections.Checkpoint{Cursor: evs[0].Cursor()}); err != nil {
		t.Fatal(err)
	}
	changed := post("a", 1, content.Published)
	changed.Post.Content = "New words."
	added := post("b", 2, content.Published)
	added.Post.Content = "Fresh words."
	batch := []events.Event{ev(t, events.PostUpdated, 2, changed), ev(t, events.PostCreated, 3, added)}

	tx, err := c.db.Begin(true) // holds bbolt's one writer: the batch's transaction waits
	if err != nil {
		t.Fatal(err)
	}
	applied := make(chan error, 1)
	go func() {
		applied <- c.Apply(context.Background(), batch, projections.Checkpoint{Cursor: batch[1].Cursor()})
	}()
	want := map[string]string{"a": "New words.", "b": "Fresh words."}
	check := func(when string) {
		t.Helper()
		for id, text := range want {
			if p, ok := c.Post(id); !ok || p.Content != text {
				t.Errorf("%s: post %s reads %q (found %v), want %q", when, id, p.Content, ok, text)
			}
		}
		list, _ := c.Posts(Query{Status: content.Published, Page: 1, PerPage: 10})
		for _, p := range list {
			if p.Content != want[p.ID] {
				t.Errorf("%s: post %s listed with %q, want %q", when, p.ID, p.Content, want[p.ID])
			}
		}
	}
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		if _, ok := c.Post("b"); ok {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("the batch is not in memory while its transaction waits")
		}
	}
	check("before the batch is stored")
	tx.Rollback()
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	check("once stored")
}
