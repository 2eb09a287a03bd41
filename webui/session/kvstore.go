package session

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/nats-io/nats.go/jetstream"
)

// SessionsBucket is the JetStream key-value bucket of admin sessions
// shared by every node of a site on an external NATS.
const SessionsBucket = "CHRONICLE_SESSIONS"

// KVStore is an scs.Store in a JetStream key-value bucket, so a session
// made on one node is good on every other. As in BoltStore, keys are
// SHA-256 digests of the tokens (a copy of the bucket signs no one in)
// and a value starts with its expiry; the bucket drops an entry maxAge
// after its last write (the session's longest life), so expired sessions
// need no sweeping.
type KVStore struct {
	kv      jetstream.KeyValue
	now     func() time.Time
	timeout time.Duration
	// missWaits are the pauses before a session not found is looked for
	// again. A read may be answered by any replica of the bucket (a
	// direct get), and the write that made the session was acknowledged
	// once two of three had it: right after signing in through another
	// node, the third may not have it yet. Only a miss waits (a stale or
	// forged cookie, or that moment), 100 ms at most.
	missWaits []time.Duration
}

// OpenKV opens (creating if needed) the sessions bucket; entries live at
// most maxAge (the manager's Lifetime) after their last write.
func OpenKV(ctx context.Context, js jetstream.JetStream, maxAge time.Duration, replicas int) (*KVStore, error) {
	kv, err := bus.OpenKeyValue(ctx, js, jetstream.KeyValueConfig{Bucket: SessionsBucket, TTL: maxAge, History: 1, Replicas: replicas,
		Storage: jetstream.FileStorage, Description: "the admin's signed-in sessions, by token digest"})
	if err != nil {
		return nil, fmt.Errorf("open the sessions bucket: %w", err)
	}
	return &KVStore{kv: kv, now: time.Now, timeout: 5 * time.Second,
		missWaits: []time.Duration{10 * time.Millisecond, 30 * time.Millisecond, 60 * time.Millisecond}}, nil
}

func kvKey(token string) string { return hex.EncodeToString(key(token)) }

// Find implements scs.Store.
func (s *KVStore) Find(token string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	e, err := s.kv.Get(ctx, kvKey(token))
	for _, d := range s.missWaits {
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			break
		}
		time.Sleep(d)
		e, err = s.kv.Get(ctx, kvKey(token))
	}
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("find session: %w", err)
	}
	v := e.Value()
	if len(v) < 8 || int64(binary.BigEndian.Uint64(v[:8])) <= s.now().UnixNano() {
		return nil, false, nil
	}
	return append([]byte{}, v[8:]...), true, nil
}

// Commit implements scs.Store.
func (s *KVStore) Commit(token string, b []byte, expiry time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(b)), uint64(expiry.UnixNano()))
	if _, err := s.kv.Put(ctx, kvKey(token), append(v, b...)); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// Delete implements scs.Store.
func (s *KVStore) Delete(token string) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := s.kv.Purge(ctx, kvKey(token)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
