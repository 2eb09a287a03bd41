package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/nats-io/nats.go/jetstream"
)

// AccountsBucket is the JetStream key-value bucket of accounts shared by
// every node of a site on an external NATS.
const AccountsBucket = "CHRONICLE_ACCOUNTS"

// kvRecords keeps accounts in a JetStream key-value bucket, read through
// on every call (no cache: a disabled account is refused on every node
// from the next request). Keys:
//
//	a.<digest>  an account and its personal access tokens (kvRecord),
//	            the digest being the one the account files are named by
//	pat.<id>    the digest of the account holding token <id>: a lookup
//	            aid, checked against the account's record
//	admins      the enabled admins, for the last-admin guard
//
// A change reads a key with its revision and writes it back only if the
// revision is still the same (KV Update), running again if not: this,
// not a lock file, is what keeps two nodes from losing each other's
// changes. The admins list is what makes "never the last admin" hold
// across accounts: an admin stepping down (demoted, disabled, removed)
// takes itself off the list, compare-and-swap, before its record changes,
// and joins it only after, so the list never names more admins than
// there are and two admins stepping down at once cannot both succeed.
type kvRecords struct {
	kv      jetstream.KeyValue
	timeout time.Duration
}

type kvRecord struct {
	Account Account         `json:"account"`
	Tokens  []PersonalToken `json:"tokens,omitempty"`
}

const adminsKey = "admins"

// NewKVStore returns a store in the accounts bucket of js, creating the
// bucket if needed.
func NewKVStore(ctx context.Context, js jetstream.JetStream, p Argon2Params, replicas int) (*Store, error) {
	kv, err := bus.OpenKeyValue(ctx, js, jetstream.KeyValueConfig{Bucket: AccountsBucket, History: 1, Replicas: replicas,
		Storage: jetstream.FileStorage, Description: "accounts and their personal access tokens"})
	if err != nil {
		return nil, fmt.Errorf("open the accounts bucket: %w", err)
	}
	return newStore(&kvRecords{kv: kv, timeout: 10 * time.Second}, p), nil
}

func digest(email string) string {
	sum := sha256.Sum256([]byte(NormalizeEmail(email)))
	return hex.EncodeToString(sum[:16])
}

func accountKey(email string) string { return "a." + digest(email) }

// conflict reports whether err says a compare-and-swap lost a race.
func conflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

func (r *kvRecords) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), r.timeout)
}

func (r *kvRecords) prepare() error { return nil }

// load reads the record at key and its revision; ErrNoAccount if none.
func (r *kvRecords) load(ctx context.Context, key string) (kvRecord, uint64, error) {
	e, err := r.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return kvRecord{}, 0, ErrNoAccount
	}
	if err != nil {
		return kvRecord{}, 0, fmt.Errorf("read account: %w", err)
	}
	var rec kvRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return kvRecord{}, 0, fmt.Errorf("read account: %w", err)
	}
	return rec, e.Revision(), nil
}

func (r *kvRecords) get(email string) (Account, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	rec, _, err := r.load(ctx, accountKey(email))
	if err != nil {
		return Account{}, err
	}
	if NormalizeEmail(rec.Account.Email) != NormalizeEmail(email) {
		return Account{}, ErrNoAccount
	}
	return rec.Account, nil
}

func (r *kvRecords) tokens(email string) ([]PersonalToken, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	rec, _, err := r.load(ctx, accountKey(email))
	if errors.Is(err, ErrNoAccount) {
		return nil, nil
	}
	return rec.Tokens, err
}

func (r *kvRecords) list() ([]Account, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	w, err := r.kv.Watch(ctx, "a.*", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer w.Stop()
	var out []Account
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("list accounts: %w", ctx.Err())
		case e := <-w.Updates():
			if e == nil { // every current value was sent
				return out, nil
			}
			var rec kvRecord
			if err := json.Unmarshal(e.Value(), &rec); err != nil {
				return nil, fmt.Errorf("list accounts: %s: %w", e.Key(), err)
			}
			out = append(out, rec.Account)
		}
	}
}

func (r *kvRecords) findToken(id string) (Account, []PersonalToken, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	e, err := r.kv.Get(ctx, "pat."+id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return Account{}, nil, ErrBadToken
	}
	if err != nil {
		return Account{}, nil, fmt.Errorf("find token: %w", err)
	}
	rec, _, err := r.load(ctx, "a."+string(e.Value()))
	if errors.Is(err, ErrNoAccount) || err == nil && !holds(rec.Tokens, id) {
		return Account{}, nil, ErrBadToken // removed or revoked: the index lags
	}
	return rec.Account, rec.Tokens, err
}

