package auth

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Rotation says how RotateKey treats the keys it replaces.
type Rotation struct {
	// DropOld drops every key but the new one: tokens they signed are
	// refused at once (a key that leaked), rather than when they expire.
	DropOld bool
}

// RotateKey makes a new key the signing one, in the key set every user
// of the same keys reads (the data directory's files, or the shared
// bucket). The key it replaces, and any retired earlier, keep verifying
// the tokens they signed until those have expired (ttl, the tokens'
// life, after the key retired); then they are dropped. It returns the
// new key's id.
func (t *Tokens) RotateKey(ctx context.Context, how Rotation) (string, error) {
	w, ok := t.keys.(keyWriter)
	if !ok {
		return "", errors.New("these token keys cannot be rotated")
	}
	next, err := newKey()
	if err != nil {
		return "", err
	}
	err = w.update(ctx, func(set KeySet) (KeySet, error) {
		now := t.now().UTC()
		keys := slices.DeleteFunc(slices.Clone(set.Keys), func(k Key) bool {
			return how.DropOld || !k.Retired.IsZero() && now.Sub(k.Retired) > t.ttl+time.Minute // past every token's expiry and the leeway
		})
		for i := range keys {
			if keys[i].ID == set.Signing {
				keys[i].Retired = now
			}
		}
		return KeySet{Signing: next.ID, Keys: append(keys, next)}, nil
	})
	if err != nil {
		return "", err
	}
	t.mu.Lock()
	t.fetched = time.Time{} // read at once
	t.mu.Unlock()
	return next.ID, nil
}
