package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/nats-io/nats.go/jetstream"
)

// PresenceBucket is the JetStream key-value bucket of who has what open.
const PresenceBucket = "CHRONICLE_PRESENCE"

// Editing is one account with a post open in the editor.
type Editing struct {
	Email string    `json:"email"`
	Name  string    `json:"name,omitempty"`
	Since time.Time `json:"since"`
}

// Presence records who has which post open in the editor, in a JetStream
// key-value bucket every node sees, so an editor opening a post learns
// who else is on it and since when. An entry lives for TTL after its last
// heartbeat: a closed tab or a node that died drops out by itself.
type Presence struct {
	kv  jetstream.KeyValue
	ttl time.Duration
	now func() time.Time
}

// OpenPresence opens (creating if needed) the bucket; entries expire ttl
// after their last heartbeat.
func OpenPresence(ctx context.Context, js jetstream.JetStream, ttl time.Duration, replicas int) (*Presence, error) {
	kv, err := bus.OpenKeyValue(ctx, js, jetstream.KeyValueConfig{Bucket: PresenceBucket, TTL: ttl, History: 1, Replicas: replicas,
		Storage: jetstream.MemoryStorage, MaxBytes: 16 << 20, Description: "who has which post open in the admin's editor"})
	if err != nil {
		return nil, fmt.Errorf("open the presence bucket: %w", err)
	}
	return &Presence{kv: kv, ttl: ttl, now: time.Now}, nil
}

// TTL is how long an entry lives without a heartbeat.
func (p *Presence) TTL() time.Duration { return p.ttl }

// presenceKey is <post>.<digest of the email>: key-value keys cannot hold an
// email, and a post's entries share a prefix to list them by.
func presenceKey(post, email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return post + "." + hex.EncodeToString(sum[:8])
}

// Touch records (or renews) that the account has the post open.
func (p *Presence) Touch(ctx context.Context, post, email, name string) error {
	k := presenceKey(post, email)
	e := Editing{Email: email, Name: name, Since: p.now().UTC().Truncate(time.Second)}
	if cur, err := p.kv.Get(ctx, k); err == nil {
		var old Editing
		if json.Unmarshal(cur.Value(), &old) == nil && !old.Since.IsZero() {
			e.Since = old.Since
		}
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("presence: %w", err)
	}
	b, _ := json.Marshal(e)
	if _, err := p.kv.Put(ctx, k, b); err != nil {
		return fmt.Errorf("presence: %w", err)
	}
	return nil
}

// Leave drops the account's entry for the post.
func (p *Presence) Leave(ctx context.Context, post, email string) error {
	if err := p.kv.Delete(ctx, presenceKey(post, email)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("presence: %w", err)
	}
	return nil
}

// Others lists who else has the post open, longest first.
func (p *Presence) Others(ctx context.Context, post, email string) ([]Editing, error) {
	lister, err := p.kv.ListKeysFiltered(ctx, post+".*")
	if err != nil {
		return nil, fmt.Errorf("presence: %w", err)
	}
	defer lister.Stop()
	mine := presenceKey(post, email)
	var out []Editing
	for k := range lister.Keys() {
		if k == mine {
			continue
		}
		v, err := p.kv.Get(ctx, k)
		if err != nil {
			continue // expired or left meanwhile
		}
		var e Editing
		if json.Unmarshal(v.Value(), &e) == nil {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Editing) int { return a.Since.Compare(b.Since) })
	return out, nil
}
