package api

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
)

// updatePost replaces a post's editable fields (PUT: what the body leaves
// out goes back to its default). With If-Match, a post that changed since
// that version is not overwritten: 412.
func (h *Handler) updatePost(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	in, err := h.decodePost(w, r)
	if err != nil {
		return err
	}
	res, err := wr.UpdatePost(r.Context(), wr.actor, mux.Vars(r)["id"], wr.match, in)
	if err != nil {
		return err
	}
	return h.answerPostWrite(w, r, res)
}

// patchPost changes only the fields a JSON Merge Patch names; null puts
// one back to its default. The patch is applied by the writer to the
// post as it is when the change is committed, so without If-Match it
// still never undoes a concurrent change of another field.
func (h *Handler) patchPost(w http.ResponseWriter, r *http.Request) error {
	wr, patch, err := h.startPatch(w, r)
	if err != nil {
		return err
	}
	res, err := wr.EditPost(r.Context(), wr.actor, mux.Vars(r)["id"], wr.match, func(cur content.Post) (command.PostInput, error) {
		var req postRequest
		if err := applyMergePatch(requestOf(&cur), patch, &req); err != nil {
			return command.PostInput{}, err
		}
		return req.input()
	})
	if err != nil {
		return err
	}
	return h.answerPostWrite(w, r, res)
}

// requestOf is a post's editable fields as a PUT body would send them.
func requestOf(p *content.Post) postRequest {
	req := postRequest{Title: p.Title, Slug: p.Slug, Content: p.Content, Excerpt: p.Excerpt, Status: string(p.Status),
		Categories: p.Categories, Tags: p.Tags, FeatureImage: p.FeatureImage, Gallery: p.Gallery, EmbedURL: p.EmbedURL,
		Author: p.Author, ReviewNote: p.ReviewNote}
	if p.PublishedAt != nil {
		s := p.PublishedAt.UTC().Format(time.RFC3339)
		req.PublishedAt = &s
	}
	if p.Meta != (content.Meta{}) {
		m := p.Meta
		req.Meta = &m
	}
	return req
}

// answerPostWrite answers a PUT or PATCH with the post as the writer left
// it (changed or not): body and ETag from that one state.
func (h *Handler) answerPostWrite(w http.ResponseWriter, r *http.Request, res command.Written) error {
	h.afterWrite(w, r, res)
	p := *res.Post
	if cur, ok := h.cfg.Catalogue.Post(p.ID); ok && cur.Blob == p.Blob {
		p = cur // the same state, with its revision and count known
	} else {
		p.Version = h.versionAfter(res)
	}
	return writePost(w, http.StatusOK, &p)
}

// versionAfter is the post's change count after a write. The catalogue
// counts versions; if it has not applied the write yet but has applied
// the state the write replaced, the write is exactly one more.
func (h *Handler) versionAfter(res command.Written) int {
	cur, ok := h.cfg.Catalogue.Post(res.Post.ID)
	switch {
	case !ok:
	case cur.Blob == res.Post.Blob:
		return cur.Version
	default:
		for _, e := range res.Events {
			var d events.PostData
			if jsonDecode(e.Data, &d) == nil && d.Post.ID == res.Post.ID && d.Previous != nil && cur.Blob == d.Previous.Blob {
				return cur.Version + 1
			}
		}
	}
	return 0 // unknown until the catalogue catches up (ask with Prefer: wait)
}
