// Package api is the JSON API under /api/v1, described by openapi.yaml
// (served as /api/v1/openapi.json). Mount routes it on a subrouter with
// its own middleware: every route passes the shared authentication's
// guard for its access level, and handlers return errors that the one
// adapter (httperr) answers as problem+json.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/projections/media"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// Catalogue is the read model the API serves.
type Catalogue interface {
	Post(id string) (content.Post, bool)
	Posts(q catalogue.Query) ([]content.Post, int)
	Categories() []content.Category
	Category(slug string) (content.Category, bool)
	Tags() []catalogue.Tag
	TagsVisible(visible func(*content.Post) bool) []catalogue.Tag
	Settings() content.Settings
	Profile() content.Profile
	Media(id string) (content.Media, bool)
	MediaList(page, perPage int) ([]content.Media, int)
}

// Writer commits editors' changes.
type Writer interface {
	CreatePost(ctx context.Context, a command.Actor, in command.PostInput) (command.Written, error)
	UpdatePost(ctx context.Context, a command.Actor, id, ifMatch string, in command.PostInput) (command.Written, error)
	DeletePost(ctx context.Context, a command.Actor, id, ifMatch string) (command.Written, error)
	PutCategory(ctx context.Context, a command.Actor, c content.Category, ifMatch string) (command.Written, bool, error)
	DeleteCategory(ctx context.Context, a command.Actor, slug, ifMatch string) (command.Written, error)
	CategoryVersion(slug string) (string, error)
	PutSettings(ctx context.Context, a command.Actor, ifMatch string, s content.Settings) (command.Written, error)
	PutProfile(ctx context.Context, a command.Actor, ifMatch string, p content.Profile) (command.Written, error)
	UploadMedia(ctx context.Context, a command.Actor, m content.Media) (command.Written, content.Media, error)
	UpdateMedia(ctx context.Context, a command.Actor, id, ifMatch, alt, caption string) (command.Written, content.Media, error)
	DeleteMedia(ctx context.Context, a command.Actor, id, ifMatch string) (command.Written, error)

	// The Edit methods apply edit to the current state under the writer's
	// lock (PATCH: a merge that never undoes a concurrent write).
	EditPost(ctx context.Context, a command.Actor, id, ifMatch string, edit func(cur content.Post) (command.PostInput, error)) (command.Written, error)
	EditCategory(ctx context.Context, a command.Actor, slug, ifMatch string, edit func(cur content.Category, exists bool) (content.Category, error)) (command.Written, bool, error)
	EditSettings(ctx context.Context, a command.Actor, ifMatch string, edit func(cur content.Settings) (content.Settings, error)) (command.Written, error)
	EditProfile(ctx context.Context, a command.Actor, ifMatch string, edit func(cur content.Profile) (content.Profile, error)) (command.Written, error)
	EditMedia(ctx context.Context, a command.Actor, id, ifMatch string, edit func(cur content.Media) (alt, caption string, err error)) (command.Written, content.Media, error)
	// Category, Settings and Profile read the head: body and version
	// (ETag) from one source.
	Category(slug string) (content.Category, string, error)
	Settings() (content.Settings, string, error)
	Profile() (content.Profile, string, error)

	// Undoing: a commit, or the whole site back to a revision.
	Revert(ctx context.Context, a command.Actor, h repo.Hash) (command.Written, error)
	PlanRollback(to repo.Hash) (command.RollbackPlan, error)
	Rollback(ctx context.Context, a command.Actor, to repo.Hash) (command.Written, command.RollbackPlan, error)
	CommitAt(t time.Time) (repo.Hash, error)
}

// Waiter tells when projections have applied a write.
type Waiter interface {
	WaitFor(ctx context.Context, c events.Cursor) error
}

// MediaConfig bounds uploads. Its zero values are not defaults:
// webui.New fills them in.
type MediaConfig struct {
	Store    string        // the LFS store: originals by SHA-256
	MaxBytes int64         // one upload
	Limits   upload.Limits // pixels
	Variants Variants      // built variants, listed with each item; nil: none listed
}

// Variants lists the variants built for an original, narrowest first.
type Variants interface {
	List(sha256 string) []media.Variant
}

