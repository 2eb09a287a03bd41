// Package auth holds accounts, password hashing, API tokens and login rate
// limits. Accounts live in <data>/accounts, one small file each, never in
// the content repository; they are read from disk on every login and every
// token check, so `chronicle user add` works while the daemon runs and a
// removed account or a changed role takes effect at once.
// Every HTTP area signs requests in through it: Authenticator (bearer
// tokens, Guard by role, the principal in the request's context), one
// sign-in policy (SignIns) and one idea of who the client is (ClientOf).
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
)

// Role is what an account may do: a preset of capabilities
// (events/policy, where every write is judged).
type Role = policy.Role

const (
	RoleContributor = policy.Contributor
	RoleAuthor      = policy.Author
	RoleEditor      = policy.Editor
	RoleAdmin       = policy.Admin
)

// RoleList names every role for a message: "contributor, author, editor
// or admin".
func RoleList() string {
	var b strings.Builder
	rs := policy.Roles()
	for i, r := range rs {
		switch {
		case i == len(rs)-1:
			b.WriteString(" or ")
		case i > 0:
			b.WriteString(", ")
		}
		b.WriteString(string(r))
	}
	return b.String()
}

// Account is one person who can sign in.
type Account struct {
	Email        string    `json:"email"`
	Name         string    `json:"name,omitempty"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"password_hash"`
	CreatedAt    time.Time `json:"created_at"`
	// Generation changes, to a new random value, whenever the password or
	// the role does: API tokens carry the generation they were issued
	// for and are refused once it is not the account's any more.
	Generation string `json:"generation,omitempty"`
	// Disabled: nothing signs in as it (password, provider, personal
	// access token), and its sessions and API tokens ended when it was
	// disabled; it keeps its history and can be enabled again.
	Disabled bool `json:"disabled,omitempty"`
}

var (
	// ErrNoAccount: no account with that email.
	ErrNoAccount = errors.New("no such account")
	// ErrBadPassword: the password does not match.
	ErrBadPassword = errors.New("wrong password")
	// ErrDisabled: the password is right but the account is disabled. It
	// is an ErrBadPassword to every caller that does not ask.
	ErrDisabled = fmt.Errorf("the account is disabled: %w", ErrBadPassword)
	// ErrExists: an account with that email exists already.
	ErrExists = errors.New("account exists")
)

// Store keeps accounts and their personal access tokens: in files in a
// folder (NewStore), or in a JetStream key-value bucket shared by every
// node (NewKVStore). It makes every decision; its records only keep.
type Store struct {
	rec    records
	params Argon2Params
	sem    chan struct{} // caps concurrent hashing: each takes Memory KiB
}

// Argon2Params tune the password hash; the defaults follow RFC 9106's
// second recommendation scaled to a small server.
type Argon2Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultArgon2 is used for new passwords.
var DefaultArgon2 = Argon2Params{Time: 3, Memory: 64 * 1024, Threads: 2}

// NewStore returns the store in dir.
func NewStore(dir string, p Argon2Params) *Store { return newStore(&fileRecords{dir: dir}, p) }

func newStore(rec records, p Argon2Params) *Store {
	if p == (Argon2Params{}) {
		p = DefaultArgon2
	}
	return &Store{rec: rec, params: p, sem: make(chan struct{}, max(1, runtime.NumCPU()))}
}

// NormalizeEmail is the form emails are compared in.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// ValidEmail is a sanity check, not RFC 5322.
func ValidEmail(e string) bool { return content.ValidEmail(e) }

// Get reads an account.
func (s *Store) Get(email string) (Account, error) { return s.rec.get(email) }

func newGeneration() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Add creates an account; replace allows overwriting an existing one
// (a password reset).
func (s *Store) Add(email, name string, role Role, password string, replace bool) (Account, error) {
	email = NormalizeEmail(email)
	if !ValidEmail(email) {
		return Account{}, fmt.Errorf("%q is not an email address", email)
	}
	if !role.Valid() {
		return Account{}, fmt.Errorf("role must be %s, not %q", RoleList(), role)
	}
	if err := checkPassword(password); err != nil {
		return Account{}, err
	}
	if _, err := s.Get(email); err == nil && !replace {
		return Account{}, fmt.Errorf("%s: %w", email, ErrExists)
	}
	// The slow hash is made before taking the lock.
	base := Account{Email: email, Name: name, Role: role, PasswordHash: s.hash(password),
		CreatedAt: time.Now().UTC().Truncate(time.Second), Generation: newGeneration()}
	var a Account
	err := s.rec.change(email, func(t *txn) error {
		a = base
		switch {
		case t.Exists && !replace:
			return fmt.Errorf("%s: %w", email, ErrExists)
		case t.Exists:
			a.CreatedAt, a.Disabled = t.Account.CreatedAt, t.Account.Disabled // a reset does not enable a disabled account
			if name == "" {
				a.Name = t.Account.Name
			}
		}
		t.Put(a)
		return nil
	})
	if err != nil {
		return Account{}, err
	}
	return a, nil
}

// AddExternal creates an account that signs in with an identity
// provider (OIDC) and has no password until someone sets one; it is
// ErrExists if the email has an account.
func (s *Store) AddExternal(email, name string, role Role) (Account, error) {
	email = NormalizeEmail(email)
	if !ValidEmail(email) {
		return Account{}, fmt.Errorf("%q is not an email address", email)
	}
	if !role.Valid() {
		return Account{}, fmt.Errorf("role must be %s, not %q", RoleList(), role)
	}
	a := Account{Email: email, Name: name, Role: role, CreatedAt: time.Now().UTC().Truncate(time.Second), Generation: newGeneration()}
	err := s.rec.change(email, func(t *txn) error {
		if t.Exists {
			return fmt.Errorf("%s: %w", email, ErrExists)
		}
		t.Put(a)
		return nil
	})
	if err != nil {
		return Account{}, err
	}
	return a, nil
}

// SetRole changes an account's role. Its API tokens are refused from then
// on: they were issued for the old role.
func (s *Store) SetRole(email string, role Role) (Account, error) {
	return s.SetRoleGuarded(email, role, Guard{})
}

// Remove deletes an account and its personal access tokens: nothing it
// signed in with works any more.
func (s *Store) Remove(email string) error { return s.RemoveGuarded(email, Guard{}) }

// Authenticate checks a password. The work done is the same whether or
// not the account exists, so timing does not reveal which emails exist.
func (s *Store) Authenticate(email, password string) (Account, error) {
	a, err := s.Get(email)
	if errors.Is(err, ErrNoAccount) {
		s.verify(dummyHash, password)
		return Account{}, ErrNoAccount
	}
	if err != nil {
		return Account{}, err
	}
	if a.PasswordHash == "" { // signs in with its provider only; the same work either way
		s.verify(dummyHash, password)
		return Account{}, ErrBadPassword
	}
	if !s.verify(a.PasswordHash, password) {
		return Account{}, ErrBadPassword
	}
	if a.Disabled {
		return Account{}, ErrDisabled
	}
	return a, nil
}

var dummyHash = "$argon2id$v=19$m=65536,t=3,p=2$c29tZXNhbHRzb21lc2FsdA$" + base64.RawStdEncoding.EncodeToString(make([]byte, 32))

func (s *Store) hash(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	p := s.params
	s.sem <- struct{}{}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	<-s.sem
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func (s *Store) verify(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	if p.Memory > 1<<20 || p.Time > 20 || p.Threads == 0 {
		return false // refuse hashes that would take the server down
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	s.sem <- struct{}{}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	<-s.sem
	return subtle.ConstantTimeCompare(got, want) == 1
}
