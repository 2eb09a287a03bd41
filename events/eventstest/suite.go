// Package eventstest is test support shared by the project's tests: the
// contract every events.Log implementation must meet, as one suite to run
// against each of them, and a polling helper that says why it timed out.
package eventstest

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/repo"
)

// Log is what the suite checks: the readers' contract (events.Log) and
// appending a commit's worth of changes, as the writer does.
type Log interface {
	events.Log
	Append(ctx context.Context, b gitlog.Batch) ([]events.Event, events.Cursor, error)
}

// Run checks the Log contract on fresh logs made by newLog.
func Run(t *testing.T, newLog func(t *testing.T) Log) {
	t.Run("Empty", func(t *testing.T) {
		l := newLog(t)
		h, err := l.Head()
		must(t, err)
		if h != (events.Cursor{}) {
			t.Fatalf("head of empty log = %+v", h)
		}
		if got := readAll(t, l, events.Cursor{}); len(got) != 0 {
			t.Fatalf("empty log read %d events", len(got))
		}
	})
	t.Run("AppendDerivesEventsInOrder", func(t *testing.T) {
		l := newLog(t)
		evs, cur := appendOK(t, l, "", file("posts/2026/hello.md", post("id1", "Hello", "draft")), file("categories/news.yaml", "name: News\n"))
		types := typesOf(evs)
		if !reflect.DeepEqual(types, []events.Type{events.CategoryCreated, events.PostCreated}) {
			t.Fatalf("types = %v", types)
		}
		for i, e := range evs {
			if e.Index != i || e.Count != 2 || e.Height != 1 || e.Commit != cur.Commit || e.Schema != 1 || e.Actor != "ann@example.org" {
				t.Fatalf("event %d envelope: %+v", i, e)
			}
		}
		if evs[1].Subject != "post/id1" || evs[0].Subject != "category/news" {
			t.Fatalf("subjects %q %q", evs[0].Subject, evs[1].Subject)
		}
		var d events.PostData
		must(t, json.Unmarshal(evs[1].Data, &d))
		if d.Post.Title != "Hello" || d.Post.Content != "Body\n" || d.Post.Revision != cur.Commit {
			t.Fatalf("post state: %+v", d.Post)
		}
		if h, _ := l.Head(); h != cur {
			t.Fatalf("head %+v != cursor %+v", h, cur)
		}
	})
	t.Run("StaleParentIsConflictAndChangesNothing", func(t *testing.T) {
		l := newLog(t)
		_, c1 := appendOK(t, l, "", file("posts/a.md", post("a", "A", "draft")))
		_, c2 := appendOK(t, l, c1.Commit, file("posts/a.md", post("a", "A2", "draft")))
		_, _, err := l.Append(context.Background(), batch(c1.Commit, file("posts/a.md", post("a", "A3", "draft"))))
		if !errors.Is(err, repo.ErrConflict) {
			t.Fatalf("stale append: %v", err)
		}
		if h, _ := l.Head(); h != c2 {
			t.Fatalf("head moved: %+v", h)
		}
	})
	t.Run("LifecycleTypes", func(t *testing.T) {
		l := newLog(t)
		_, c := appendOK(t, l, "", file("posts/a.md", post("a", "A", "draft")))
		evs, c := appendOK(t, l, c.Commit, file("posts/a.md", post("a", "A2", "draft")))
		want := []events.Type{events.PostUpdated}
		evs2, c := appendOK(t, l, c.Commit, file("posts/a.md", post("a", "A2", "published")))
		evs3, c := appendOK(t, l, c.Commit, file("posts/a.md", post("a", "A2", "draft")))
		evs4, c := appendOK(t, l, c.Commit, repo.Change{Path: "posts/a.md", Delete: true})
		evs5, _ := appendOK(t, l, c.Commit, file("README", "not content\n"))
		got := append(append(append(typesOf(evs), typesOf(evs2)...), typesOf(evs3)...), typesOf(evs4)...)
		want = append(want, events.PostPublished, events.PostUnpublished, events.PostDeleted)
		if !reflect.DeepEqual(got, want) || len(evs5) != 0 {
			t.Fatalf("types = %v (+%d), want %v", got, len(evs5), want)
		}
		var d events.PostData
		must(t, json.Unmarshal(evs[0].Data, &d))
		if d.Previous == nil || d.Previous.Title != "A" || d.Post.Title != "A2" {
			t.Fatalf("update payload: %+v", d)
		}
	})
	t.Run("ReadIsOrderedDeterministicAndResumable", func(t *testing.T) {
		l := newLog(t)
		_, c := appendOK(t, l, "", file("posts/a.md", post("a", "A", "draft")), file("posts/b.md", post("b", "B", "draft")), file("posts/c.md", post("c", "C", "draft")))
		_, c = appendOK(t, l, c.Commit, file("other.txt", "x"))
		appendOK(t, l, c.Commit, file("posts/a.md", post("a", "A2", "draft")), file("posts/d.md", post("d", "D", "draft")))
		all := readAll(t, l, events.Cursor{})
		if len(all) != 5 {
			t.Fatalf("read %d events, want 5", len(all))
		}
		ids := map[string]bool{}
		for i, e := range all {
			if ids[e.ID] {
				t.Fatalf("duplicate id %s", e.ID)
			}
			ids[e.ID] = true
			if i > 0 && !all[i-1].Cursor().Before(e.Cursor()) {
				t.Fatalf("event %d not after event %d", i, i-1)
			}
		}
		if again := readAll(t, l, events.Cursor{}); !reflect.DeepEqual(again, all) {
			t.Fatal("a second read derived different events")
		}
		mid := all[1].Cursor() // inside the first commit
		if rest := readAll(t, l, mid); !reflect.DeepEqual(rest, all[2:]) {
			t.Fatalf("read after %+v: %d events, want %d", mid, len(rest), len(all)-2)
		}
		if rest := readAll(t, l, all[2].Cursor()); !reflect.DeepEqual(rest, all[3:]) {
			t.Fatalf("read after end of commit: %d events", len(rest))
		}
		if all[3].Height != 3 {
			t.Fatalf("height of third commit = %d (commits without events still count)", all[3].Height)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func file(path, data string) repo.Change { return repo.Change{Path: path, Data: []byte(data)} }

func post(id, title, status string) string {
	return "---\nid: " + id + "\ntitle: " + title + "\nstatus: " + status + "\ncreated_at: 2026-01-02T03:04:05Z\n---\nBody\n"
}

func batch(parent string, changes ...repo.Change) gitlog.Batch {
	return gitlog.Batch{Parent: parent, Changes: changes, Message: "change\n\nChronicle-Actor: ann@example.org\n",
		Author: repo.Signature{Name: "Ann", Email: "ann@example.org", When: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}}
}

func appendOK(t *testing.T, l Log, parent string, changes ...repo.Change) ([]events.Event, events.Cursor) {
	t.Helper()
	evs, cur, err := l.Append(context.Background(), batch(parent, changes...))
	must(t, err)
	return evs, cur
}

func readAll(t *testing.T, l events.Log, after events.Cursor) []events.Event {
	t.Helper()
	var out []events.Event
	must(t, l.Read(context.Background(), after, func(e events.Event) error { out = append(out, e); return nil }))
	return out
}

func typesOf(evs []events.Event) []events.Type {
	var ts []events.Type
	for _, e := range evs {
		ts = append(ts, e.Type)
	}
	return ts
}
