package repo

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/chronicle-cms/chronicle/repo/atomicfile"
)

// MainRef is the branch whose first-parent history is the event log.
const MainRef = "refs/heads/main"

// ErrLocked is returned when another process held the ref lock for too long.
var ErrLocked = errors.New("repo: ref is locked by another writer")

// staleLock is the age past which a ref lock is taken to be left behind by
// a process that died holding it: git holds one for milliseconds.
const staleLock = 5 * time.Second

// readRef reads a ref the way git does: the loose file first, then
// packed-refs. A missing ref is the zero hash.
func readRef(gitDir, name string) (plumbing.Hash, error) {
	b, err := os.ReadFile(filepath.Join(gitDir, filepath.FromSlash(name)))
	if err == nil {
		s := strings.TrimSpace(string(b))
		if !plumbing.IsHash(s) {
			return plumbing.ZeroHash, fmt.Errorf("ref %s: unexpected content %q", name, s)
		}
		return plumbing.NewHash(s), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return plumbing.ZeroHash, fmt.Errorf("read ref %s: %w", name, err)
	}
	f, err := os.Open(filepath.Join(gitDir, "packed-refs"))
	if errors.Is(err, fs.ErrNotExist) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read packed-refs: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "^") {
			continue
		}
		hash, ref, ok := strings.Cut(line, " ")
		if ok && ref == name && plumbing.IsHash(hash) {
			return plumbing.NewHash(hash), nil
		}
	}
	return plumbing.ZeroHash, sc.Err()
}

// casRef moves ref from old to new with git's lock-file protocol: create
// "<ref>.lock" exclusively, compare the current value with old, write and
// fsync the lock, rename it over the ref and fsync the folder. The git CLI
// (and so git http-backend) uses the same lock, so neither side can lose
// the other's update. A current value other than old is ErrConflict.
func casRef(gitDir, name string, old, new plumbing.Hash) error {
	path := filepath.Join(gitDir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create ref folder: %w", err)
	}
	lock := path + ".lock"
	var f *os.File
	var err error
	// git holds its lock for milliseconds; wait a little before giving up.
	for deadline := time.Now().Add(2 * time.Second); ; {
		f, err = os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("lock %s: %w", name, err)
		}
		if st, err := os.Stat(lock); err == nil && time.Since(st.ModTime()) > staleLock {
			os.Remove(lock) // a writer died holding it; the ref itself is intact
			continue
		}
		if time.Now().After(deadline) {
			return ErrLocked
		}
		time.Sleep(2 * time.Millisecond)
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(lock)
		}
	}()
	cur, err := readRef(gitDir, name)
	if err != nil {
		return err
	}
	if cur != old {
		return fmt.Errorf("%w: %s is at %s, expected %s", ErrConflict, name, short(cur), short(old))
	}
	if _, err := f.WriteString(new.String() + "\n"); err != nil {
		return fmt.Errorf("write ref lock: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync ref lock: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close ref lock: %w", err)
	}
	if err := os.Rename(lock, path); err != nil {
		return fmt.Errorf("rename ref lock: %w", err)
	}
	committed = true
	return atomicfile.SyncDir(filepath.Dir(path))
}

func short(h plumbing.Hash) string {
	if h.IsZero() {
		return "nothing"
	}
	return h.String()[:12]
}
