package api

import "net/http"

// getProfile returns the author profile. On the writer node, body and
// ETag both come from the head.
func (h *Handler) getProfile(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Writer == nil {
		return writeJSON(w, http.StatusOK, h.cfg.Catalogue.Profile())
	}
	p, v, err := h.cfg.Writer.Profile()
	if err != nil {
		return err
	}
	if v != "" {
		w.Header().Set("ETag", etag(v))
	}
	return writeJSON(w, http.StatusOK, p)
}
