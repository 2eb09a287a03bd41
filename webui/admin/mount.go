// Package admin is the web admin at /admin/: server-rendered pages whose
// forms work without JavaScript (a small script previews, counts and
// saves on Ctrl/⌘-S when it runs). Every change goes through the same
// writer and validation as the API's, so it is the same event and
// commit. Browser sessions (scs) carry the account; every state-changing
// request passes the standard library's cross-origin protection.
package admin

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/repo/autosave"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/oidc"
	"github.com/chronicle-cms/chronicle/webui/session"
)

// Catalogue is the read model the admin lists and opens content from.
type Catalogue interface {
	Post(id string) (content.Post, bool)
	Posts(q catalogue.Query) ([]content.Post, int)
	Categories() []content.Category
	Category(slug string) (content.Category, bool)
	Tags() []catalogue.Tag
	TagsVisible(visible func(*content.Post) bool) []catalogue.Tag
	Media(id string) (content.Media, bool)
	MediaList(page, perPage int) ([]content.Media, int)
}

// Writer commits what editors save.
type Writer interface {
	CreatePost(ctx context.Context, a command.Actor, in command.PostInput) (command.Written, error)
	EditPost(ctx context.Context, a command.Actor, id, ifMatch string, edit func(cur content.Post) (command.PostInput, error)) (command.Written, error)
	DeletePost(ctx context.Context, a command.Actor, id, ifMatch string) (command.Written, error)
	// RestorePost brings post id back as old, its state at revision rev,
	// undeleting it if it was deleted (ifMatch is needed unless it was).
	RestorePost(ctx context.Context, a command.Actor, id, ifMatch, rev string, old content.Post) (command.Written, error)
	PutCategory(ctx context.Context, a command.Actor, c content.Category, ifMatch string) (command.Written, bool, error)
	// EditCategory applies edit to the category's current state under
	// the writer's lock: a creation refuses a slug in use, never
	// overwrites it.
	EditCategory(ctx context.Context, a command.Actor, slug, ifMatch string, edit func(cur content.Category, exists bool) (content.Category, error)) (command.Written, bool, error)
	DeleteCategory(ctx context.Context, a command.Actor, slug, ifMatch string) (command.Written, error)
	PutSettings(ctx context.Context, a command.Actor, ifMatch string, s content.Settings) (command.Written, error)
	PutProfile(ctx context.Context, a command.Actor, ifMatch string, p content.Profile) (command.Written, error)
	UploadMedia(ctx context.Context, a command.Actor, m content.Media) (command.Written, content.Media, error)
	UpdateMedia(ctx context.Context, a command.Actor, id, ifMatch, alt, caption string) (command.Written, content.Media, error)
	DeleteMedia(ctx context.Context, a command.Actor, id, ifMatch string) (command.Written, error)
	// Category, Settings and Profile read the head: the form shows, and
	// its save names (If-Match), the version it was filled from.
	Category(slug string) (content.Category, string, error)
	Settings() (content.Settings, string, error)
	Profile() (content.Profile, string, error)
	// Embed is what a post's embed URL resolved to, if it is recorded.
	Embed(postID string) (content.Embed, bool, error)
}

// ProjectionStatus is one read model's state, as the dashboard shows it.
type ProjectionStatus struct {
	Name   string
	Behind uint64 // events not applied yet
	Halted string // why it stopped, "" while it runs
	Since  time.Time
}

// Activity is one change on main, as the dashboard lists it.
type Activity struct {
	Time    time.Time
	Actor   string
	Summary string // the commit's first line
	Event   string // the event type, when the writer made the change
}

// Waiter tells when the read models have applied a write, so the page an
// editor lands on after saving shows what they saved.
type Waiter interface {
	WaitFor(ctx context.Context, c events.Cursor) error
}

// Drafts keeps what editors typed and did not save (repo/autosave): per
// account, by post id or the key of a post being written.
type Drafts interface {
	Save(ctx context.Context, account, key string, d autosave.Draft) error
	Load(account, key string) (autosave.Draft, bool, error)
	Discard(ctx context.Context, account, key string) error
	Keys(ctx context.Context, account string) ([]string, error)
}

