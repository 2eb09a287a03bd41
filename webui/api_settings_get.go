package webui

import "net/http"

// getSettings returns the site settings (admin only).
func (h *Handler) getSettings(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, h.cfg.Catalogue.Settings())
}
