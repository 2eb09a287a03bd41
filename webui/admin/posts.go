package admin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/repo/autosave"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/session"
)

// perPage is the post list's page size.
const perPage = 50

// maxForm bounds a post form: the largest post's text and the rest.
const maxForm = content.MaxContent + 256<<10

type listQuery struct {
	Q, Status, Category, Tag, Sort string
	Page                           int
}

type pager struct {
	Page, Pages int
	Prev, Next  string
}

// posts lists posts, newest first, filtered by status, category, tag and
// words of the title.
func (h *handler) posts(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q := listQuery{Q: strings.TrimSpace(v.Get("q")), Status: v.Get("status"), Category: v.Get("category"), Tag: v.Get("tag"), Sort: v.Get("sort")}
	q.Page, _ = strconv.Atoi(v.Get("page"))
	q.Page = max(q.Page, 1)
	switch content.Status(q.Status) {
	case content.Draft, content.Pending, content.Published, content.Scheduled:
	default:
		q.Status = ""
	}
	list, total := h.cfg.Catalogue.Posts(catalogue.Query{Status: content.Status(q.Status), Category: q.Category, Tag: q.Tag,
		Search: q.Q, Sort: catalogue.Sort(q.Sort), Page: q.Page, PerPage: perPage, Visible: readable(r)})
	pages := max(1, int(math.Ceil(float64(total)/perPage)))
	pg := &pager{Page: q.Page, Pages: pages}
	link := func(n int) string {
		u := url.Values{}
		for k, val := range map[string]string{"q": q.Q, "status": q.Status, "category": q.Category, "tag": q.Tag, "sort": q.Sort} {
			if val != "" {
				u.Set(k, val)
			}
		}
		if n > 1 {
			u.Set("page", strconv.Itoa(n))
		}
		if len(u) == 0 {
			return "/admin/posts"
		}
		return "/admin/posts?" + u.Encode()
	}
	if q.Page > 1 {
		pg.Prev = link(q.Page - 1)
	}
	if q.Page < pages {
		pg.Next = link(q.Page + 1)
	}
	if pages == 1 {
		pg = nil
	}
	return h.render(w, r, http.StatusOK, "posts", page{Title: "Posts", Section: "posts", Data: map[string]any{
		"Posts": list, "Total": total, "Query": q, "Pager": pg, "Categories": h.cfg.Catalogue.Categories(), "Tags": h.cfg.Catalogue.TagsVisible(readable(r))}})
}

// readable keeps the posts the signed-in account may read: its own and
// the published ones, or every post for a role that reads all.
func readable(r *http.Request) func(*content.Post) bool {
	a := asker(r)
	return func(p *content.Post) bool { return a.CanRead(p) }
}

// editorData is what the editor page shows besides the form.
type editorData struct {
	New        bool
	Action     string
	SiteURL    string
	Preview    template.HTML
	Words      int
	Minutes    int
	Categories []content.Category
	Tags       []catalogue.Tag
	Autosave   bool              // the script autosaves the form (draft_key names it)
	Draft      *draftView        // an unsaved draft of this post, newer than it
	Conflict   *conflictView     // the save was refused: someone saved first
	Card       cardView          // how it shows in search results and when shared
	Embed      *embedView        // what the embed URL resolved to
	Others     []session.Editing // who else has the post open
	Presence   string            // where the script sends its heartbeat
	History    string            // the post's history; "" when none is kept
	// MediaMaxBytes is the largest picture the text takes by paste or
	// drop (the media library's limit); 0: no media library.
	MediaMaxBytes int64
	Statuses      []choice // the statuses the account may give the post
	Publish       bool     // the account may publish it (else it submits it for review)
	// Authors are the accounts an editor may give the post to; nil: the
	// account may not change the post's author (the field is not shown).
	Authors []choice
	Post    *content.Post // the post as saved; nil while new
	Mine    bool          // the post is the account's own
	Review  *reviewView   // an editor's review of a pending post
}

// choice is one option of a select.
type choice struct{ Value, Label string }

// reviewView is the review form an editor gets on a pending post, with
// what was wrong with the last try.
type reviewView struct {
	Action, Version string
	Note, At        string
	Problems        map[string]string // by input: review_note, publish_at; "" the form
}

