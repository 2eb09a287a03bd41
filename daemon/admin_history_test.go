package daemon

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// marked is the text of the changes a page marks as removed or added:
// <del>/<ins> elements that say so to screen readers.
func marked(page []byte, tag string) []string {
	say := map[string]string{"del": "removed", "ins": "added"}[tag]
	var out []string
	for _, m := range regexp.MustCompile(`<`+tag+`><span class="visually-hidden">`+say+`: </span>([^<]*)</`+tag+`>`).FindAllSubmatch(page, -1) {
		out = append(out, html.UnescapeString(string(m[1])))
	}
	return out
}

// section is the part of page between the first start and the next end.
func section(t testing.TB, page []byte, start, end string) []byte {
	t.Helper()
	_, after, ok := strings.Cut(string(page), start)
	if !ok {
		t.Fatalf("no %s on the page:\n%s", start, page)
	}
	in, _, _ := strings.Cut(after, end)
	return []byte(in)
}

// fieldRows are the rows of a page's table of changed fields: field,
// from, to.
func fieldRows(page []byte) [][3]string {
	_, page0, _ := strings.Cut(string(page), `<table class="fields"`)
	page0, _, _ = strings.Cut(page0, `</table>`)
	page = []byte(page0)
	var out [][3]string
	cell := regexp.MustCompile(`<span class="visually-hidden">[a-z]+: </span>|<[^>]+>`)
	for _, m := range regexp.MustCompile(`<tr><th scope="row">([^<]*)</th><td>(.*?)</td><td>(.*?)</td></tr>`).FindAllSubmatch(page, -1) {
		out = append(out, [3]string{string(m[1]), html.UnescapeString(cell.ReplaceAllString(string(m[2]), "")),
			html.UnescapeString(cell.ReplaceAllString(string(m[3]), ""))})
	}
	return out
}

