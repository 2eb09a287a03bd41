package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/seclog"
)

// Accounts (admins only): list, add, change a role, reset a password,
// remove. Accounts are not content: they live in the accounts store, not
// in git, so these pages call the store (as `chronicle user …` does), and
// a change takes effect on the account's next request: its sessions end
// (session.go checks the generation), as do its API tokens.

// minPassword is the admin's password rule, stricter than the store's
// floor (which the CLI keeps for scripts).
const minPassword = 12

// maxName bounds an account's display name.
const maxName = 100

// passwordRule is the hint beside every new password field.
var passwordRule = fmt.Sprintf("at least %d characters", minPassword)

// checkNewPassword puts what is wrong with a new password beside field.
func checkNewPassword(f *form, field, pw string) {
	switch n := len([]rune(pw)); {
	case n < minPassword:
		f.fail(field, fmt.Sprintf("A password needs at least %d characters; this one has %d.", minPassword, n))
	case n > auth.MaxPassword:
		f.fail(field, fmt.Sprintf("A password has at most %d characters; this one has %d.", auth.MaxPassword, n))
	}
}

// accountsData is what the accounts page shows besides its form.
type accountsData struct {
	Accounts []auth.Account
	Roles    []roleChoice
	Rule     string
}

// roleChoice is a role as the role select offers it: what it may do,
// in a line.
type roleChoice struct {
	Role        auth.Role
	Description string
}

// roleLines say what each role may do (policy's presets, in words).
var roleLines = map[policy.Role]string{
	policy.Contributor: "writes posts as drafts and submits them for review; publishes nothing",
	policy.Author:      "writes and publishes own posts, uploads media, uses git",
	policy.Editor:      "all content: every post and upload, reviews, categories, profile, history, reverts",
	policy.Admin:       "everything an editor does, and the site's settings, accounts and rollbacks",
}

// roles are every role, least first.
func roles() []roleChoice {
	var out []roleChoice
	for _, r := range policy.Roles() {
		out = append(out, roleChoice{Role: r, Description: roleLines[r]})
	}
	return out
}

// roleProblem is what a role select says of a role it does not know.
const roleProblem = "Choose a role: contributor, author, editor or admin."

func (h *handler) accountsPage(w http.ResponseWriter, r *http.Request, status int, f *form) error {
	list, err := h.cfg.Auth.Accounts.List()
	if err != nil {
		return fmt.Errorf("list accounts: %w", err)
	}
	return h.render(w, r, status, "accounts", page{Title: "Accounts", Section: "accounts", Form: f,
		Data: accountsData{Accounts: list, Roles: roles(), Rule: passwordRule}})
}

// accounts lists the accounts, with the form to add one.
func (h *handler) accounts(w http.ResponseWriter, r *http.Request) error {
	return h.accountsPage(w, r, http.StatusOK, newForm(url.Values{"role": {string(auth.RoleEditor)}}))
}

// parseSmallForm reads a form of a few short fields.
func parseSmallForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return httperr.New(http.StatusBadRequest, "the form could not be read: nothing was changed")
	}
	return nil
}

// secretData is a page that shows a secret once: a generated password
// or a new personal access token.
type secretData struct {
	Label, Secret, Usage, Back, BackText string
}

// addAccount adds an account with the password given, or a generated
// one shown once on the answer.
func (h *handler) addAccount(w http.ResponseWriter, r *http.Request) error {
	if err := parseSmallForm(w, r); err != nil {
		return err
	}
	// The password is not sent back: the form keeps everything else.
	f := newForm(url.Values{"email": {r.PostForm.Get("email")}, "name": {r.PostForm.Get("name")}, "role": {r.PostForm.Get("role")}})
	email := auth.NormalizeEmail(f.Value("email"))
	name := strings.TrimSpace(f.Value("name"))
	role := auth.Role(f.Value("role"))
	pw := r.PostForm.Get("password")
	switch {
	case email == "":
		f.fail("email", "Enter the email address the person signs in with.")
	case !auth.ValidEmail(email):
		f.fail("email", fmt.Sprintf("“%s” is not an email address.", clip(email)))
	}
	if n := len([]rune(name)); n > maxName {
		f.fail("name", fmt.Sprintf("A name has at most %d characters; this one has %d.", maxName, n))
	}
	if !role.Valid() {
		f.fail("role", roleProblem)
	}
	generated := pw == ""
	if generated {
		pw = auth.GeneratePassword()
	} else {
		checkNewPassword(f, "password", pw)
	}
	if f.failed() {
		return h.accountsPage(w, r, http.StatusUnprocessableEntity, f)
	}
	a, err := h.cfg.Auth.Accounts.Add(email, name, role, pw, false)
	if errors.Is(err, auth.ErrExists) {
		f.fail("email", "There is already an account with this email address.")
		return h.accountsPage(w, r, http.StatusConflict, f)
	}
	if err != nil {
		return fmt.Errorf("add an account: %w", err)
	}
	by, _ := auth.Principal(r)
	h.log.Info("account added in the admin", "email", a.Email, "role", a.Role, "by", by.Email)
	h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.AccountCreated, Account: a.Email, Detail: string(a.Role)})
	if generated {
		return h.render(w, r, http.StatusCreated, "secret", page{Title: "Account added", Section: "accounts", Data: secretData{
			Label: "Password for " + a.Email, Secret: pw, Back: "/admin/accounts", BackText: "Back to the accounts",
			Usage: "Give it to them by a safe way; they sign in at /admin/ with it and can change it under “Password”."}})
	}
	h.flash(r, fmt.Sprintf("Added %s (%s).", a.Email, a.Role))
	http.Redirect(w, r, "/admin/accounts", http.StatusSeeOther)
	return nil
}

