package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Every change to an account's files (fileRecords) (its account file, its token file)
// reads, changes and writes back under one lock: the store's mutex within
// this process, and an exclusive flock(2) on <accounts>/.lock between
// processes, so the daemon and `chronicle user|token …` run at the same
// time never lose each other's changes. Readers need no lock: files are
// replaced by rename, so a reader sees the old or the new file whole.

// Prepare creates the accounts folder, private to the daemon's user (0700),
// and tightens an existing one.
func (s *Store) Prepare() error { return s.rec.prepare() }

func (s *fileRecords) prepare() error { return PrivateDir(s.dir) }

// PrivateDir creates dir with mode 0700, or tightens it to 0700 if it
// exists with more.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if st.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("make %s private: %w", dir, err)
		}
	}
	return nil
}

// locked runs fn holding the account files' lock.
func (s *fileRecords) locked(fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.prepare(); err != nil {
		return err
	}
	return flocked(filepath.Join(s.dir, ".lock"), fn)
}

// flocked runs fn holding an exclusive flock(2) on the file at path
// (created if missing): the lock between processes.
func flocked(path string, fn func() error) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open the lock %s: %w", filepath.Base(path), err)
	}
	defer f.Close() // closing releases the lock
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("take the lock %s: %w", filepath.Base(path), err)
	}
	return fn()
}