// A post's history in the admin, without JavaScript: a post edited
// through the API and the admin is listed revision by revision, any two
// compare field by field and word by word, one shows whole, and a
// restore is confirmed on a page, then made, shown in the history and
// undone the same way; what stops a restore is said and commits
// nothing; a deleted post's history stays, and restoring brings it back.
func TestAdminPostHistory(t *testing.T) {
	t.Parallel()
	s, b := signedIn(t, "ed@example.org", auth.RoleEditor)
	tok := s.token("ed@example.org")
	wait := []string{"Prefer", "wait=5"}
	for _, c := range []string{"News", "Travel"} {
		mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": c}, wait...), 201)
	}

	// Made by the API, changed by the API, by a push, then in the admin.
	var created struct{ ID string }
	r := s.do("POST", "/api/v1/posts", tok, postBody("First title", "content", "The first body about **ferries**\n",
		"tags", []string{"boats"}, "categories", []string{"news"}, "status", "published"), wait...)
	mustStatus(t, r, 201)
	r.json(t, &created)
	id := created.ID
	first, etag := s.livePost(t, tok, id)
	mustStatus(t, s.do("PATCH", "/api/v1/posts/"+id, tok, map[string]any{"content": "The second body about **ferries** and trains\n",
		"tags": []string{"boats", "trains"}}, append([]string{"If-Match", etag, "Content-Type", "application/merge-patch+json"}, wait...)...), 200)
	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("ed@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	file := filepath.Join(work, first.Path)
	body, _ := os.ReadFile(file)
	write(t, file, strings.Replace(string(body), "title: First title", "title: Pushed title", 1))
	gitTry(t, work, "commit", "-qam", "Retitle by git")
	if out, err := gitTry(t, work, "push", "-q", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if p, _ := s.livePost(t, tok, id); p.Title != "Pushed title" {
			return fmt.Errorf("title %q", p.Title)
		}
		return nil
	})
	ed := b.get("/admin/posts/" + id)
	mustStatus(t, ed, 200)
	base := "/admin/posts/" + id + "/history"
	if !strings.Contains(string(ed.body), `<a href="`+base+`">History</a>`) {
		t.Fatal("the editor does not link the post's history")
	}
	editor := url.Values{"title": {"Admin title"}, "slug": {inputValue(t, ed.body, "slug")}, "content": {inputValue(t, ed.body, "content")},
		"status": {"published"}, "published_at": {inputValue(t, ed.body, "published_at")}, "categories": {"news", "travel"},
		"tags": {inputValue(t, ed.body, "tags")}, "meta.description": {"Admin <description>"}, "version": {inputValue(t, ed.body, "version")},
		"action": {"save"}}
	mustStatus(t, b.post("/admin/posts/"+id, editor), http.StatusSeeOther)
	edited, _ := s.livePost(t, tok, id)
	oldVersion := editor.Get("version")

	// The history lists the four, newest first, with who and what.
	var revs []revisionItem
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if revs = s.revisions(t, tok, id); len(revs) != 4 {
			return fmt.Errorf("%d revisions", len(revs))
		}
		return nil
	})
	hist := b.get(base)
	mustStatus(t, hist, 200)
	type row struct{ Who, Type, Fields string }
	var rows []row
	tags := regexp.MustCompile(`<[^>]+>`)
	for _, m := range regexp.MustCompile(`<td>([^\n]*)</td>\n<td><code>([^<]*)</code>[^\n]*</td>\n<td>([^<]*)</td>`).FindAllSubmatch(hist.body, -1) {
		rows = append(rows, row{html.UnescapeString(tags.ReplaceAllString(string(m[1]), "")), string(m[2]), string(m[3])})
	}
	want := []row{{"ed@example.org", "post.updated", "Title, Categories, Meta"},
		{"ed@example.org (pushed by ed@example.org; commit by " + revs[1].Author + ")", "post.updated", "Title"},
		{"ed@example.org", "post.updated", "Text, Tags"}, {"ed@example.org", "post.created", ""}}
	if diff := cmp.Diff(want, rows); diff != "" || !strings.Contains(revs[1].Author, "pat@example.org") {
		t.Errorf("the history's rows (-want +got):\n%s\n(the push's author %q)", diff, revs[1].Author)
	}
	for _, want := range []string{`name="to" value="` + revs[0].Revision + `" aria-label="[^"]*" checked`,
		`name="from" value="` + revs[1].Revision + `" aria-label="[^"]*" checked`,
		`<a href="` + regexp.QuoteMeta(base+"/"+revs[2].Revision) + `">`} {
		if !regexp.MustCompile(want).Match(hist.body) {
			t.Errorf("the history page lacks %s", want)
		}
	}

	// The first against the newest: fields from → to, the text word by
	// word in two columns and inline.
	cmpPage := b.get(base + "/compare?" + url.Values{"from": {revs[3].Revision}, "to": {revs[0].Revision}}.Encode())
	mustStatus(t, cmpPage, 200)
	wantFields := [][3]string{{"Title", "First title", "Admin title"}, {"Categories", "news", "news, travel"},
		{"Tags", "boats", "boats, trains"}, {"Meta description", "none", "Admin <description>"}}
	if diff := cmp.Diff(wantFields, fieldRows(cmpPage.body)); diff != "" {
		t.Errorf("fields from the first to the newest (-want +got):\n%s", diff)
	}
	old, neu := section(t, cmpPage.body, `<pre class="diff old">`, `</pre>`), section(t, cmpPage.body, `<pre class="diff new">`, `</pre>`)
	inline := section(t, cmpPage.body, `<pre class="diff inline">`, `</pre>`)
	for _, c := range []struct {
		name     string
		got      []string
		want     []string
		notThere []string
	}{
		{"removed, left", marked(old, "del"), []string{"first"}, marked(old, "ins")},
		{"added, right", marked(neu, "ins"), []string{"second", " and trains"}, marked(neu, "del")},
		{"removed, inline", marked(inline, "del"), []string{"first"}, nil},
		{"added, inline", marked(inline, "ins"), []string{"second", " and trains"}, nil},
	} {
		if diff := cmp.Diff(c.want, c.got); diff != "" || len(c.notThere) > 0 {
			t.Errorf("%s (-want +got):\n%s (and the other kind: %q)", c.name, diff, c.notThere)
		}
	}
	if !strings.Contains(string(old), "**ferries**") || strings.Contains(string(cmpPage.body), "<strong>ferries</strong>") {
		t.Error("the Markdown view does not show the Markdown")
	}
	// Rendered: both texts as readers see them, with the word diff.
	rendered := b.get(base + "/compare?" + url.Values{"from": {revs[3].Revision}, "to": {revs[0].Revision}, "view": {"rendered"}}.Encode())
	mustStatus(t, rendered, 200)
	oldHTML, newHTML := section(t, rendered.body, `<section aria-labelledby="old-h">`, `</section>`), section(t, rendered.body, `<section aria-labelledby="new-h">`, `</section>`)
	if !strings.Contains(string(oldHTML), "<strong>ferries</strong>") || !strings.Contains(string(newHTML), "<strong>ferries</strong>") ||
		!cmp.Equal(marked(oldHTML, "del"), []string{"first"}) || !cmp.Equal(marked(newHTML, "ins"), []string{"second", " and trains"}) ||
		len(marked(section(t, rendered.body, `<pre class="diff inline">`, `</pre>`), "del")) == 0 {
		t.Errorf("the rendered view:\n%s", rendered.body)
	}
	// Without from: against the revision before.
	prevPage := b.get(base + "/compare?to=" + revs[2].Revision)
	mustStatus(t, prevPage, 200)
	if diff := cmp.Diff([][3]string{{"Tags", "boats", "boats, trains"}}, fieldRows(prevPage.body)); diff != "" {
		t.Errorf("the API's change against the one before (-want +got):\n%s", diff)
	}
	mustStatus(t, b.get(base+"/compare?to="+revs[3].Revision), http.StatusBadRequest) // the first has none before
	mustStatus(t, b.get(base+"/compare?from=nonsense"), http.StatusNotFound)

	// One revision, whole.
	view := b.get(base + "/" + revs[3].Revision)
	mustStatus(t, view, 200)
	for _, want := range []string{"<dt>Title</dt><dd>First title</dd>", "<dt>Tags</dt><dd>boats</dd>", "<dt>Categories</dt><dd>news</dd>",
		"<strong>ferries</strong>", `href="` + base + "/" + revs[3].Revision + `/restore">Restore this revision</a>`} {
		if !strings.Contains(string(view.body), want) {
			t.Errorf("the first revision's page lacks %s", want)
		}
	}
	mustStatus(t, b.get(base+"/"+strings.Repeat("ab", 20)), http.StatusNotFound)

	// Restore it: a page says what changes, with the version it shows.
	confirm := b.get(base + "/" + revs[3].Revision + "/restore")
	mustStatus(t, confirm, 200)
	wantBack := [][3]string{{"Title", "Admin title", "First title"}, {"Categories", "news, travel", "news"},
		{"Tags", "boats, trains", "boats"}, {"Meta description", "Admin <description>", "none"}}
	if diff := cmp.Diff(wantBack, fieldRows(confirm.body)); diff != "" {
		t.Errorf("what the restore changes (-want +got):\n%s", diff)
	}
	version := inputValue(t, confirm.body, "version")
	if version == "" || version == oldVersion {
		t.Fatalf("the confirmation's version %q", version)
	}
	// A stale version: said on the page, nothing committed.
	head := headOf(t, s)
	r = b.post(base+"/"+revs[3].Revision+"/restore", url.Values{"version": {oldVersion}})
	if r.status != http.StatusPreconditionFailed || !strings.Contains(string(r.body), "Someone changed this post after you opened this page") ||
		inputValue(t, r.body, "version") != version {
		t.Fatalf("stale restore: %d\n%s", r.status, r.body)
	}
	if headOf(t, s) != head {
		t.Fatal("a stale restore moved main")
	}
	r = b.post(base+"/"+revs[3].Revision+"/restore", url.Values{"version": {version}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/posts/"+id {
		t.Fatalf("restore: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	ed = b.follow(r)
	if !strings.Contains(string(ed.body), "Restored the revision of ") || inputValue(t, ed.body, "title") != "First title" {
		t.Fatalf("the editor after the restore:\n%s", ed.body)
	}
	if now, _ := s.livePost(t, tok, id); !cmp.Equal(first, now) {
		t.Errorf("restored post (-first +now):\n%s", cmp.Diff(first, now))
	}
	// The history shows the restore; undone the same way.
	revs = s.revisions(t, tok, id)
	if revs[0].Type != "post.restored" || revs[0].RestoredFrom != revs[4].Revision {
		t.Fatalf("the restore's revision: %+v", revs[0])
	}
	hist = b.get(base)
	if !strings.Contains(string(hist.body), "<code>post.restored</code>") ||
		!strings.Contains(string(hist.body), `(<a href="`+base+"/"+revs[4].Revision+`">that revision</a>)`) {
		t.Errorf("the history does not show the restore:\n%s", hist.body)
	}
	confirm = b.get(base + "/" + revs[1].Revision + "/restore")
	mustStatus(t, confirm, 200)
	mustStatus(t, b.post(base+"/"+revs[1].Revision+"/restore", url.Values{"version": {inputValue(t, confirm.body, "version")}}), http.StatusSeeOther)
	if now, _ := s.livePost(t, tok, id); !cmp.Equal(edited, now) {
		t.Errorf("after undoing the restore (-before +now):\n%s", cmp.Diff(edited, now))
	}

	// It already is as that revision: the page says so, and a restore
	// sent anyway is refused.
	revs = s.revisions(t, tok, id)
	confirm = b.get(base + "/" + revs[2].Revision + "/restore")
	if !strings.Contains(string(confirm.body), "there is nothing to restore") || strings.Contains(string(confirm.body), `<form method="post"`) {
		t.Errorf("restoring the post as it is:\n%s", confirm.body)
	}
	head = headOf(t, s)
	r = b.post(base+"/"+revs[2].Revision+"/restore", url.Values{"version": {inputValue(t, b.get("/admin/posts/"+id).body, "version")}})
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), "nothing was restored") || headOf(t, s) != head {
		t.Errorf("a restore changing nothing: %d\n%s", r.status, r.body)
	}

	// A category the revision had is gone: said, nothing committed.
	ed = b.get("/admin/posts/" + id)
	editor.Set("categories", "news")
	editor.Set("version", inputValue(t, ed.body, "version"))
	mustStatus(t, b.post("/admin/posts/"+id, editor), http.StatusSeeOther)
	mustStatus(t, s.do("DELETE", "/api/v1/categories/travel", tok, nil, wait...), 204)
	head = headOf(t, s)
	withTravel := revs[0].Revision
	confirm = b.get(base + "/" + withTravel + "/restore")
	mustStatus(t, confirm, 200)
	r = b.post(base+"/"+withTravel+"/restore", url.Values{"version": {inputValue(t, confirm.body, "version")}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `Categories: no category &#34;travel&#34;`) || headOf(t, s) != head {
		t.Errorf("restoring a category that is gone: %d\n%s", r.status, r.body)
	}

	// Deleted: the history stays, linked from where the post was, and a
	// restore (no version needed) brings it back.
	ed = b.get("/admin/posts/" + id)
	r = b.post("/admin/posts/"+id+"/delete", url.Values{"version": {inputValue(t, ed.body, "version")}, "confirm": {"yes"}})
	list := b.follow(r)
	if !strings.Contains(string(list.body), `<a href="`+base+`">Its history (restore it from there)</a>`) {
		t.Errorf("the deletion's message does not link the history:\n%s", list.body)
	}
	mustStatus(t, s.do("GET", "/api/v1/posts/"+id, tok, nil), 404)
	r = b.get("/admin/posts/" + id)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != base {
		t.Fatalf("a deleted post's editor: %d %q", r.status, r.header.Get("Location"))
	}
	hist = b.follow(r)
	revs = s.revisions(t, tok, id)
	undelete := base + "/" + revs[1].Revision + "/restore"
	if !strings.Contains(string(hist.body), "was deleted on") || !strings.Contains(string(hist.body), "This post is deleted") ||
		!strings.Contains(string(hist.body), `href="`+undelete+`"`) || !strings.Contains(string(hist.body), "<code>post.deleted</code>") {
		t.Fatalf("a deleted post's history:\n%s", hist.body)
	}
	confirm = b.get(undelete)
	if confirm.status != 200 || !strings.Contains(string(confirm.body), "Restore this deleted post?") {
		t.Fatalf("undelete's confirmation: %d\n%s", confirm.status, confirm.body)
	}
	r = b.post(undelete, url.Values{"version": {inputValue(t, confirm.body, "version")}})
	mustStatus(t, r, http.StatusSeeOther)
	if back, _ := s.livePost(t, tok, id); back.Title != "Admin title" || !cmp.Equal(back.Categories, []string{"news"}) {
		t.Errorf("the undeleted post: %+v", back)
	}
	if revs = s.revisions(t, tok, id); revs[0].Type != "post.restored" {
		t.Errorf("the undelete's revision: %+v", revs[0])
	}
}

// A long history pages, newest first; the last revision of a page
// compares with the first of the next.
func TestAdminPostHistoryPages(t *testing.T) {
	t.Parallel()
	s, b := signedIn(t, "ed@example.org", auth.RoleEditor)
	tok := s.token("ed@example.org")
	var created struct{ ID string }
	r := s.do("POST", "/api/v1/posts", tok, postBody("Many times"), "Prefer", "wait=5")
	mustStatus(t, r, 201)
	r.json(t, &created)
	id, etag := created.ID, r.header.Get("ETag")
	for i := range 21 {
		r := s.do("PATCH", "/api/v1/posts/"+id, tok, map[string]any{"excerpt": fmt.Sprintf("Excerpt %d", i)},
			"If-Match", etag, "Content-Type", "application/merge-patch+json")
		mustStatus(t, r, 200)
		etag = r.header.Get("ETag")
	}
	var revs []revisionItem
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if revs = s.revisions(t, tok, id); len(revs) != 22 {
			return fmt.Errorf("%d revisions", len(revs))
		}
		return nil
	})
	base := "/admin/posts/" + id + "/history"
	first, second := b.get(base), b.get(base+"?page=2")
	mustStatus(t, first, 200)
	mustStatus(t, second, 200)
	rowsOf := func(page []byte) int { return strings.Count(string(page), `<input type="radio" name="to"`) }
	if rowsOf(first.body) != 20 || rowsOf(second.body) != 2 {
		t.Errorf("rows: %d and %d, want 20 and 2", rowsOf(first.body), rowsOf(second.body))
	}
	last := html.EscapeString(base + "/compare?" + url.Values{"from": {revs[20].Revision}, "to": {revs[19].Revision}}.Encode())
	if !strings.Contains(string(first.body), `<a href="`+last+`">Changes</a>`) || !strings.Contains(string(first.body), `href="`+base+`?page=2" rel="next"`) ||
		!strings.Contains(string(second.body), `href="`+base+`?page=1" rel="prev"`) {
		t.Errorf("the first page's last row or the pager:\n%s", first.body)
	}
	mustStatus(t, b.get(base+"?page=3"), http.StatusNotFound)
	mustStatus(t, b.get("/admin/posts/no-such-post/history"), http.StatusNotFound)
}

