package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/seclog"
)

// passwordPage is the form to change one's own password.
func (h *handler) passwordPage(w http.ResponseWriter, r *http.Request, status int, f *form) error {
	return h.render(w, r, status, "password", page{Title: "Change your password", Section: "password", Form: f, Data: passwordRule})
}

func (h *handler) password(w http.ResponseWriter, r *http.Request) error {
	return h.passwordPage(w, r, http.StatusOK, newForm(nil))
}

// changePassword changes the signed-in account's password: the current
// one is checked under the same sign-in budgets as the sign-in page (a
// stolen session must not become a way to guess it), then this session
// goes on with a new token while the account's other sessions and API
// tokens end.
func (h *handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	if err := parseSmallForm(w, r); err != nil {
		return err
	}
	f := newForm(nil) // passwords are never sent back
	current, pw, again := r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), r.PostForm.Get("new_password_again")
	if current == "" {
		f.fail("current_password", "Enter your current password.")
	}
	checkNewPassword(f, "new_password", pw)
	switch {
	case pw != again:
		f.fail("new_password_again", "This is not the same as the new password above.")
	case pw == current && current != "":
		f.fail("new_password", "This is your current password: choose another one.")
	}
	if f.failed() {
		return h.passwordPage(w, r, http.StatusUnprocessableEntity, f)
	}
	me, _ := auth.Principal(r)
	addr := h.cfg.Auth.ClientAddr(r)
	if ok, wait := h.cfg.Auth.SignIns.Password(me.Email, addr); !ok {
		w.Header().Set("Retry-After", fmt.Sprint(auth.RetryAfter(wait)))
		f.fail("current_password", fmt.Sprintf("Too many attempts: try again in %d seconds.", auth.RetryAfter(wait)))
		return h.passwordPage(w, r, http.StatusTooManyRequests, f)
	}
	_, err := h.cfg.Auth.Accounts.Authenticate(me.Email, current)
	if errors.Is(err, auth.ErrBadPassword) {
		h.log.Info("admin password change: wrong current password", "email", me.Email, "addr", addr)
		h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.SignInFailed, Account: me.Email, Method: seclog.MethodPassword,
			Detail: "wrong current password when changing it"})
		f.fail("current_password", "This is not your current password.")
		return h.passwordPage(w, r, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return fmt.Errorf("check the current password: %w", err)
	}
	h.cfg.Auth.SignIns.Succeeded(me.Email, addr)
	a, err := h.cfg.Auth.Accounts.SetPassword(me.Email, pw, auth.Guard{Generation: me.Generation})
	if errors.Is(err, auth.ErrStale) {
		f.fail("", "Your password or role was changed by someone else just now, so your password was not changed.")
		return h.passwordPage(w, r, http.StatusPreconditionFailed, f)
	}
	if err != nil {
		return fmt.Errorf("change the password: %w", err)
	}
	h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.PasswordChanged, Account: a.Email})
	if err := h.keepSession(r, a); err != nil {
		return err
	}
	h.log.Info("admin password changed", "email", a.Email, "addr", addr)
	h.flash(r, "Your password is changed. Your other sessions and API tokens have ended; this session goes on, and your personal access tokens still work.")
	http.Redirect(w, r, "/admin/password", http.StatusSeeOther)
	return nil
}

// keepSession lets this session go on after a change to its own account
// (every other session of the account ends with the old generation),
// under a new token, as at sign-in.
func (h *handler) keepSession(r *http.Request, a auth.Account) error {
	if err := h.cfg.Sessions.RenewToken(r.Context()); err != nil {
		return fmt.Errorf("renew the session token: %w", err)
	}
	h.cfg.Sessions.Put(r.Context(), keyEmail, a.Email)
	h.cfg.Sessions.Put(r.Context(), keyGeneration, a.Generation)
	return nil
}
