package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/chronicle-cms/chronicle/repo/atomicfile"
)

// fileKeys keeps a node's token keys in its data directory. Until the
// first rotation that is token.key alone (one key, signing); a rotation
// writes the whole set to token-keys.json beside it, which is read from
// then on (token.key stays, as the first key of the set). Writers take
// a flock(2), so the daemon and `chronicle token rotate-key` never lose
// each other's change; the set is replaced by rename, so a reader sees
// the old or the new one whole, and a daemon sees a rotation at its next
// token: load reads the file again only when its stat changed.
type fileKeys struct {
	keyFile, setFile, lockFile string

	mu    sync.Mutex
	stamp fileStamp // of setFile when set was read; zero: absent
	set   KeySet
}

// fileStamp tells one version of a file from another: a replaced file
// is a new inode, and a rewritten one a new time or size.
type fileStamp struct {
	ino  uint64
	mod  time.Time
	size int64
}

func stampOf(fi os.FileInfo) fileStamp {
	s := fileStamp{mod: fi.ModTime(), size: fi.Size()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = st.Ino
	}
	return s
}

func newFileKeys(keyFile string) *fileKeys {
	dir := filepath.Dir(keyFile)
	return &fileKeys{keyFile: keyFile, setFile: filepath.Join(dir, "token-keys.json"), lockFile: filepath.Join(dir, ".token-keys.lock")}
}

func (f *fileKeys) load() (KeySet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, err := os.Stat(f.setFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if f.set.Signing != "" && f.stamp == (fileStamp{}) {
			return f.set, nil
		}
	case err != nil:
		return KeySet{}, fmt.Errorf("read the token keys: %w", err)
	case stampOf(fi) == f.stamp:
		return f.set, nil
	}
	set, stamp, err := f.read()
	if err != nil {
		return KeySet{}, err
	}
	f.set, f.stamp = set, stamp
	return set, nil
}

// read reads the key set as the files hold it now, with the stamp of
// token-keys.json (zero if there is none yet).
func (f *fileKeys) read() (KeySet, fileStamp, error) {
	file, err := os.Open(f.setFile)
	if errors.Is(err, os.ErrNotExist) {
		key, err := readKeyFile(f.keyFile, false)
		if err != nil {
			return KeySet{}, fileStamp{}, err
		}
		if key == nil {
			return KeySet{}, fileStamp{}, fmt.Errorf("no token key at %s", f.keyFile)
		}
		id := fileKeyID(key)
		return KeySet{Signing: id, Keys: []Key{{ID: id, Secret: key}}}, fileStamp{}, nil
	}
	if err != nil {
		return KeySet{}, fileStamp{}, fmt.Errorf("read the token keys: %w", err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return KeySet{}, fileStamp{}, fmt.Errorf("read the token keys: %w", err)
	}
	var set KeySet
	if err := json.NewDecoder(file).Decode(&set); err != nil {
		return KeySet{}, fileStamp{}, fmt.Errorf("read the token keys %s: %w", f.setFile, err)
	}
	if _, ok := set.key(set.Signing); !ok {
		return KeySet{}, fileStamp{}, fmt.Errorf("read the token keys %s: the signing key %s is not in the set", f.setFile, set.Signing)
	}
	return set, stampOf(fi), nil
}

// update implements keyWriter.
func (f *fileKeys) update(_ context.Context, fn func(KeySet) (KeySet, error)) error {
	if err := PrivateDir(filepath.Dir(f.setFile)); err != nil {
		return err
	}
	return flocked(f.lockFile, func() error {
		set, _, err := f.read()
		if err != nil {
			return err
		}
		next, err := fn(set)
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(next, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.Write(f.setFile, b, 0o600); err != nil {
			return fmt.Errorf("write the token keys: %w", err)
		}
		return nil
	})
}
