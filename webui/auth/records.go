package auth

import "errors"

// records is where a Store keeps its accounts and their personal access
// tokens: files in a folder on one node (fileRecords, the default), or a
// JetStream key-value bucket every node shares (kvRecords). The Store
// decides (passwords, generations, guards); records only keep, and make
// each change atomic against every other change.
type records interface {
	prepare() error
	get(email string) (Account, error)
	list() ([]Account, error) // with password hashes
	tokens(email string) ([]PersonalToken, error)
	// findToken returns the account holding the token with that id and
	// the account's tokens; ErrBadToken if none holds it.
	findToken(id string) (Account, []PersonalToken, error)
	// change runs fn on an account as it is and stores what fn decided,
	// atomically with respect to every other change. fn may run more
	// than once: a store shared by nodes runs it again when another
	// change won the race.
	change(email string, fn func(*txn) error) error
}

// txn is one change to an account: what is stored (Account, Exists, the
// tokens on demand, the enabled admins on demand) and what to store.
type txn struct {
	Account Account
	Exists  bool
	tokens  func() ([]PersonalToken, error)
	admins  func() ([]string, error)

	put       bool // store Account
	putTokens bool // store newTokens
	newTokens []PersonalToken
	remove    bool // delete the account and its tokens
}

// Tokens are the account's personal access tokens as stored.
func (t *txn) Tokens() ([]PersonalToken, error) { return t.tokens() }

// Admins are the enabled admins' emails: with a shared store, possibly
// fewer than there are (never more), so a guard on them errs on the
// side of keeping an admin.
func (t *txn) Admins() ([]string, error) { return t.admins() }

// Put stores a as the account.
func (t *txn) Put(a Account) { t.Account, t.put = a, true }

// PutTokens stores ts as the account's tokens.
func (t *txn) PutTokens(ts []PersonalToken) { t.newTokens, t.putTokens = ts, true }

// Remove deletes the account and its tokens.
func (t *txn) Remove() { t.remove = true }

// errNoChange ends a change that has nothing to store.
var errNoChange = errors.New("nothing to change")

// enabledAdmin reports whether a counts as an admin for the last-admin guard.
func enabledAdmin(a Account) bool { return a.Role == RoleAdmin && !a.Disabled }