// Problem is the input's message, nil if it has none.
func (v *reviewView) Problem(name string) *problem {
	if m, ok := v.Problems[name]; ok {
		return &problem{ID: name, Message: m}
	}
	return nil
}

func (h *handler) editor(w http.ResponseWriter, r *http.Request, status int, f *form, id string) error {
	return h.editorWith(w, r, status, f, id, editorData{})
}

func (h *handler) editorWith(w http.ResponseWriter, r *http.Request, status int, f *form, id string, d editorData) error {
	return h.render(w, r, status, "editor", h.editorPage(r, f, id, d, ""))
}

// editorPage is the editor's page: the form, its preview and counts.
func (h *handler) editorPage(r *http.Request, f *form, id string, d editorData, flash string) page {
	d.New, d.Categories, d.Tags = id == "", h.cfg.Catalogue.Categories(), h.cfg.Catalogue.Tags()
	d.Autosave = h.cfg.Drafts != nil && f.Value("draft_key") != ""
	d.Action = "/admin/posts"
	if h.cfg.Media != nil {
		d.MediaMaxBytes = h.cfg.Media.MaxBytes
	}
	if id != "" {
		d.Action = "/admin/posts/" + url.PathEscape(id)
		if p, ok := h.cfg.Catalogue.Post(id); ok && p.Status == content.Published {
			d.SiteURL = "/posts/" + p.Slug
		}
	}
	if id != "" && h.cfg.Revisions != nil {
		d.History = "/admin/posts/" + url.PathEscape(id) + "/history"
	}
	h.byRole(r, f, id, &d)
	if id != "" && h.cfg.Presence != nil {
		d.Others = h.othersEditing(r, id)
		d.Presence = "/admin/posts/" + url.PathEscape(id) + "/presence"
	}
	text := f.Value("content")
	html, summary := h.cfg.Render(text)
	d.Card = h.card(f, summary)
	d.Embed = h.embed(id, f.Value("embed_url"))
	d.Preview = html
	d.Words = len(strings.Fields(text))
	d.Minutes = max(1, int(math.Ceil(float64(d.Words)/230)))
	title, section := "Edit post", "posts"
	if d.New {
		title, section = "New post", "new"
	}
	return page{Title: title, Section: section, Form: f, Data: d, Flash: flash}
}

// byRole fills what the editor offers the account: the statuses it may
// give the post, the author field (editors), the review form (editors,
// on a pending post). The writer still judges the save.
func (h *handler) byRole(r *http.Request, f *form, id string, d *editorData) {
	me := asker(r)
	d.Publish = me.Role.Can(policy.PublishOwnPosts)
	d.Statuses = []choice{{string(content.Draft), "Draft"}, {string(content.Pending), "Submitted for review"}}
	if d.Publish {
		d.Statuses = append(d.Statuses, choice{string(content.Published), "Published"},
			choice{string(content.Scheduled), "Scheduled: published at the date below"})
	}
	if cur := f.Value("status"); cur != "" && !slices.ContainsFunc(d.Statuses, func(c choice) bool { return c.Value == cur }) {
		d.Statuses = append(d.Statuses, choice{cur, cur}) // as it is, though the account may not choose it
	}
	if id != "" {
		if p, ok := h.cfg.Catalogue.Post(id); ok {
			d.Post, d.Mine = &p, me.Owns(&p)
			if p.Status == content.Pending && me.Role.Can(policy.EditAllPosts) && d.Review == nil {
				d.Review = &reviewView{Version: p.Blob}
			}
			if d.Review != nil {
				d.Review.Action = "/admin/posts/" + url.PathEscape(id) + "/review"
			}
		}
	}
	if id == "" && f.Value("author") == "" {
		f.values.Set("author", me.Email) // a new post is the writer's unless given to another
	}
	if me.Role.Can(policy.EditAllPosts) {
		d.Authors = h.authorChoices(f.Value("author"))
	}
}

// authorChoices are the accounts a post may be given to, the current
// author first among them even if it has no account (any more).
func (h *handler) authorChoices(cur string) []choice {
	var out []choice
	if cur == "" {
		out = append(out, choice{"", "(nobody: keep as it is)"})
	}
	seen := false
	if h.cfg.Auth != nil {
		list, err := h.cfg.Auth.Accounts.List()
		if err != nil {
			h.log.Warn("the editor's author choices could not be read", "err", err)
		}
		for _, a := range list {
			label := a.Email
			if a.Name != "" {
				label = a.Name + " (" + a.Email + ")"
			}
			out = append(out, choice{a.Email, label + ", " + string(a.Role)})
			seen = seen || a.Email == cur
		}
	}
	if cur != "" && !seen {
		out = append([]choice{{cur, cur + " (no account)"}}, out...)
	}
	return out
}

