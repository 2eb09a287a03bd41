package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// Route is one API route and who may call it.
type Route struct {
	Method, Path string
	Access       auth.Access
}

// Routes are every API route with its access: the table Mount routes,
// for tests that walk it.
func Routes() []Route {
	var out []Route
	for _, rt := range routes(&Handler{}) {
		out = append(out, Route{Method: rt.method, Path: rt.path, Access: rt.access})
	}
	return out
}

type route struct {
	method, path string
	access       auth.Access
	fn           apiFunc
}

// routes is the one place each route's access is declared: public,
// signed in, or a capability of the policy. Writes are judged again by
// the writer (whose post, whose upload, which status); reads of one
// post by postReadable.
func routes(h *Handler) []route {
	return []route{
		{http.MethodPost, "/auth/token", auth.Public, h.createToken},
		{http.MethodGet, "/posts", auth.Public, h.listPosts},
		{http.MethodPost, "/posts", auth.Need(policy.WriteOwnPosts), h.createPost},
		{http.MethodGet, "/posts/{id}", auth.Public, h.getPost},
		{http.MethodPut, "/posts/{id}", auth.Need(policy.WriteOwnPosts), h.updatePost},
		{http.MethodPatch, "/posts/{id}", auth.Need(policy.WriteOwnPosts), h.patchPost},
		{http.MethodDelete, "/posts/{id}", auth.Need(policy.WriteOwnPosts), h.deletePost},
		{http.MethodGet, "/categories", auth.Public, h.listCategories},
		{http.MethodPost, "/categories", auth.Need(policy.EditCategories), h.createCategory},
		{http.MethodGet, "/categories/{slug}", auth.Public, h.getCategory},
		{http.MethodPut, "/categories/{slug}", auth.Need(policy.EditCategories), h.putCategory},
		{http.MethodPatch, "/categories/{slug}", auth.Need(policy.EditCategories), h.patchCategory},
		{http.MethodDelete, "/categories/{slug}", auth.Need(policy.EditCategories), h.deleteCategory},
		{http.MethodGet, "/tags", auth.Public, h.listTags},
		{http.MethodGet, "/settings", auth.Need(policy.EditSettings), h.getSettings},
		{http.MethodPut, "/settings", auth.Need(policy.EditSettings), h.putSettings},
		{http.MethodPatch, "/settings", auth.Need(policy.EditSettings), h.patchSettings},
		{http.MethodGet, "/profile", auth.Public, h.getProfile},
		{http.MethodPut, "/profile", auth.Need(policy.EditProfile), h.putProfile},
		{http.MethodPatch, "/profile", auth.Need(policy.EditProfile), h.patchProfile},
		{http.MethodGet, "/search", auth.Public, h.apiSearch},
		{http.MethodGet, "/events", auth.Need(policy.ReadAll), h.listEvents},
		{http.MethodGet, "/security-events", auth.Need(policy.ManageAccounts), h.listSecurityEvents},
		{http.MethodGet, "/commits/{hash}", auth.Need(policy.ReadAll), h.getCommit},
		{http.MethodPost, "/commits/{hash}/revert", auth.Need(policy.Revert), h.revertCommit},
		{http.MethodPost, "/site/rollback", auth.Need(policy.Rollback), h.rollbackSite},
		{http.MethodGet, "/media", auth.SignedIn, h.listMedia},
		{http.MethodPost, "/media", auth.Need(policy.UploadMedia), h.uploadMedia},
		{http.MethodGet, "/media/{id}", auth.Public, h.getMedia},
		{http.MethodPut, "/media/{id}", auth.Need(policy.UploadMedia), h.updateMedia},
		{http.MethodPatch, "/media/{id}", auth.Need(policy.UploadMedia), h.patchMedia},
		{http.MethodDelete, "/media/{id}", auth.Need(policy.UploadMedia), h.deleteMedia},
		{http.MethodGet, "/tokens", auth.SignedIn, h.listTokens},
		{http.MethodPost, "/tokens", auth.SignedIn, h.createPAT},
		{http.MethodDelete, "/tokens/{id}", auth.SignedIn, h.revokeToken},
		{http.MethodGet, "/posts/{id}/revisions", auth.SignedIn, h.postReadable(h.listRevisions(postKind))},
		{http.MethodGet, "/posts/{id}/revisions/{revision}", auth.SignedIn, h.postReadable(h.getRevision(postKind))},
		{http.MethodGet, "/posts/{id}/diff", auth.SignedIn, h.postReadable(h.diffRevisions(postKind))},
		{http.MethodPost, "/posts/{id}/submit", auth.Need(policy.WriteOwnPosts), h.submitPost},
		{http.MethodPost, "/posts/{id}/request-changes", auth.Need(policy.EditAllPosts), h.requestChanges},
		{http.MethodPost, "/posts/{id}/approve", auth.Need(policy.EditAllPosts), h.approvePost},
		{http.MethodPost, "/posts/{id}/restore", auth.Need(policy.WriteOwnPosts), h.postReadable(h.restore(postKind))},
		{http.MethodGet, "/categories/{slug}/revisions", auth.Need(policy.ReadAll), h.listRevisions(categoryKind)},
		{http.MethodGet, "/categories/{slug}/revisions/{revision}", auth.Need(policy.ReadAll), h.getRevision(categoryKind)},
		{http.MethodGet, "/categories/{slug}/diff", auth.Need(policy.ReadAll), h.diffRevisions(categoryKind)},
		{http.MethodPost, "/categories/{slug}/restore", auth.Need(policy.EditCategories), h.restore(categoryKind)},
		{http.MethodGet, "/settings/revisions", auth.Need(policy.EditSettings), h.listRevisions(settingsKind)},
		{http.MethodGet, "/settings/revisions/{revision}", auth.Need(policy.EditSettings), h.getRevision(settingsKind)},
		{http.MethodGet, "/settings/diff", auth.Need(policy.EditSettings), h.diffRevisions(settingsKind)},
		{http.MethodPost, "/settings/restore", auth.Need(policy.EditSettings), h.restore(settingsKind)},
		{http.MethodGet, "/profile/revisions", auth.Need(policy.ReadAll), h.listRevisions(profileKind)},
		{http.MethodGet, "/profile/revisions/{revision}", auth.Need(policy.ReadAll), h.getRevision(profileKind)},
		{http.MethodGet, "/profile/diff", auth.Need(policy.ReadAll), h.diffRevisions(profileKind)},
		{http.MethodPost, "/profile/restore", auth.Need(policy.EditProfile), h.restore(profileKind)},
		{http.MethodGet, "/media/{id}/revisions", auth.Need(policy.ReadAll), h.listRevisions(mediaKind)},
		{http.MethodGet, "/media/{id}/revisions/{revision}", auth.Need(policy.ReadAll), h.getRevision(mediaKind)},
		{http.MethodGet, "/media/{id}/diff", auth.Need(policy.ReadAll), h.diffRevisions(mediaKind)},
		{http.MethodPost, "/media/{id}/restore", auth.Need(policy.UploadMedia), h.restore(mediaKind)},
		{http.MethodGet, "/accounts", auth.Need(policy.ManageAccounts), h.listAccounts},
		{http.MethodPost, "/accounts", auth.Need(policy.ManageAccounts), h.createAccount},
		{http.MethodGet, "/accounts/{email}", auth.Need(policy.ManageAccounts), h.getAccount},
		{http.MethodPatch, "/accounts/{email}", auth.Need(policy.ManageAccounts), h.patchAccount},
		{http.MethodDelete, "/accounts/{email}", auth.Need(policy.ManageAccounts), h.deleteAccount},
		{http.MethodGet, "/accounts/{email}/tokens", auth.Need(policy.ManageAccounts), h.listAccountTokens},
		{http.MethodDelete, "/accounts/{email}/tokens/{id}", auth.Need(policy.ManageAccounts), h.revokeAccountToken},
		{http.MethodGet, "/openapi.json", auth.Public, h.openAPI},
	}
}

