package repo

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// writeTree returns the hash of base with changes applied. Only the trees on
// the changed paths are read and rewritten; every other subtree keeps its
// hash, so a commit costs the size of the folders it touches, not the size
// of the repository. An empty resulting subtree is dropped, as git does.
func (r *Repo) writeTree(base plumbing.Hash, changes []Change) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	if !base.IsZero() {
		t, err := object.GetTree(r.st, base)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", base, err)
		}
		for _, e := range t.Entries {
			entries[e.Name] = e
		}
	}
	sub := map[string][]Change{}
	var order []string
	for _, c := range changes {
		name, rest, nested := strings.Cut(c.Path, "/")
		if nested {
			if _, ok := sub[name]; !ok {
				order = append(order, name)
			}
			sub[name] = append(sub[name], Change{Path: rest, Data: c.Data, Delete: c.Delete})
			continue
		}
		if e, ok := entries[name]; ok && e.Mode == filemode.Dir {
			return plumbing.ZeroHash, fmt.Errorf("%w: %s is a folder", ErrInvalidPath, c.Path)
		}
		if c.Delete {
			delete(entries, name)
			continue
		}
		h, err := r.writeBlob(c.Data)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries[name] = object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h}
	}
	for _, name := range order {
		var childBase plumbing.Hash
		if e, ok := entries[name]; ok {
			if e.Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("%w: %s is a file", ErrInvalidPath, name)
			}
			childBase = e.Hash
		}
		h, err := r.writeTree(childBase, sub[name])
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if h == emptyTree {
			delete(entries, name)
			continue
		}
		entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
	}
	t := &object.Tree{Entries: make([]object.TreeEntry, 0, len(entries))}
	for _, e := range entries {
		t.Entries = append(t.Entries, e)
	}
	// git orders entries bytewise with a folder's name read as "name/".
	sort.Slice(t.Entries, func(i, j int) bool { return sortKey(t.Entries[i]) < sortKey(t.Entries[j]) })
	obj := r.st.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree: %w", err)
	}
	h, err := r.st.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write tree: %w", err)
	}
	return h, nil
}

// emptyTree is git's well-known hash of a tree with no entries.
var emptyTree = plumbing.NewHash("4b825dc642cb6eb9a060e54bf8d69288fbee4904")

func sortKey(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

func (r *Repo) writeBlob(data []byte) (plumbing.Hash, error) {
	obj := r.st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(data)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	h, err := r.st.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write blob: %w", err)
	}
	return h, nil
}

func (r *Repo) readBlob(h plumbing.Hash) ([]byte, error) {
	obj, err := r.st.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// diffTrees lists the files that differ between two trees, skipping every
// subtree whose hash did not change. Paths are reported in tree order.
func (r *Repo) diffTrees(prefix string, a, b plumbing.Hash, out *[]FileChange) error {
	if a == b {
		return nil
	}
	ea, err := r.treeEntries(a)
	if err != nil {
		return err
	}
	eb, err := r.treeEntries(b)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(ea)+len(eb))
	for n := range ea {
		names = append(names, n)
	}
	for n := range eb {
		if _, ok := ea[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		x, inA := ea[n]
		y, inB := eb[n]
		if inA && inB && x.Hash == y.Hash && x.Mode == y.Mode {
			continue
		}
		path := prefix + n
		var oldTree, newTree plumbing.Hash
		var oldBlob, newBlob plumbing.Hash
		if inA {
			if x.Mode == filemode.Dir {
				oldTree = x.Hash
			} else if x.Mode != filemode.Submodule {
				oldBlob = x.Hash
			}
		}
		if inB {
			if y.Mode == filemode.Dir {
				newTree = y.Hash
			} else if y.Mode != filemode.Submodule {
				newBlob = y.Hash
			}
		}
		if !oldTree.IsZero() || !newTree.IsZero() {
			if err := r.diffTrees(path+"/", orEmpty(oldTree), orEmpty(newTree), out); err != nil {
				return err
			}
		}
		if !oldBlob.IsZero() || !newBlob.IsZero() {
			*out = append(*out, FileChange{Path: path, Old: oldBlob, New: newBlob})
		}
	}
	return nil
}

func orEmpty(h plumbing.Hash) plumbing.Hash {
	if h.IsZero() {
		return emptyTree
	}
	return h
}

func (r *Repo) treeEntries(h plumbing.Hash) (map[string]object.TreeEntry, error) {
	m := map[string]object.TreeEntry{}
	if h.IsZero() || h == emptyTree {
		return m, nil
	}
	t, err := object.GetTree(r.st, h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	for _, e := range t.Entries {
		m[e.Name] = e
	}
	return m, nil
}

// lookup finds the entry at path inside tree root.
func (r *Repo) lookup(root plumbing.Hash, path string) (object.TreeEntry, bool, error) {
	cur := root
	parts := strings.Split(path, "/")
	for i, p := range parts {
		es, err := r.treeEntries(cur)
		if err != nil {
			return object.TreeEntry{}, false, err
		}
		e, ok := es[p]
		if !ok {
			return object.TreeEntry{}, false, nil
		}
		if i == len(parts)-1 {
			return e, true, nil
		}
		if e.Mode != filemode.Dir {
			return object.TreeEntry{}, false, nil
		}
		cur = e.Hash
	}
	return object.TreeEntry{}, false, nil
}
