package webui

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events"
)

// updatePost replaces a post's editable fields. With If-Match, a post that
// changed since that version is not overwritten: 412.
func (h *Handler) updatePost(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	in, err := h.decodePost(w, r)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	res, err := wr.UpdatePost(r.Context(), wr.actor, id, wr.match, in)
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	if res.Post == nil { // nothing changed: answer with the current state
		p, ok := h.cfg.Catalogue.Post(id)
		if !ok {
			return problem(http.StatusNotFound, "no post with id %q", clip(id))
		}
		return writePost(w, http.StatusOK, &p)
	}
	p := *res.Post
	p.Version = h.versionAfter(res)
	return writePost(w, http.StatusOK, &p)
}

// versionAfter is the post's version after a write. The catalogue counts
// versions; if it has not applied the write yet but has applied the state
// the write replaced, the write is exactly one more.
func (h *Handler) versionAfter(res events.Written) int {
	for _, e := range res.Events {
		var d events.PostData
		if jsonDecode(e.Data, &d) != nil || d.Post.ID != res.Post.ID {
			continue
		}
		cur, ok := h.cfg.Catalogue.Post(d.Post.ID)
		switch {
		case ok && cur.Blob == d.Post.Blob:
			return cur.Version
		case ok && d.Previous != nil && cur.Blob == d.Previous.Blob:
			return cur.Version + 1
		}
	}
	return 0 // unknown until the catalogue catches up (ask with Prefer: wait)
}
