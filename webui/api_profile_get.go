package webui

import "net/http"

// getProfile returns the author profile.
func (h *Handler) getProfile(w http.ResponseWriter, r *http.Request) error {
	p := h.cfg.Catalogue.Profile()
	return writeJSON(w, http.StatusOK, p)
}
