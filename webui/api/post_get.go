package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// getPost returns one post; drafts only to a token holder.
func (h *Handler) getPost(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	p, ok := h.cfg.Catalogue.Post(id)
	if _, authed := auth.Principal(r); !ok || (!authed && p.Status != content.Published) {
		return httperr.New(http.StatusNotFound, "no post with id %q", params.Clip(id))
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag(p.Blob)) {
		w.Header().Set("ETag", etag(p.Blob))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return writePost(w, http.StatusOK, &p)
}
