package site

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
)

// siteStatic serves the theme's static files. Their URLs carry a hash of
// the content, so a versioned URL is cached for a year.
func (h *Handler) siteStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := h.cfg.Pages.Asset(mux.Vars(r)["name"])
	if !ok {
		h.notFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ContentType)
	hd.Set("ETag", `"`+a.Hash+`"`)
	if r.URL.Query().Get("v") == a.Hash {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "public, max-age=300")
	}
	if r.Header.Get("If-None-Match") == `"`+a.Hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Length", strconv.Itoa(len(a.Body)))
	if r.Method != http.MethodHead {
		w.Write(a.Body)
	}
}