// Presence tells who else has a post open in the editor
// (session.Presence: a key-value bucket every node sees).
type Presence interface {
	Touch(ctx context.Context, post, email, name string) error
	Others(ctx context.Context, post, email string) ([]session.Editing, error)
}

// Config is what the admin needs. Writer nil (a read-only node) leaves
// the admin off.
type Config struct {
	Catalogue Catalogue
	Writer    Writer
	// Revisions is the history its pages show (history.Reader); nil: no
	// history pages.
	Revisions Revisions
	// Commits shows a commit of main (gitlog.GitLog), Undo reverts one
	// and rolls the site back (command.Writer); nil: those pages are off.
	Commits Commits
	Undo    Undo
	// Activity lists main's newest changes (gitlog.RecentActivity: commit
	// metadata only, cheap whatever a commit holds); nil: not shown.
	Activity func(limit int) ([]Activity, error)
	// Projections tells how far each read model is; nil: not shown.
	Projections func() []ProjectionStatus
	Waiter      Waiter
	// Render renders Markdown as the public site does: the sanitised HTML
	// (the preview) and the description pages take from a text that has
	// none of its own (the summary), from one pass of the renderer.
	Render   func(markdown string) (html template.HTML, summary string)
	Sessions *scs.SessionManager
	// Auth signs in (its Accounts also hold each account's personal
	// access tokens).
	Auth *auth.Authenticator
	// Media turns the media library on: uploads are stored in the LFS
	// store after upload.Inspect accepts them. Nil: no media pages.
	Media *MediaConfig
	// Drafts turns autosave on; nil: none.
	Drafts Drafts
	// Audit and Security are the logs the admin shows, ExportEvents and
	// ExportSecurity their exports (the API's); nil: not shown.
	Audit                        Audit
	Security                     SecurityEvents
	ExportEvents, ExportSecurity httperr.HandlerFunc
	// OIDC signs in with an identity provider beside passwords; nil: off.
	OIDC *oidc.Client
	// Presence shows who else is editing a post; nil: nobody is shown.
	Presence Presence
	Ready    func() error // nil when readers see the latest changes, else why not
	Logger   *slog.Logger
	// WaitAfterWrite bounds how long a save waits for the read models
	// before it redirects (default 3 s).
	WaitAfterWrite time.Duration
	// TimeTravel serves the public site as it was at a commit under
	// /admin/at/{rev}/… (webui/timetravel), for roles that may read all; nil:
	// not served.
	TimeTravel httperr.HandlerFunc
}

// MediaConfig sets up uploads from the admin.
type MediaConfig struct {
	Store    string        // the LFS store
	MaxBytes int64         // one upload
	Limits   upload.Limits // pixels
}

// route is one admin route: who may use it, and its handler.
type route struct {
	method, path string
	access       access
	fn           httperr.HandlerFunc
}

// access is who may use an admin route: anyone, any signed-in account,
// or an account whose role has a capability (policy decides which roles
// have it).
type access struct {
	open  bool              // anyone: the sign-in page and the assets
	needs policy.Capability // "": any signed-in account
}

var (
	anyone   = access{open: true}
	signedIn = access{}
)

// can is the access of a route that needs capability c.
func can(c policy.Capability) access { return access{needs: c} }

// check refuses an account that a does not let in (after requireSignIn),
// saying what its role may not do.
func (a access) check(who auth.Account) error {
	if a.open || a.needs == "" {
		return nil
	}
	return policy.Actor{Email: who.Email, Role: who.Role}.Check(a.needs)
}

// Route is one admin route as a test enumerates it: its method, its
// path (under /admin, with gorilla/mux's variables) and who may use it.
// A route that is neither Open nor Needs a capability is open to any
// signed-in account; the writer still judges what it changes.
type Route struct {
	Method, Path string
	Open         bool
	Needs        policy.Capability
}

// Routes lists every admin route, from the one table Mount routes.
func Routes() []Route {
	var out []Route
	for _, rt := range (&handler{}).routes() {
		out = append(out, Route{Method: rt.method, Path: "/admin" + rt.path, Open: rt.access.open, Needs: rt.access.needs})
	}
	return out
}

