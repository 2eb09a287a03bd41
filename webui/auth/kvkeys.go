package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/nats-io/nats.go/jetstream"
)

// KeysBucket is the JetStream key-value bucket of the API tokens' keys
// shared by every node of a site on an external NATS.
const KeysBucket = "CHRONICLE_KEYS"

const keySetKey = "jwt"

// kvKeys keeps the key set in one entry of the keys bucket: every node
// signs and verifies with it, and a rotation is one compare-and-swap.
type kvKeys struct{ kv jetstream.KeyValue }

func (k kvKeys) get(ctx context.Context) (KeySet, uint64, error) {
	e, err := k.kv.Get(ctx, keySetKey)
	if err != nil {
		return KeySet{}, 0, err
	}
	var set KeySet
	if err := json.Unmarshal(e.Value(), &set); err != nil {
		return KeySet{}, 0, fmt.Errorf("read the token keys: %w", err)
	}
	return set, e.Revision(), nil
}

func (k kvKeys) load() (KeySet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	set, _, err := k.get(ctx)
	if err != nil {
		return KeySet{}, fmt.Errorf("read the token keys: %w", err)
	}
	return set, nil
}

// NewKVTokens returns tokens whose keys are in the keys bucket of js
// (followed until ctx ends),
// creating the bucket, and the set on first use: with the key of
// keyFile if this node has one (tokens it issued stay good), else a new
// one.
func NewKVTokens(ctx context.Context, js jetstream.JetStream, keyFile string, ttl time.Duration, replicas int) (*Tokens, error) {
	kv, err := bus.OpenKeyValue(ctx, js, jetstream.KeyValueConfig{Bucket: KeysBucket, History: 1, Replicas: replicas,
		Storage: jetstream.FileStorage, Description: "the keys API tokens are signed and checked with"})
	if err != nil {
		return nil, fmt.Errorf("open the token keys bucket: %w", err)
	}
	src := kvKeys{kv}
	if _, _, err := src.get(ctx); errors.Is(err, jetstream.ErrKeyNotFound) {
		first, err := newKey()
		if err != nil {
			return nil, err
		}
		set := KeySet{Signing: first.ID, Keys: []Key{first}}
		// This node's own keys, if it has any: the tokens it issued
		// stay good.
		if secret, err := readKeyFile(keyFile, false); err != nil {
			return nil, err
		} else if secret != nil {
			if set, err = newFileKeys(keyFile).load(); err != nil {
				return nil, err
			}
		}
		b, _ := json.Marshal(set)
		if _, err := kv.Create(ctx, keySetKey, b); err != nil && !conflict(err) {
			return nil, fmt.Errorf("write the token keys: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read the token keys: %w", err)
	}
	t := newTokens(src, ttl, refreshKeys)
	// Every node learns a rotation as it is made (the set is also read
	// again every refreshKeys, and when a token names a key not in it).
	w, err := kv.Watch(ctx, keySetKey)
	if err != nil {
		return nil, fmt.Errorf("watch the token keys: %w", err)
	}
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				var set KeySet
				if e == nil || json.Unmarshal(e.Value(), &set) != nil {
					continue
				}
				t.mu.Lock()
				t.set, t.fetched = set, time.Now()
				t.mu.Unlock()
			}
		}
	}()
	return t, nil
}

// update implements keyWriter with a compare-and-swap on the entry.
func (k kvKeys) update(ctx context.Context, fn func(KeySet) (KeySet, error)) error {
	for range maxAttempts {
		set, rev, err := k.get(ctx)
		if err != nil {
			return fmt.Errorf("read the token keys: %w", err)
		}
		next, err := fn(set)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(next)
		_, err = k.kv.Update(ctx, keySetKey, b, rev)
		if conflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("write the token keys: %w", err)
		}
		return nil
	}
	return errors.New("write the token keys: lost to other writers")
}
