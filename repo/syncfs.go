package repo

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-billy/v5"

	"github.com/chronicle-cms/chronicle/repo/atomicfile"
)

// syncFS makes go-git's object writes durable. go-git writes a loose object
// to a temporary file and renames it into place but never calls fsync, so an
// acknowledged commit could vanish after a power cut. Every file opened for
// writing is synced when it is closed, and the destination folder of every
// rename is synced after the rename.
type syncFS struct {
	billy.Filesystem
	root string // absolute path the filesystem is bound to
}

func newSyncFS(fs billy.Filesystem, root string) *syncFS {
	return &syncFS{Filesystem: fs, root: root}
}

func (s *syncFS) Create(name string) (billy.File, error) {
	f, err := s.Filesystem.Create(name)
	return wrapSync(f, err)
}

func (s *syncFS) OpenFile(name string, flag int, perm os.FileMode) (billy.File, error) {
	f, err := s.Filesystem.OpenFile(name, flag, perm)
	if flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return f, err
	}
	return wrapSync(f, err)
}

func (s *syncFS) TempFile(dir, prefix string) (billy.File, error) {
	f, err := s.Filesystem.TempFile(dir, prefix)
	return wrapSync(f, err)
}

func (s *syncFS) Rename(from, to string) error {
	if err := s.Filesystem.Rename(from, to); err != nil {
		return err
	}
	dir := filepath.Dir(to)
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(s.root, dir)
	}
	return atomicfile.SyncDir(dir)
}

type syncFile struct{ billy.File }

func wrapSync(f billy.File, err error) (billy.File, error) {
	if err != nil {
		return f, err
	}
	return &syncFile{File: f}, nil
}

func (f *syncFile) Close() error {
	if s, ok := f.File.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			f.File.Close()
			return fmt.Errorf("sync %s: %w", f.Name(), err)
		}
	}
	return f.File.Close()
}
