package admin

import (
	"html/template"
	"math/rand"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections/history"
)

// Two long unrelated texts (the cost of an exact diff is the square of
// their length) still give an answer in bounded time.
func TestWordDiffIsBounded(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	text := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteByte(byte('a' + rng.Intn(26)))
		}
		return b.String()
	}
	a, b := text(200_000), text(200_000)
	start := time.Now()
	out := wordDiff(a, b)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the diff of two 200 KB texts took %v", d)
	}
	if !strings.Contains(string(out), "<ins>") || !strings.Contains(string(out), "<del>") {
		t.Fatal("no diff")
	}
}

// The word diff, inline and as either column, escaped, each change
// named for screen readers.
func TestWordDiffMarkup(t *testing.T) {
	const del, ins = `<del><span class="visually-hidden">removed: </span>`, `<ins><span class="visually-hidden">added: </span>`
	for _, c := range []struct {
		side diffSide
		want string
	}{
		{bothSides, "one " + del + "two </del>three" + ins + " &lt;four&gt;</ins>"},
		{oldSide, "one " + del + "two </del>three"},
		{newSide, "one three" + ins + " &lt;four&gt;</ins>"},
	} {
		if got := diffHTML(history.WordDiff("one two three", "one three <four>"), c.side); string(got) != c.want {
			t.Errorf("side %d:\n got %s\nwant %s", c.side, got, c.want)
		}
	}
}

// Two renderings of a text on one page keep their ids apart, and their
// links to them.
func TestScopeIDs(t *testing.T) {
	in := template.HTML(`<h2 id="notes">Notes</h2><p>See <a href="#notes">notes</a>, <a href="https://x.org/#y">x</a>, id=&#34;z&#34;</p>`)
	want := `<h2 id="from-notes">Notes</h2><p>See <a href="#from-notes">notes</a>, <a href="https://x.org/#y">x</a>, id=&#34;z&#34;</p>`
	if got := scopeIDs(in, "from-"); string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// Two states of a post differ field by field, as the editor names them:
// an object's fields one by one, lists joined, dates to the second, the
// text and bookkeeping left out.
func TestPostChanges(t *testing.T) {
	at := func(s int) *time.Time { d := time.Date(2026, 3, 1, 9, 30, s, 0, time.UTC); return &d }
	a := content.Post{ID: "p1", Title: "2026-01-01T00:00:00Z", Content: "a", Tags: []string{"x"}, PublishedAt: at(5), Blob: "1", Version: 1,
		Meta: content.Meta{Description: "old"}}
	b := content.Post{ID: "p1", Title: "New", Content: "b", Tags: []string{"x", "y"}, PublishedAt: at(7), Blob: "2", Version: 2,
		Meta: content.Meta{Image: "media:abc"}}
	want := []fieldChange{{"Title", "2026-01-01T00:00:00Z", "New"}, {"Publish date", "1 Mar 2026, 09:30:05", "1 Mar 2026, 09:30:07"},
		{"Tags", "x", "x, y"}, {"Meta description", "old", ""}, {"Meta image", "", "media:abc"}}
	if got := postChanges(a, b); !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// Two renderings are diffed word by word, each side keeping its own
// rendering whole (its tags, in order): removed words marked in the
// older, added ones in the newer, only in text.
func TestRenderedDiff(t *testing.T) {
	const del, ins = `<del><span class="visually-hidden">removed: </span>`, `<ins><span class="visually-hidden">added: </span>`
	a := template.HTML("<p>The first body about <strong>ferries</strong> &amp; more</p>\n<ul>\n<li>gone</li>\n</ul>\n")
	b := template.HTML("<h2 id=\"x\">New</h2>\n<p>The second body about <strong>ferries</strong> and trains &amp; more</p>\n")
	older, newer := renderedDiff(a, b)
	wantOld := "<p>The " + del + "first</del> body about <strong>ferries</strong> &amp; more</p>\n<ul>\n<li>" + del + "gone</del></li>\n</ul>\n"
	wantNew := "<h2 id=\"x\">" + ins + "New</ins></h2>\n<p>The " + ins + "second</ins> body about <strong>ferries</strong> " + ins + "and trains </ins>&amp; more</p>\n"
	if string(older) != wantOld {
		t.Errorf("older:\n got %s\nwant %s", older, wantOld)
	}
	if string(newer) != wantNew {
		t.Errorf("newer:\n got %s\nwant %s", newer, wantNew)
	}
	unmark := regexp.MustCompile(`</?(del|ins)>|<span class="visually-hidden">(removed|added): </span>`)
	if unmark.ReplaceAllString(string(older), "") != string(a) || unmark.ReplaceAllString(string(newer), "") != string(b) {
		t.Error("a side, unmarked, is not its rendering")
	}
}