// accountURL is the page of one account.
func accountURL(email string) string { return "/admin/accounts/edit?email=" + url.QueryEscape(email) }

// accountData is what one account's page shows besides its form.
type accountData struct {
	Account   auth.Account
	Tokens    []auth.PersonalToken // its personal access tokens (no secrets)
	Self      bool                 // the account signed in
	LastAdmin bool                 // the site's only admin
	Roles     []roleChoice
	Rule      string
}

// accountPage shows one account with its forms; f holds what was sent
// (or the account as it is).
func (h *handler) accountPage(w http.ResponseWriter, r *http.Request, status int, a auth.Account, f *form) error {
	last, err := h.lastAdmin(a)
	if err != nil {
		return err
	}
	me, _ := auth.Principal(r)
	a.PasswordHash = ""
	if f.Value("role") == "" {
		f.values.Set("role", string(a.Role))
	}
	if !f.values.Has("version") {
		f.values.Set("version", a.Generation)
	}
	tokens, err := h.cfg.Auth.Accounts.Tokens(a.Email)
	if err != nil {
		return fmt.Errorf("list the tokens of %s: %w", a.Email, err)
	}
	return h.render(w, r, status, "account", page{Title: a.Email, Section: "accounts", Form: f, Data: accountData{
		Account: a, Tokens: tokens, Self: a.Email == me.Email, LastAdmin: last, Roles: roles(), Rule: passwordRule}})
}

// lastAdmin reports whether a is the site's only admin: the only
// account that may manage accounts.
func (h *handler) lastAdmin(a auth.Account) (bool, error) {
	if !a.Role.Can(policy.ManageAccounts) {
		return false, nil
	}
	list, err := h.cfg.Auth.Accounts.List()
	if err != nil {
		return false, fmt.Errorf("list accounts: %w", err)
	}
	for _, o := range list {
		if o.Role.Can(policy.ManageAccounts) && o.Email != a.Email {
			return false, nil
		}
	}
	return true, nil
}

// lookUp reads the account a form or a link names.
func (h *handler) lookUp(email string) (auth.Account, error) {
	a, err := h.cfg.Auth.Accounts.Get(email)
	if errors.Is(err, auth.ErrNoAccount) {
		return a, httperr.New(http.StatusNotFound, "there is no account %q (removed meanwhile?)", clip(email))
	}
	if err != nil {
		return a, fmt.Errorf("read account: %w", err)
	}
	return a, nil
}

// editAccount shows one account: its role, a password reset, removal.
func (h *handler) editAccount(w http.ResponseWriter, r *http.Request) error {
	a, err := h.lookUp(r.URL.Query().Get("email"))
	if err != nil {
		return err
	}
	return h.accountPage(w, r, http.StatusOK, a, newForm(nil))
}

// accountForm reads the form of one account's page: the account (as it
// is now), the form as sent, and the generation it was filled from.
func (h *handler) accountForm(w http.ResponseWriter, r *http.Request) (auth.Account, *form, error) {
	if err := parseSmallForm(w, r); err != nil {
		return auth.Account{}, nil, err
	}
	a, err := h.lookUp(r.PostForm.Get("email"))
	if err != nil {
		return a, nil, err
	}
	f := newForm(url.Values{"role": {r.PostForm.Get("role")}})
	if r.PostForm.Has("version") {
		f.values.Set("version", r.PostForm.Get("version"))
	}
	return a, f, nil
}

