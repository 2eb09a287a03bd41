package webui

import (
	"net/http"

	"github.com/chronicle-cms/chronicle/events"
)

// putProfile replaces the author profile.
func (h *Handler) putProfile(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	var p events.Profile
	if err := h.decodeJSON(w, r, &p); err != nil {
		return err
	}
	res, err := wr.PutProfile(r.Context(), wr.actor, p)
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	return writeJSON(w, http.StatusOK, p)
}
