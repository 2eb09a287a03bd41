package webui

import (
	"net/http"

	"github.com/gorilla/mux"
)

// getMedia returns one media item's metadata.
func (h *Handler) getMedia(w http.ResponseWriter, r *http.Request) error {
	m, ok := h.cfg.Catalogue.Media(mux.Vars(r)["id"])
	if !ok {
		return problem(http.StatusNotFound, "no media %q", clip(mux.Vars(r)["id"]))
	}
	return writeMedia(w, http.StatusOK, m)
}

// listMedia pages through uploads, newest first.
func (h *Handler) listMedia(w http.ResponseWriter, r *http.Request) error {
	page, err := intParam(r, "page", 1, 1_000_000)
	if err != nil {
		return err
	}
	per, err := intParam(r, "per_page", 20, 100)
	if err != nil {
		return err
	}
	items, total := h.cfg.Catalogue.MediaList(page, per)
	out := []mediaOut{}
	for _, m := range items {
		out = append(out, mediaJSON(m))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": out, "page": page, "per_page": per, "total": total,
		"total_pages": (total + per - 1) / per})
}

// updateMedia changes alt text and caption.
func (h *Handler) updateMedia(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	var req struct {
		Alt     string `json:"alt"`
		Caption string `json:"caption"`
	}
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	res, m, err := wr.UpdateMedia(r.Context(), wr.actor, mux.Vars(r)["id"], wr.match, req.Alt, req.Caption)
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	return writeMedia(w, http.StatusOK, mediaVersion(res, m))
}

// deleteMedia removes a media item from the site.
func (h *Handler) deleteMedia(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	res, err := wr.DeleteMedia(r.Context(), wr.actor, mux.Vars(r)["id"], wr.match)
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
