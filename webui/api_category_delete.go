package webui

import (
	"net/http"

	"github.com/gorilla/mux"
)

// deleteCategory removes a category that no post uses (409 otherwise).
func (h *Handler) deleteCategory(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.writer()
	if err != nil {
		return err
	}
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	a, _ := principal(r)
	res, err := wr.DeleteCategory(r.Context(), actor(a), mux.Vars(r)["slug"], match)
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
