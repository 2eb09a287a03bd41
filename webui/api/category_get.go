package api

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// getCategory returns one category. On the writer node, body and ETag
// both come from the head; elsewhere from the catalogue, without an ETag
// (such a node takes no writes).
func (h *Handler) getCategory(w http.ResponseWriter, r *http.Request) error {
	slug := mux.Vars(r)["slug"]
	if h.cfg.Writer != nil {
		c, v, err := h.cfg.Writer.Category(slug)
		if errors.Is(err, command.ErrNotFound) {
			return httperr.New(http.StatusNotFound, "no category %q", params.Clip(slug))
		} else if err != nil {
			return err
		}
		w.Header().Set("ETag", etag(v))
		return writeJSON(w, http.StatusOK, c)
	}
	c, ok := h.cfg.Catalogue.Category(slug)
	if !ok {
		return httperr.New(http.StatusNotFound, "no category %q", params.Clip(slug))
	}
	return writeJSON(w, http.StatusOK, c)
}
