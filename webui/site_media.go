package webui

import (
	"net/http"
	"os"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events"
)

// siteMedia serves a media item. Variants are built by the media
// projection; until one is, the original answers in its place (never a
// 404 for an item that exists). Content never changes under a URL: cached
// for a year.
func (h *Handler) siteMedia(w http.ResponseWriter, r *http.Request) {
	m, ok := h.cfg.Catalogue.Media(mux.Vars(r)["id"])
	if !ok {
		h.notFound(w, r)
		return
	}
	f, err := os.Open(events.LFSObjectPath(h.cfg.Media.Store, m.SHA256))
	if err != nil {
		h.log.Error("media bytes missing from the store", "id", m.ID, "sha256", m.SHA256, "err", err)
		h.notFound(w, r)
		return
	}
	defer f.Close()
	hd := w.Header()
	hd.Set("Content-Type", m.Type)
	hd.Set("Content-Length", strconv.FormatInt(m.Bytes, 10))
	hd.Set("ETag", `"`+m.SHA256+`"`)
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if r.Header.Get("If-None-Match") == `"`+m.SHA256+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	http.ServeContent(w, r, "", m.UploadedAt, f)
}
