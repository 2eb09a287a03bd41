package webui

import (
	"net/http"

	"github.com/gorilla/mux"
)

// getCategory returns one category.
func (h *Handler) getCategory(w http.ResponseWriter, r *http.Request) error {
	slug := mux.Vars(r)["slug"]
	c, ok := h.cfg.Catalogue.Category(slug)
	if !ok {
		return problem(http.StatusNotFound, "no category %q", clip(slug))
	}
	if h.cfg.Writer != nil {
		if v, err := h.cfg.Writer.CategoryVersion(slug); err == nil && v != "" {
			w.Header().Set("ETag", etag(v))
		}
	}
	return writeJSON(w, http.StatusOK, c)
}
