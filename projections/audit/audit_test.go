package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/audit"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// history is 30 commits an hour apart: each one post event by ann or
// bob, and every third one also a category event.
func history(t testing.TB) []events.Event {
	var out []events.Event
	for h := int64(1); h <= 30; h++ {
		commit := fmt.Sprintf("%040x", h)
		actor := "ann@example.com"
		if h%2 == 0 {
			actor = "bob@example.com"
		}
		typ := events.PostCreated
		if h > 10 {
			typ = events.PostUpdated
		}
		var evs []events.Event
		e, err := events.Encode(events.Event{Type: typ, Subject: fmt.Sprintf("post/p%d", h%5)},
			events.PostData{Post: content.Post{ID: fmt.Sprintf("p%d", h%5), Title: fmt.Sprintf("Post %d", h), Content: "a long body we do not keep"}})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
		if h%3 == 0 {
			e, err := events.Encode(events.Event{Type: events.CategoryUpdated, Subject: "category/news"},
				events.CategoryData{Category: content.Category{Slug: "news", Name: "News"}})
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, e)
		}
		for i := range evs {
			if h%4 == 0 { // pushed by the actor, claiming someone else wrote it
				evs[i].Pusher, evs[i].Author = actor, "claimed@example.com"
			}
			evs[i].ID, evs[i].Commit, evs[i].Height, evs[i].Index, evs[i].Count = fmt.Sprintf("%s-%d", commit, i), commit, h, i, len(evs)
			evs[i].Actor, evs[i].Time, evs[i].Schema = actor, t0.Add(time.Duration(h)*time.Hour), 1
		}
		out = append(out, evs...)
	}
	return out
}

func open(t testing.TB) (*audit.Log, []events.Event) {
	l, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	evs := history(t)
	// Two batches, split inside a commit, as the runtime may.
	for _, b := range [][]events.Event{evs[:7], evs[7:]} {
		last := b[len(b)-1]
		if err := l.Apply(context.Background(), b, projections.Checkpoint{Cursor: last.Cursor()}); err != nil {
			t.Fatal(err)
		}
	}
	return l, evs
}

