package api

import (
	"fmt"
	"net/http"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/webui/httperr"
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
		req.Slug = content.Slugify(req.Name)
	}
	c := content.Category{Slug: req.Slug, Name: req.Name, Description: req.Description}
	if c.Slug == "" {
		// No slug can be made from the name: say so of the name.
		if msg := content.NameProblem(c.Name); msg != "" {
			return httperr.Field(http.StatusUnprocessableEntity, "name", "%s", msg)
		}
	}
	// Checked under the writer's lock: of two creations of one slug, one
	// gets 409, never an overwrite.
	return h.writeCategory(w, r, wr, c.Slug, func(_ content.Category, exists bool) (content.Category, error) {
		if exists {
			return c, &command.ConflictError{Field: "slug", Detail: fmt.Sprintf("category %q exists already: change it with PATCH or PUT /api/v1/categories/%s", c.Slug, c.Slug)}
		}
		return c, nil
	})
}

func (h *Handler) saveCategory(w http.ResponseWriter, r *http.Request, wr write, c content.Category) error {
	return h.writeCategory(w, r, wr, c.Slug, func(content.Category, bool) (content.Category, error) { return c, nil })
}

// writeCategory commits what edit makes of the category at slug and
// answers with it: 201 if it is new.
func (h *Handler) writeCategory(w http.ResponseWriter, r *http.Request, wr write, slug string, edit func(content.Category, bool) (content.Category, error)) error {
	var c content.Category
	res, created, err := wr.EditCategory(r.Context(), wr.actor, slug, wr.match, func(cur content.Category, exists bool) (content.Category, error) {
		var err error
		c, err = edit(cur, exists)
		return c, err
	})
	if err != nil {
		return err
	}
	c.Slug = slug
	h.afterWrite(w, r, res)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/categories/"+c.Slug)
	}
	if res.Version != "" {
		w.Header().Set("ETag", etag(res.Version))
	}
	return writeJSON(w, status, c)
}
