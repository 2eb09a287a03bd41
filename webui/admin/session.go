package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/seclog"
)

// Session keys. The session holds the account's email and the
// generation of its credentials when it signed in: a password reset or
// a role change makes a new generation, and removing the account removes
// it, so every request checks both against the account as it is now and
// such a change ends the session at once.
const (
	keyEmail      = "email"
	keyGeneration = "generation"
)

// requireSignIn lets a signed-in account through, with its account as
// the request's principal; an anonymous browser goes to the sign-in page
// (and comes back afterwards, for a page it asked for).
func (h *handler) requireSignIn(next httperr.HandlerFunc) httperr.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		email := h.cfg.Sessions.GetString(r.Context(), keyEmail)
		if email != "" {
			a, err := h.cfg.Auth.Accounts.Get(email)
			switch {
			case err == nil && !a.Disabled && a.Generation == h.cfg.Sessions.GetString(r.Context(), keyGeneration):
				return next(w, auth.WithPrincipal(r, a))
			case err != nil && !errors.Is(err, auth.ErrNoAccount):
				return fmt.Errorf("read the signed-in account: %w", err)
			}
			// Removed, or its password or role changed since: the session
			// is over.
			if err := h.cfg.Sessions.Destroy(r.Context()); err != nil {
				return fmt.Errorf("end a session: %w", err)
			}
		}
		to := "/admin/login"
		if r.Method == http.MethodGet && r.URL.Path != "/admin/" {
			to += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
}

// safeNext is where to go after signing in: an admin page of this site,
// never another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/admin/"
	}
	return next
}

func (h *handler) loginPage(w http.ResponseWriter, r *http.Request) error {
	if email := h.cfg.Sessions.GetString(r.Context(), keyEmail); email != "" {
		if a, err := h.cfg.Auth.Accounts.Get(email); err == nil && a.Generation == h.cfg.Sessions.GetString(r.Context(), keyGeneration) {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return nil
		}
	}
	f := newForm(url.Values{"next": {r.URL.Query().Get("next")}})
	flash := ""
	if r.URL.Query().Has("out") {
		flash = "Signed out."
	}
	return h.render(w, r, http.StatusOK, "login", page{Title: "Sign in", Form: f, Flash: flash, Data: h.loginData()})
}

// login checks a password under the same sign-in budgets as the API and
// git, and starts a session with a new token.
func (h *handler) login(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return httperr.New(http.StatusBadRequest, "the sign-in form could not be read")
	}
	f := newForm(url.Values{"email": {r.PostForm.Get("email")}, "next": {r.PostForm.Get("next")}})
	email, password := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("password")
	if email == "" || password == "" {
		f.fail("", "Enter your email and password.")
		return h.render(w, r, http.StatusUnprocessableEntity, "login", page{Title: "Sign in", Form: f, Data: h.loginData()})
	}
	addr := h.cfg.Auth.ClientAddr(r)
	if ok, wait := h.cfg.Auth.SignIns.Password(email, addr); !ok {
		w.Header().Set("Retry-After", fmt.Sprint(auth.RetryAfter(wait)))
		f.fail("", fmt.Sprintf("Too many sign-in attempts: try again in %d seconds.", auth.RetryAfter(wait)))
		return h.render(w, r, http.StatusTooManyRequests, "login", page{Title: "Sign in", Form: f, Data: h.loginData()})
	}
	a, err := h.cfg.Auth.Accounts.Authenticate(email, password)
	if errors.Is(err, auth.ErrDisabled) {
		f.fail("", "This account is disabled: ask an administrator.")
		return h.render(w, r, http.StatusForbidden, "login", page{Title: "Sign in", Form: f, Data: h.loginData()})
	}
	if errors.Is(err, auth.ErrNoAccount) || errors.Is(err, auth.ErrBadPassword) {
		h.log.Info("admin sign-in refused", "email", auth.NormalizeEmail(email), "addr", addr)
		h.cfg.Auth.SignInFailed(r, "admin", email)
		f.fail("", "Wrong email or password.")
		return h.render(w, r, http.StatusUnauthorized, "login", page{Title: "Sign in", Form: f, Data: h.loginData()})
	}
	if err != nil {
		return fmt.Errorf("authenticate: %w", err)
	}
	h.cfg.Auth.SignIns.Succeeded(a.Email, addr)
	// A new token at sign-in: one planted before (session fixation) is
	// worth nothing after.
	if err := h.cfg.Sessions.RenewToken(r.Context()); err != nil {
		return fmt.Errorf("renew the session token: %w", err)
	}
	h.cfg.Sessions.Put(r.Context(), keyEmail, a.Email)
	h.cfg.Sessions.Put(r.Context(), keyGeneration, a.Generation)
	h.log.Info("admin sign-in", "email", a.Email, "addr", addr)
	h.cfg.Auth.SignedIn(r, "admin", a)
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
	return nil
}

// logout ends the session on the server, not only in the browser.
func (h *handler) logout(w http.ResponseWriter, r *http.Request) error {
	email := h.cfg.Sessions.GetString(r.Context(), keyEmail)
	if err := h.cfg.Sessions.Destroy(r.Context()); err != nil {
		return fmt.Errorf("end the session: %w", err)
	}
	if email != "" {
		h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.SessionEnded, Actor: email, Account: email, Detail: "signed out"})
	}
	http.Redirect(w, r, "/admin/login?out=1", http.StatusSeeOther)
	return nil
}