// Mount routes the admin on r at /admin/, with its own middleware:
// security headers, cross-origin protection for every unsafe method,
// the session, and a sign-in check that sends an anonymous browser to
// the sign-in page.
func Mount(r *mux.Router, cfg Config) {
	if cfg.WaitAfterWrite <= 0 {
		cfg.WaitAfterWrite = 3 * time.Second
	}
	h := newHandler(cfg)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.err.Write(w, r, httperr.New(http.StatusForbidden, "this form was sent from another site: the change was not made"))
	}))
	// Before the subrouter, whose prefix would otherwise take /admin and
	// answer it 404.
	r.Handle("/admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently)).Methods(http.MethodGet, http.MethodHead)
	sub := r.PathPrefix("/admin").Subrouter()
	sub.Use(securityHeaders, cfg.Sessions.LoadAndSave, cop.Handler) // the refusal page is a page of the session
	for _, rt := range h.routes() {
		fn := rt.fn
		if rt.access != anyone {
			fn = h.requireSignIn(requireAccess(rt.access, fn))
		}
		methods := []string{rt.method}
		if rt.method == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
		sub.Handle(rt.path, h.err.Handle(fn)).Methods(methods...)
	}
	// (A subrouter's middleware does not run for its not-found handler.)
	sub.NotFoundHandler = securityHeaders(cfg.Sessions.LoadAndSave(h.err.Handle(h.requireSignIn(func(w http.ResponseWriter, r *http.Request) error {
		return httperr.New(http.StatusNotFound, "there is no admin page at %s", r.URL.Path)
	}))))
}

