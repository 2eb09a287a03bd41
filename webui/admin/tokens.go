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

// Personal access tokens of the signed-in account (an admin's own too:
// nobody sees another account's tokens), the same ones as the API's
// /api/v1/tokens: for git over HTTP and for scripts.

// maxTokenName is the API's limit on a token's name.
const maxTokenName = 100

func (h *handler) tokensPage(w http.ResponseWriter, r *http.Request, status int, f *form) error {
	me, _ := auth.Principal(r)
	ts, err := h.cfg.Auth.Accounts.Tokens(me.Email)
	if err != nil {
		return fmt.Errorf("list tokens: %w", err)
	}
	return h.render(w, r, status, "tokens", page{Title: "Personal access tokens", Section: "tokens", Form: f, Data: ts})
}

func (h *handler) tokens(w http.ResponseWriter, r *http.Request) error {
	return h.tokensPage(w, r, http.StatusOK, newForm(nil))
}

// createToken makes a token and shows it, once, on the answer: only its
// hash is kept.
func (h *handler) createToken(w http.ResponseWriter, r *http.Request) error {
	if err := parseSmallForm(w, r); err != nil {
		return err
	}
	f := newForm(url.Values{"name": {r.PostForm.Get("name")}})
	name := strings.TrimSpace(f.Value("name"))
	switch n := len([]rune(name)); {
	case n == 0:
		// The API allows no name; here the list would not tell tokens apart.
		f.fail("name", "Name the token after where it is used (“laptop git”, “backup script”), so you know which to revoke.")
	case n > maxTokenName:
		f.fail("name", fmt.Sprintf("A name has at most %d characters; this one has %d.", maxTokenName, n))
	}
	if f.failed() {
		return h.tokensPage(w, r, http.StatusUnprocessableEntity, f)
	}
	me, _ := auth.Principal(r)
	t, secret, err := h.cfg.Auth.Accounts.CreateToken(me.Email, name)
	if err != nil {
		return fmt.Errorf("create a token: %w", err)
	}
	h.log.Info("personal access token created in the admin", "email", me.Email, "token", t.ID)
	h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.TokenCreated, Account: me.Email, Detail: t.ID + " " + t.Name})
	return h.render(w, r, http.StatusCreated, "secret", page{Title: "Token created", Section: "tokens", Data: secretData{
		Label: "Token “" + t.Name + "”", Secret: secret, Back: "/admin/tokens", BackText: "Back to your tokens",
		Usage: "Use it as the password for git over HTTPS (with your email as the user name), or send it to the API as “Authorization: Bearer <token>”."}})
}

// revokeToken asks first, then deletes the token: it is refused from
// then on.
func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := parseSmallForm(w, r); err != nil {
		return err
	}
	me, _ := auth.Principal(r)
	id := pathVar(r, "id")
	return h.revokeTokenOf(w, r, me.Email, id, "/admin/tokens/"+url.PathEscape(id)+"/revoke", nil, "/admin/tokens")
}

// revokeAccountToken revokes another account's personal access token,
// for an admin (a lost laptop, a leaked script).
func (h *handler) revokeAccountToken(w http.ResponseWriter, r *http.Request) error {
	if err := parseSmallForm(w, r); err != nil {
		return err
	}
	a, err := h.lookUp(r.PostForm.Get("email"))
	if err != nil {
		return err
	}
	id := r.PostForm.Get("id")
	return h.revokeTokenOf(w, r, a.Email, id, "/admin/accounts/tokens/revoke", map[string]string{"email": a.Email, "id": id},
		"/admin/accounts/edit?email="+url.QueryEscape(a.Email))
}

// revokeTokenOf revokes email's token id once confirmed (the form is
// action with fields), then goes back.
func (h *handler) revokeTokenOf(w http.ResponseWriter, r *http.Request, email, id, action string, fields map[string]string, back string) error {
	me, _ := auth.Principal(r)
	whose := "you have"
	if email != me.Email {
		whose = email + " has"
	}
	ts, err := h.cfg.Auth.Accounts.Tokens(email)
	if err != nil {
		return fmt.Errorf("list tokens: %w", err)
	}
	var name string
	found := false
	for _, t := range ts {
		if t.ID == id {
			name, found = t.Name, true
		}
	}
	if !found {
		return httperr.New(http.StatusNotFound, "%s no token %q (revoked already?)", whose, clip(id))
	}
	if r.PostForm.Get("confirm") != "yes" {
		if fields == nil {
			fields = map[string]string{}
		}
		return h.render(w, r, http.StatusOK, "confirm", page{Title: "Revoke token?", Section: "tokens", Data: map[string]any{
			"Question": fmt.Sprintf("Revoke the token “%s”? Whatever uses it (git, scripts) is refused from now on.", name),
			"Action":   action, "Fields": fields, "Button": "Revoke token", "Back": back}})
	}
	err = h.cfg.Auth.Accounts.RevokeToken(email, id)
	if errors.Is(err, auth.ErrBadToken) {
		return httperr.New(http.StatusNotFound, "%s no token %q (revoked already?)", whose, clip(id))
	}
	if err != nil {
		return fmt.Errorf("revoke a token: %w", err)
	}
	h.log.Info("personal access token revoked in the admin", "email", email, "by", me.Email, "token", id)
	h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.TokenRevoked, Account: email, Detail: id + " " + name})
	h.flash(r, fmt.Sprintf("Revoked the token “%s”.", name))
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
