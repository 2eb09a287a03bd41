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
// subtree whose hash did not change. Both trees' entries are in git's
// order, so one merge walk finds the differences; paths come out in
// byte order of their git sort keys.
func (r *Repo) diffTrees(prefix string, a, b plumbing.Hash, out *[]FileChange) error {
	if a == b {
		return nil
	}
	ta, err := r.tree(a)
	if err != nil {
		return err
	}
	tb, err := r.tree(b)
	if err != nil {
		return err
	}
	i, j := 0, 0
	for i < len(ta.entries) || j < len(tb.entries) {
		var x, y *object.TreeEntry
		switch {
		case j == len(tb.entries):
			x = &ta.entries[i]
		case i == len(ta.entries):
			y = &tb.entries[j]
		default:
			kx, ky := sortKey(ta.entries[i]), sortKey(tb.entries[j])
			switch {
			case kx < ky:
				x = &ta.entries[i]
			case kx > ky:
				y = &tb.entries[j]
			default:
				x, y = &ta.entries[i], &tb.entries[j]
			}
		}
		if x != nil {
			i++
		}
		if y != nil {
			j++
		}
		// A name can be a file on one side and a folder on the other: they
		// sort apart ("a" vs "a/"), so each side is handled on its own.
		if x != nil && y != nil && x.Hash == y.Hash && x.Mode == y.Mode {
			continue
		}
		if err := r.diffEntry(prefix, x, y, out); err != nil {
			return err
		}
	}
	return nil
}

func (r *Repo) diffEntry(prefix string, x, y *object.TreeEntry, out *[]FileChange) error {
	name := ""
	var oldTree, newTree, oldBlob, newBlob plumbing.Hash
	if x != nil {
		name = x.Name
		if x.Mode == filemode.Dir {
			oldTree = x.Hash
		} else if x.Mode != filemode.Submodule {
			oldBlob = x.Hash
		}
	}
	if y != nil {
		name = y.Name
		if y.Mode == filemode.Dir {
			newTree = y.Hash
		} else if y.Mode != filemode.Submodule {
			newBlob = y.Hash
		}
	}
	path := prefix + name
	if !oldTree.IsZero() || !newTree.IsZero() {
		if err := r.diffTrees(path+"/", orEmpty(oldTree), orEmpty(newTree), out); err != nil {
			return err
		}
	}
	if !oldBlob.IsZero() || !newBlob.IsZero() {
		*out = append(*out, FileChange{Path: path, Old: oldBlob, New: newBlob})
	}
	return nil
}

func orEmpty(h plumbing.Hash) plumbing.Hash {
	if h.IsZero() {
		return emptyTree
	}
	return h
}

// cachedTree is a decoded tree: its entries in git's order and by name.
type cachedTree struct {
	entries []object.TreeEntry
	byName  map[string]int
}

// treeCacheEntries bounds the decoded-tree cache (by entries held, about
// 100 bytes each). Trees never change, so entries never go stale; the
// cache is dropped whole when full.
const treeCacheEntries = 500_000

// tree returns a decoded tree; reading and decoding the same trees over
// and over is most of the cost of deriving events from history. Callers
// hold mu.
func (r *Repo) tree(h plumbing.Hash) (*cachedTree, error) {
	if h.IsZero() || h == emptyTree {
		return &cachedTree{}, nil
	}
	if t, ok := r.trees[h]; ok {
		return t, nil
	}
	t, err := object.GetTree(r.st, h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	ct := &cachedTree{entries: t.Entries, byName: make(map[string]int, len(t.Entries))}
	for i, e := range t.Entries {
		ct.byName[e.Name] = i
	}
	if r.treeSize+len(ct.entries) > treeCacheEntries {
		r.trees, r.treeSize = map[plumbing.Hash]*cachedTree{}, 0
	}
	r.trees[h] = ct
	r.treeSize += len(ct.entries)
	return ct, nil
}

func (r *Repo) treeEntries(h plumbing.Hash) (map[string]object.TreeEntry, error) {
	t, err := r.tree(h)
	if err != nil {
		return nil, err
	}
	m := make(map[string]object.TreeEntry, len(t.entries))
	for _, e := range t.entries {
		m[e.Name] = e
	}
	return m, nil
}

// lookup finds the entry at path inside tree root.
func (r *Repo) lookup(root plumbing.Hash, path string) (object.TreeEntry, bool, error) {
	cur := root
	parts := strings.Split(path, "/")
	for i, p := range parts {
		t, err := r.tree(cur)
		if err != nil {
			return object.TreeEntry{}, false, err
		}
		k, ok := t.byName[p]
		if !ok {
			return object.TreeEntry{}, false, nil
		}
		e := t.entries[k]
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
