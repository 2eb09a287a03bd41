package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
	"github.com/chronicle-cms/chronicle/webui/seclog"
)

// accountView is an account as admins see it: never its password hash.
// Its version (the ETag) is its credential generation, which every
// change of password, role or state renews.
type accountView struct {
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      auth.Role `json:"role"`
	Disabled  bool      `json:"disabled"`
	Password  bool      `json:"password"` // whether it can sign in with a password
	CreatedAt time.Time `json:"created_at"`
}

func viewAccount(a auth.Account) accountView {
	return accountView{Email: a.Email, Name: a.Name, Role: a.Role, Disabled: a.Disabled, Password: a.PasswordHash != "", CreatedAt: a.CreatedAt}
}

func writeAccount(w http.ResponseWriter, status int, a auth.Account) error {
	w.Header().Set("ETag", etag(a.Generation))
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, status, viewAccount(a))
}

// accountError is how the account store's refusals read to a client.
func accountError(err error, email string) error {
	switch {
	case errors.Is(err, auth.ErrNoAccount):
		return httperr.New(http.StatusNotFound, "no account %q", params.Clip(email))
	case errors.Is(err, auth.ErrExists):
		return httperr.Field(http.StatusConflict, "email", "%s has an account already", params.Clip(email))
	case errors.Is(err, auth.ErrLastAdmin):
		return httperr.New(http.StatusConflict, "%s is the site's last admin: make another account admin first", params.Clip(email))
	case errors.Is(err, auth.ErrStale):
		return httperr.New(http.StatusPreconditionFailed, "the account changed since the version given in If-Match: fetch it again")
	}
	return err
}

// listAccounts lists every account (admins).
func (h *Handler) listAccounts(w http.ResponseWriter, r *http.Request) error {
	all, err := h.cfg.Auth.Accounts.List()
	if err != nil {
		return err
	}
	out := []accountView{}
	for _, a := range all {
		out = append(out, viewAccount(a))
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// getAccount returns one account with its version.
func (h *Handler) getAccount(w http.ResponseWriter, r *http.Request) error {
	email := mux.Vars(r)["email"]
	a, err := h.cfg.Auth.Accounts.Get(email)
	if err != nil {
		return accountError(err, email)
	}
	return writeAccount(w, http.StatusOK, a)
}

type accountRequest struct {
	Email    string    `json:"email"`
	Name     string    `json:"name"`
	Role     auth.Role `json:"role"`
	Password *string   `json:"password"`
}

// createAccount adds an account: with a password, or without one (it
// signs in with the identity provider until someone sets a password).
func (h *Handler) createAccount(w http.ResponseWriter, r *http.Request) error {
	var req accountRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	req.Email = auth.NormalizeEmail(req.Email)
	if !auth.ValidEmail(req.Email) {
		return httperr.Field(http.StatusUnprocessableEntity, "email", "is not an email address")
	}
	if !req.Role.Valid() {
		return httperr.Field(http.StatusUnprocessableEntity, "role", "must be %s, not %q", auth.RoleList(), params.Clip(string(req.Role)))
	}
	if len([]rune(req.Name)) > 200 {
		return httperr.Field(http.StatusUnprocessableEntity, "name", "at most 200 characters")
	}
	var a auth.Account
	var err error
	if req.Password == nil {
		a, err = h.cfg.Auth.Accounts.AddExternal(req.Email, req.Name, req.Role)
	} else {
		if n := len([]rune(*req.Password)); n < auth.MinPassword || n > auth.MaxPassword {
			return httperr.Field(http.StatusUnprocessableEntity, "password", "needs %d to %d characters", auth.MinPassword, auth.MaxPassword)
		}
		a, err = h.cfg.Auth.Accounts.Add(req.Email, req.Name, req.Role, *req.Password, false)
	}
	if err != nil {
		return accountError(err, req.Email)
	}
	h.cfg.Auth.Record(r, "api", seclog.Event{Type: seclog.AccountCreated, Account: a.Email, Detail: string(a.Role)})
	w.Header().Set("Location", "/api/v1/accounts/"+a.Email)
	return writeAccount(w, http.StatusCreated, a)
}

type accountPatch struct {
	Role     *auth.Role `json:"role"`
	Disabled *bool      `json:"disabled"`
	Password *string    `json:"password"`
}

// patchAccount changes an account's role, state or password (admins),
// each change guarded by If-Match (its version) when given, and never
// leaving the site without an enabled admin. Any change ends the
// account's sessions and API tokens.
func (h *Handler) patchAccount(w http.ResponseWriter, r *http.Request) error {
	email := mux.Vars(r)["email"]
	var req accountPatch
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	if match == "*" {
		match = ""
	}
	a, err := h.cfg.Auth.Accounts.Get(email)
	if err != nil {
		return accountError(err, email)
	}
	me, _ := auth.Principal(r)
	g := auth.Guard{Generation: match, KeepAdmin: true}
	if req.Role != nil {
		if !req.Role.Valid() {
			return httperr.Field(http.StatusUnprocessableEntity, "role", "must be %s, not %q", auth.RoleList(), params.Clip(string(*req.Role)))
		}
		if *req.Role != a.Role {
			old := a.Role
			if a, err = h.cfg.Auth.Accounts.SetRoleGuarded(email, *req.Role, g); err != nil {
				return accountError(err, email)
			}
			h.cfg.Auth.Record(r, "api", seclog.Event{Type: seclog.RoleChanged, Account: a.Email, Detail: fmt.Sprintf("%s → %s", old, a.Role)})
			g.Generation = a.Generation
		}
	}
	if req.Password != nil {
		if n := len([]rune(*req.Password)); n < auth.MinPassword || n > auth.MaxPassword {
			return httperr.Field(http.StatusUnprocessableEntity, "password", "needs %d to %d characters", auth.MinPassword, auth.MaxPassword)
		}
		if a, err = h.cfg.Auth.Accounts.SetPassword(email, *req.Password, g); err != nil {
			return accountError(err, email)
		}
		h.cfg.Auth.Record(r, "api", seclog.Event{Type: seclog.PasswordChanged, Account: a.Email, Detail: "reset by an admin"})
		g.Generation = a.Generation
	}
	if req.Disabled != nil && *req.Disabled != a.Disabled {
		if *req.Disabled && strings.EqualFold(me.Email, a.Email) {
			return httperr.Field(http.StatusConflict, "disabled", "you cannot disable your own account: ask another admin")
		}
		if a, err = h.cfg.Auth.Accounts.SetDisabled(email, *req.Disabled, g); err != nil {
			return accountError(err, email)
		}
		typ := seclog.AccountEnabled
		if a.Disabled {
			typ = seclog.AccountDisabled
		}
		h.cfg.Auth.Record(r, "api", seclog.Event{Type: typ, Account: a.Email})
	}
	return writeAccount(w, http.StatusOK, a)
}

// deleteAccount removes an account and its personal access tokens.
func (h *Handler) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	email := mux.Vars(r)["email"]
	match, err := ifMatch(r)
	if err != nil {
		return err
	}
	if match == "*" {
		match = ""
	}
	if err := h.cfg.Auth.Accounts.RemoveGuarded(email, auth.Guard{Generation: match, KeepAdmin: true}); err != nil {
		return accountError(err, email)
	}
	h.cfg.Auth.Record(r, "api", seclog.Event{Type: seclog.AccountRemoved, Account: auth.NormalizeEmail(email)})
	w.WriteHeader(http.StatusNoContent)
	return nil
}
