package api

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// uploadMedia takes a multipart upload (field file, optional alt and
// caption), checks the image by its bytes, stores it by its SHA-256 and
// commits its metadata and LFS pointer.
func (h *Handler) uploadMedia(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	mc := h.cfg.Media
	if r.ContentLength > mc.MaxBytes+1<<20 {
		// Refused on its declared length, before a byte is read.
		return httperr.Field(http.StatusRequestEntityTooLarge, "file", "is larger than %d MiB", mc.MaxBytes>>20)
	}
	r.Body = http.MaxBytesReader(w, r.Body, mc.MaxBytes+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return httperr.New(http.StatusUnsupportedMediaType, "send the image as multipart/form-data, in a field named file")
	}
	store := upload.Store{Dir: mc.Store, MaxBytes: mc.MaxBytes, Limits: mc.Limits, Log: h.log}
	var file *upload.Spooled
	var name, alt, caption string
	defer func() { file.Discard() }() // the file spooled last, unless kept
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return uploadReadProblem(err, mc.MaxBytes)
		}
		switch part.FormName() {
		case "file":
			file.Discard() // a second file part replaces the first
			name = upload.CleanName(part.FileName())
			if file, err = store.Spool(part); err != nil {
				return uploadReadProblem(err, mc.MaxBytes)
			}
		case "alt", "caption":
			b, err := io.ReadAll(io.LimitReader(part, 8<<10))
			if err != nil {
				return uploadReadProblem(err, mc.MaxBytes)
			}
			if part.FormName() == "alt" {
				alt = string(b)
			} else {
				caption = string(b)
			}
		default:
			return httperr.Field(http.StatusBadRequest, part.FormName(), "unknown field: send file, alt and caption")
		}
	}
	if file == nil {
		return httperr.Field(http.StatusUnprocessableEntity, "file", "is required")
	}
	info, err := file.Keep()
	switch {
	case errors.Is(err, upload.ErrUnsupported):
		return httperr.Field(http.StatusUnsupportedMediaType, "file", "%s, judging by its bytes", err)
	case upload.Refused(err):
		return httperr.Field(http.StatusUnprocessableEntity, "file", "%s", err)
	case err != nil:
		return err
	}
	res, m, err := wr.UploadMedia(r.Context(), wr.actor, content.Media{SHA256: info.SHA256, Type: info.Type, Ext: info.Ext,
		Width: info.Width, Height: info.Height, Bytes: info.Bytes, Alt: alt, Caption: caption, OriginalName: name})
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	w.Header().Set("Location", "/api/v1/media/"+m.ID)
	return h.writeMedia(w, http.StatusCreated, mediaVersion(res, m))
}

func uploadReadProblem(err error, max int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || errors.Is(err, upload.ErrOverLimit) {
		return httperr.Field(http.StatusRequestEntityTooLarge, "file", "is larger than %d MiB", max>>20)
	}
	return httperr.New(http.StatusBadRequest, "malformed multipart body: %s", err)
}

// mediaVersion fills in the version (the metadata file's blob) from the
// write's events.
func mediaVersion(res command.Written, m content.Media) content.Media {
	for _, e := range res.Events {
		var d events.MediaData
		if jsonDecode(e.Data, &d) == nil && d.Media.ID == m.ID {
			return d.Media
		}
	}
	return m
}

func (h *Handler) writeMedia(w http.ResponseWriter, status int, m content.Media) error {
	if m.Blob != "" {
		w.Header().Set("ETag", etag(m.Blob))
	}
	return writeJSON(w, status, h.mediaJSON(m))
}

type mediaOut struct {
	content.Media
	URL      string       `json:"url"`
	Variants []variantOut `json:"variants"`
}

// variantOut is one built variant, as WordPress's media_details.sizes
// gives them: what a client needs to choose one without guessing.
type variantOut struct {
	Name   string `json:"name"` // w640: the width asked for
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Format string `json:"format"` // jpg, png, webp, avif
	Type   string `json:"type"`
	URL    string `json:"url"`
}

var variantTypes = map[string]string{"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "avif": "image/avif"}

// mediaJSON is an item as the API shows it, with the variants built so
// far (none until the fast formats are at every width: the original
// serves meanwhile; AVIF joins them later).
func (h *Handler) mediaJSON(m content.Media) mediaOut {
	out := mediaBase(m)
	if h.cfg.Media == nil || h.cfg.Media.Variants == nil {
		return out
	}
	for _, v := range h.cfg.Media.Variants.List(m.SHA256) {
		name, _, _ := strings.Cut(v.File, ".")
		out.Variants = append(out.Variants, variantOut{Name: name, Width: v.Width, Height: v.Height, Format: v.Format,
			Type: variantTypes[v.Format], URL: "/media/" + m.ID + "/" + v.File})
	}
	return out
}

// mediaBase is an item without its variants.
func mediaBase(m content.Media) mediaOut {
	return mediaOut{Media: m, URL: "/media/" + m.ID + "/original", Variants: []variantOut{}}
}
