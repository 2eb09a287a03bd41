package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// Mount routes the API on r, the subrouter for /api/v1: every route
// with its method and access level, a 405 with Allow for another method
// of a known path, a problem+json 404 for an unknown one.
func Mount(r *mux.Router, cfg Config) {
	h := &Handler{cfg: cfg, log: cfg.Logger, err: httperr.Adapter{Log: cfg.Logger, Map: domainError}}
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range []struct {
		method, path string
		access       auth.Access
		fn           apiFunc
	}{
		{http.MethodPost, "/auth/token", auth.Public, h.createToken},
		{http.MethodGet, "/posts", auth.Public, h.listPosts},
		{http.MethodPost, "/posts", auth.Editor, h.createPost},
		{http.MethodGet, "/posts/{id}", auth.Public, h.getPost},
		{http.MethodPut, "/posts/{id}", auth.Editor, h.updatePost},
		{http.MethodPatch, "/posts/{id}", auth.Editor, h.patchPost},
		{http.MethodDelete, "/posts/{id}", auth.Editor, h.deletePost},
		{http.MethodGet, "/categories", auth.Public, h.listCategories},
		{http.MethodPost, "/categories", auth.Editor, h.createCategory},
		{http.MethodGet, "/categories/{slug}", auth.Public, h.getCategory},
		{http.MethodPut, "/categories/{slug}", auth.Editor, h.putCategory},
		{http.MethodPatch, "/categories/{slug}", auth.Editor, h.patchCategory},
		{http.MethodDelete, "/categories/{slug}", auth.Editor, h.deleteCategory},
		{http.MethodGet, "/tags", auth.Public, h.listTags},
		{http.MethodGet, "/settings", auth.Admin, h.getSettings},
		{http.MethodPut, "/settings", auth.Admin, h.putSettings},
		{http.MethodPatch, "/settings", auth.Admin, h.patchSettings},
		{http.MethodGet, "/profile", auth.Public, h.getProfile},
		{http.MethodPut, "/profile", auth.Editor, h.putProfile},
		{http.MethodPatch, "/profile", auth.Editor, h.patchProfile},
		{http.MethodGet, "/search", auth.Public, h.apiSearch},
		{http.MethodGet, "/events", auth.Editor, h.listEvents},
		{http.MethodGet, "/security-events", auth.Admin, h.listSecurityEvents},
		{http.MethodGet, "/commits/{hash}", auth.Editor, h.getCommit},
		{http.MethodPost, "/commits/{hash}/revert", auth.Editor, h.revertCommit},
		{http.MethodPost, "/site/rollback", auth.Admin, h.rollbackSite},
		{http.MethodGet, "/media", auth.Editor, h.listMedia},
		{http.MethodPost, "/media", auth.Editor, h.uploadMedia},
		{http.MethodGet, "/media/{id}", auth.Public, h.getMedia},
		{http.MethodPut, "/media/{id}", auth.Editor, h.updateMedia},
		{http.MethodPatch, "/media/{id}", auth.Editor, h.patchMedia},
		{http.MethodDelete, "/media/{id}", auth.Editor, h.deleteMedia},
		{http.MethodGet, "/tokens", auth.Editor, h.listTokens},
		{http.MethodPost, "/tokens", auth.Editor, h.createPAT},
		{http.MethodDelete, "/tokens/{id}", auth.Editor, h.revokeToken},
		{http.MethodGet, "/posts/{id}/revisions", auth.Editor, h.listRevisions(postKind)},
		{http.MethodGet, "/posts/{id}/revisions/{revision}", auth.Editor, h.getRevision(postKind)},
		{http.MethodGet, "/posts/{id}/diff", auth.Editor, h.diffRevisions(postKind)},
		{http.MethodPost, "/posts/{id}/restore", auth.Editor, h.restore(postKind)},
		{http.MethodGet, "/categories/{slug}/revisions", auth.Editor, h.listRevisions(categoryKind)},
		{http.MethodGet, "/categories/{slug}/revisions/{revision}", auth.Editor, h.getRevision(categoryKind)},
		{http.MethodGet, "/categories/{slug}/diff", auth.Editor, h.diffRevisions(categoryKind)},
		{http.MethodPost, "/categories/{slug}/restore", auth.Editor, h.restore(categoryKind)},
		{http.MethodGet, "/settings/revisions", auth.Admin, h.listRevisions(settingsKind)},
		{http.MethodGet, "/settings/revisions/{revision}", auth.Admin, h.getRevision(settingsKind)},
		{http.MethodGet, "/settings/diff", auth.Admin, h.diffRevisions(settingsKind)},
		{http.MethodPost, "/settings/restore", auth.Admin, h.restore(settingsKind)},
		{http.MethodGet, "/profile/revisions", auth.Editor, h.listRevisions(profileKind)},
		{http.MethodGet, "/profile/revisions/{revision}", auth.Editor, h.getRevision(profileKind)},
		{http.MethodGet, "/profile/diff", auth.Editor, h.diffRevisions(profileKind)},
		{http.MethodPost, "/profile/restore", auth.Editor, h.restore(profileKind)},
		{http.MethodGet, "/media/{id}/revisions", auth.Editor, h.listRevisions(mediaKind)},
		{http.MethodGet, "/media/{id}/revisions/{revision}", auth.Editor, h.getRevision(mediaKind)},
		{http.MethodGet, "/media/{id}/diff", auth.Editor, h.diffRevisions(mediaKind)},
		{http.MethodPost, "/media/{id}/restore", auth.Editor, h.restore(mediaKind)},
		{http.MethodGet, "/accounts", auth.Admin, h.listAccounts},
		{http.MethodPost, "/accounts", auth.Admin, h.createAccount},
		{http.MethodGet, "/accounts/{email}", auth.Admin, h.getAccount},
		{http.MethodPatch, "/accounts/{email}", auth.Admin, h.patchAccount},
		{http.MethodDelete, "/accounts/{email}", auth.Admin, h.deleteAccount},
		{http.MethodGet, "/openapi.json", auth.Public, h.openAPI},
	} {
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
