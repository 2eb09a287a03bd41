package auth

import (
	"net/http"

	"github.com/chronicle-cms/chronicle/webui/seclog"
)

// SecurityLog records account events that are not content: sign-ins,
// failed ones, account, role, password and token changes, sessions
// ended. One node appends to a file (seclog.File); several will share
// a stream.
type SecurityLog interface {
	Record(e seclog.Event) error
}

// Record writes e to the security log, if there is one, filled in from
// r: the signed-in account as the actor (unless e names one), the
// client's address and via. A log that fails is reported in the daemon's
// log and does not undo or refuse what happened: the change is made
// already, and an unwritable disk must not lock every admin out.
func (au *Authenticator) Record(r *http.Request, via string, e seclog.Event) {
	if au.Security == nil {
		return
	}
	if e.Actor == "" {
		if a, ok := Principal(r); ok {
			e.Actor = a.Email
		}
	}
	if e.Client == "" && r != nil {
		e.Client = au.ClientAddr(r)
	}
	if e.Via == "" {
		e.Via = via
	}
	if err := au.Security.Record(e); err != nil && au.Log != nil {
		au.Log.Error("security log: an event could not be recorded", "type", e.Type, "account", e.Account, "err", err)
	}
}

// SignInFailed records a wrong email or password tried from r.
func (au *Authenticator) SignInFailed(r *http.Request, via, email string) {
	au.Record(r, via, seclog.Event{Type: seclog.SignInFailed, Account: NormalizeEmail(email), Method: seclog.MethodPassword})
}

// TokenFailed records an unknown or revoked personal access token tried
// from r (with email, over git). Only attempts within the address's
// budget are recorded: the log grows no faster than the budget allows.
func (au *Authenticator) TokenFailed(r *http.Request, via, email string) {
	au.Record(r, via, seclog.Event{Type: seclog.SignInFailed, Account: NormalizeEmail(email), Method: seclog.MethodToken})
}

// SignedIn records a's sign-in from r with a password.
func (au *Authenticator) SignedIn(r *http.Request, via string, a Account) {
	au.Record(r, via, seclog.Event{Type: seclog.SignIn, Actor: a.Email, Account: a.Email, Method: seclog.MethodPassword})
}
