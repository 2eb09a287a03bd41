package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections/history"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// Revisions is the history projection with its revisions' whole states
// (history.Reader): the same the API's revisions are answered from.
type Revisions interface {
	Revisions(subject string, page, perPage int) (history.Page, error)
	Revision(subject, commit string) (history.Revision, error)
	Previous(rev history.Revision) (history.Revision, bool, error)
	// State is the event that made rev: its payload is the whole state.
	State(rev history.Revision) (events.Event, error)
}

// revisionsPerPage is the history list's page size.
const revisionsPerPage = 20

// revisionRow is a revision as the history pages show it, with the
// addresses of its page and of its changes.
type revisionRow struct {
	history.Revision
	URL     string // the revision's page
	Compare string // it against the one before; "" for the first
	Prev    string // the revision before it; "" for the first
}

// postHistory is what every history page says of the post: its title
// (as it is, or as it was last) and whether it is deleted.
type postHistory struct {
	ID, Title string
	Base      string            // /admin/posts/{id}/history
	Editor    string            // the post's editor; "" when it is deleted
	Deleted   *history.Revision // the deletion, when the post is deleted
	Latest    history.Revision
}

func (h *handler) revisions() (Revisions, error) {
	if h.cfg.Revisions == nil {
		return nil, httperr.New(http.StatusNotFound, "this node keeps no history: open the admin of the writer node")
	}
	return h.cfg.Revisions, nil
}

// postOf finds the post's history; a post never saved has none, a
// deleted one keeps its own. An account that may not read the post (as
// it is, or was last) is told there is none, as the editor tells it.
func (h *handler) postOf(r *http.Request, rs Revisions, id string) (postHistory, error) {
	ph := postHistory{ID: id, Base: "/admin/posts/" + url.PathEscape(id) + "/history"}
	p, err := rs.Revisions("post/"+id, 1, 1)
	if err != nil {
		return ph, fmt.Errorf("history of post %s: %w", id, err)
	}
	if len(p.Items) == 0 {
		return ph, httperr.New(http.StatusNotFound, "there is no post with id %q, and there never was", clip(id))
	}
	ph.Latest = p.Items[0]
	var last content.Post
	if err := json.Unmarshal(ph.Latest.State, &last); err != nil {
		return ph, fmt.Errorf("history of post %s: %w", id, err)
	}
	if !asker(r).CanRead(&last) {
		return ph, httperr.New(http.StatusNotFound, "there is no post with id %q", clip(id))
	}
	if !asker(r).CanReadHistory(&last) {
		return ph, httperr.New(http.StatusForbidden, "a post's history is for its author, editors and admins")
	}
	ph.Title = last.Title
	if ph.Latest.Deleted {
		ph.Deleted = &ph.Latest
	} else {
		ph.Editor = "/admin/posts/" + url.PathEscape(id)
	}
	return ph, nil
}

func (ph postHistory) row(rev history.Revision, prev string) revisionRow {
	row := revisionRow{Revision: rev, URL: ph.Base + "/" + url.PathEscape(rev.Commit), Prev: prev}
	if prev != "" {
		row.Compare = ph.Base + "/compare?" + url.Values{"from": {prev}, "to": {rev.Commit}}.Encode()
	}
	return row
}

// revisionOf finds a revision of post id and the post as it was then.
// postRevision reads the post and the revision a history page's path
// names, as the account may see them.
func (h *handler) postRevision(r *http.Request) (Revisions, postHistory, history.Revision, content.Post, error) {
	rs, err := h.revisions()
	if err != nil {
		return nil, postHistory{}, history.Revision{}, content.Post{}, err
	}
	id := pathVar(r, "id")
	ph, err := h.postOf(r, rs, id)
	if err != nil {
		return nil, postHistory{}, history.Revision{}, content.Post{}, err
	}
	rev, p, err := h.revisionOf(rs, id, pathVar(r, "revision"))
	return rs, ph, rev, p, err
}

