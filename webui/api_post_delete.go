package webui

import (
	"net/http"

	"github.com/gorilla/mux"
)

// deletePost removes a post; history keeps it.
func (h *Handler) deletePost(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.writer()
	if err != nil {
		return err
	}
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	a, _ := principal(r)
	res, err := wr.DeletePost(r.Context(), actor(a), mux.Vars(r)["id"], match)
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