// newPost opens an empty editor with a fresh draft key, or the draft
// named by ?draft= (an unsaved post found on the dashboard).
func (h *handler) newPost(w http.ResponseWriter, r *http.Request) error {
	if key := r.URL.Query().Get("draft"); strings.HasPrefix(key, "new-") && autosave.ValidKey(key) {
		if d, ok := h.loadDraft(r, key); ok {
			f := draftForm(d, key)
			f.values.Del("version")
			return h.render(w, r, http.StatusOK, "editor", h.editorPage(r, f, "", editorData{},
				fmt.Sprintf("Your unsaved post from %s, as you left it.", when(d.Saved))))
		}
	}
	return h.editor(w, r, http.StatusOK, newForm(url.Values{"status": {string(content.Draft)}, "draft_key": {newDraftKey()}}), "")
}

// editPost opens a post. If the editor left unsaved changes to it (an
// autosave newer than the post), it says so and shows the difference;
// ?restore=1 opens the draft instead, still based on the version it was
// typed over, so saving it cannot silently undo a save made since.
func (h *handler) editPost(w http.ResponseWriter, r *http.Request) error {
	id := pathVar(r, "id")
	p, ok := h.cfg.Catalogue.Post(id)
	if !ok {
		if h.deletedPost(w, r, id) {
			return nil
		}
		return httperr.New(http.StatusNotFound, "there is no post with id %q", clip(id))
	}
	if !asker(r).CanRead(&p) {
		return httperr.New(http.StatusNotFound, "there is no post with id %q", clip(id)) // as if it did not exist
	}
	f := postForm(&p)
	key := postDraftKey(id)
	f.values.Set("draft_key", key)
	var d editorData
	if draft, ok := h.loadDraft(r, key); ok {
		df := draftForm(draft, key)
		if r.URL.Query().Get("restore") == "1" {
			return h.render(w, r, http.StatusOK, "editor", h.editorPage(r, df, id, editorData{},
				fmt.Sprintf("Your unsaved changes from %s are back in the editor: save them to keep them.", when(draft.Saved))))
		}
		if df.Value("content") != f.Value("content") || len(changedFields(f, df)) > 0 {
			d.Draft = &draftView{Saved: draft.Saved, Diff: wordDiff(f.Value("content"), df.Value("content")), Fields: changedFields(f, df),
				Restore: "/admin/posts/" + url.PathEscape(id) + "?restore=1", Discard: "/admin/drafts/" + url.PathEscape(key) + "/discard"}
		}
	}
	return h.editorWith(w, r, http.StatusOK, f, id, d)
}

// postForm fills the editor from a post.
func postForm(p *content.Post) *form {
	v := url.Values{"title": {p.Title}, "slug": {p.Slug}, "content": {p.Content}, "excerpt": {p.Excerpt}, "status": {string(p.Status)},
		"tags": {strings.Join(p.Tags, ", ")}, "feature_image": {p.FeatureImage}, "gallery": {strings.Join(p.Gallery, "\n")},
		"embed_url": {p.EmbedURL}, "meta.description": {p.Meta.Description}, "meta.image": {p.Meta.Image}, "version": {p.Blob},
		"categories": p.Categories, "author": {p.Author}}
	if p.PublishedAt != nil {
		v.Set("published_at", p.PublishedAt.UTC().Format(dateLayout))
	}
	return newForm(v)
}

// dateLayout is how the editor shows a publish date.
const dateLayout = "2006-01-02 15:04"