func (h *handler) revisionOf(rs Revisions, id, commit string) (history.Revision, content.Post, error) {
	rev, err := rs.Revision("post/"+id, commit)
	if errors.Is(err, history.ErrNotFound) {
		return rev, content.Post{}, httperr.New(http.StatusNotFound, "post %q has no revision %q: pick one from its history", clip(id), clip(commit))
	}
	if err != nil {
		return rev, content.Post{}, fmt.Errorf("revision %s of post %s: %w", commit, id, err)
	}
	e, err := rs.State(rev)
	if err != nil {
		return rev, content.Post{}, fmt.Errorf("revision %s of post %s: %w", commit, id, err)
	}
	pl, err := e.Payload()
	if err != nil {
		return rev, content.Post{}, fmt.Errorf("revision %s of post %s: %w", commit, id, err)
	}
	d, ok := pl.(events.PostData)
	if !ok {
		return rev, content.Post{}, fmt.Errorf("revision %s of post %s is a %s, not a post's", commit, id, e.Type)
	}
	return rev, d.Post, nil
}

// previousOf is the commit of the revision before rev, "" for the first.
func previousOf(rs Revisions, rev history.Revision) (string, error) {
	prev, ok, err := rs.Previous(rev)
	if err != nil || !ok {
		return "", err
	}
	return prev.Commit, nil
}

// historyPage lists a post's revisions, newest first, a page at a time,
// in a form that picks two of them to compare (by default the newest
// and the one before).
func (h *handler) historyPage(w http.ResponseWriter, r *http.Request) error {
	rs, err := h.revisions()
	if err != nil {
		return err
	}
	id := pathVar(r, "id")
	ph, err := h.postOf(r, rs, id)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	n = max(n, 1)
	p, err := rs.Revisions("post/"+id, n, revisionsPerPage)
	if err != nil {
		return fmt.Errorf("history of post %s: %w", id, err)
	}
	pages := max(1, int(math.Ceil(float64(p.Total)/revisionsPerPage)))
	if n > pages {
		return httperr.New(http.StatusNotFound, "the history of this post has %d page%s, not %d", pages, plural(pages), n)
	}
	rows := make([]revisionRow, len(p.Items))
	for i, rev := range p.Items {
		prev := ""
		if i+1 < len(p.Items) {
			prev = p.Items[i+1].Commit
		} else if prev, err = previousOf(rs, rev); err != nil {
			return fmt.Errorf("history of post %s: %w", id, err)
		}
		rows[i] = ph.row(rev, prev)
	}
	pg := &pager{Page: n, Pages: pages}
	if n > 1 {
		pg.Prev = ph.Base + "?page=" + strconv.Itoa(n-1)
	}
	if n < pages {
		pg.Next = ph.Base + "?page=" + strconv.Itoa(n+1)
	}
	if pages == 1 {
		pg = nil
	}
	d := map[string]any{"Post": ph, "Rows": rows, "Total": p.Total, "Pager": pg}
	if len(rows) > 0 {
		d["To"], d["From"] = rows[0].Commit, rows[0].Prev
	}
	if ph.Deleted != nil {
		// Restoring the revision before the deletion brings it back as it was.
		if prev, ok, err := rs.Previous(*ph.Deleted); err == nil && ok {
			d["Undelete"] = ph.Base + "/" + url.PathEscape(prev.Commit) + "/restore"
		}
	}
	return h.render(w, r, http.StatusOK, "history", page{Title: "History of " + titleOf(ph.Title), Section: "posts", Data: d})
}

// compareData is two revisions side by side.
type compareData struct {
	Post             postHistory
	From, To         revisionRow
	Fields           []fieldChange
	SameText         bool
	Inline, Old, New template.HTML // the raw text's word diff, inline and as two columns
	// Rendered: the text as readers see it, older and newer, its words
	// marked, instead of the Markdown's word diff in two columns.
	Rendered         bool
	OldHTML, NewHTML template.HTML
	RawURL, HTMLURL  string
}

