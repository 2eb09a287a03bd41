package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chronicle-cms/chronicle/repo/atomicfile"
)

// fileRecords keeps accounts as files in a folder: <digest>.json per
// account and <digest>.tokens.json for its personal access tokens, the
// digest being of the normalized email. Changes hold the lock (lock.go).
type fileRecords struct {
	dir string
	mu  sync.Mutex // with the lock file, serialises changes (lock.go)
}

func (s *fileRecords) path(email string) string {
	sum := sha256.Sum256([]byte(NormalizeEmail(email)))
	return filepath.Join(s.dir, hex.EncodeToString(sum[:16])+".json")
}

func (s *fileRecords) get(email string) (Account, error) {
	a, err := s.read(s.path(email))
	if err != nil {
		return Account{}, err
	}
	if NormalizeEmail(a.Email) != NormalizeEmail(email) {
		return Account{}, ErrNoAccount
	}
	return a, nil
}

// read reads the account file at path.
func (s *fileRecords) read(path string) (Account, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Account{}, ErrNoAccount
	}
	if err != nil {
		return Account{}, fmt.Errorf("read account: %w", err)
	}
	var a Account
	if err := json.Unmarshal(b, &a); err != nil {
		return Account{}, fmt.Errorf("read account: %w", err)
	}
	return a, nil
}

func (s *fileRecords) write(a Account) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(s.path(a.Email), b, 0o600); err != nil {
		return fmt.Errorf("write account: %w", err)
	}
	return nil
}

func (s *fileRecords) list() ([]Account, error) {
	files, err := filepath.Glob(filepath.Join(s.dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	var out []Account
	for _, f := range files {
		if strings.HasSuffix(f, ".tokens.json") {
			continue
		}
		a, err := s.read(f)
		if errors.Is(err, ErrNoAccount) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("list accounts: %s: %w", filepath.Base(f), err)
		}
		if s.path(a.Email) != f {
			continue // not an account file this store wrote
		}
		out = append(out, a)
	}
	return out, nil
}

func (s *fileRecords) tokensPath(email string) string {
	return strings.TrimSuffix(s.path(email), ".json") + ".tokens.json"
}

func (s *fileRecords) tokens(email string) ([]PersonalToken, error) {
	b, err := os.ReadFile(s.tokensPath(email))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	var ts []PersonalToken
	if err := json.Unmarshal(b, &ts); err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	return ts, nil
}

func (s *fileRecords) writeTokens(email string, ts []PersonalToken) error {
	b, err := json.MarshalIndent(ts, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(s.tokensPath(email), b, 0o600); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	return nil
}

// findToken reads every account's token file, each a few hundred bytes:
// sites have few accounts.
func (s *fileRecords) findToken(id string) (Account, []PersonalToken, error) {
	files, err := filepath.Glob(filepath.Join(s.dir, "*.tokens.json"))
	if err != nil {
		return Account{}, nil, fmt.Errorf("find token: %w", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return Account{}, nil, fmt.Errorf("find token: %w", err)
		}
		if !strings.Contains(string(b), `"`+id+`"`) {
			continue
		}
		var ts []PersonalToken
		if err := json.Unmarshal(b, &ts); err != nil {
			return Account{}, nil, fmt.Errorf("find token: read %s: %w", filepath.Base(f), err)
		}
		if !holds(ts, id) {
			continue
		}
		af := strings.TrimSuffix(f, ".tokens.json") + ".json"
		a, err := s.read(af)
		if errors.Is(err, ErrNoAccount) || err == nil && s.path(a.Email) != af {
			return Account{}, nil, ErrBadToken
		}
		return a, ts, err
	}
	return Account{}, nil, ErrBadToken
}

func holds(ts []PersonalToken, id string) bool {
	for _, t := range ts {
		if t.ID == id {
			return true
		}
	}
	return false
}

func (s *fileRecords) change(email string, fn func(*txn) error) error {
	return s.locked(func() error {
		a, err := s.get(email)
		if err != nil && !errors.Is(err, ErrNoAccount) {
			return err
		}
		t := &txn{Account: a, Exists: err == nil,
			tokens: func() ([]PersonalToken, error) { return s.tokens(email) },
			admins: func() ([]string, error) {
				all, err := s.list()
				if err != nil {
					return nil, err
				}
				var out []string
				for _, o := range all {
					if enabledAdmin(o) {
						out = append(out, o.Email)
					}
				}
				return out, nil
			}}
		if err := fn(t); err != nil {
			if errors.Is(err, errNoChange) {
				return nil
			}
			return err
		}
		if t.remove {
			if err := os.Remove(s.tokensPath(email)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove tokens: %w", err)
			}
			if err := os.Remove(s.path(email)); err != nil {
				return fmt.Errorf("remove account: %w", err)
			}
			return atomicfile.SyncDir(s.dir)
		}
		if t.putTokens {
			if err := s.writeTokens(email, t.newTokens); err != nil {
				return err
			}
		}
		if t.put {
			return s.write(t.Account)
		}
		return nil
	})
}
