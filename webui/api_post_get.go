package webui

import (
	"net/http"
	"strings"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/gorilla/mux"
)

// getPost returns one post; drafts only to a token holder.
func (h *Handler) getPost(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	p, ok := h.cfg.Catalogue.Post(id)
	if _, authed := principal(r); !ok || (!authed && p.Status != content.Published) {
		return problem(http.StatusNotFound, "no post with id %q", clip(id))
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag(p.Blob)) {
		w.Header().Set("ETag", etag(p.Blob))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return writePost(w, http.StatusOK, &p)
}
