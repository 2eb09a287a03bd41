package repo

import (
	"os"
	"path/filepath"
)

// WriteFileDurably replaces path with data so that a reader sees the old
// file or the new one, never half of one, and the new one survives a
// crash: a synced temporary file renamed into place, then the folder synced.
func WriteFileDurably(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err = f.Write(data); err == nil {
		if err = f.Chmod(perm); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// SyncDir flushes a folder's entries, so renames into it survive a crash.
func SyncDir(dir string) error { return syncDir(dir) }
