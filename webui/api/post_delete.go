package api

import (
	"net/http"

	"github.com/gorilla/mux"
)

// deletePost removes a post; history keeps it.
func (h *Handler) deletePost(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	res, err := wr.DeletePost(r.Context(), wr.actor, mux.Vars(r)["id"], wr.match)
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
