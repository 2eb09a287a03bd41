// Package lfs is the daemon's Git LFS object store: objects by SHA-256 in
// git-lfs's own layout, stored durably, each with a small sidecar of what
// picture it is. It knows files, not git or events.
package lfs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/chronicle-cms/chronicle/repo/atomicfile"
)

// ObjectPath is where the store keeps an object (git-lfs's own layout:
// objects/ab/cd/abcd…).
func ObjectPath(store, oid string) string {
	return filepath.Join(store, "objects", oid[0:2], oid[2:4], oid)
}

// Exists reports whether the store holds the object, whole.
func Exists(store, oid string, size int64) bool {
	if store == "" {
		return false
	}
	st, err := os.Stat(ObjectPath(store, oid))
	return err == nil && st.Mode().IsRegular() && st.Size() == size
}

// What an LFS object is (its type and dimensions, or why it is not a
// picture) is read from its bytes once and kept in a small sidecar next
// to it, <oid>.json: objects are content-addressed and never change, so
// the push check and derivation never read a large object twice. Uploads
// record it as they store the object (they inspect the bytes anyway);
// objects stored before the sidecars existed get theirs the first time
// they are read.

// Facts is a sidecar's content.
type Facts struct {
	Size    int64  `json:"size"`
	Type    string `json:"type,omitempty"`
	Ext     string `json:"ext,omitempty"`
	Width   int    `json:"width,omitempty"`
	Height  int    `json:"height,omitempty"`
	Problem string `json:"problem,omitempty"` // the bytes are not an accepted picture: why
}

func factsPath(store, oid string) string { return ObjectPath(store, oid) + ".json" }

// Record remembers, durably, what a stored object is.
func Record(store, oid string, f Facts) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(factsPath(store, oid), b, 0o644); err != nil {
		return fmt.Errorf("record LFS object facts: %w", err)
	}
	return nil
}

// ReadFacts reads an object's sidecar; ok is false if there is none (or
// it is not whole, or for another size).
func ReadFacts(store, oid string, size int64) (Facts, bool) {
	b, err := os.ReadFile(factsPath(store, oid))
	if err != nil || len(b) > 4096 {
		return Facts{}, false
	}
	var f Facts
	if json.Unmarshal(b, &f) != nil || f.Size != size || (f.Problem == "" && (f.Type == "" || f.Width <= 0 || f.Height <= 0)) {
		return Facts{}, false
	}
	return f, true
}

// Store moves a verified file into the LFS store under its
// SHA-256, durably; the same bytes twice are stored once.
func Store(store, oid, tmp string) error {
	dst := ObjectPath(store, oid)
	if _, err := os.Stat(dst); err == nil {
		return os.Remove(tmp)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	if err := os.Rename(tmp, dst); err != nil {
		// Another file system: copy.
		data, err := os.ReadFile(tmp)
		if err != nil {
			return err
		}
		if err := atomicfile.Write(dst, data, 0o644); err != nil {
			return err
		}
		return os.Remove(tmp)
	}
	return atomicfile.SyncDir(filepath.Dir(dst))
}

// Local is the store in a folder as a source of originals: today's single
// node, where every original is on this disk.
type Local string

// Path returns where the object is, or an error wrapping fs.ErrNotExist.
func (s Local) Path(_ context.Context, oid string) (string, error) {
	if !ValidOID(oid) {
		return "", fmt.Errorf("object %q: %w", oid, fs.ErrNotExist)
	}
	p := ObjectPath(string(s), oid)
	st, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("object %s: %w", oid, fs.ErrNotExist)
	}
	return p, nil
}

// ValidOID reports whether oid is a SHA-256 in lower-case hex, as the
// store names its objects.
func ValidOID(oid string) bool {
	if len(oid) != 64 {
		return false
	}
	for _, c := range oid {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Walk calls fn with the id of every object in the store.
func Walk(store string, fn func(oid string) error) error {
	root := filepath.Join(store, "objects")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && ValidOID(d.Name()) {
			return fn(d.Name())
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
