// Package webui is Chronicle's HTTP layer: the JSON API under /api/v1 and
// the operational endpoints, all routed in routes.go. Handlers return
// errors; one adapter turns them into problem+json responses, logging
// server faults once with an id the client also sees.
package webui

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/projections/search"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// Catalogue is the read model the API serves.
type Catalogue interface {
	Post(id string) (content.Post, bool)
	Posts(q catalogue.Query) ([]content.Post, int)
	Categories() []content.Category
	Category(slug string) (content.Category, bool)
	Tags() []catalogue.Tag
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
}

// SitePages is the public site's read model.
type SitePages interface {
	Lookup(path string) *pages.Page
	Cached(path string) *pages.Page
	NotFound() *pages.Page
	RenderSearch(s *pages.SearchView) *pages.Page
	Asset(name string) (pages.Asset, bool)
	CategoryName(slug string) string
	TagName(slug string) string
	Settings() content.Settings
}

// Searcher runs searches.
type Searcher interface {
	Search(q search.Query) (search.Result, error)
}

// History reads the event log.
type History interface {
	Recent(limit int) ([]events.Event, error)
}

// Waiter tells when projections have applied a write.
type Waiter interface {
	WaitFor(ctx context.Context, c events.Cursor) error
}

// Config is what the web layer needs.
type Config struct {
	Catalogue Catalogue
	Pages     SitePages
	Search    Searcher
	Writer    Writer     // nil on a read-only node
	Git       *GitConfig // nil: no git over HTTP (a read-only node)
	History   History    // nil on a read-only node
	Media     *MediaConfig
	Waiter    Waiter
	Accounts  *auth.Store
	Tokens    *auth.Tokens
	Ready     func() error // nil when ready, else why not
	Metrics   MetricsConfig
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for sign-in budgets); none by default.
	TrustedProxies []netip.Prefix
	Registry       *prometheus.Registry
	Logger         *slog.Logger
	MaxBody        int64 // bytes of a JSON request body; default 1 MiB
	// LoginEvery and LoginBurst limit login attempts per address and per
	// account; defaults one every 6s after a burst of 10.
	LoginEvery time.Duration
	LoginBurst int
}

// Handler holds the dependencies of every handler.
type Handler struct {
	cfg     Config
	log     *slog.Logger
	signIns *auth.SignIns // sign-in attempts: API, git and LFS
	httpDur *prometheus.HistogramVec
	creds   gitCreds
	gitPath string // absolute: net/http/cgi does not search PATH
}

type apiFunc func(w http.ResponseWriter, r *http.Request) error

// api adapts a handler that returns errors.
func (h *Handler) api(fn apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		var p *Problem
		switch {
		case errors.As(err, &p):
		case errors.As(err, new(*content.ValidationError)):
			var ve *content.ValidationError
			errors.As(err, &ve)
			p = problem(http.StatusUnprocessableEntity, "%s", ve.Error())
			p.Errors = ve.Errors
		case errors.As(err, new(*command.ConflictError)):
			var ce *command.ConflictError
			errors.As(err, &ce)
			p = fieldProblem(http.StatusConflict, ce.Field, "%s", ce.Detail)
		case errors.Is(err, command.ErrStale):
			p = problem(http.StatusPreconditionFailed, "%s: fetch it again, reapply your change and send the new ETag in If-Match", command.ErrStale)
		case errors.Is(err, command.ErrNotFound):
			p = problem(http.StatusNotFound, "%s", err)
		case errors.Is(err, context.Canceled), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET):
			return // the client went away
		case started(w):
			// The answer is under way: too late for a problem document.
			h.log.Error("request failed after its response started", "method", r.Method, "path", r.URL.Path, "err", err)
			return
		default:
			id := errorID()
			h.log.Error("request failed", "error_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
			p = problem(http.StatusInternalServerError, "the server failed to handle this request; quote error id %s when reporting it", id)
			p.ErrorID = id
		}
		if p.Instance == "" {
			p.Instance = r.URL.Path
		}
		writeProblem(w, p)
	})
}

// started reports whether w's response has begun (seen by the observe
// middleware's writer, which every routed request goes through).
func started(w http.ResponseWriter) bool {
	sw, ok := w.(*statusWriter)
	return ok && sw.status != 0
}

func errorID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// decodeJSON reads a JSON request body into v strictly: the right content
// type, a size limit, no unknown fields, nothing after the object.
func (h *Handler) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return problem(http.StatusUnsupportedMediaType, "send the body as application/json")
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
		return problem(http.StatusBadRequest, "malformed JSON: unexpected data after the object")
	}
	return nil
}

func jsonProblem(err error, limit int64) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return problem(http.StatusRequestEntityTooLarge, "the request body is larger than %d bytes", limit)
	case errors.Is(err, io.EOF):
		return problem(http.StatusBadRequest, "the request body is empty: send a JSON object")
	case errors.As(err, &syn):
		return problem(http.StatusBadRequest, "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem(http.StatusBadRequest, "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return problem(http.StatusBadRequest, "the body must be a JSON object")
		}
		return fieldProblem(http.StatusBadRequest, field, "must be %s, not a JSON %s", jsonType(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldProblem(http.StatusBadRequest, field, "unknown field")
	}
	return problem(http.StatusBadRequest, "malformed JSON: %s", err)
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
		return "", problem(http.StatusBadRequest, "If-Match needs a strong ETag, as sent in the ETag header")
	}
	if strings.Contains(v, ",") {
		return "", problem(http.StatusBadRequest, "If-Match takes exactly one ETag")
	}
	return strings.Trim(v, `"`), nil
}

// preferWait reads "Prefer: wait=N" (RFC 7240), capped at 30 seconds.
func preferWait(r *http.Request) time.Duration {
	for _, pref := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(pref, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && strings.EqualFold(k, "wait") {
				if n, err := strconv.Atoi(strings.Trim(v, `"`)); err == nil && n > 0 {
					return time.Duration(min(n, 30)) * time.Second
				}
			}
		}
	}
	return 0
}

// afterWrite waits, if the client asked, until the projections applied the
// write, and says so with Preference-Applied.
func (h *Handler) afterWrite(w http.ResponseWriter, r *http.Request, res command.Written) {
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
		return write{}, problem(http.StatusServiceUnavailable, "this node is read-only: send writes to the writer node")
	}
	match, err := ifMatch(r)
	if err != nil {
		return write{}, err
	}
	a, _ := principal(r)
	return write{Writer: h.cfg.Writer, actor: actor(a), match: match}, nil
}

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
