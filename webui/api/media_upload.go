package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/repo/lfs"
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
	tmpDir := filepath.Join(mc.Store, "tmp")
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return err
	}
	var tmp, name, alt, caption string
	defer func() {
		if tmp != "" {
			os.Remove(tmp)
		}
	}()
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
			f, err := os.CreateTemp(tmpDir, "upload-*")
			if err != nil {
				return err
			}
			tmp, name = f.Name(), cleanName(part.FileName())
			n, err := io.Copy(f, io.LimitReader(part, mc.MaxBytes+1))
			f.Close()
			if err != nil {
				return uploadReadProblem(err, mc.MaxBytes)
			}
			if n > mc.MaxBytes {
				return httperr.Field(http.StatusRequestEntityTooLarge, "file", "is larger than %d MiB", mc.MaxBytes>>20)
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
	if tmp == "" {
		return httperr.Field(http.StatusUnprocessableEntity, "file", "is required")
	}
	data, err := os.ReadFile(tmp)
	if err != nil {
		return err
	}
	info, err := upload.Inspect(data, mc.Limits)
	switch {
	case errors.Is(err, upload.ErrUnsupported):
		return httperr.Field(http.StatusUnsupportedMediaType, "file", "%s, judging by its bytes", err)
	case err != nil:
		return httperr.Field(http.StatusUnprocessableEntity, "file", "%s", err)
	}
	if err := lfs.Store(mc.Store, info.SHA256, tmp); err != nil {
		return fmt.Errorf("store upload: %w", err)
	}
	tmp = ""
	h.recordFacts(info.SHA256, info.Bytes, info)
	res, m, err := wr.UploadMedia(r.Context(), wr.actor, content.Media{SHA256: info.SHA256, Type: info.Type, Ext: info.Ext,
		Width: info.Width, Height: info.Height, Bytes: info.Bytes, Alt: alt, Caption: caption, OriginalName: name})
	if err != nil {
		return err
	}
	h.afterWrite(w, r, res)
	w.Header().Set("Location", "/api/v1/media/"+m.ID)
	return writeMedia(w, http.StatusCreated, mediaVersion(res, m))
}

func uploadReadProblem(err error, max int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return httperr.Field(http.StatusRequestEntityTooLarge, "file", "is larger than %d MiB", max>>20)
	}
	return httperr.New(http.StatusBadRequest, "malformed multipart body: %s", err)
}

// cleanName keeps a file name's last element, printable, at most 200 runes.
func cleanName(s string) string {
	s = filepath.Base(strings.ReplaceAll(s, "\\\\", "/"))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	if s == "." || s == "/" {
		return ""
	}
	return s
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

func writeMedia(w http.ResponseWriter, status int, m content.Media) error {
	if m.Blob != "" {
		w.Header().Set("ETag", etag(m.Blob))
	}
	return writeJSON(w, status, mediaJSON(m))
}

type mediaOut struct {
	content.Media
	URL string `json:"url"`
}

func mediaJSON(m content.Media) mediaOut {
	return mediaOut{Media: m, URL: "/media/" + m.ID + "/original"}
}

// recordFacts keeps what a stored picture is next to it, so that pushes
// and derivation never read its bytes again. Without it they are read
// once more later: logged, not an error for the upload.
func (h *Handler) recordFacts(oid string, size int64, info upload.Info) {
	facts := lfs.Facts{Size: size, Type: info.Type, Ext: info.Ext, Width: info.Width, Height: info.Height}
	if err := lfs.Record(h.cfg.Media.Store, oid, facts); err != nil {
		h.log.Warn("the facts of an upload could not be recorded; they will be read from its bytes", "oid", oid, "err", err)
	}
}
