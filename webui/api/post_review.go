package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// The review: an author submits a post (pending), an editor sends it
// back with a note (a draft again) or approves it (published, or
// scheduled for a later time). Each step is one write of the post by the
// writer, so one commit and one event (post.submitted,
// post.changes_requested, post.published or post.scheduled), judged by
// the policy like any edit.

// submitPost sends a draft for review. A published or scheduled post is
// not submitted: that would take it off the site unasked.
func (h *Handler) submitPost(w http.ResponseWriter, r *http.Request) error {
	return h.reviewStep(w, r, func(cur content.Post) (command.PostInput, error) {
		if cur.Status != content.Draft && cur.Status != content.Pending {
			return command.PostInput{}, &command.ConflictError{Field: "status", Detail: fmt.Sprintf("the post is %s: only a draft is submitted for review", cur.Status)}
		}
		in, err := inputOf(&cur)
		in.Status = content.Pending
		return in, err
	})
}

// requestChanges sends a pending post back to its author as a draft,
// with what to change.
func (h *Handler) requestChanges(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Note string `json:"note"`
	}
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	note := strings.TrimSpace(req.Note)
	if note == "" {
		return httperr.Field(http.StatusUnprocessableEntity, "note", "say what to change: the note is required")
	}
	return h.reviewStep(w, r, func(cur content.Post) (command.PostInput, error) {
		if err := isPending(&cur); err != nil {
			return command.PostInput{}, err
		}
		in, err := inputOf(&cur)
		in.Status, in.ReviewNote = content.Draft, note
		return in, err
	})
}

// approvePost publishes a pending post, or schedules it when its
// published_at is in the future.
func (h *Handler) approvePost(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		PublishedAt *string `json:"published_at"`
	}
	if r.ContentLength != 0 { // the body is optional
		if err := h.decodeJSON(w, r, &req); err != nil {
			return err
		}
	}
	at := time.Now().UTC().Truncate(time.Second)
	if req.PublishedAt != nil && *req.PublishedAt != "" {
		t, err := time.Parse(time.RFC3339, *req.PublishedAt)
		if err != nil {
			return httperr.Field(http.StatusUnprocessableEntity, "published_at", "%q is not an RFC 3339 date-time such as 2026-11-21T09:30:00Z", params.Clip(*req.PublishedAt))
		}
		at = t
	}
	return h.reviewStep(w, r, func(cur content.Post) (command.PostInput, error) {
		if err := isPending(&cur); err != nil {
			return command.PostInput{}, err
		}
		in, err := inputOf(&cur)
		in.Status, in.PublishedAt = content.Published, &at
		if at.After(time.Now()) {
			in.Status = content.Scheduled
		}
		return in, err
	})
}

// reviewStep applies one step to the post as it is under the writer's
// lock, with If-Match as PATCH takes it.
func (h *Handler) reviewStep(w http.ResponseWriter, r *http.Request, step func(cur content.Post) (command.PostInput, error)) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	res, err := wr.EditPost(r.Context(), wr.actor, mux.Vars(r)["id"], wr.match, step)
	if err != nil {
		return err
	}
	return h.answerPostWrite(w, r, res)
}

// inputOf is the post's fields as the writer takes them, unchanged.
func inputOf(p *content.Post) (command.PostInput, error) {
	req := requestOf(p)
	return req.input()
}

func isPending(p *content.Post) error {
	if p.Status == content.Pending {
		return nil
	}
	return &command.ConflictError{Field: "status", Detail: fmt.Sprintf("the post is %s, not %s: only a post submitted for review is approved or sent back", p.Status, content.Pending)}
}
