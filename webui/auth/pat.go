package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// TokenPrefix starts every personal access token, so they are easy to
// recognise (and to scan for in leaked text).
const TokenPrefix = "chr_"

// PersonalToken is a long-lived secret for git and scripts. Only its
// SHA-256 is stored; the secret is shown once, when it is made.
type PersonalToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsedAt is when the token last signed in (recorded at most once
	// per UsedEvery); nil: not since this was recorded.
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// UsedEvery is how finely a token's last use is recorded: a busy script's
// token rewrites its account's token file at most this often.
const UsedEvery = time.Hour

// ErrBadToken: no such token (or revoked).
var ErrBadToken = errors.New("unknown or revoked token")

// ErrTokenDisabled: the token is right but its account is disabled; an
// ErrBadToken to every caller that does not ask.
var ErrTokenDisabled = fmt.Errorf("the token's account is disabled: %w", ErrBadToken)

// CreateToken makes a personal access token for an account and returns
// its secret, which is not kept.
func (s *Store) CreateToken(email, name string) (PersonalToken, string, error) {
	a, err := s.Get(email)
	if err != nil {
		return PersonalToken{}, "", err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return PersonalToken{}, "", err
	}
	id := make([]byte, 6)
	rand.Read(id)
	t := PersonalToken{ID: hex.EncodeToString(id), Name: name, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	plain := TokenPrefix + t.ID + "_" + base64.RawURLEncoding.EncodeToString(secret)
	sum := sha256.Sum256([]byte(plain))
	t.Hash = hex.EncodeToString(sum[:])
	err = s.rec.change(a.Email, func(tx *txn) error {
		if !tx.Exists {
			return ErrNoAccount // removed meanwhile
		}
		ts, err := tx.Tokens()
		if err != nil {
			return err
		}
		tx.PutTokens(append(slices.Clone(ts), t))
		return nil
	})
	if err != nil {
		return PersonalToken{}, "", err
	}
	return t, plain, nil
}

// Tokens lists an account's tokens (without secrets).
func (s *Store) Tokens(email string) ([]PersonalToken, error) { return s.rec.tokens(email) }

// RevokeToken deletes a token; from then on it is refused.
func (s *Store) RevokeToken(email, id string) error {
	return s.rec.change(email, func(tx *txn) error {
		ts, err := tx.Tokens()
		if err != nil {
			return err
		}
		for i, t := range ts {
			if t.ID == id {
				tx.PutTokens(slices.Delete(slices.Clone(ts), i, i+1))
				return nil
			}
		}
		return fmt.Errorf("token %s: %w", id, ErrBadToken)
	})
}

// IsPersonalToken reports whether s has the form of a personal access
// token (whether or not it is one).
func IsPersonalToken(s string) bool { return strings.HasPrefix(s, TokenPrefix) }

// tokenID is the public part of a token, "chr_<id>_<secret>".
func tokenID(plain string) (string, bool) {
	rest, ok := strings.CutPrefix(plain, TokenPrefix)
	id, secret, ok2 := strings.Cut(rest, "_")
	return id, ok && ok2 && id != "" && secret != ""
}

// match returns the token of ts that plain is.
func match(ts []PersonalToken, id, plain string) (PersonalToken, bool) {
	sum := sha256.Sum256([]byte(plain))
	for _, t := range ts {
		if t.ID == id {
			want, _ := hex.DecodeString(t.Hash)
			if subtle.ConstantTimeCompare(sum[:], want) == 1 {
				return t, true
			}
		}
	}
	return PersonalToken{}, false
}

// used records that token t of email signed in now, unless that was
// recorded within UsedEvery. It is a record for the token's owner, not
// part of the check: failing to write it does not refuse the sign-in.
func (s *Store) used(email string, t PersonalToken) {
	now := time.Now().UTC().Truncate(time.Second)
	if t.LastUsedAt != nil && now.Sub(*t.LastUsedAt) < UsedEvery {
		return
	}
	_ = s.rec.change(email, func(tx *txn) error { // best effort, see above
		cur, err := tx.Tokens()
		if err != nil {
			return err
		}
		ts := slices.Clone(cur)
		for i := range ts {
			if ts[i].ID != t.ID {
				continue
			}
			if ts[i].LastUsedAt != nil && now.Sub(*ts[i].LastUsedAt) < UsedEvery {
				return errNoChange // recorded meanwhile
			}
			ts[i].LastUsedAt = &now
			tx.PutTokens(ts)
			return nil
		}
		return errNoChange // revoked meanwhile: it stays revoked
	})
}

// CheckToken returns the account a personal access token belongs to. The
// token file is read on every check, so a revocation applies at once.
func (s *Store) CheckToken(email, plain string) (Account, error) {
	a, err := s.Get(email)
	if err != nil {
		return Account{}, ErrBadToken
	}
	id, ok := tokenID(plain)
	if !ok {
		return Account{}, ErrBadToken
	}
	ts, err := s.rec.tokens(a.Email)
	if err != nil {
		return Account{}, err
	}
	return s.accept(a, ts, id, plain)
}

// FindToken returns the account a personal access token belongs to when
// only the token is known (an API bearer token).
func (s *Store) FindToken(plain string) (Account, error) {
	id, ok := tokenID(plain)
	if !ok {
		return Account{}, ErrBadToken
	}
	a, ts, err := s.rec.findToken(id)
	if err != nil {
		return Account{}, err
	}
	return s.accept(a, ts, id, plain)
}

// accept is a's answer to token plain (id its id) among a's tokens ts:
// refused unless one matches and a is enabled; a match is recorded as
// used.
func (s *Store) accept(a Account, ts []PersonalToken, id, plain string) (Account, error) {
	t, ok := match(ts, id, plain)
	if !ok {
		return Account{}, ErrBadToken
	}
	if a.Disabled {
		return Account{}, ErrTokenDisabled
	}
	s.used(a.Email, t)
	return a, nil
}
