package site

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/projections/media"
)

// siteMedia serves a media item. Variants are built by the media
// projection; until one is, the original answers in its place (never a
// 404 for an item that exists). Content never changes under a URL once
// the set is whole: cached for a year from then on, a minute before.
func (h *Handler) siteMedia(w http.ResponseWriter, r *http.Request) {
	m, ok := h.cfg.Media.Catalog.Media(mux.Vars(r)["id"])
	if !ok {
		h.notFound(w, r)
		return
	}
	path, ctype := "", m.Type
	if !imageTypes[ctype] {
		// The metadata's type is what the bytes are served as, from the
		// site's own origin: only ever an image type (never text/html or a
		// script), whatever older history holds.
		h.log.Error("media with a type that is not an image; not served", "id", m.ID, "type", m.Type)
		h.notFound(w, r)
		return
	}
	variant := mux.Vars(r)["variant"]
	// A variant's URL answers for good only once the set is whole: before
	// that, the original or another format stands in, which a proxy must
	// not keep for a year.
	// Until then a variant narrower than the one asked for does not stand
	// in (the original does), and the width asked for is made next.
	final := true
	if variant != "original" && h.cfg.Media.Variants != nil {
		final = h.cfg.Media.Variants.Complete(m.SHA256)
		v, ok := pickVariant(h.cfg.Media.Variants.List(m.SHA256), variant, r.Header.Get("Accept"), m.Type)
		asked := variantWidth(variant)
		if ok && (final || v.Width >= asked) {
			path, ctype = v.Path, variantTypes[v.Format]
		} else if !final {
			h.cfg.Media.Variants.Want(m.SHA256, asked)
		}
		if !strings.Contains(variant, ".") {
			w.Header().Set("Vary", "Accept")
		}
	}
	var err error
	if path == "" {
		// On a read node the original may first come from the writer's
		// Object Store.
		if path, err = h.originals.Path(r.Context(), m.SHA256); err != nil {
			h.log.Error("media original unavailable", "id", m.ID, "sha256", m.SHA256, "err", err)
			if errors.Is(err, fs.ErrNotExist) {
				h.notFound(w, r)
				return
			}
			// Not fetched (NATS away, a timeout): a passing failure, not
			// an answer for caches to keep.
			w.Header().Set("Retry-After", "5")
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "503 Service Unavailable: this picture cannot be read just now", http.StatusServiceUnavailable)
			return
		}
	}
	f, err := os.Open(path)
	if err != nil {
		h.log.Error("media bytes missing from the store", "id", m.ID, "sha256", m.SHA256, "err", err)
		h.notFound(w, r)
		return
	}
	defer f.Close()
	hd := w.Header()
	st, err := f.Stat()
	if err != nil {
		h.notFound(w, r)
		return
	}
	tag := `"` + m.SHA256[:16] + "-" + strconv.FormatInt(st.Size(), 36) + `"`
	hd.Set("Content-Type", ctype)
	hd.Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	hd.Set("ETag", tag)
	if final {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "public, max-age=60")
	}
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if r.Header.Get("If-None-Match") == tag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	http.ServeContent(w, r, "", m.UploadedAt, f)
}

// imageTypes are the types an original may be served as: those the
// upload's inspection reads from the bytes.
var imageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/avif": true, "image/heif": true}

var variantTypes = map[string]string{"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}

// pickVariant chooses the file for a variant name: "w640.webp" asks for
// that file, "w640" for the best format the browser accepts. When the
// width is not built (yet, or because the image is narrower), the nearest
// wider one serves, else the widest; no match at all means the original.
func pickVariant(built []media.Variant, name, accept, origType string) (media.Variant, bool) {
	width, format := variantWidth(name), ""
	if width == 0 {
		return media.Variant{}, false
	}
	_, ext, hasExt := strings.Cut(name, ".")
	if hasExt {
		format = ext
	} else {
		format = "jpg"
		if origType == "image/png" || origType == "image/gif" {
			format = "png"
		}
		switch {
		case strings.Contains(accept, "image/avif") && has(built, "avif"):
			format = "avif"
		case strings.Contains(accept, "image/webp") && has(built, "webp"):
			format = "webp"
		}
	}
	var best media.Variant
	found := false
	for _, v := range built { // narrowest first
		if v.Format != format {
			continue
		}
		if !found || best.Width < width {
			best, found = v, true
		}
		if v.Width >= width {
			break
		}
	}
	return best, found
}

// variantWidth is the width a variant name asks for ("w640.webp": 640);
// 0 if it names none.
func variantWidth(name string) int {
	stem, _, _ := strings.Cut(strings.TrimPrefix(name, "w"), ".")
	if n, err := strconv.Atoi(stem); err == nil && n > 0 && strings.HasPrefix(name, "w") {
		return n
	}
	return 0
}

func has(built []media.Variant, format string) bool {
	for _, v := range built {
		if v.Format == format {
			return true
		}
	}
	return false
}