// refused shows an account's page again with the store's refusal of a
// change beside field, or reports false for an error that is not the
// user's to fix.
func (h *handler) refused(w http.ResponseWriter, r *http.Request, a auth.Account, f *form, field string, err error) (bool, error) {
	switch {
	case errors.Is(err, auth.ErrLastAdmin):
		f.fail(field, "This is the site's only admin, and the site must keep one: make another account admin first.")
		return true, h.accountPage(w, r, http.StatusConflict, a, f)
	case errors.Is(err, auth.ErrStale):
		f.fail("", "This account's password or role changed after you opened this page, so nothing was changed. Here it is as it is now: decide again.")
		// The forms are filled again from the account as it is now.
		f.values.Del("role")
		f.values.Del("version")
		return true, h.accountPage(w, r, http.StatusPreconditionFailed, a, f)
	}
	return false, nil
}

// lacksVersion refuses a form without the generation it was filled from:
// without it, a change could undo one made meanwhile.
func (h *handler) lacksVersion(w http.ResponseWriter, r *http.Request, a auth.Account, f *form) (bool, error) {
	if f.values.Has("version") {
		return false, nil
	}
	f.fail("", "This form lacks the account's version: open the account again and redo your change.")
	return true, h.accountPage(w, r, http.StatusPreconditionRequired, a, f)
}

// changed says a change to account a was made; a change to the signed-in
// account keeps its session (with a new token, for the new generation),
// where every other session of the account ends.
func (h *handler) changed(r *http.Request, a auth.Account, msg string) error {
	if me, _ := auth.Principal(r); me.Email == a.Email {
		if err := h.keepSession(r, a); err != nil {
			return err
		}
		msg += " Your other sessions have ended; this one goes on."
	} else {
		msg += " Their sessions have ended."
	}
	h.flash(r, msg)
	return nil
}

// setRole changes an account's role, unless it is the last admin's.
func (h *handler) setRole(w http.ResponseWriter, r *http.Request) error {
	a, f, err := h.accountForm(w, r)
	if err != nil {
		return err
	}
	role := auth.Role(f.Value("role"))
	if !role.Valid() {
		f.fail("role", roleProblem)
		return h.accountPage(w, r, http.StatusUnprocessableEntity, a, f)
	}
	if stop, err := h.lacksVersion(w, r, a, f); stop {
		return err
	}
	if role == a.Role && f.Value("version") == a.Generation {
		h.flash(r, fmt.Sprintf("No change: %s is %s already.", a.Email, a.Role))
		http.Redirect(w, r, accountURL(a.Email), http.StatusSeeOther)
		return nil
	}
	changed, err := h.cfg.Auth.Accounts.SetRoleGuarded(a.Email, role, auth.Guard{Generation: f.Value("version"), KeepAdmin: true})
	if err != nil {
		if ok, err := h.refused(w, r, a, f, "role", err); ok {
			return err
		}
		return fmt.Errorf("change the role of %s: %w", a.Email, err)
	}
	by, _ := auth.Principal(r)
	h.log.Info("account role changed in the admin", "email", a.Email, "role", role, "by", by.Email)
	h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.RoleChanged, Account: a.Email, Detail: string(a.Role) + " → " + string(changed.Role)})
	if err := h.changed(r, changed, fmt.Sprintf("%s is now %s.", changed.Email, changed.Role)); err != nil {
		return err
	}
	to := accountURL(a.Email)
	if by.Email == a.Email && !role.Can(policy.ManageAccounts) {
		to = "/admin/" // this page is no longer the account's to see
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// disableAccount disables an account, or enables it again ("enable"):
// disabled, nothing signs in as it and its sessions and tokens stop at
// once. An admin cannot disable their own account, nor the last admin.
func (h *handler) disableAccount(w http.ResponseWriter, r *http.Request) error {
	a, f, err := h.accountForm(w, r)
	if err != nil {
		return err
	}
	if stop, err := h.lacksVersion(w, r, a, f); stop {
		return err
	}
	disable := f.Value("action") != "enable"
	if me, _ := auth.Principal(r); me.Email == a.Email && disable {
		f.fail("disable", "You cannot disable your own account: ask another admin.")
		return h.accountPage(w, r, http.StatusConflict, a, f)
	}
	changed, err := h.cfg.Auth.Accounts.SetDisabled(a.Email, disable, auth.Guard{Generation: f.Value("version"), KeepAdmin: true})
	if err != nil {
		if ok, err := h.refused(w, r, a, f, "disable", err); ok {
			return err
		}
		return fmt.Errorf("disable %s: %w", a.Email, err)
	}
	typ, msg := seclog.AccountEnabled, changed.Email+" is enabled again."
	if disable {
		typ, msg = seclog.AccountDisabled, changed.Email+" is disabled: nothing signs in as it."
	}
	h.cfg.Auth.Record(r, "admin", seclog.Event{Type: typ, Account: a.Email})
	if err := h.changed(r, changed, msg); err != nil {
		return err
	}
	http.Redirect(w, r, accountURL(a.Email), http.StatusSeeOther)
	return nil
}

// resetPassword gives an account a new password: the one entered, or a
// generated one shown once on the answer.
func (h *handler) resetPassword(w http.ResponseWriter, r *http.Request) error {
	a, f, err := h.accountForm(w, r)
	if err != nil {
		return err
	}
	pw := r.PostForm.Get("password")
	generated := pw == ""
	if generated {
		pw = auth.GeneratePassword()
	} else if checkNewPassword(f, "password", pw); f.failed() {
		return h.accountPage(w, r, http.StatusUnprocessableEntity, a, f)
	}
	if stop, err := h.lacksVersion(w, r, a, f); stop {
		return err
	}
	changed, err := h.cfg.Auth.Accounts.SetPassword(a.Email, pw, auth.Guard{Generation: f.Value("version")})
	if err != nil {
		if ok, err := h.refused(w, r, a, f, "password", err); ok {
			return err
		}
		return fmt.Errorf("reset the password of %s: %w", a.Email, err)
	}
	by, _ := auth.Principal(r)
	h.log.Info("account password reset in the admin", "email", a.Email, "by", by.Email)
	h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.PasswordChanged, Account: a.Email, Detail: "reset by an admin"})
	if err := h.changed(r, changed, fmt.Sprintf("The password of %s was reset.", changed.Email)); err != nil {
		return err
	}
	if generated {
		return h.render(w, r, http.StatusOK, "secret", page{Title: "Password reset", Section: "accounts", Data: secretData{
			Label: "New password for " + changed.Email, Secret: pw, Back: accountURL(changed.Email), BackText: "Back to the account",
			Usage: "Give it to the account's owner by a safe way. Its personal access tokens still work: revoking them is up to its owner (or remove the account)."}})
	}
	http.Redirect(w, r, accountURL(a.Email), http.StatusSeeOther)
	return nil
}

