// Package autosave keeps what an editor typed but has not saved, durably
// and outside the event log: one commit per autosave on a ref of the
// account's own (refs/autosave/<account>/<key>) in the site's repository,
// so it is backed up with everything else, survives a crash or a closed
// tab, and never reaches main, readers or the event stream. Saving the
// post for real discards it.
package autosave

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/repo"
)

// Prefix is where autosaves live; git clients never see these refs (the
// git endpoint hides them) and a push cannot move them (only main moves).
const Prefix = "refs/autosave/"

// file is the one file of an autosave commit's tree.
const file = "draft.json"

// Draft is an editor's unsaved form.
type Draft struct {
	// Fields are the form's fields as typed, by name (the API's JSON
	// names), each with its values.
	Fields map[string][]string `json:"fields"`
	// Base is the version (blob) of the post the editor started from; ""
	// for a post not created yet.
	Base string `json:"base"`
	// Saved is when it was autosaved (the commit's time).
	Saved time.Time `json:"-"`
}

// Store keeps drafts in r.
type Store struct {
	repo *repo.Repo
	now  func() time.Time
}

// New returns the store of r.
func New(r *repo.Repo) *Store { return &Store{repo: r, now: time.Now} }

var keyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$`)

// ValidKey reports whether key can name a draft: a post id, or the key of
// a post being written ("new-…").
func ValidKey(key string) bool { return keyRE.MatchString(key) }

// accountRef is the folder of an account's drafts: a digest of its
// email, which a ref name can always hold.
func accountRef(account string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(account))))
	return Prefix + hex.EncodeToString(sum[:8]) + "/"
}

func refOf(account, key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("autosave: %q cannot name a draft", key)
	}
	return accountRef(account) + key, nil
}

// Save records d as the account's draft under key, on top of the one
// before (a draft's history is the chain of its autosaves, until it is
// discarded).
func (s *Store) Save(ctx context.Context, account, key string, d Draft) error {
	ref, err := refOf(account, key)
	if err != nil {
		return err
	}
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("autosave: %w", err)
	}
	for attempt := 0; ; attempt++ {
		parent, err := s.repo.Ref(ref)
		if err != nil {
			return fmt.Errorf("autosave: %w", err)
		}
		_, err = s.repo.Commit(ctx, repo.CommitRequest{Ref: ref, Parent: parent, Message: "Autosave " + key,
			Changes: []repo.Change{{Path: file, Data: data}}, Author: repo.Signature{Name: "autosave", Email: "autosave@chronicle.invalid", When: s.now()}})
		if errors.Is(err, repo.ErrConflict) && attempt < 3 {
			continue // the same account's other tab saved meanwhile: the later one wins
		}
		if err != nil {
			return fmt.Errorf("autosave %s: %w", key, err)
		}
		return nil
	}
}

// Load returns the account's draft under key; ok is false if there is
// none.
func (s *Store) Load(account, key string) (d Draft, ok bool, err error) {
	ref, err := refOf(account, key)
	if err != nil {
		return Draft{}, false, err
	}
	h, err := s.repo.Ref(ref)
	if err != nil || h.IsZero() {
		return Draft{}, false, err
	}
	c, err := s.repo.ReadCommit(h)
	if err != nil {
		return Draft{}, false, fmt.Errorf("read autosave %s: %w", key, err)
	}
	b, _, err := s.repo.ReadFile(h, file)
	if err != nil {
		return Draft{}, false, fmt.Errorf("read autosave %s: %w", key, err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return Draft{}, false, fmt.Errorf("read autosave %s: %w", key, err)
	}
	d.Saved = c.Author.When
	return d, true, nil
}

// Discard removes the account's draft under key, if any.
func (s *Store) Discard(ctx context.Context, account, key string) error {
	ref, err := refOf(account, key)
	if err != nil {
		return err
	}
	h, err := s.repo.Ref(ref)
	if err != nil || h.IsZero() {
		return err
	}
	if err := s.repo.DeleteRef(ctx, ref, h); err != nil && !errors.Is(err, repo.ErrConflict) {
		return fmt.Errorf("discard autosave %s: %w", key, err)
	}
	return nil
}

// Keys lists the keys of the account's drafts.
func (s *Store) Keys(ctx context.Context, account string) ([]string, error) {
	refs, err := s.repo.Refs(ctx, accountRef(account))
	if err != nil {
		return nil, err
	}
	var keys []string
	for name := range refs {
		keys = append(keys, strings.TrimPrefix(name, accountRef(account)))
	}
	return keys, nil
}