// Mount routes the API on r, the subrouter for /api/v1: every route
// with its method and access level, a 405 with Allow for another method
// of a known path, a problem+json 404 for an unknown one.
func Mount(r *mux.Router, cfg Config) {
	h := &Handler{cfg: cfg, log: cfg.Logger, err: httperr.Adapter{Log: cfg.Logger, Map: domainError}}
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range routes(h) {
		r.Handle(rt.path, h.err.Handle(cfg.Auth.Guard(rt.access, h.err.Handle(rt.fn)))).Methods(rt.method)
		if allowed[rt.path] == nil {
			paths = append(paths, rt.path)
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
	}
	// After every path's routes, a route of any method answers 405 with
	// Allow. (A subrouter's MethodNotAllowedHandler is not reliable in
	// gorilla/mux 1.8.1: a later route of another path hides the mismatch.)
	for _, p := range paths {
		r.Handle(p, h.err.Handle(methodNotAllowed(allowed[p])))
	}
	r.NotFoundHandler = h.err.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return httperr.New(http.StatusNotFound, "no such API endpoint: see /api/v1/openapi.json")
	})
}

func methodNotAllowed(methods []string) apiFunc {
	allow := strings.Join(methods, ", ")
	return func(w http.ResponseWriter, r *http.Request) error {
		return httperr.New(http.StatusMethodNotAllowed, "%s is not allowed here; allowed: %s", r.Method, allow).With("Allow", allow)
	}
}
