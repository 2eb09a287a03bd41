package webui

import (
	"net/http"

	"github.com/chronicle-cms/chronicle/events"
)

// putSettings replaces the site settings (admin only).
func (h *Handler) putSettings(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	s := events.DefaultSettings()
	if err := h.decodeJSON(w, r, &s); err != nil {
		return err
	}
	res, err := wr.PutSettings(r.Context(), wr.actor, s)
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	return writeJSON(w, http.StatusOK, s)
}