// removeAccount asks first (a page, so it works without JavaScript),
// then removes the account and its personal access tokens.
func (h *handler) removeAccount(w http.ResponseWriter, r *http.Request) error {
	a, f, err := h.accountForm(w, r)
	if err != nil {
		return err
	}
	if stop, err := h.lacksVersion(w, r, a, f); stop {
		return err
	}
	guard := auth.Guard{Generation: f.Value("version"), KeepAdmin: true}
	me, _ := auth.Principal(r)
	if r.PostForm.Get("confirm") != "yes" {
		// The last admin is refused now rather than after the question.
		if last, err := h.lastAdmin(a); err != nil || last {
			if err != nil {
				return err
			}
			_, err := h.refused(w, r, a, f, "remove", auth.ErrLastAdmin)
			return err
		}
		q := fmt.Sprintf("Remove the account %s? Its sessions, API tokens and personal access tokens stop working at once. What it wrote stays.", a.Email)
		if a.Email == me.Email {
			q = "Remove your own account? You are signed out at once, and your personal access tokens stop working. What you wrote stays."
		}
		return h.render(w, r, http.StatusOK, "confirm", page{Title: "Remove account?", Section: "accounts", Data: map[string]any{
			"Question": q, "Action": "/admin/accounts/remove", "Fields": map[string]string{"email": a.Email, "version": f.Value("version")},
			"Button": "Remove account", "Back": accountURL(a.Email)}})
	}
	if err := h.cfg.Auth.Accounts.RemoveGuarded(a.Email, guard); err != nil {
		if ok, err := h.refused(w, r, a, f, "remove", err); ok {
			return err
		}
		return fmt.Errorf("remove account %s: %w", a.Email, err)
	}
	h.log.Info("account removed in the admin", "email", a.Email, "by", me.Email)
	h.cfg.Auth.Record(r, "admin", seclog.Event{Type: seclog.AccountRemoved, Account: a.Email})
	if a.Email == me.Email {
		http.Redirect(w, r, "/admin/login", http.StatusSeeOther) // this session ended with the account
		return nil
	}
	h.flash(r, fmt.Sprintf("Removed %s: its sessions and tokens have ended.", a.Email))
	http.Redirect(w, r, "/admin/accounts", http.StatusSeeOther)
	return nil
}
