package admin

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/gorilla/mux"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

type handler struct {
	cfg    Config
	log    *slog.Logger
	err    httperr.Adapter
	pages  map[string]*template.Template
	assets map[string]asset // by name
	// pageAccess is who may open each page (GET route without
	// variables), from routes(): the navigation links only those.
	pageAccess map[string]access
}

// asset is a static file, addressed by a checksummed URL so it can be
// cached forever.
type asset struct {
	data []byte
	url  string
	typ  string
}

func newHandler(cfg Config) *handler {
	h := &handler{cfg: cfg, log: cfg.Logger, assets: map[string]asset{}, pageAccess: map[string]access{}}
	for _, rt := range h.routes() {
		if rt.method == http.MethodGet && !strings.Contains(rt.path, "{") {
			h.pageAccess["/admin"+rt.path] = rt.access
		}
	}
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		panic(err) // embedded at build time
	}
	for _, e := range entries {
		b, _ := staticFS.ReadFile("static/" + e.Name())
		sum := sha256.Sum256(b)
		typ := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}[path.Ext(e.Name())]
		h.assets[e.Name()] = asset{data: b, typ: typ, url: "/admin/static/" + e.Name() + "?v=" + hex.EncodeToString(sum[:6])}
	}
	funcs := template.FuncMap{
		"asset": func(name string) string { return h.assets[name].url },
		"when":  when,
		"label": fieldLabel,
		"short": func(commit string) string { return commit[:min(7, len(commit))] },
		"firstLine": func(s string) string {
			line, _, _ := strings.Cut(s, "\n")
			return line
		},
	}
	layout := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/fields.html"))
	h.pages = map[string]*template.Template{}
	for _, name := range []string{"login", "dashboard", "posts", "editor", "review", "error", "confirm", "media", "media-item", "media-delete",
		"accounts", "account", "password", "tokens", "secret",
		"categories", "category", "category-delete", "settings", "profile",
		"history", "history-compare", "history-revision", "history-restore",
		"commit", "commit-revert", "rollback"} {
		h.pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	// The two logs share their filters (defined in audit.html).
	h.pages["audit"] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, "templates/audit.html"))
	h.pages["security"] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, "templates/audit.html", "templates/security.html"))
	h.err = httperr.Adapter{Log: cfg.Logger, Render: h.renderError}
	return h
}

// page is what every admin template gets.
type page struct {
	Title   string
	Section string // the navigation entry shown as current
	Account auth.Account
	Flash   string
	// FlashLink follows the flash: where to go next about it.
	FlashLink *flashLink
	Form      *form
	Data      any
	may       func(path string) bool
}

// May reports whether the account may open the admin page at path (the
// navigation shows only those).
func (p page) May(path string) bool { return p.may != nil && p.may(path) }

// Can reports whether the account's role has capability c.
func (p page) Can(c policy.Capability) bool { return p.Account.Role.Can(c) }

// render writes a whole page with status.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) error {
	if p.Form == nil {
		p.Form = newForm(nil)
	}
	if a, ok := auth.Principal(r); ok {
		p.Account = a
	}
	p.may = func(path string) bool {
		acc, ok := h.pageAccess[path]
		return ok && p.Account.Email != "" && acc.check(p.Account) == nil
	}
	if p.Flash == "" && h.cfg.Sessions.Exists(r.Context(), flashKey) {
		p.Flash = h.cfg.Sessions.PopString(r.Context(), flashKey)
		if href := h.cfg.Sessions.PopString(r.Context(), flashLinkKey); href != "" {
			p.FlashLink = &flashLink{URL: href, Text: h.cfg.Sessions.PopString(r.Context(), flashLinkTextKey)}
		}
	}
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("render admin page %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

const (
	flashKey         = "flash"
	flashLinkKey     = "flash-link"
	flashLinkTextKey = "flash-link-text"
)

// flashLink is a link shown after a flash message.
type flashLink struct{ URL, Text string }

// flash shows msg on the next page the browser loads.
func (h *handler) flash(r *http.Request, msg string) { h.cfg.Sessions.Put(r.Context(), flashKey, msg) }

// linkFlash follows the flash message with a link.
func (h *handler) linkFlash(r *http.Request, href, text string) {
	h.cfg.Sessions.Put(r.Context(), flashLinkKey, href)
	h.cfg.Sessions.Put(r.Context(), flashLinkTextKey, text)
}

// renderError answers an error as an admin page.
func (h *handler) renderError(w http.ResponseWriter, r *http.Request, e *httperr.Error) {
	title := e.Title
	if e.Status == http.StatusNotFound {
		title = "Not found"
	}
	if err := h.render(w, r, e.Status, "error", page{Title: title, Data: e}); err != nil {
		h.log.Error("render admin error page", "err", err)
	}
}

// static serves the admin's own CSS and JavaScript.
func (h *handler) static(w http.ResponseWriter, r *http.Request) error {
	a, ok := h.assets[pathVar(r, "name")]
	if !ok {
		return httperr.New(http.StatusNotFound, "no such file")
	}
	w.Header().Set("Content-Type", a.typ)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
	return nil
}

// when shows a time (or *time.Time) as an editor reads it, in UTC.
func when(v any) string {
	var t time.Time
	switch v := v.(type) {
	case time.Time:
		t = v
	case *time.Time:
		if v != nil {
			t = *v
		}
	}
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006, 15:04")
}

func pathVar(r *http.Request, name string) string { return mux.Vars(r)[name] }
