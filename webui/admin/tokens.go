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
	ts, err := h.cfg.Auth.Accounts.Tokens(me.Email)
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
		return httperr.New(http.StatusNotFound, "you have no token %q (revoked already?)", clip(id))
	}
	if r.PostForm.Get("confirm") != "yes" {
		return h.render(w, r, http.StatusOK, "confirm", page{Title: "Revoke token?", Section: "tokens", Data: map[string]any{
			"Question": fmt.Sprintf("Revoke the token “%s”? Whatever uses it (git, scripts) is refused from now on.", name),
			"Action":   "/admin/tokens/" + url.PathEscape(id) + "/revoke", "Fields": map[string]string{},
			"Button": "Revoke token", "Back": "/admin/tokens"}})
	}
	err = h.cfg.Auth.Accounts.RevokeToken(me.Email, id)
	if errors.Is(err, auth.ErrBadToken) {
		return httperr.New(http.StatusNotFound, "you have no token %q (revoked already?)", clip(id))
	}
	if err != nil {
		return fmt.Errorf("revoke a token: %w", err)
	}
	h.log.Info("personal access token revoked in the admin", "email", me.Email, "token", id)
	h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.TokenRevoked, Account: me.Email, Detail: id + " " + name})
	h.flash(r, fmt.Sprintf("Revoked the token “%s”.", name))
	http.Redirect(w, r, "/admin/tokens", http.StatusSeeOther)
	return nil
}
