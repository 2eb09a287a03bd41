package api

import (
	"net/http"

	"github.com/chronicle-cms/chronicle/events/content"
)

// putProfile replaces the author profile.
func (h *Handler) putProfile(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	var p content.Profile
	if err := h.decodeJSON(w, r, &p); err != nil {
		return err
	}
	res, err := wr.PutProfile(r.Context(), wr.actor, wr.match, p)
	if err != nil {
		return err
	}
	return h.answerSiteWrite(w, r, res, p)
}

// patchProfile changes the profile fields a JSON Merge Patch names; null
// removes one.
func (h *Handler) patchProfile(w http.ResponseWriter, r *http.Request) error {
	wr, patch, err := h.startPatch(w, r)
	if err != nil {
		return err
	}
	var out content.Profile
	res, err := wr.EditProfile(r.Context(), wr.actor, wr.match, func(cur content.Profile) (content.Profile, error) {
		out = content.Profile{}
		err := applyMergePatch(cur, patch, &out)
		return out, err
	})
	if err != nil {
		return err
	}
	return h.answerSiteWrite(w, r, res, out)
}
