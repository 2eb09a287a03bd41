package api

import "net/http"

// listCategories lists every category by name.
func (h *Handler) listCategories(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{"items": h.cfg.Catalogue.Categories()})
}