// historyPages adds the history pages of post id (edited at least once)
// to the admin's pages, and a refused restore to its forms; and a
// deleted post's history, with the confirmation of its undeletion.
func historyPages(t *testing.T, s *site, b *browser, tok, id string, pages map[string]string, forms map[string][]byte) {
	t.Helper()
	var revs []revisionItem
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if revs = s.revisions(t, tok, id); len(revs) < 2 {
			return fmt.Errorf("%d revisions", len(revs))
		}
		return nil
	})
	base := "/admin/posts/" + id + "/history"
	compare := base + "/compare?" + url.Values{"from": {revs[len(revs)-1].Revision}, "to": {revs[0].Revision}}.Encode()
	pages["history"], pages["history-compare"], pages["history-compare-rendered"] = base, compare, compare+"&view=rendered"
	pages["history-revision"] = base + "/" + revs[len(revs)-1].Revision
	pages["history-restore"] = pages["history-revision"] + "/restore"
	forms["history-restore-refused"] = b.post(pages["history-restore"], url.Values{"version": {strings.Repeat("0", 40)}}).body

	var gone struct{ ID string }
	r := s.do("POST", "/api/v1/posts", tok, postBody(`Deleted <i>then</i> & "gone"`), "Prefer", "wait=5")
	mustStatus(t, r, 201)
	r.json(t, &gone)
	_, etag := s.livePost(t, tok, gone.ID)
	mustStatus(t, s.do("DELETE", "/api/v1/posts/"+gone.ID, tok, nil, "If-Match", etag, "Prefer", "wait=5"), 204)
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if revs = s.revisions(t, tok, gone.ID); len(revs) < 2 {
			return fmt.Errorf("%d revisions", len(revs))
		}
		return nil
	})
	pages["history-deleted"] = "/admin/posts/" + gone.ID + "/history"
	pages["history-undelete"] = pages["history-deleted"] + "/" + revs[1].Revision + "/restore"
}
