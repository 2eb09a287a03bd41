package admin

import (
	"encoding/json"
	"net/http"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/session"
)

// othersEditing records that this account has the post open and returns
// who else does; a failing bucket is logged and shows nobody (the editor
// still works).
func (h *handler) othersEditing(r *http.Request, id string) []session.Editing {
	if h.cfg.Presence == nil {
		return nil
	}
	a, _ := auth.Principal(r)
	if err := h.cfg.Presence.Touch(r.Context(), id, a.Email, a.Name); err != nil {
		h.log.Warn("presence could not be recorded", "post", id, "err", err)
		return nil
	}
	others, err := h.cfg.Presence.Others(r.Context(), id, a.Email)
	if err != nil {
		h.log.Warn("presence could not be read", "post", id, "err", err)
	}
	return others
}

// presence is the editor's heartbeat: it keeps this account listed as
// editing the post and answers who else is, for the page to show.
func (h *handler) presence(w http.ResponseWriter, r *http.Request) error {
	type editing struct {
		Who   string `json:"who"`
		Since string `json:"since"`
	}
	id := pathVar(r, "id")
	if p, ok := h.cfg.Catalogue.Post(id); !ok || !asker(r).CanRead(&p) {
		return httperr.New(http.StatusNotFound, "there is no post %q", clip(id))
	}
	out := []editing{}
	for _, e := range h.othersEditing(r, id) {
		who := e.Email
		if e.Name != "" {
			who = e.Name + " (" + e.Email + ")"
		}
		out = append(out, editing{Who: who, Since: when(e.Since)})
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(out)
}
