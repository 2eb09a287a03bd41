package webui

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events"
)

type categoryUpdate struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// putCategory creates or replaces the category at a slug; renaming a
// category changes its name, never its slug.
func (h *Handler) putCategory(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	var req categoryUpdate
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	return h.saveCategory(w, r, wr, events.Category{Slug: mux.Vars(r)["slug"], Name: req.Name, Description: req.Description})
}