// readPostForm reads a submitted editor: the form as sent (to show again
// if the save fails) and the writer's input.
func readPostForm(w http.ResponseWriter, r *http.Request) (*form, command.PostInput, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, command.PostInput{}, httperr.New(http.StatusRequestEntityTooLarge, "the post is larger than %d MiB: nothing was saved", maxForm>>20)
		}
		return nil, command.PostInput{}, httperr.New(http.StatusBadRequest, "the form could not be read: nothing was saved")
	}
	f := newForm(r.PostForm)
	in := command.PostInput{Title: f.Value("title"), Slug: strings.TrimSpace(f.Value("slug")), Content: normalizeNewlines(f.Value("content")),
		Excerpt: normalizeNewlines(f.Value("excerpt")), Status: content.Status(f.Value("status")), Categories: r.PostForm["categories"],
		Tags: splitList(f.Value("tags"), ","), FeatureImage: strings.TrimSpace(f.Value("feature_image")),
		Gallery: splitList(f.Value("gallery"), "\n"), EmbedURL: strings.TrimSpace(f.Value("embed_url")),
		Meta:   content.Meta{Description: normalizeNewlines(f.Value("meta.description")), Image: strings.TrimSpace(f.Value("meta.image"))},
		Author: strings.TrimSpace(f.Value("author"))}
	switch r.PostForm.Get("action") {
	case "publish":
		in.Status = content.Published
	case "unpublish":
		in.Status = content.Draft
	case "submit":
		in.Status = content.Pending
	}
	if in.Status == "" {
		in.Status = content.Draft
	}
	if in.Slug != "" && !content.ValidSlug(in.Slug) {
		f.fail("slug", fmt.Sprintf("%q is not a slug: lower-case letters, digits and single hyphens, at most %d characters", clip(in.Slug), content.MaxSlug))
	}
	if s := strings.TrimSpace(f.Value("published_at")); s != "" {
		t, ok := parseDate(s)
		if !ok {
			f.fail("published_at", fmt.Sprintf("%q is not a date: write it as 2026-12-01 09:00 (UTC)", clip(s)))
		} else {
			in.PublishedAt = &t
		}
	}
	return f, in, nil
}

// parseDate reads the editor's date, or an RFC 3339 one (what the API
// takes), or what a datetime-local input sends; all in UTC unless an
// offset says otherwise.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{dateLayout, "2006-01-02T15:04", time.RFC3339, "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func splitList(s, sep string) []string {
	var out []string
	for _, part := range strings.Split(s, sep) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// normalizeNewlines turns a browser's CRLF line ends (a textarea sends
// them) into the LF the repository keeps.
func normalizeNewlines(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}

// asker is the signed-in account as policy judges it.
func asker(r *http.Request) policy.Actor {
	a, _ := auth.Principal(r)
	return policy.Actor{Email: a.Email, Role: a.Role}
}

func actor(r *http.Request) command.Actor {
	a, _ := auth.Principal(r)
	return command.Actor{Name: a.Name, Email: a.Email, Role: a.Role}
}

func (h *handler) createPost(w http.ResponseWriter, r *http.Request) error {
	f, in, err := readPostForm(w, r)
	if err != nil {
		return err
	}
	if r.PostForm.Get("action") == "preview" || f.failed() {
		return h.editor(w, r, statusOf(f), f, "")
	}
	res, err := h.cfg.Writer.CreatePost(r.Context(), actor(r), in)
	if err != nil {
		if f.blame(err, "this post", postInputs()) {
			return h.editor(w, r, statusOf(f, err), f, "")
		}
		return fmt.Errorf("create a post: %w", err)
	}
	h.discard(r, f.Value("draft_key"))
	h.saved(r, res, "Created.")
	http.Redirect(w, r, "/admin/posts/"+url.PathEscape(res.Post.ID), http.StatusSeeOther)
	return nil
}

