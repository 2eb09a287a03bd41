package api

import (
	"net/http"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
)

// putSettings replaces the site settings (admin only): what the body
// leaves out goes back to its default.
func (h *Handler) putSettings(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	s := content.DefaultSettings()
	if err := h.decodeJSON(w, r, &s); err != nil {
		return err
	}
	res, err := wr.PutSettings(r.Context(), wr.actor, wr.match, s)
	if err != nil {
		return err
	}
	return h.answerSiteWrite(w, r, res, s)
}

// patchSettings changes the settings a JSON Merge Patch names (admin
// only); null puts one back to its default.
func (h *Handler) patchSettings(w http.ResponseWriter, r *http.Request) error {
	wr, patch, err := h.startPatch(w, r)
	if err != nil {
		return err
	}
	var out content.Settings
	res, err := wr.EditSettings(r.Context(), wr.actor, wr.match, func(cur content.Settings) (content.Settings, error) {
		out = content.DefaultSettings()
		err := applyMergePatch(cur, patch, &out)
		return out, err
	})
	if err != nil {
		return err
	}
	return h.answerSiteWrite(w, r, res, out)
}

// answerSiteWrite answers a write of settings or profile with the state
// written and its version.
func (h *Handler) answerSiteWrite(w http.ResponseWriter, r *http.Request, res command.Written, v any) error {
	h.afterWrite(w, r, res)
	if res.Version != "" {
		w.Header().Set("ETag", etag(res.Version))
	}
	return writeJSON(w, http.StatusOK, v)
}
