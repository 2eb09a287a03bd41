package projections

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// OpenStore opens (or creates) a projection's bbolt file. bbolt locks the
// file: a second process (a `chronicle rebuild` while the daemon runs)
// gets a clear refusal instead of waiting.
func OpenStore(path string) (*bolt.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: it is in use by another process (is the daemon running?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Where a projection keeps its checkpoint, as JSON.
var (
	MetaBucket    = []byte("meta")
	CheckpointKey = []byte("checkpoint")
)

// OpenWithCheckpoint opens a projection's store as OpenStore does,
// creates its buckets and MetaBucket, and reads the checkpoint stored
// there into cp (left zero in a new store).
func OpenWithCheckpoint(path string, cp *Checkpoint, buckets ...[]byte) (*bolt.DB, error) {
	db, err := OpenStore(path)
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range append(buckets, MetaBucket) {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if b := tx.Bucket(MetaBucket).Get(CheckpointKey); b != nil {
			return json.Unmarshal(b, cp)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// PutJSON stores v under key as JSON; a nil v deletes the key.
func PutJSON[T any](b *bolt.Bucket, key string, v *T) error {
	if v == nil {
		return b.Delete([]byte(key))
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

// ResetBuckets empties the named buckets in one transaction.
func ResetBuckets(db *bolt.DB, names ...[]byte) error {
	return db.Update(func(tx *bolt.Tx) error {
		for _, b := range names {
			if err := tx.DeleteBucket(b); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
				return err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return nil
	})
}