// Config is what the API needs. Only Catalogue, Auth and Logger are
// required; the others are nil where the node does not offer them.
type Config struct {
	Catalogue Catalogue
	Search    params.Searcher
	Writer    Writer         // nil on a read-only node
	Revisions Revisions      // nil where no history is kept
	Commits   Commits        // nil on a read-only node
	Audit     Audit          // the audit log (GET /events); nil: 503
	Security  SecurityEvents // the security log (GET /security-events); nil: 503
	Media     *MediaConfig   // nil: no media
	Waiter    Waiter
	Auth      *auth.Authenticator
	MaxBody   int64 // bytes of a JSON request body
	Logger    *slog.Logger
}

// Handler holds the dependencies of every API handler.
type Handler struct {
	cfg Config
	log *slog.Logger
	err httperr.Adapter
}

type apiFunc = httperr.HandlerFunc

// decodeJSON reads a JSON request body into v strictly: the right content
// type, a size limit, no unknown fields, nothing after the object.
func (h *Handler) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return httperr.New(http.StatusUnsupportedMediaType, "send the body as application/json")
	}
	if r.ContentLength > h.cfg.MaxBody {
		// Refused on its declared length, before a byte is read.
		return jsonProblem(&http.MaxBytesError{Limit: h.cfg.MaxBody}, h.cfg.MaxBody)
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err, h.cfg.MaxBody)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if mbe := new(http.MaxBytesError); errors.As(err, &mbe) {
			return jsonProblem(err, h.cfg.MaxBody)
		}
		return httperr.New(http.StatusBadRequest, "malformed JSON: unexpected data after the object")
	}
	return nil
}

func jsonProblem(err error, limit int64) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return httperr.New(http.StatusRequestEntityTooLarge, "the request body is larger than %d bytes", limit)
	case errors.Is(err, io.EOF):
		return httperr.New(http.StatusBadRequest, "the request body is empty: send a JSON object")
	case errors.As(err, &syn):
		return httperr.New(http.StatusBadRequest, "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return httperr.New(http.StatusBadRequest, "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return httperr.New(http.StatusBadRequest, "the body must be a JSON object")
		}
		return httperr.Field(http.StatusBadRequest, field, "must be %s, not a JSON %s", jsonType(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return httperr.Field(http.StatusBadRequest, field, "unknown field")
	}
	return httperr.New(http.StatusBadRequest, "malformed JSON: %s", err)
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	case "ptr":
		return "a string"
	}
	return "a number"
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}

// etag quotes a version for the ETag header.
func etag(v string) string { return `"` + v + `"` }

// ifMatch returns the version a client expects, "" when it sent none,
// "*" for any existing version (the writer applies it).
func ifMatch(r *http.Request) (string, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return v, nil
	}
	if strings.HasPrefix(v, "W/") {
		return "", httperr.New(http.StatusBadRequest, "If-Match needs a strong ETag, as sent in the ETag header")
	}
	if strings.Contains(v, ",") {
		return "", httperr.New(http.StatusBadRequest, "If-Match takes exactly one ETag")
	}
	return strings.Trim(v, `"`), nil
}

// preferWait reads "Prefer: wait=N" (RFC 7240), capped at 30 seconds.
func preferWait(r *http.Request) time.Duration { return PreferWait(r.Header) }

// afterWrite tells where the write is in the log (CursorHeader) and
// waits, if the client asked, until the projections applied it, saying so
// with Preference-Applied.
func (h *Handler) afterWrite(w http.ResponseWriter, r *http.Request, res command.Written) {
	w.Header().Set(CursorHeader, FormatCursor(res.Cursor))
	d := preferWait(r)
	if d == 0 || h.cfg.Waiter == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	if err := h.cfg.Waiter.WaitFor(ctx, res.Cursor); err == nil {
		w.Header().Set("Preference-Applied", fmt.Sprintf("wait=%d", int(d.Seconds())))
	}
}

// write is what every write handler starts from: the writer, who acts and
// the version the client based its change on (If-Match, "" if none).
type write struct {
	Writer
	actor command.Actor
	match string
}

// startWrite checks the node takes writes and reads If-Match.
func (h *Handler) startWrite(r *http.Request) (write, error) {
	if h.cfg.Writer == nil {
		return write{}, httperr.New(http.StatusServiceUnavailable, "this node is read-only: send writes to the writer node")
	}
	match, err := ifMatch(r)
	if err != nil {
		return write{}, err
	}
	a, _ := auth.Principal(r)
	return write{Writer: h.cfg.Writer, actor: actor(a), match: match}, nil
}

// actor is who a write is made by, in the log.
func actor(a auth.Account) command.Actor {
	return command.Actor{Name: a.Name, Email: a.Email, Role: a.Role}
}

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
