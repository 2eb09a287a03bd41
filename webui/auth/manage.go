package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// What the web admin needs to manage accounts: a list, a password change
// that keeps the role, and changes checked under the store's lock (so two
// admins demoting each other at once cannot leave the site without one,
// and a change decided on an account as it was is refused once it
// changed).

var (
	// ErrLastAdmin: the change would leave the site without an admin.
	ErrLastAdmin = errors.New("the site's last admin")
	// ErrStale: the account's password or role changed since the change
	// was decided on.
	ErrStale = errors.New("the account changed meanwhile")
)

// Guard is what a change checks under the lock, before it is made.
type Guard struct {
	// Generation the account must still have ("" checks nothing): the
	// one the form or the sign-in the change comes from saw.
	Generation string
	// KeepAdmin refuses to demote or remove the last admin.
	KeepAdmin bool
}

// check reports why g refuses changing the account of t (to role, ""
// for removing or disabling it).
func check(g Guard, t *txn, role Role) error {
	a := t.Account
	if g.Generation != "" && g.Generation != a.Generation {
		return fmt.Errorf("%s: %w", a.Email, ErrStale)
	}
	if !g.KeepAdmin || !enabledAdmin(a) || role == RoleAdmin {
		return nil
	}
	admins, err := t.Admins()
	if err != nil {
		return err
	}
	for _, o := range admins {
		if o != a.Email {
			return nil
		}
	}
	return fmt.Errorf("%s: %w", a.Email, ErrLastAdmin)
}

// List returns every account, by email, without password hashes.
func (s *Store) List() ([]Account, error) {
	out, err := s.rec.list()
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].PasswordHash = ""
	}
	slices.SortFunc(out, func(a, b Account) int { return strings.Compare(a.Email, b.Email) })
	return out, nil
}

// SetRoleGuarded changes an account's role, as SetRole, if g allows it.
func (s *Store) SetRoleGuarded(email string, role Role, g Guard) (Account, error) {
	if !role.Valid() {
		return Account{}, fmt.Errorf("role must be %s, not %q", RoleList(), role)
	}
	var a Account
	err := s.rec.change(email, func(t *txn) error {
		if !t.Exists {
			return ErrNoAccount
		}
		if err := check(g, t, role); err != nil {
			return err
		}
		a = t.Account
		a.Role, a.Generation = role, newGeneration()
		t.Put(a)
		return nil
	})
	return a, err
}

// SetDisabled disables an account (or enables it again), if g allows
// it: disabled, nothing signs in as it, and its sessions and API tokens
// end at once (a new generation); its personal access tokens are kept,
// refused while it is disabled. The last enabled admin is not disabled
// under KeepAdmin.
func (s *Store) SetDisabled(email string, disabled bool, g Guard) (Account, error) {
	var a Account
	err := s.rec.change(email, func(t *txn) error {
		if !t.Exists {
			return ErrNoAccount
		}
		a = t.Account
		role := a.Role
		if disabled {
			role = "" // as if it were removed
		}
		if err := check(g, t, role); err != nil {
			return err
		}
		if a.Disabled == disabled {
			return errNoChange
		}
		a.Disabled, a.Generation = disabled, newGeneration()
		t.Put(a)
		return nil
	})
	return a, err
}

// RemoveGuarded removes an account, as Remove, if g allows it.
func (s *Store) RemoveGuarded(email string, g Guard) error {
	return s.rec.change(email, func(t *txn) error {
		if !t.Exists {
			return ErrNoAccount
		}
		if err := check(g, t, ""); err != nil {
			return err
		}
		t.Remove()
		return nil
	})
}

// SetPassword replaces an account's password, keeping its name and role,
// if g allows it. As with every password change, the account's sessions
// and API tokens (not its personal access tokens) end.
func (s *Store) SetPassword(email, password string, g Guard) (Account, error) {
	if err := checkPassword(password); err != nil {
		return Account{}, err
	}
	hash := s.hash(password) // the slow hash, before taking the lock
	var a Account
	err := s.rec.change(email, func(t *txn) error {
		if !t.Exists {
			return ErrNoAccount
		}
		if err := check(g, t, t.Account.Role); err != nil {
			return err
		}
		a = t.Account
		a.PasswordHash, a.Generation = hash, newGeneration()
		t.Put(a)
		return nil
	})
	return a, err
}

// Password lengths, in characters.
const (
	MinPassword = 10
	MaxPassword = 1024
)

func checkPassword(pw string) error {
	if n := len([]rune(pw)); n < MinPassword || n > MaxPassword {
		return fmt.Errorf("a password needs %d to %d characters, this one has %d", MinPassword, MaxPassword, n)
	}
	return nil
}

// GeneratePassword makes a random password (130 bits: 26 characters of
// base32) for someone to be given once and to change.
func GeneratePassword() string { return rand.Text() }