// compare shows how two revisions differ: the fields (from → to) and
// the text word by word, in two columns or inline; ?view=rendered shows
// the text rendered instead, older and newer side by side, removed and
// added words marked in each (renderedDiff: each side keeps its own
// tags, so a changed element shows as its words, never as half an
// element), with the Markdown's word diff inline below, which says
// exactly what changed in the source (a link's address, emphasis).
func (h *handler) compare(w http.ResponseWriter, r *http.Request) error {
	rs, err := h.revisions()
	if err != nil {
		return err
	}
	id := pathVar(r, "id")
	ph, err := h.postOf(r, rs, id)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	toRef, fromRef := strings.TrimSpace(q.Get("to")), strings.TrimSpace(q.Get("from"))
	if toRef == "" {
		toRef = ph.Latest.Commit
	}
	to, b, err := h.revisionOf(rs, id, toRef)
	if err != nil {
		return err
	}
	toPrev, err := previousOf(rs, to)
	if err != nil {
		return fmt.Errorf("history of post %s: %w", id, err)
	}
	if fromRef == "" {
		if toPrev == "" {
			return httperr.New(http.StatusBadRequest, "the revision of %s is the post's first: pick another to compare it with", when(to.Time))
		}
		fromRef = toPrev
	}
	from, a, err := h.revisionOf(rs, id, fromRef)
	if err != nil {
		return err
	}
	fromPrev, err := previousOf(rs, from)
	if err != nil {
		return fmt.Errorf("history of post %s: %w", id, err)
	}
	ops := history.WordDiff(a.Content, b.Content)
	d := compareData{Post: ph, From: ph.row(from, fromPrev), To: ph.row(to, toPrev), Fields: postChanges(a, b),
		SameText: a.Content == b.Content, Inline: diffHTML(ops, bothSides), Old: diffHTML(ops, oldSide), New: diffHTML(ops, newSide),
		Rendered: q.Get("view") == "rendered"}
	link := url.Values{"from": {from.Commit}, "to": {to.Commit}}
	d.RawURL = ph.Base + "/compare?" + link.Encode()
	link.Set("view", "rendered")
	d.HTMLURL = ph.Base + "/compare?" + link.Encode()
	if d.Rendered {
		oldHTML, _ := h.cfg.Render(a.Content)
		newHTML, _ := h.cfg.Render(b.Content)
		d.OldHTML, d.NewHTML = renderedDiff(scopeIDs(oldHTML, "from-"), scopeIDs(newHTML, "to-"))
	}
	return h.render(w, r, http.StatusOK, "history-compare", page{Title: "Compare revisions of " + titleOf(ph.Title), Section: "posts", Data: d})
}

// scopeIDs prefixes the ids of rendered HTML (a heading's, a
// footnote's) and the links to them, so that two renderings of much the
// same text can share a page. The HTML is the sanitiser's: attributes
// double-quoted, a quote in text escaped.
func scopeIDs(html template.HTML, prefix string) template.HTML {
	return template.HTML(strings.NewReplacer(` id="`, ` id="`+prefix, ` href="#`, ` href="#`+prefix).Replace(string(html)))
}

// revisionPage shows a post exactly as it was at one revision.
func (h *handler) revisionPage(w http.ResponseWriter, r *http.Request) error {
	rs, ph, rev, p, err := h.postRevision(r)
	if err != nil {
		return err
	}
	id := ph.ID
	prev, err := previousOf(rs, rev)
	if err != nil {
		return fmt.Errorf("history of post %s: %w", id, err)
	}
	html, _ := h.cfg.Render(p.Content)
	d := map[string]any{"Post": ph, "Rev": ph.row(rev, prev), "State": p, "HTML": html, "Fields": postFields(p),
		"Current": rev.Commit == ph.Latest.Commit && !rev.Deleted}
	if !rev.Deleted {
		d["Restore"] = ph.Base + "/" + url.PathEscape(rev.Commit) + "/restore"
	}
	return h.render(w, r, http.StatusOK, "history-revision", page{Title: titleOf(p.Title) + " as of " + when(rev.Time), Section: "posts", Data: d})
}

// restoreData is the confirmation of a restore: what it would change.
type restoreData struct {
	Post     postHistory
	Rev      revisionRow
	Fields   []fieldChange // the post as it is → as it was at Rev
	Diff     template.HTML
	SameText bool
	Nothing  bool   // it is as it was already
	Version  string // the post's version the changes are shown against
	Action   string
	Problems []string // why the last try restored nothing
}

