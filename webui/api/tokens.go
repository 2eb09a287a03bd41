package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/seclog"
)

type patView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	Token      string     `json:"token,omitempty"` // only when made
}

// listTokens lists the caller's personal access tokens (never secrets).
func (h *Handler) listTokens(w http.ResponseWriter, r *http.Request) error {
	a, _ := auth.Principal(r)
	return h.writeTokens(w, a.Email)
}

// listAccountTokens lists another account's personal access tokens, for
// an admin (never secrets).
func (h *Handler) listAccountTokens(w http.ResponseWriter, r *http.Request) error {
	a, err := h.cfg.Auth.Accounts.Get(mux.Vars(r)["email"])
	if err != nil {
		return accountError(err, mux.Vars(r)["email"])
	}
	return h.writeTokens(w, a.Email)
}

func (h *Handler) writeTokens(w http.ResponseWriter, email string) error {
	ts, err := h.cfg.Auth.Accounts.Tokens(email)
	if err != nil {
		return err
	}
	out := []patView{}
	for _, t := range ts {
		out = append(out, patView{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// createPAT makes a personal access token for the caller; its secret is
// in this answer only.
func (h *Handler) createPAT(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if len([]rune(req.Name)) > 100 {
		return httperr.Field(http.StatusUnprocessableEntity, "name", "at most 100 characters")
	}
	a, _ := auth.Principal(r)
	t, secret, err := h.cfg.Auth.Accounts.CreateToken(a.Email, req.Name)
	if err != nil {
		return err
	}
	h.cfg.Auth.Record(r, "api", seclog.Event{Type: seclog.TokenCreated, Account: a.Email, Detail: t.ID + " " + t.Name})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/api/v1/tokens/"+t.ID)
	return writeJSON(w, http.StatusCreated, patView{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, Token: secret})
}

// revokeToken deletes one of the caller's tokens; it is refused at once.
func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request) error {
	a, _ := auth.Principal(r)
	return h.revoke(w, r, a.Email)
}

// revokeAccountToken revokes another account's personal access token,
// for an admin: refused from the next request on.
func (h *Handler) revokeAccountToken(w http.ResponseWriter, r *http.Request) error {
	a, err := h.cfg.Auth.Accounts.Get(mux.Vars(r)["email"])
	if err != nil {
		return accountError(err, mux.Vars(r)["email"])
	}
	return h.revoke(w, r, a.Email)
}

func (h *Handler) revoke(w http.ResponseWriter, r *http.Request, email string) error {
	id := mux.Vars(r)["id"]
	err := h.cfg.Auth.Accounts.RevokeToken(email, id)
	if errors.Is(err, auth.ErrBadToken) {
		return httperr.New(http.StatusNotFound, "no such token")
	}
	if err != nil {
		return err
	}
	h.cfg.Auth.Record(r, "api", seclog.Event{Type: seclog.TokenRevoked, Account: email, Detail: id})
	w.WriteHeader(http.StatusNoContent)
	return nil
}