// admins reads the enabled admins and the list's revision, making the
// list from the accounts the first time.
func (r *kvRecords) admins(ctx context.Context) ([]string, uint64, error) {
	for {
		e, err := r.kv.Get(ctx, adminsKey)
		if err == nil {
			var l []string
			if err := json.Unmarshal(e.Value(), &l); err != nil {
				return nil, 0, fmt.Errorf("read the admins: %w", err)
			}
			return l, e.Revision(), nil
		}
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, 0, fmt.Errorf("read the admins: %w", err)
		}
		all, err := r.list()
		if err != nil {
			return nil, 0, err
		}
		var l []string
		for _, a := range all {
			if enabledAdmin(a) {
				l = append(l, a.Email)
			}
		}
		b, _ := json.Marshal(l)
		rev, err := r.kv.Create(ctx, adminsKey, b)
		if conflict(err) {
			continue // made meanwhile
		}
		if err != nil {
			return nil, 0, fmt.Errorf("write the admins: %w", err)
		}
		return l, rev, nil
	}
}

// putAdmins writes the admins list if it still has revision rev.
func (r *kvRecords) putAdmins(ctx context.Context, l []string, rev uint64) error {
	b, _ := json.Marshal(l)
	_, err := r.kv.Update(ctx, adminsKey, b, rev)
	return err
}

// joinAdmins puts email on the admins list (after its record made it one).
func (r *kvRecords) joinAdmins(ctx context.Context, email string) error {
	for {
		l, rev, err := r.admins(ctx)
		if err != nil {
			return err
		}
		if slices.Contains(l, email) {
			return nil
		}
		err = r.putAdmins(ctx, append(l, email), rev)
		if !conflict(err) {
			return err
		}
	}
}

// maxAttempts bounds how often a change runs again after losing a race.
const maxAttempts = 50

func (r *kvRecords) change(email string, fn func(*txn) error) error {
	email = NormalizeEmail(email)
	key := accountKey(email)
	ctx, cancel := r.ctx()
	defer cancel()
	for range maxAttempts {
		rec, rev, err := r.load(ctx, key)
		exists := err == nil
		if exists && NormalizeEmail(rec.Account.Email) != email {
			return fmt.Errorf("account key %s holds another email", key)
		}
		if err != nil && !errors.Is(err, ErrNoAccount) {
			return err
		}
		var (
			admins    []string
			adminsRev uint64
			adminsErr error
			adminsOK  bool
		)
		readAdmins := func() ([]string, error) {
			if !adminsOK {
				admins, adminsRev, adminsErr = r.admins(ctx)
				adminsOK = true
			}
			return admins, adminsErr
		}
		t := &txn{Account: rec.Account, Exists: exists, admins: readAdmins,
			tokens: func() ([]PersonalToken, error) { return rec.Tokens, nil }}
		if err := fn(t); err != nil {
			if errors.Is(err, errNoChange) {
				return nil
			}
			return err
		}
		next := rec
		if t.put {
			next.Account = t.Account
		}
		if t.putTokens {
			next.Tokens = t.newTokens
		}
		was := exists && enabledAdmin(rec.Account)
		is := !t.remove && (exists || t.put) && enabledAdmin(next.Account)
		if was && !is { // off the admins list first (see kvRecords)
			if _, err := readAdmins(); err != nil {
				return err
			}
			err := r.putAdmins(ctx, slices.DeleteFunc(slices.Clone(admins), func(e string) bool { return e == email }), adminsRev)
			if conflict(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("write the admins: %w", err)
			}
		}
		for _, tk := range next.Tokens {
			if !holds(rec.Tokens, tk.ID) && !t.remove { // index a new token before it can be used
				if _, err := r.kv.Put(ctx, "pat."+tk.ID, []byte(digest(email))); err != nil {
					return fmt.Errorf("write tokens: %w", err)
				}
			}
		}
		switch b, _ := json.Marshal(next); {
		case t.remove:
			err = r.kv.Delete(ctx, key, jetstream.LastRevision(rev))
		case exists:
			_, err = r.kv.Update(ctx, key, b, rev)
		default:
			_, err = r.kv.Create(ctx, key, b)
		}
		if conflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("write account: %w", err)
		}
		for _, tk := range rec.Tokens { // the index of tokens gone; it is checked anyway
			if t.remove || !holds(next.Tokens, tk.ID) {
				_ = r.kv.Delete(ctx, "pat."+tk.ID)
			}
		}
		if !was && is {
			if err := r.joinAdmins(ctx, email); err != nil {
				return fmt.Errorf("write the admins: %w", err)
			}
		}
		return nil
	}
	return fmt.Errorf("change account %s: %d attempts lost to other changes", email, maxAttempts)
}

// Import copies every account of from (with its tokens) that s does not
// have, and reports how many it copied: the first start of a site's
// nodes on a shared store, from the files one node kept.
func (s *Store) Import(from *Store) (int, error) {
	all, err := from.rec.list()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range all {
		ts, err := from.rec.tokens(a.Email)
		if err != nil {
			return n, err
		}
		copied := false
		err = s.rec.change(a.Email, func(t *txn) error {
			copied = false
			if t.Exists {
				return errNoChange
			}
			t.Put(a)
			t.PutTokens(ts)
			copied = true
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("import %s: %w", a.Email, err)
		}
		if copied {
			n++
		}
	}
	return n, nil
}
