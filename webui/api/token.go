package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

type tokenRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type tokenResponse struct {
	Token     string `json:"token"`
	TokenType string `json:"token_type"`
	ExpiresIn int    `json:"expires_in"`
	ExpiresAt string `json:"expires_at"`
}

// createToken exchanges an email and password for an API token. Attempts
// are limited by the sign-in policy shared with git (see auth.SignIns).
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Email == "" {
		return httperr.Field(http.StatusUnprocessableEntity, "email", "is required")
	}
	if req.Password == "" {
		return httperr.Field(http.StatusUnprocessableEntity, "password", "is required")
	}
	addr := h.cfg.Auth.ClientAddr(r)
	if ok, wait := h.cfg.Auth.SignIns.Password(req.Email, addr); !ok {
		return auth.TooManySignIns(wait)
	}
	a, err := h.cfg.Auth.Accounts.Authenticate(req.Email, req.Password)
	if errors.Is(err, auth.ErrDisabled) {
		return httperr.New(http.StatusForbidden, "this account is disabled: ask an administrator")
	}
	if errors.Is(err, auth.ErrNoAccount) || errors.Is(err, auth.ErrBadPassword) {
		h.log.Info("sign-in refused", "email", auth.NormalizeEmail(req.Email), "addr", addr)
		h.cfg.Auth.SignInFailed(r, "api", req.Email)
		return auth.Unauthorized("wrong email or password")
	}
	if err != nil {
		return fmt.Errorf("authenticate: %w", err)
	}
	h.cfg.Auth.SignIns.Succeeded(a.Email, addr)
	h.cfg.Auth.SignedIn(r, "api", a)
	tok, exp, err := h.cfg.Auth.Tokens.Issue(a)
	if err != nil {
		return fmt.Errorf("issue token: %w", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, tokenResponse{Token: tok, TokenType: "Bearer",
		ExpiresIn: int(exp.Sub(h.cfg.Auth.Tokens.Now()).Seconds()), ExpiresAt: exp.UTC().Format("2006-01-02T15:04:05Z")})
}
