package api

import "net/http"

// getSettings returns the site settings (admin only). On the writer node,
// body and ETag both come from the head.
func (h *Handler) getSettings(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Writer == nil {
		return writeJSON(w, http.StatusOK, h.cfg.Catalogue.Settings())
	}
	s, v, err := h.cfg.Writer.Settings()
	if err != nil {
		return err
	}
	if v != "" {
		w.Header().Set("ETag", etag(v))
	}
	return writeJSON(w, http.StatusOK, s)
}
