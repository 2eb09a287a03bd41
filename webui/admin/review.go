package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// reviewQueue lists the posts submitted for review, the longest waiting
// first, with their authors.
func (h *handler) reviewQueue(w http.ResponseWriter, r *http.Request) error {
	list, total := h.cfg.Catalogue.Posts(catalogue.Query{Status: content.Pending, Sort: catalogue.Oldest, PerPage: 200, Visible: readable(r)})
	return h.render(w, r, http.StatusOK, "review", page{Title: "Review", Section: "review", Data: map[string]any{"Posts": list, "Total": total}})
}

// inputOf is a post's state as the writer takes it back: a review
// changes its status (and note or date) and nothing else.
func inputOf(p content.Post) command.PostInput {
	return command.PostInput{Title: p.Title, Slug: p.Slug, Content: p.Content, Excerpt: p.Excerpt, Status: p.Status,
		PublishedAt: p.PublishedAt, Categories: p.Categories, Tags: p.Tags, FeatureImage: p.FeatureImage, Gallery: p.Gallery,
		EmbedURL: p.EmbedURL, Meta: p.Meta, Author: p.Author, ReviewNote: p.ReviewNote}
}

// review is an editor's decision on a pending post: send it back with a
// note (a draft again: post.changes_requested), publish it now
// (post.published) or schedule it (post.scheduled). One save through
// the writer, so one commit and one event; what is wrong is said beside
// the review form's inputs.
func (h *handler) review(w http.ResponseWriter, r *http.Request) error {
	id := pathVar(r, "id")
	f, err := readForm(w, r, 64<<10)
	if err != nil {
		return err
	}
	p, ok := h.cfg.Catalogue.Post(id)
	if !ok {
		return httperr.New(http.StatusNotFound, "there is no post with id %q", clip(id))
	}
	v := &reviewView{Version: f.Value("version"), Note: normalizeNewlines(strings.TrimSpace(f.Value("review_note"))),
		At: strings.TrimSpace(f.Value("publish_at")), Problems: map[string]string{}}
	fail := func(status int, input, msg string) error {
		v.Problems[input] = msg
		return h.render(w, r, status, "editor", h.editorPage(r, postForm(&p), id, editorData{Review: v}, ""))
	}
	var status content.Status
	var at *time.Time
	decision := f.Value("decision")
	switch decision {
	case "changes":
		if v.Note == "" {
			return fail(http.StatusUnprocessableEntity, "review_note", "Say what to change: the author reads this note beside the post.")
		}
		status = content.Draft
	case "publish":
		status = content.Published
	case "schedule":
		t, ok := parseDate(v.At)
		switch {
		case v.At == "":
			return fail(http.StatusUnprocessableEntity, "publish_at", "Give the date and time to publish it at.")
		case !ok:
			return fail(http.StatusUnprocessableEntity, "publish_at", fmt.Sprintf("%q is not a date: write it as 2026-12-01 09:00 (UTC)", clip(v.At)))
		}
		status, at = content.Scheduled, &t
	default:
		return fail(http.StatusUnprocessableEntity, "", "Choose what to do: request changes, publish or schedule.")
	}
	if v.Version == "" {
		return fail(http.StatusPreconditionRequired, "", "This form lacks the post's version: open the post again and decide again.")
	}
	res, err := h.cfg.Writer.EditPost(r.Context(), actor(r), id, v.Version, func(cur content.Post) (command.PostInput, error) {
		if cur.Status != content.Pending {
			return command.PostInput{}, &command.ConflictError{Field: "status", Detail: fmt.Sprintf("the post is %s now, no longer waiting for review", cur.Status)}
		}
		in := inputOf(cur)
		in.Status, in.ReviewNote = status, ""
		switch status {
		case content.Draft:
			in.ReviewNote = v.Note
		case content.Published:
			in.PublishedAt = nil // now
		case content.Scheduled:
			in.PublishedAt = at
		}
		return in, nil
	})
	if err != nil {
		var ve *content.ValidationError
		var ce *command.ConflictError
		var pe *policy.Refusal
		switch {
		case errors.Is(err, command.ErrNotFound):
			return httperr.New(http.StatusNotFound, "there is no post with id %q (deleted meanwhile?)", clip(id))
		case errors.Is(err, command.ErrStale):
			return fail(http.StatusPreconditionFailed, "", "Someone saved this post after you opened it, so nothing was decided. Here it is as it is now: decide again.")
		case errors.As(err, &pe):
			return fail(http.StatusForbidden, reviewInput(pe.Field), pe.Reason)
		case errors.As(err, &ce):
			return fail(http.StatusConflict, "", ce.Detail)
		case errors.As(err, &ve):
			for _, fe := range ve.Errors {
				v.Problems[reviewInput(fe.Field)] = fe.Detail
			}
			return fail(http.StatusUnprocessableEntity, "", ve.Error())
		}
		return fmt.Errorf("review post %s: %w", id, err)
	}
	msg := map[string]string{"changes": "Sent back to its author with your note.", "publish": "Approved and published.",
		"schedule": "Approved and scheduled for " + when(at) + " UTC."}[decision]
	h.saved(r, res, msg)
	http.Redirect(w, r, "/admin/review", http.StatusSeeOther)
	return nil
}

// reviewInput is the review form's input a writer's field is about.
func reviewInput(field string) string {
	switch field {
	case "review_note":
		return "review_note"
	case "published_at":
		return "publish_at"
	}
	return ""
}