func (h *handler) updatePost(w http.ResponseWriter, r *http.Request) error {
	id := pathVar(r, "id")
	f, in, err := readPostForm(w, r)
	if err != nil {
		return err
	}
	if p, ok := h.cfg.Catalogue.Post(id); ok && !asker(r).CanRead(&p) {
		return httperr.New(http.StatusNotFound, "there is no post with id %q", clip(id))
	}
	if r.PostForm.Get("action") == "preview" || f.failed() {
		return h.editor(w, r, statusOf(f), f, id)
	}
	version := f.Value("version")
	if r.PostForm.Get("action") == "overwrite" {
		// The editor saw the conflict and chose to save over the other
		// version (still in the history): that version is the one named.
		version = f.Value("conflict_version")
	}
	if version == "" {
		// Without the version read, a save could undo someone else's.
		f.fail("", "This form lacks the post's version: open the post again and redo your change.")
		return h.editor(w, r, http.StatusPreconditionRequired, f, id)
	}
	res, err := h.cfg.Writer.EditPost(r.Context(), actor(r), id, version, func(cur content.Post) (command.PostInput, error) {
		// The form shows the date to the minute: the same minute sent
		// back is the date unchanged, seconds and all, not a new one.
		if in.PublishedAt != nil && cur.PublishedAt != nil && cur.PublishedAt.UTC().Truncate(time.Minute).Equal(*in.PublishedAt) {
			in.PublishedAt = cur.PublishedAt
		}
		// The form does not carry the review note: a save keeps it
		// (the writer drops it once the post is no longer a draft).
		in.ReviewNote = cur.ReviewNote
		return in, nil
	})
	if err != nil {
		if errors.Is(err, command.ErrNotFound) {
			return httperr.New(http.StatusNotFound, "there is no post with id %q (deleted meanwhile?)", clip(id))
		}
		if errors.Is(err, command.ErrStale) {
			return h.conflict(w, r, f, id)
		}
		if f.blame(err, "this post", postInputs()) {
			return h.editor(w, r, statusOf(f, err), f, id)
		}
		return fmt.Errorf("update post %s: %w", id, err)
	}
	h.discard(r, postDraftKey(id))
	msg := "Saved."
	switch {
	case r.PostForm.Get("action") == "overwrite":
		msg = "Saved over the other version (it stays in the history)."
	case r.PostForm.Get("action") == "publish":
		msg = "Published."
	case r.PostForm.Get("action") == "unpublish":
		msg = "Unpublished: it is a draft again."
	case r.PostForm.Get("action") == "submit":
		msg = "Submitted for review: an editor will publish it or send it back with a note."
	case len(res.Events) == 0:
		msg = "No changes to save."
	}
	h.saved(r, res, msg)
	http.Redirect(w, r, "/admin/posts/"+url.PathEscape(id), http.StatusSeeOther)
	return nil
}

// deletePost asks first (a page, so it works without JavaScript), then
// deletes: the post stays in the history.
func (h *handler) deletePost(w http.ResponseWriter, r *http.Request) error {
	id := pathVar(r, "id")
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return httperr.New(http.StatusBadRequest, "the form could not be read")
	}
	p, ok := h.cfg.Catalogue.Post(id)
	if !ok || !asker(r).CanRead(&p) {
		return httperr.New(http.StatusNotFound, "there is no post with id %q", clip(id))
	}
	version := r.PostForm.Get("version")
	if r.PostForm.Get("confirm") != "yes" {
		return h.render(w, r, http.StatusOK, "confirm", page{Title: "Delete post?", Section: "posts", Data: map[string]any{
			"Question": fmt.Sprintf("Delete “%s”? It leaves the site at once; it stays in the history and can be restored.", p.Title),
			"Action":   "/admin/posts/" + url.PathEscape(id) + "/delete", "Fields": map[string]string{"version": version},
			"Button": "Delete post", "Back": "/admin/posts/" + url.PathEscape(id)}})
	}
	res, err := h.cfg.Writer.DeletePost(r.Context(), actor(r), id, version)
	if refusal := (*policy.Refusal)(nil); errors.As(err, &refusal) {
		return httperr.New(http.StatusForbidden, "Not deleted: %s.", refusal.Reason)
	}
	if errors.Is(err, command.ErrStale) {
		h.flash(r, "Not deleted: someone saved this post after you opened it. Here it is as it is now.")
		http.Redirect(w, r, "/admin/posts/"+url.PathEscape(id), http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete post %s: %w", id, err)
	}
	h.saved(r, res, fmt.Sprintf("Deleted “%s”.", p.Title))
	if h.cfg.Revisions != nil {
		h.linkFlash(r, "/admin/posts/"+url.PathEscape(id)+"/history", "Its history (restore it from there)")
	}
	http.Redirect(w, r, "/admin/posts", http.StatusSeeOther)
	return nil
}

// saved waits (briefly) until readers see a write, so the page the
// editor lands on shows it, and says it was done.
func (h *handler) saved(r *http.Request, res command.Written, msg string) {
	if h.cfg.Waiter != nil && len(res.Events) > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), h.cfg.WaitAfterWrite)
		defer cancel()
		if err := h.cfg.Waiter.WaitFor(ctx, res.Cursor); err != nil {
			msg += " (The site is catching up: the change may take a moment to show.)"
		}
	}
	h.flash(r, msg)
}