// confirmRestore asks before restoring (a page, so it works without
// JavaScript), saying what the restore would change.
func (h *handler) confirmRestore(w http.ResponseWriter, r *http.Request) error {
	return h.restorePage(w, r, http.StatusOK, nil)
}

func (h *handler) restorePage(w http.ResponseWriter, r *http.Request, status int, problems []string) error {
	rs, ph, rev, old, err := h.postRevision(r)
	if err != nil {
		return err
	}
	id := ph.ID
	if rev.Deleted {
		return httperr.New(http.StatusUnprocessableEntity, "the revision of %s deleted the post: restore the one before it", when(rev.Time))
	}
	prev, err := previousOf(rs, rev)
	if err != nil {
		return fmt.Errorf("history of post %s: %w", id, err)
	}
	d := restoreData{Post: ph, Rev: ph.row(rev, prev), Action: ph.Base + "/" + url.PathEscape(rev.Commit) + "/restore", Problems: problems}
	// The changes are shown against the post as it is, or, deleted, as
	// it was last.
	var cur content.Post
	if ph.Deleted != nil {
		if _, cur, err = h.revisionOf(rs, id, ph.Deleted.Commit); err != nil {
			return err
		}
	} else if p, ok := h.cfg.Catalogue.Post(id); ok {
		cur, d.Version = p, p.Blob
	} else {
		return httperr.New(http.StatusServiceUnavailable, "the site is catching up with the latest change of this post: try again in a moment")
	}
	d.Fields, d.SameText = postChanges(cur, old), cur.Content == old.Content
	d.Diff = wordDiff(cur.Content, old.Content)
	d.Nothing = ph.Deleted == nil && d.SameText && len(d.Fields) == 0
	title := "Restore this revision?"
	if ph.Deleted != nil {
		title = "Restore this deleted post?"
	}
	return h.render(w, r, status, "history-restore", page{Title: title, Section: "posts", Data: d})
}

// restore brings the post back as it was at a revision, in one new
// commit (the history keeps what it replaces, and can undo it the same
// way); a deleted post comes back. What stops it is said on the
// confirmation page, shown again against the post as it now is.
func (h *handler) restore(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r, 16<<10)
	if err != nil {
		return err
	}
	_, ph, rev, old, err := h.postRevision(r)
	if err != nil {
		return err
	}
	id := ph.ID
	if rev.Deleted {
		return httperr.New(http.StatusUnprocessableEntity, "the revision of %s deleted the post: restore the one before it", when(rev.Time))
	}
	res, err := h.cfg.Writer.RestorePost(r.Context(), actor(r), id, f.Value("version"), rev.Commit, old)
	var ve *content.ValidationError
	var ce *command.ConflictError
	switch {
	case errors.Is(err, command.ErrStale), errors.Is(err, command.ErrNeedsVersion):
		return h.restorePage(w, r, http.StatusPreconditionFailed, []string{"Someone changed this post after you opened this page, " +
			"so nothing was restored. Below is what restoring would change now: restore again if you still want it."})
	case errors.Is(err, command.ErrNothingToRestore):
		return h.restorePage(w, r, http.StatusConflict, []string{"The post already is as it was at this revision: nothing was restored."})
	case errors.As(err, &ve):
		msgs := []string{"This revision cannot be restored as it was, so nothing was restored:"}
		for _, fe := range ve.Errors {
			msgs = append(msgs, strings.TrimPrefix(fieldLabel(fe.Field)+": ", ": ")+fe.Detail)
		}
		return h.restorePage(w, r, http.StatusUnprocessableEntity, msgs)
	case errors.As(err, &ce):
		return h.restorePage(w, r, http.StatusConflict, []string{"Nothing was restored: " + fieldLabel(ce.Field) + ": " + ce.Detail})
	case err != nil:
		return fmt.Errorf("restore post %s to %s: %w", id, rev.Commit, err)
	}
	h.discard(r, postDraftKey(id))
	h.saved(r, res, fmt.Sprintf("Restored the revision of %s.", when(rev.Time)))
	http.Redirect(w, r, "/admin/posts/"+url.PathEscape(id), http.StatusSeeOther)
	return nil
}

