package githttp

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

	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/repo/lfs"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
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

// MediaConfig is the media store LFS objects live in, and what an
// upload may be.
type MediaConfig struct {
	Store    string // the LFS store: originals by SHA-256
	MaxBytes int64  // one object
	Limits   upload.Limits
}

// writeLFSError writes e in the Git LFS API's error format, which
// git-lfs shows its user; request_id is the error id of a server fault.
func writeLFSError(w http.ResponseWriter, r *http.Request, e *httperr.Error) {
	body := map[string]string{"message": e.Detail}
	if e.ErrorID != "" {
		body["request_id"] = e.ErrorID
	}
	w.Header().Set("Content-Type", lfsType)
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(body)
}

// lfsBatch answers which objects to download or upload, and where.
func (h *Handler) lfsBatch(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Operation string      `json:"operation"`
		Objects   []lfsObject `json:"objects"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || (req.Operation != "download" && req.Operation != "upload") {
		return httperr.New(http.StatusUnprocessableEntity, "send a batch request with operation download or upload")
	}
	if a, _ := auth.Principal(r); req.Operation == "upload" {
		if err := auth.Permit(a, policy.UploadMedia); err != nil {
			return err
		}
	}
	// Links come from the configured public URL, never from the request's
	// Host: a forged Host would send the client's credentials (the header
	// below) to another server.
	if h.cfg.PublicURL == "" {
		return httperr.Wrap(errors.New("LFS batch: the site's public URL is not configured"), http.StatusInternalServerError, "the server cannot link to its objects")
	}
	base := strings.TrimRight(h.cfg.PublicURL, "/") + "/git/site.git/info/lfs/objects/"
	creds := map[string]string{"Authorization": r.Header.Get("Authorization")}
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
			res.Actions = map[string]lfsAction{"download": {Href: base + o.OID, Header: creds, ExpiresIn: 3600}}
		case !have: // upload what is missing; an object already here needs nothing
			res.Actions = map[string]lfsAction{"upload": {Href: base + o.OID, Header: creds, ExpiresIn: 3600}}
		}
		out = append(out, res)
	}
	w.Header().Set("Content-Type", lfsType)
	return json.NewEncoder(w).Encode(map[string]any{"transfer": "basic", "objects": out})
}

func safeOID(oid string) string {
	if lfsOID.MatchString(oid) {
		return oid
	}
	return "0000000000000000000000000000000000000000000000000000000000000000"
}

// lfsObjectGet sends one object.
func (h *Handler) lfsObjectGet(w http.ResponseWriter, r *http.Request) error {
	f, err := os.Open(lfs.ObjectPath(h.cfg.Media.Store, mux.Vars(r)["oid"]))
	if err != nil {
		return httperr.New(http.StatusNotFound, "no such object")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return httperr.Wrap(fmt.Errorf("LFS object: %w", err), http.StatusInternalServerError, "cannot read the object")
	}
	// Bytes for git-lfs, never a page: a browser must not render them from
	// the site's origin, whatever they are.
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Disposition", "attachment")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", st.ModTime(), f)
	return nil
}

// lfsObjectPut receives one object and keeps it only if its bytes hash to
// its id and are an image the site accepts: LFS holds media only, and the
// site serves them from its own origin.
func (h *Handler) lfsObjectPut(w http.ResponseWriter, r *http.Request) error {
	a, _ := auth.Principal(r)
	oid := mux.Vars(r)["oid"]
	err := h.receiveLFS(r.Body, oid, min(h.cfg.MaxPush, h.cfg.Media.MaxBytes))
	var refused lfsRefusal
	switch {
	case errors.As(err, &refused):
		h.log.Info("LFS upload refused", "account", a.Email, "oid", oid, "err", err)
		return httperr.New(http.StatusUnprocessableEntity, "%s", refused.Error())
	case err != nil:
		return httperr.Wrap(fmt.Errorf("LFS upload by %s of %s: %w", a.Email, oid, err), http.StatusInternalServerError, "the object could not be stored; try again")
	}
	w.WriteHeader(http.StatusOK)
	return nil
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
