package webui

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/repo/lfs"
)

// The Git LFS API for the site's repository: the batch endpoint and basic
// transfers, over the media store (objects by SHA-256), with the same
// accounts as git. Uploaded objects are verified against their id.

const lfsType = "application/vnd.git-lfs+json"

var lfsOID = regexp.MustCompile(`^[0-9a-f]{64}$`)

type lfsObject struct {
	OID     string               `json:"oid"`
	Size    int64                `json:"size"`
	Actions map[string]lfsAction `json:"actions,omitempty"`
	Error   *lfsObjectError      `json:"error,omitempty"`
}

type lfsObjectError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type lfsAction struct {
	Href      string            `json:"href"`
	Header    map[string]string `json:"header,omitempty"`
	ExpiresIn int               `json:"expires_in,omitempty"`
}

func lfsError(w http.ResponseWriter, status int, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="Chronicle git", charset="UTF-8"`)
		w.Header().Set("LFS-Authenticate", `Basic realm="Chronicle git"`)
	}
	w.Header().Set("Content-Type", lfsType)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// lfsBatch answers which objects to download or upload, and where.
func (h *Handler) lfsBatch(w http.ResponseWriter, r *http.Request) {
	if _, err := h.gitAuth(r); err != nil {
		lfsError(w, http.StatusUnauthorized, err.Error())
		return
	}
	var req struct {
		Operation string      `json:"operation"`
		Objects   []lfsObject `json:"objects"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || (req.Operation != "download" && req.Operation != "upload") {
		lfsError(w, http.StatusUnprocessableEntity, "send a batch request with operation download or upload")
		return
	}
	// Links come from the configured public URL, never from the request's
	// Host: a forged Host would send the client's credentials (the header
	// below) to another server.
	if h.cfg.Git.PublicURL == "" {
		h.log.Error("LFS batch: the site's public URL is not configured")
		lfsError(w, http.StatusInternalServerError, "the server cannot link to its objects")
		return
	}
	base := strings.TrimRight(h.cfg.Git.PublicURL, "/") + "/git/site.git/info/lfs/objects/"
	auth := map[string]string{"Authorization": r.Header.Get("Authorization")}
	out := make([]lfsObject, 0, len(req.Objects))
	for _, o := range req.Objects {
		res := lfsObject{OID: o.OID, Size: o.Size}
		st, err := os.Stat(lfs.ObjectPath(h.cfg.Media.Store, safeOID(o.OID)))
		have := err == nil && st.Size() == o.Size
		switch {
		case !lfsOID.MatchString(o.OID) || o.Size < 0:
			res.Error = &lfsObjectError{422, "not a SHA-256 object id and size"}
		case req.Operation == "download" && !have:
			res.Error = &lfsObjectError{404, "no such object"}
		case req.Operation == "download":
			res.Actions = map[string]lfsAction{"download": {Href: base + o.OID, Header: auth, ExpiresIn: 3600}}
		case !have: // upload what is missing; an object already here needs nothing
			res.Actions = map[string]lfsAction{"upload": {Href: base + o.OID, Header: auth, ExpiresIn: 3600}}
		}
		out = append(out, res)
	}
	w.Header().Set("Content-Type", lfsType)
	json.NewEncoder(w).Encode(map[string]any{"transfer": "basic", "objects": out})
}

func safeOID(oid string) string {
	if lfsOID.MatchString(oid) {
		return oid
	}
	return "0000000000000000000000000000000000000000000000000000000000000000"
}

// lfsObjectGet sends one object.
func (h *Handler) lfsObjectGet(w http.ResponseWriter, r *http.Request) {
	if _, err := h.gitAuth(r); err != nil {
		lfsError(w, http.StatusUnauthorized, err.Error())
		return
	}
	f, err := os.Open(lfs.ObjectPath(h.cfg.Media.Store, mux.Vars(r)["oid"]))
	if err != nil {
		lfsError(w, http.StatusNotFound, "no such object")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		lfsError(w, http.StatusInternalServerError, "cannot read the object")
		return
	}
	// Bytes for git-lfs, never a page: a browser must not render them from
	// the site's origin, whatever they are.
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Disposition", "attachment")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// lfsObjectPut receives one object and keeps it only if its bytes hash to
// its id and are an image the site accepts: LFS holds media only, and the
// site serves them from its own origin.
func (h *Handler) lfsObjectPut(w http.ResponseWriter, r *http.Request) {
	a, err := h.gitAuth(r)
	if err != nil {
		lfsError(w, http.StatusUnauthorized, err.Error())
		return
	}
	oid := mux.Vars(r)["oid"]
	err = h.receiveLFS(r.Body, oid, min(h.cfg.Git.MaxPush, h.cfg.Media.MaxBytes))
	var refused lfsRefusal
	switch {
	case errors.As(err, &refused):
		h.log.Info("LFS upload refused", "account", a.Email, "oid", oid, "err", err)
		lfsError(w, http.StatusUnprocessableEntity, refused.Error())
		return
	case err != nil:
		h.log.Error("LFS upload failed", "account", a.Email, "oid", oid, "err", err)
		lfsError(w, http.StatusInternalServerError, "the object could not be stored; try again")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// lfsRefusal is an upload the client must change: its message is for them.
type lfsRefusal string

func (e lfsRefusal) Error() string { return string(e) }

func (h *Handler) receiveLFS(body io.Reader, oid string, max int64) error {
	dir := filepath.Join(h.cfg.Media.Store, "tmp")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("LFS temporary folder: %w", err)
	}
	f, err := os.CreateTemp(dir, "lfs-*")
	if err != nil {
		return fmt.Errorf("LFS temporary file: %w", err)
	}
	defer os.Remove(f.Name())
	hash := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, hash), io.LimitReader(body, max+1))
	f.Close()
	switch {
	case err != nil:
		return lfsRefusal("the upload broke off: send it again")
	case n > max:
		return lfsRefusal(fmt.Sprintf("objects may be at most %d MiB", max>>20))
	case hex.EncodeToString(hash.Sum(nil)) != oid:
		return lfsRefusal("the bytes do not hash to the object id")
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		return fmt.Errorf("read the LFS upload back: %w", err)
	}
	info, err := upload.Inspect(data, h.cfg.Media.Limits)
	if err != nil {
		return lfsRefusal(fmt.Sprintf("media must be images: %v (only JPEG, PNG, WebP, GIF, AVIF and HEIF are stored)", err))
	}
	if err := lfs.Store(h.cfg.Media.Store, oid, f.Name()); err != nil {
		return err
	}
	h.recordFacts(oid, n, info)
	return nil
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