func ids(t testing.TB, l *audit.Log, f audit.Filter) []string {
	t.Helper()
	var out []string
	if err := l.Query(context.Background(), f, func(r audit.Record) error { out = append(out, r.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestQueryFilters(t *testing.T) {
	l, evs := open(t)
	newestFirst := func(keep func(e events.Event) bool) []string {
		var out []string
		for i := len(evs) - 1; i >= 0; i-- {
			if keep(evs[i]) {
				out = append(out, evs[i].ID)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    audit.Filter
		keep func(e events.Event) bool
	}{
		{"all", audit.Filter{}, func(events.Event) bool { return true }},
		{"actor, any case", audit.Filter{Actor: "BOB@example.com"}, func(e events.Event) bool { return e.Actor == "bob@example.com" }},
		{"a claimed author", audit.Filter{Actor: "claimed@example.com"}, func(e events.Event) bool { return e.Author == "claimed@example.com" }},
		{"one type", audit.Filter{Types: []string{"post.created"}}, func(e events.Event) bool { return e.Type == events.PostCreated }},
		{"a prefix", audit.Filter{Types: []string{"category."}}, func(e events.Event) bool { return e.Type == events.CategoryUpdated }},
		{"two types", audit.Filter{Types: []string{"post.created", "category.updated"}},
			func(e events.Event) bool { return e.Type == events.PostCreated || e.Type == events.CategoryUpdated }},
		{"a type that is only a prefix without its dot", audit.Filter{Types: []string{"post"}}, func(events.Event) bool { return false }},
		{"subject", audit.Filter{Subject: "post/p3"}, func(e events.Event) bool { return e.Subject == "post/p3" }},
		{"since", audit.Filter{Since: t0.Add(25 * time.Hour)}, func(e events.Event) bool { return !e.Time.Before(t0.Add(25 * time.Hour)) }},
		{"until", audit.Filter{Until: t0.Add(4 * time.Hour)}, func(e events.Event) bool { return !e.Time.After(t0.Add(4 * time.Hour)) }},
		{"since and until", audit.Filter{Since: t0.Add(9 * time.Hour), Until: t0.Add(12*time.Hour + time.Minute)},
			func(e events.Event) bool { h := e.Time.Sub(t0); return h >= 9*time.Hour && h <= 12*time.Hour }},
		{"a range with no commit", audit.Filter{Since: t0.Add(90 * time.Minute), Until: t0.Add(100 * time.Minute)}, func(events.Event) bool { return false }},
		{"everything at once", audit.Filter{Actor: "ann@example.com", Types: []string{"post."}, Subject: "post/p1", Since: t0.Add(5 * time.Hour)},
			func(e events.Event) bool {
				return e.Actor == "ann@example.com" && e.Subject == "post/p1" && e.Time.Sub(t0) >= 5*time.Hour
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := newestFirst(tc.keep)
			if got := ids(t, l, tc.f); !slices.Equal(got, want) {
				t.Errorf("newest first:\n got %v\nwant %v", got, want)
			}
			tc.f.Oldest = true
			slices.Reverse(want)
			if got := ids(t, l, tc.f); !slices.Equal(got, want) {
				t.Errorf("oldest first:\n got %v\nwant %v", got, want)
			}
		})
	}
}

// Pages of 4 from a cursor cover every record once, in both orders, with
// a filter on.
func TestQueryPages(t *testing.T) {
	l, _ := open(t)
	for _, oldest := range []bool{false, true} {
		f := audit.Filter{Types: []string{"post."}, Oldest: oldest}
		all := ids(t, l, f)
		var got []string
		var after *audit.Pos
		for range 100 {
			f.After = after
			n := 0
			err := l.Query(context.Background(), f, func(r audit.Record) error {
				got = append(got, r.ID)
				after = &audit.Pos{Height: r.Height, Index: r.Index}
				if n++; n == 4 {
					return audit.ErrStop
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n < 4 {
				break
			}
		}
		if !slices.Equal(got, all) {
			t.Errorf("oldest=%v: pages gave\n%v\nnot\n%v", oldest, got, all)
		}
	}
}

func TestRecordAndLookups(t *testing.T) {
	l, evs := open(t)
	var first audit.Record
	l.Query(context.Background(), audit.Filter{Oldest: true}, func(r audit.Record) error { first = r; return audit.ErrStop })
	want := audit.Record{ID: evs[0].ID, Type: events.PostCreated, Subject: "post/p1", Actor: "ann@example.com", Time: t0.Add(time.Hour),
		Commit: evs[0].Commit, Height: 1, Index: 0, Summary: "Post 1"}
	if first != want {
		t.Errorf("first record %+v, want %+v", first, want)
	}
	// Every record has its event's fields.
	i := 0
	l.Query(context.Background(), audit.Filter{Oldest: true}, func(r audit.Record) error {
		e := evs[i]
		want := audit.Record{ID: e.ID, Type: e.Type, Subject: e.Subject, Actor: e.Actor, Author: e.Author, Pusher: e.Pusher, Time: e.Time,
			Commit: e.Commit, Height: e.Height, Index: e.Index, Summary: audit.Summary(&e)}
		if r != want {
			t.Errorf("record %d: %+v, want %+v", i, r, want)
		}
		i++
		return nil
	})
	if i != len(evs) {
		t.Errorf("%d records, want %d", i, len(evs))
	}
	if p, ok := l.Lookup(evs[5].ID); !ok || p != (audit.Pos{Height: evs[5].Height, Index: evs[5].Index}) {
		t.Errorf("Lookup(%s) = %v %v", evs[5].ID, p, ok)
	}
	for _, bad := range []string{"", "nope", fmt.Sprintf("%040x-x", 1), fmt.Sprintf("%040x-1", 99)} {
		if _, ok := l.Lookup(bad); ok {
			t.Errorf("Lookup(%q) found something", bad)
		}
	}
	for _, tc := range []struct {
		at     time.Time
		height int64
		ok     bool
	}{
		{t0, 0, false},
		{t0.Add(time.Hour), 1, true},
		{t0.Add(90 * time.Minute), 1, true}, // between two: the earlier
		{t0.Add(30 * time.Hour), 30, true},
		{t0.Add(1000 * time.Hour), 30, true},
	} {
		c, h, ok := l.CommitAt(tc.at)
		if ok != tc.ok || h != tc.height || (ok && c != fmt.Sprintf("%040x", tc.height)) {
			t.Errorf("CommitAt(%s) = %s %d %v, want height %d %v", tc.at, c, h, ok, tc.height, tc.ok)
		}
	}
	if err := l.Reset(); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, l, audit.Filter{}); len(got) != 0 || l.Checkpoint() != (projections.Checkpoint{}) {
		t.Errorf("after Reset: %d records, checkpoint %+v", len(got), l.Checkpoint())
	}
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct {
		typ  events.Type
		data any
		want string
	}{
		{events.PostUpdated, events.PostData{Post: content.Post{Title: "New"}, Previous: &content.Post{Title: "Old"}}, "Old → New"},
		{events.PostRestored, events.PostData{Post: content.Post{Title: "Back"}, RestoredFrom: "0123456789abcdef0123"}, "Back (from 0123456789ab)"},
		{events.MediaUploaded, events.MediaData{Media: content.Media{OriginalName: "cat.jpg"}}, "cat.jpg"},
		{events.SettingsChanged, events.SettingsData{Settings: content.Settings{Title: "My\nsite"}}, "My site"},
		{"unknown.type", map[string]string{}, ""},
	} {
		e, err := events.Encode(events.Event{Type: tc.typ}, tc.data)
		if err != nil {
			t.Fatal(err)
		}
		if got := audit.Summary(&e); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.typ, got, tc.want)
		}
	}
}

// More records than Query reads in one transaction come once each, in
// order, whichever the order and with a filter keeping some.
func TestQueryAcrossChunks(t *testing.T) {
	l, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var evs []events.Event
	for h := int64(1); h <= 400; h++ {
		for i := range 3 {
			typ := events.PostUpdated
			if i == 1 {
				typ = events.MediaUpdated
			}
			evs = append(evs, events.Event{ID: fmt.Sprintf("%040x-%d", h, i), Type: typ, Commit: fmt.Sprintf("%040x", h), Height: h, Index: i, Count: 3,
				Time: t0.Add(time.Duration(h) * time.Minute), Data: []byte("{}")})
		}
	}
	if err := l.Apply(context.Background(), evs, projections.Checkpoint{Cursor: evs[len(evs)-1].Cursor()}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []audit.Filter{{}, {Oldest: true}, {Types: []string{"post."}}, {Types: []string{"media."}, Oldest: true},
		{Since: t0.Add(50 * time.Minute), Until: t0.Add(390 * time.Minute)}} {
		var want []string
		for _, e := range evs {
			if (len(f.Types) == 0 || string(e.Type)[:1] == f.Types[0][:1]) && (f.Since.IsZero() || (!e.Time.Before(f.Since) && !e.Time.After(f.Until))) {
				want = append(want, e.ID)
			}
		}
		if !f.Oldest {
			slices.Reverse(want)
		}
		if got := ids(t, l, f); !slices.Equal(got, want) {
			t.Errorf("%+v: %d records, want %d (first %v)", f, len(got), len(want), got[:min(3, len(got))])
		}
	}
}