// statusOf is the status of a form shown again: 422 when the user has
// something to fix, 409 or 412 for a conflict, 200 for a preview.
func statusOf(f *form, err ...error) int {
	switch {
	case len(err) > 0 && errors.Is(err[0], command.ErrStale):
		return http.StatusPreconditionFailed
	case len(err) > 0 && errors.As(err[0], new(*command.ConflictError)):
		return http.StatusConflict
	case len(err) > 0 && errors.Is(err[0], policy.ErrForbidden):
		return http.StatusForbidden
	case f.failed():
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

// preview renders Markdown as the site will (sanitised); the editor's
// script asks for it as the text changes.
func (h *handler) preview(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseMultipartForm(maxForm); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return httperr.New(http.StatusRequestEntityTooLarge, "the text is too large to preview")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	html, _ := h.cfg.Render(normalizeNewlines(r.FormValue("content")))
	_, err := w.Write([]byte(html))
	return err
}

// conflict answers a save refused because someone saved the post after
// the editor opened it: the editor's text stays in the form, beside the
// other version and how the two differ; the editor merges by hand and
// saves over it, keeps theirs, or takes the other.
func (h *handler) conflict(w http.ResponseWriter, r *http.Request, f *form, id string) error {
	theirs, ok := h.cfg.Catalogue.Post(id)
	if !ok {
		return httperr.New(http.StatusNotFound, "there is no post with id %q (deleted meanwhile?)", clip(id))
	}
	tf := postForm(&theirs)
	f.values.Set("conflict_version", theirs.Blob)
	f.fail("", "Someone else saved this post after you opened it, so your save was not made. Your text is still here; "+
		"below is their version and how yours differs from it.")
	d := editorData{Conflict: &conflictView{Theirs: theirs.Content, Diff: wordDiff(theirs.Content, f.Value("content")),
		Fields: changedFields(tf, f), Version: theirs.Blob, At: theirs.UpdatedAt}}
	return h.editorWith(w, r, http.StatusPreconditionFailed, f, id, d)
}

// cardView is how a post shows in a search engine's results and as a
// card when its address is shared, from the editor's fields as they are.
type cardView struct {
	Site, URL, Title, Description, Image string
}

func (h *handler) card(f *form, summary string) cardView {
	c := cardView{Title: f.Value("title")}
	if h.cfg.Writer != nil {
		if s, _, err := h.cfg.Writer.Settings(); err == nil {
			c.Site = s.Title
			c.URL = strings.TrimSuffix(s.BaseURL, "/")
		}
	}
	slug := f.Value("slug")
	if slug == "" {
		slug = content.Slugify(c.Title)
	}
	c.URL += "/posts/" + slug
	for _, d := range []string{f.Value("meta.description"), f.Value("excerpt")} {
		if strings.TrimSpace(d) != "" {
			c.Description = d
			break
		}
	}
	if c.Description == "" {
		c.Description = summary
	}
	for _, ref := range []string{f.Value("meta.image"), f.Value("feature_image")} {
		if id, ok := content.MediaRefID(ref); ok {
			c.Image = "/media/" + url.PathEscape(id) + "/w640"
			break
		}
		if strings.HasPrefix(ref, "https://") {
			c.Image = ref
			break
		}
	}
	return c
}

// embedView is what the editor says of the embed URL: what it resolved
// to, or that it will be resolved once saved.
type embedView struct {
	Resolved                     bool
	Kind, Provider, Title, Image string
}

func (h *handler) embed(id, u string) *embedView {
	u = strings.TrimSpace(u)
	if u == "" {
		return nil
	}
	if id != "" && h.cfg.Writer != nil {
		e, ok, err := h.cfg.Writer.Embed(id)
		if err != nil {
			h.log.Warn("the post's resolved embed could not be read", "post", id, "err", err)
		}
		if ok && e.URL == u {
			v := &embedView{Resolved: true, Kind: e.Kind, Provider: e.Provider, Title: e.Title}
			if strings.HasPrefix(e.Image, "https://") {
				v.Image = e.Image
			}
			return v
		}
	}
	return &embedView{}
}
