// Package session keeps signed-in browser sessions (the admin's) with
// alexedwards/scs: the manager's cookie and timeouts set once, and a
// durable store on this node (bbolt) behind scs's Store interface, which a
// store shared by several nodes can implement as well.
package session

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucket = []byte("sessions")

// BoltStore is an scs.Store in a bbolt file. Tokens are kept only as
// SHA-256 digests, so a copy of the file signs no one in; expired sessions
// are never returned and are swept every interval.
type BoltStore struct {
	db   *bolt.DB
	now  func() time.Time
	stop chan struct{}
	done sync.WaitGroup
}

// OpenBolt opens (creating if needed) the store at path and sweeps expired
// sessions every sweep (none if sweep <= 0).
func OpenBolt(path string, sweep time.Duration) (*BoltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open session store: %w", err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("open session store: %w", err)
	}
	s := &BoltStore{db: db, now: time.Now, stop: make(chan struct{})}
	if sweep > 0 {
		s.done.Add(1)
		go s.sweepEvery(sweep)
	}
	return s, nil
}

// Close stops the sweeper and closes the file.
func (s *BoltStore) Close() error {
	close(s.stop)
	s.done.Wait()
	return s.db.Close()
}

func key(token string) []byte {
	k := sha256.Sum256([]byte(token))
	return k[:]
}

// Find implements scs.Store.
func (s *BoltStore) Find(token string) ([]byte, bool, error) {
	var data []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucket).Get(key(token))
		if len(v) < 8 || s.expired(v) {
			return nil
		}
		data = append([]byte{}, v[8:]...)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("find session: %w", err)
	}
	return data, data != nil, nil
}

// Commit implements scs.Store.
func (s *BoltStore) Commit(token string, b []byte, expiry time.Time) error {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(b)), uint64(expiry.UnixNano()))
	v = append(v, b...)
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key(token), v) }); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// Delete implements scs.Store.
func (s *BoltStore) Delete(token string) error {
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Delete(key(token)) }); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (s *BoltStore) expired(v []byte) bool {
	return int64(binary.BigEndian.Uint64(v[:8])) <= s.now().UnixNano()
}

// Sweep deletes the expired sessions and reports how many there were.
func (s *BoltStore) Sweep() (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(v) < 8 || s.expired(v) {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("sweep sessions: %w", err)
	}
	return n, nil
}

func (s *BoltStore) sweepEvery(d time.Duration) {
	defer s.done.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.Sweep() // a failed sweep leaves expired sessions unreadable anyway
		}
	}
}
