package api

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// getMedia returns one media item's metadata.
func (h *Handler) getMedia(w http.ResponseWriter, r *http.Request) error {
	m, ok := h.cfg.Catalogue.Media(mux.Vars(r)["id"])
	if !ok {
		return httperr.New(http.StatusNotFound, "no media %q", params.Clip(mux.Vars(r)["id"]))
	}
	if _, ok := auth.Principal(r); !ok {
		m.UploadedBy = "" // an account's email is not public
	}
	return h.writeMedia(w, http.StatusOK, m)
}

// listMedia pages through uploads, newest first.
func (h *Handler) listMedia(w http.ResponseWriter, r *http.Request) error {
	page, err := params.Int(r, "page", 1, 1_000_000)
	if err != nil {
		return err
	}
	per, err := params.Int(r, "per_page", 20, 100)
	if err != nil {
		return err
	}
	items, total := h.cfg.Catalogue.MediaList(page, per)
	out := []mediaOut{}
	for _, m := range items {
		out = append(out, h.mediaJSON(m))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": out, "page": page, "per_page": per, "total": total,
		"total_pages": (total + per - 1) / per})
}

// mediaText is the editable part of a media item.
type mediaText struct {
	Alt     string `json:"alt"`
	Caption string `json:"caption"`
}

// updateMedia replaces alt text and caption (what the body leaves out
// becomes empty).
func (h *Handler) updateMedia(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	var req mediaText
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	res, m, err := wr.UpdateMedia(r.Context(), wr.actor, mux.Vars(r)["id"], wr.match, req.Alt, req.Caption)
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	return h.writeMedia(w, http.StatusOK, m)
}

// patchMedia changes alt text or caption as a JSON Merge Patch says.
func (h *Handler) patchMedia(w http.ResponseWriter, r *http.Request) error {
	wr, patch, err := h.startPatch(w, r)
	if err != nil {
		return err
	}
	res, m, err := wr.EditMedia(r.Context(), wr.actor, mux.Vars(r)["id"], wr.match, func(cur content.Media) (string, string, error) {
		var req mediaText
		err := applyMergePatch(mediaText{Alt: cur.Alt, Caption: cur.Caption}, patch, &req)
		return req.Alt, req.Caption, err
	})
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	return h.writeMedia(w, http.StatusOK, m)
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
