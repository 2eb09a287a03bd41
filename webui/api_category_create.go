package webui

import (
	"net/http"

	"github.com/chronicle-cms/chronicle/events"
)

type categoryRequest struct {
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description"`
}

// createCategory adds a category; its slug defaults to one made from the
// name, and an existing slug is a 409.
func (h *Handler) createCategory(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	var req categoryRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Slug == "" {
		req.Slug = events.Slugify(req.Name)
	}
	if v, err := wr.CategoryVersion(req.Slug); err != nil {
		return err
	} else if v != "" {
		return fieldProblem(http.StatusConflict, "slug", "category %q exists already: change it with PUT /api/v1/categories/%s", req.Slug, req.Slug)
	}
	return h.saveCategory(w, r, wr, events.Category{Slug: req.Slug, Name: req.Name, Description: req.Description})
}

func (h *Handler) saveCategory(w http.ResponseWriter, r *http.Request, wr write, c events.Category) error {
	res, created, err := wr.PutCategory(r.Context(), wr.actor, c, wr.match)
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/categories/"+c.Slug)
	}
	if v, err := wr.CategoryVersion(c.Slug); err == nil && v != "" {
		w.Header().Set("ETag", etag(v))
	}
	return writeJSON(w, status, c)
}
