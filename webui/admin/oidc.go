package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/oidc"
	"github.com/chronicle-cms/chronicle/webui/seclog"
)

// Session keys of a sign-in with the identity provider under way: kept
// from leaving for the provider until it sends the browser back, and
// taken out then, so each is used once.
const (
	keyOIDCState    = "oidc_state"
	keyOIDCNonce    = "oidc_nonce"
	keyOIDCVerifier = "oidc_verifier"
	keyOIDCNext     = "oidc_next"
)

// oidcStart sends the browser to the identity provider.
func (h *handler) oidcStart(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.OIDC == nil {
		return h.oidcRefused(w, r, http.StatusNotFound, "Signing in with an identity provider is not set up on this site.")
	}
	f, to, err := h.cfg.OIDC.Start(r.Context())
	if err != nil {
		h.log.Error("admin sign-in with the identity provider could not start", "err", err)
		return h.oidcRefused(w, r, http.StatusBadGateway, fmt.Sprintf("%s cannot be reached just now: sign in with your password, or try again later.", h.cfg.OIDC.Name()))
	}
	ctx := r.Context()
	h.cfg.Sessions.Put(ctx, keyOIDCState, f.State)
	h.cfg.Sessions.Put(ctx, keyOIDCNonce, f.Nonce)
	h.cfg.Sessions.Put(ctx, keyOIDCVerifier, f.Verifier)
	h.cfg.Sessions.Put(ctx, keyOIDCNext, safeNext(r.URL.Query().Get("next")))
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// oidcCallback finishes a sign-in when the provider sends the browser
// back: the flow must be this browser's, the provider's answer valid,
// and the verified email an account here (or allowed to sign up).
func (h *handler) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.OIDC == nil {
		return h.oidcRefused(w, r, http.StatusNotFound, "Signing in with an identity provider is not set up on this site.")
	}
	ctx := r.Context()
	flow := oidc.Flow{State: h.cfg.Sessions.PopString(ctx, keyOIDCState), Nonce: h.cfg.Sessions.PopString(ctx, keyOIDCNonce),
		Verifier: h.cfg.Sessions.PopString(ctx, keyOIDCVerifier)}
	next := safeNext(h.cfg.Sessions.PopString(ctx, keyOIDCNext))
	q := r.URL.Query()
	addr := h.cfg.Auth.ClientAddr(r)
	if e := q.Get("error"); e != "" {
		h.log.Info("admin sign-in refused by the identity provider", "error", e, "addr", addr)
		return h.oidcRefused(w, r, http.StatusUnauthorized, fmt.Sprintf("%s did not sign you in (%s).", h.cfg.OIDC.Name(), clip(e)))
	}
	id, err := h.cfg.OIDC.Finish(ctx, flow, q.Get("state"), q.Get("code"))
	var refusal *oidc.Refusal
	if errors.As(err, &refusal) {
		// A callback with no sign-in started in this browser is what a
		// script calling this open URL sends: it counts against the
		// address's sign-in budget (past it, 429) and is not recorded, so
		// it neither fills the security log nor costs an fsync a request.
		// A refusal of a sign-in this browser started is recorded.
		if flow.State == "" {
			if over, wait := h.cfg.Auth.SignIns.TokenFailed(addr); over {
				w.Header().Set("Retry-After", fmt.Sprint(auth.RetryAfter(wait)))
				return h.oidcRefused(w, r, http.StatusTooManyRequests, fmt.Sprintf("Too many sign-in attempts: try again in %d seconds.", auth.RetryAfter(wait)))
			}
		} else {
			h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.SignInFailed, Account: refusal.Email, Method: seclog.MethodOIDC, Detail: refusal.Reason})
		}
		h.log.Info("admin sign-in with the identity provider refused", "reason", refusal.Reason, "addr", addr)
		return h.oidcRefused(w, r, http.StatusUnauthorized, refusal.Reason)
	}
	if err != nil {
		h.log.Error("admin sign-in with the identity provider failed", "err", err, "addr", addr)
		return h.oidcRefused(w, r, http.StatusBadGateway, fmt.Sprintf("%s could not be asked who you are: sign in with your password, or try again later.", h.cfg.OIDC.Name()))
	}
	a, err := h.cfg.Auth.Accounts.Get(id.Email)
	switch {
	case errors.Is(err, auth.ErrNoAccount) && h.cfg.OIDC.SignUpRole() != "":
		role := auth.Role(h.cfg.OIDC.SignUpRole())
		if id.Role != "" {
			role = auth.Role(id.Role)
		}
		if a, err = h.cfg.Auth.Accounts.AddExternal(id.Email, id.Name, role); err != nil {
			return fmt.Errorf("sign up %s: %w", id.Email, err)
		}
		h.log.Info("account signed up with the identity provider", "email", a.Email, "role", a.Role)
		h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.AccountCreated, Actor: a.Email, Account: a.Email, Method: seclog.MethodOIDC,
			Detail: string(a.Role) + ", signed up with " + h.cfg.OIDC.Name()})
	case errors.Is(err, auth.ErrNoAccount):
		h.log.Info("admin sign-in with the identity provider refused: no account", "email", id.Email, "addr", addr)
		h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.SignInFailed, Account: id.Email, Method: seclog.MethodOIDC, Detail: "no account"})
		return h.oidcRefused(w, r, http.StatusForbidden, fmt.Sprintf("%s has no account on this site: ask an administrator to add one.", id.Email))
	case err != nil:
		return fmt.Errorf("read account %s: %w", id.Email, err)
	}
	if a.Disabled {
		h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.SignInFailed, Account: a.Email, Method: seclog.MethodOIDC, Detail: "disabled"})
		return h.oidcRefused(w, r, http.StatusForbidden, "This account is disabled: ask an administrator.")
	}
	if id.Role != "" && auth.Role(id.Role) != a.Role {
		// The provider's claim decides the role at every sign-in.
		old := a.Role
		changed, err := h.cfg.Auth.Accounts.SetRoleGuarded(a.Email, auth.Role(id.Role), auth.Guard{KeepAdmin: true})
		switch {
		case errors.Is(err, auth.ErrLastAdmin):
			// The site keeps an admin: this one signs in as it is, and the
			// security log says why the claim was not followed.
			h.log.Warn("the provider's role claim would demote the site's last admin; kept", "email", a.Email, "claim", id.Role)
			h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.RoleChanged, Actor: a.Email, Account: a.Email, Method: seclog.MethodOIDC,
				Detail: "kept " + string(old) + ": the provider's claim (" + id.Role + ") would leave the site without an admin"})
		case err != nil:
			return fmt.Errorf("set the role of %s from the provider: %w", id.Email, err)
		default:
			a = changed
			h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.RoleChanged, Actor: a.Email, Account: a.Email, Method: seclog.MethodOIDC,
				Detail: string(old) + " → " + string(a.Role) + ", from the provider's claim"})
		}
	}
	h.cfg.Auth.SignIns.Succeeded(a.Email, addr)
	if err := h.cfg.Sessions.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew the session token: %w", err)
	}
	h.cfg.Sessions.Put(ctx, keyEmail, a.Email)
	h.cfg.Sessions.Put(ctx, keyGeneration, a.Generation)
	h.log.Info("admin sign-in", "email", a.Email, "with", h.cfg.OIDC.Name(), "addr", addr)
	h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.SignIn, Actor: a.Email, Account: a.Email, Method: seclog.MethodOIDC})
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// oidcRefused shows the sign-in page with why, and no session.
func (h *handler) oidcRefused(w http.ResponseWriter, r *http.Request, status int, why string) error {
	f := newForm(url.Values{})
	f.fail("", why)
	return h.render(w, r, status, "login", page{Title: "Sign in", Form: f, Data: h.loginData()})
}

// loginData is what the sign-in page shows besides the password form.
func (h *handler) loginData() map[string]any {
	if h.cfg.OIDC == nil {
		return nil
	}
	return map[string]any{"Provider": h.cfg.OIDC.Name()}
}
