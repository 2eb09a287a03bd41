package api

import (
	"net/http"

	"github.com/gorilla/mux"
)

// deleteCategory removes a category that no post uses (409 otherwise).
func (h *Handler) deleteCategory(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	res, err := wr.DeleteCategory(r.Context(), wr.actor, mux.Vars(r)["slug"], wr.match)
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
