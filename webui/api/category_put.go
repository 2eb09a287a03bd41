package api

import (
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/webui/params"
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
	return h.saveCategory(w, r, wr, content.Category{Slug: mux.Vars(r)["slug"], Name: req.Name, Description: req.Description})
}

// patchCategory changes the fields a JSON Merge Patch names of an
// existing category, applied by the writer to its current state.
func (h *Handler) patchCategory(w http.ResponseWriter, r *http.Request) error {
	wr, patch, err := h.startPatch(w, r)
	if err != nil {
		return err
	}
	slug := mux.Vars(r)["slug"]
	return h.writeCategory(w, r, wr, slug, func(cur content.Category, exists bool) (content.Category, error) {
		if !exists {
			return cur, fmt.Errorf("category %s: %w (create it with POST /api/v1/categories or PUT)", params.Clip(slug), command.ErrNotFound)
		}
		var req categoryUpdate
		if err := applyMergePatch(categoryUpdate{Name: cur.Name, Description: cur.Description}, patch, &req); err != nil {
			return cur, err
		}
		return content.Category{Slug: slug, Name: req.Name, Description: req.Description}, nil
	})
}
