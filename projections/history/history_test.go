package history

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections"
)

// postEvent makes the event of commit n changing post p.
func postEvent(t *testing.T, n int, typ events.Type, p content.Post, restoredFrom string) events.Event {
	t.Helper()
	e := events.Event{ID: fmt.Sprintf("c%d-0", n), Type: typ, Subject: "post/" + p.ID, Actor: "ed@example.org",
		Time: time.Date(2026, 1, n, 9, 0, 0, 0, time.UTC), Commit: fmt.Sprintf("c%d", n), Height: int64(n), Count: 1, Schema: 1}
	e, err := events.Encode(e, events.PostData{Post: p, RestoredFrom: restoredFrom})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRevisionsOfAPost(t *testing.T) {
	h, err := Open(filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p := content.Post{ID: "p1", Title: "One", Slug: "one", Content: "Text.", Tags: []string{"a"}, Status: content.Draft}
	var evs []events.Event
	step := func(typ events.Type, edit func(*content.Post), from string) {
		edit(&p)
		p.UpdatedAt = p.UpdatedAt.Add(time.Hour) // bookkeeping: never a change of its own
		evs = append(evs, postEvent(t, len(evs)+1, typ, p, from))
	}
	step(events.PostCreated, func(*content.Post) {}, "")
	step(events.PostUpdated, func(p *content.Post) { p.Title, p.Content = "Two", "Text, edited." }, "")
	step(events.PostPublished, func(p *content.Post) { p.Status = content.Published }, "")
	step(events.PostUpdated, func(p *content.Post) { p.Tags = []string{"a", "b"}; p.Path = "posts/2026/two.md" }, "")
	step(events.PostUpdated, func(*content.Post) {}, "")
	step(events.PostDeleted, func(*content.Post) {}, "")
	step(events.PostRestored, func(p *content.Post) { p.Title, p.Content, p.Status = "One", "Text.", content.Draft }, "c1")
	// Two batches, as the runtime may deliver them; other subjects between.
	other := postEvent(t, 99, events.PostCreated, content.Post{ID: "p2", Title: "Other"}, "")
	if err := h.Apply(context.Background(), evs[:3], projections.Checkpoint{}); err != nil {
		t.Fatal(err)
	}
	if err := h.Apply(context.Background(), append(evs[3:], other), projections.Checkpoint{Seq: 9}); err != nil {
		t.Fatal(err)
	}

	type row struct {
		Commit  string
		Version int
		Summary string
		Changed []string
		Deleted bool
	}
	want := []row{
		{"c7", 7, "restored the revision of c1", []string{"title", "content", "status"}, false},
		{"c6", 6, "deleted", nil, true},
		{"c5", 5, "rewrote the file, changing nothing", nil, false},
		{"c4", 4, "changed tags and path", []string{"tags", "path"}, false},
		{"c3", 3, "published", []string{"status"}, false},
		{"c2", 2, "changed title and content", []string{"title", "content"}, false},
		{"c1", 1, "created", nil, false},
	}
	var got []row
	for page := 1; page <= 3; page++ {
		pg, err := h.Revisions("post/p1", page, 3)
		if err != nil {
			t.Fatal(err)
		}
		if pg.Total != 7 {
			t.Fatalf("total %d", pg.Total)
		}
		for _, r := range pg.Items {
			got = append(got, row{r.Commit, r.Version, r.Summary, r.Changed, r.Deleted})
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("revisions, three pages of three (-want +got):\n%s", diff)
	}
	if pg, _ := h.Revisions("post/p1", 4, 3); len(pg.Items) != 0 {
		t.Errorf("a page past the end: %+v", pg.Items)
	}
	if pg, _ := h.Revisions("post/nope", 1, 3); pg.Total != 0 || len(pg.Items) != 0 {
		t.Errorf("an unknown subject: %+v", pg)
	}

	r, err := h.Revision("post/p1", "c4")
	if err != nil || r.Version != 4 {
		t.Fatalf("revision c4: %+v %v", r, err)
	}
	if _, err := h.Revision("post/p1", "c99"); err == nil {
		t.Error("a commit that did not touch the post is a revision of it")
	}
	prev, ok, err := h.Previous(r)
	if err != nil || !ok || prev.Commit != "c3" {
		t.Errorf("previous of c4: %+v %v %v", prev, ok, err)
	}
	first, _ := h.Revision("post/p1", "c1")
	if _, ok, _ := h.Previous(first); ok {
		t.Error("the first revision has one before it")
	}
	if height, ok := h.Height("c99"); !ok || height != 99 {
		t.Errorf("height of c99: %d %v", height, ok)
	}
	var state content.Post
	if err := json.Unmarshal(r.State, &state); err != nil || state.Content != "" || state.Title != "Two" {
		t.Errorf("a revision's state keeps the text out and the fields in: %+v %v", state, err)
	}

	// The projection comes back from its file as it was, and Reset
	// empties it.
	path := h.db.Path()
	h.Close()
	if h, err = Open(path); err != nil {
		t.Fatal(err)
	}
	if cp := h.Checkpoint(); cp.Seq != 9 {
		t.Errorf("checkpoint after reopening: %+v", cp)
	}
	if err := h.Reset(); err != nil {
		t.Fatal(err)
	}
	if pg, _ := h.Revisions("post/p1", 1, 3); pg.Total != 0 {
		t.Errorf("after Reset: %+v", pg)
	}
}