// routes lists every admin route and who may use it: the one place an
// admin route's access is declared. Pages that change content whose
// owner matters (posts, media) are open to every account that may write
// at all; the writer judges each change (policy.Actor.Post, Media) and
// its refusal is shown on the form.
func (h *handler) routes() []route {
	return []route{
		{http.MethodGet, "/login", anyone, h.loginPage},
		{http.MethodPost, "/login", anyone, h.login},
		{http.MethodGet, "/login/oidc", anyone, h.oidcStart},
		{http.MethodGet, "/audit", can(policy.ReadAll), h.auditLog},
		{http.MethodGet, "/audit/export", can(policy.ReadAll), export(h.cfg.ExportEvents)},
		{http.MethodGet, "/commits/{hash}", can(policy.ReadAll), h.commitPage},
		{http.MethodGet, "/commits/{hash}/revert", can(policy.ReadAll), h.confirmRevert},
		{http.MethodPost, "/commits/{hash}/revert", can(policy.Revert), h.revert},
		{http.MethodGet, "/rollback", can(policy.Rollback), h.rollbackPage},
		{http.MethodPost, "/rollback", can(policy.Rollback), h.rollback},
		{http.MethodGet, "/security", can(policy.ManageAccounts), h.securityLog},
		{http.MethodGet, "/security/export", can(policy.ManageAccounts), export(h.cfg.ExportSecurity)},
		{http.MethodGet, "/login/oidc/callback", anyone, h.oidcCallback},
		{http.MethodGet, "/static/{name}", anyone, h.static},
		{http.MethodPost, "/logout", signedIn, h.logout},
		{http.MethodGet, "/", signedIn, h.dashboard},
		{http.MethodGet, "/posts", signedIn, h.posts},
		{http.MethodGet, "/posts/new", can(policy.WriteOwnPosts), h.newPost},
		{http.MethodPost, "/posts", can(policy.WriteOwnPosts), h.createPost},
		{http.MethodGet, "/posts/{id}", signedIn, h.editPost},
		{http.MethodPost, "/posts/{id}", signedIn, h.updatePost},
		{http.MethodPost, "/posts/{id}/delete", signedIn, h.deletePost},
		{http.MethodPost, "/posts/{id}/review", can(policy.EditAllPosts), h.review},
		{http.MethodGet, "/review", can(policy.EditAllPosts), h.reviewQueue},
		{http.MethodGet, "/posts/{id}/history", signedIn, h.historyPage},
		{http.MethodGet, "/posts/{id}/history/compare", signedIn, h.compare}, // before {revision}, which would take it
		{http.MethodGet, "/posts/{id}/history/{revision}", signedIn, h.revisionPage},
		{http.MethodGet, "/posts/{id}/history/{revision}/restore", signedIn, h.confirmRestore},
		{http.MethodPost, "/posts/{id}/history/{revision}/restore", signedIn, h.restore},
		{http.MethodPost, "/preview", signedIn, h.preview},
		{http.MethodPost, "/autosave", signedIn, h.autosave},
		{http.MethodPost, "/posts/{id}/presence", signedIn, h.presence},
		{http.MethodPost, "/drafts/{key}/discard", signedIn, h.discardDraft},
		{http.MethodGet, "/media", signedIn, h.mediaLibrary},
		{http.MethodPost, "/media", can(policy.UploadMedia), h.uploadMedia},
		{http.MethodGet, "/media/{id}", signedIn, h.editMedia},
		{http.MethodPost, "/media/{id}", can(policy.UploadMedia), h.updateMedia},
		{http.MethodPost, "/media/{id}/delete", can(policy.UploadMedia), h.deleteMedia},
		{http.MethodGet, "/password", signedIn, h.password},
		{http.MethodPost, "/password", signedIn, h.changePassword},
		{http.MethodGet, "/tokens", signedIn, h.tokens},
		{http.MethodPost, "/tokens", signedIn, h.createToken},
		{http.MethodPost, "/tokens/{id}/revoke", signedIn, h.revokeToken},
		{http.MethodGet, "/accounts", can(policy.ManageAccounts), h.accounts},
		{http.MethodPost, "/accounts", can(policy.ManageAccounts), h.addAccount},
		{http.MethodGet, "/accounts/edit", can(policy.ManageAccounts), h.editAccount},
		{http.MethodPost, "/accounts/role", can(policy.ManageAccounts), h.setRole},
		{http.MethodPost, "/accounts/password", can(policy.ManageAccounts), h.resetPassword},
		{http.MethodPost, "/accounts/remove", can(policy.ManageAccounts), h.removeAccount},
		{http.MethodPost, "/accounts/disable", can(policy.ManageAccounts), h.disableAccount},
		{http.MethodPost, "/accounts/tokens/revoke", can(policy.ManageAccounts), h.revokeAccountToken},
		{http.MethodGet, "/categories", can(policy.EditCategories), h.categories},
		{http.MethodPost, "/categories", can(policy.EditCategories), h.createCategory},
		{http.MethodGet, "/categories/{slug}", can(policy.EditCategories), h.editCategory},
		{http.MethodPost, "/categories/{slug}", can(policy.EditCategories), h.updateCategory},
		{http.MethodPost, "/categories/{slug}/delete", can(policy.EditCategories), h.deleteCategory},
		{http.MethodGet, "/settings", can(policy.EditSettings), h.settings},
		{http.MethodPost, "/settings", can(policy.EditSettings), h.saveSettings},
		{http.MethodGet, "/profile", can(policy.EditProfile), h.profile},
		{http.MethodPost, "/profile", can(policy.EditProfile), h.saveProfile},
		{http.MethodGet, "/at/{rev}", can(policy.ReadAll), h.timeTravel},
		{http.MethodGet, "/at/{rev}/{path:.*}", can(policy.ReadAll), h.timeTravel},
	}
}

// timeTravel serves the public site as it was (Config.TimeTravel).
func (h *handler) timeTravel(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.TimeTravel == nil {
		return httperr.New(http.StatusNotFound, "time travel is not available on this node")
	}
	return h.cfg.TimeTravel(w, r)
}

// requireAccess refuses an account that level does not let in (after
// requireSignIn), saying what its role may not do.
func requireAccess(level access, next httperr.HandlerFunc) httperr.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, _ := auth.Principal(r)
		if err := level.check(a); err != nil {
			return httperr.New(http.StatusForbidden, "This page is not open to your account: %s.", err)
		}
		return next(w, r)
	}
}

// securityHeaders: nothing of the admin is cached or framed, and its
// pages run only the admin's own script and style.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "+
			"connect-src 'self'; frame-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
