package api

import (
	"net/http"
)

// createPost commits a new post and answers 201 once it is durable.
func (h *Handler) createPost(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	in, err := h.decodePost(w, r)
	if err != nil {
		return err
	}
	res, err := wr.CreatePost(r.Context(), wr.actor, in)
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	p := *res.Post
	p.Version = 1
	w.Header().Set("Location", "/api/v1/posts/"+p.ID)
	return writePost(w, http.StatusCreated, &p)
}
