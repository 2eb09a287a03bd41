package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// getPost returns one post: a published one to anyone, an unpublished
// one to whoever the policy lets read it (its author, editors); to
// others it does not exist.
func (h *Handler) getPost(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	p, ok := h.cfg.Catalogue.Post(id)
	a, signedIn := auth.Principal(r)
	if !ok || !a.Actor().CanRead(&p) {
		return httperr.New(http.StatusNotFound, "no post with id %q", params.Clip(id))
	}
	if !signedIn {
		anonymous(&p)
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag(p.Blob)) {
		w.Header().Set("ETag", etag(p.Blob))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return writePost(w, http.StatusOK, &p)
}