// deletedPost sends the editor of a deleted post to its history, where
// it can be restored; false when the post has no history either.
func (h *handler) deletedPost(w http.ResponseWriter, r *http.Request, id string) bool {
	if h.cfg.Revisions == nil {
		return false
	}
	ph, err := h.postOf(r, h.cfg.Revisions, id)
	if err != nil || ph.Deleted == nil {
		return false
	}
	h.flash(r, fmt.Sprintf("“%s” was deleted on %s by %s. Its history is below: restore a revision to bring it back.",
		titleOf(ph.Title), when(ph.Deleted.Time), ph.Deleted.Actor))
	http.Redirect(w, r, ph.Base, http.StatusSeeOther)
	return true
}

// postChanges lists the fields that differ between two states of a post
// (the text apart), in the post's order, an object's fields one by one.
func postChanges(a, b content.Post) []fieldChange {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		return nil // a post always encodes
	}
	return stateChanges(ja, jb, "", "content", "id", "created_at")
}

func stateChanges(a, b json.RawMessage, prefix string, skip ...string) []fieldChange {
	var out []fieldChange
	for _, c := range history.CompareStates(a, b, skip...) {
		if isObject(c.From) || isObject(c.To) {
			out = append(out, stateChanges(c.From, c.To, prefix+c.Field+".")...)
			continue
		}
		date := strings.HasSuffix(c.Field, "_at")
		out = append(out, fieldChange{Field: fieldLabel(prefix + c.Field), From: showJSON(c.From, date), To: showJSON(c.To, date)})
	}
	return out
}

func isObject(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return strings.HasPrefix(s, "{")
}

// showJSON shows a field's value as an editor reads it: a list joined
// by commas, a date (a field named *_at) as the admin shows dates, with
// its seconds, no quotes.
func showJSON(raw json.RawMessage, date bool) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	if s, ok := v.(string); ok && date {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t.UTC().Format(secondsLayout)
		}
	}
	return show(v)
}

// secondsLayout shows a date to the second: two revisions' publish
// dates may differ by seconds only.
const secondsLayout = "2 Jan 2006, 15:04:05"

func show(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = show(x)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + show(v[k])
		}
		return strings.Join(parts, "; ")
	}
	return fmt.Sprint(v)
}

// fieldLabels name a post's fields as the editor's labels do.
var fieldLabels = map[string]string{"title": "Title", "slug": "Slug", "content": "Text", "excerpt": "Excerpt", "status": "Status",
	"published_at": "Publish date", "categories": "Categories", "tags": "Tags", "feature_image": "Feature image", "gallery": "Gallery",
	"embed_url": "Embed URL", "meta": "Meta", "meta.description": "Meta description", "meta.image": "Meta image", "path": "File"}

func fieldLabel(name string) string {
	if l, ok := fieldLabels[name]; ok {
		return l
	}
	return name
}

// postFields are a post's fields as a revision's page lists them.
func postFields(p content.Post) []fieldChange {
	v := func(s ...string) string { return strings.Join(s, ", ") }
	published := ""
	if p.PublishedAt != nil {
		published = p.PublishedAt.UTC().Format(secondsLayout)
	}
	var out []fieldChange
	for _, f := range []struct{ name, value string }{{"title", p.Title}, {"slug", p.Slug}, {"status", string(p.Status)},
		{"published_at", published}, {"categories", v(p.Categories...)}, {"tags", v(p.Tags...)}, {"feature_image", p.FeatureImage},
		{"gallery", v(p.Gallery...)}, {"embed_url", p.EmbedURL}, {"excerpt", p.Excerpt}, {"meta.description", p.Meta.Description},
		{"meta.image", p.Meta.Image}, {"path", p.Path}} {
		out = append(out, fieldChange{Field: fieldLabel(f.name), To: f.value})
	}
	return out
}

func titleOf(title string) string {
	if strings.TrimSpace(title) == "" {
		return "(untitled)"
	}
	return "“" + title + "”"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
