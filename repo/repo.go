// Package repo stores the site in a bare git repository and is the only
// owner of it inside the process. Commits are appended without a work tree:
// only the trees on the changed paths are rewritten, objects are fsynced and
// refs/heads/main moves by git's lock-file protocol with compare-and-swap on
// the old head, so a write returns only once it is durable, and the git CLI
// working on the same repository never loses an update, nor does the daemon.
package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

var (
	// ErrConflict means the head was not the expected parent.
	ErrConflict = errors.New("repo: head moved")
	// ErrNotFound means no such file or commit.
	ErrNotFound = errors.New("repo: not found")
	// ErrInvalidPath means a change's path cannot exist in a git tree.
	ErrInvalidPath = errors.New("repo: invalid path")
)

// openPacks is how many pack files stay open for reading.
const openPacks = 8

// Hash names a git object.
type Hash = plumbing.Hash

// ZeroHash is the parent of the first commit.
var ZeroHash = plumbing.ZeroHash

// ParseHash reads a hash in hex; anything that is not one (the empty
// string included) is the zero hash.
func ParseHash(s string) Hash {
	if !plumbing.IsHash(s) {
		return ZeroHash
	}
	return plumbing.NewHash(s)
}

// BlobHash is the hash git gives a blob of these bytes.
func BlobHash(data []byte) Hash { return plumbing.ComputeHash(plumbing.BlobObject, data) }

// Change sets or deletes one file.
type Change struct {
	Path   string
	Data   []byte
	Delete bool
}

// Signature is who made a commit and when.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}

// Commit is a read-only copy of a commit's metadata.
type Commit struct {
	Hash      Hash
	Parents   []Hash
	Tree      Hash
	Author    Signature
	Committer Signature
	Message   string
}

// FileChange is one file that differs between two trees; a zero Old means
// added and a zero New means deleted.
type FileChange struct {
	Path     string
	Old, New Hash
}

// Repo owns one bare repository. All methods are safe for concurrent use:
// go-git is not, so every access goes through mu.
type Repo struct {
	dir string
	log *slog.Logger

	mu       sync.Mutex
	st       *storage
	trees    map[plumbing.Hash]*cachedTree // decoded trees, see tree()
	treeSize int
}

// objectCacheBytes bounds go-git's cache of objects read from packs
// (delta bases, mostly). Its default, 96 MiB, stayed full for the
// daemon's life once the start had read the history: a third of a
// 10,000-post site's heap. Decoded trees have a cache of their own (see
// tree), so a small one costs little.
const objectCacheBytes = 16 * cache.MiByte

// Open opens the bare repository at dir, creating it if it does not exist.
func Open(dir string, log *slog.Logger) (*Repo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fs := newSyncFS(osfs.New(abs, osfs.WithBoundOS()), abs)
	// Packs stay open between reads (a few at a time): go-git otherwise
	// opens the pack file again for every object it reads from it, which
	// made a walk of 10,000 commits take seconds instead of a tenth of one.
	st := &storage{filesystem.NewStorageWithOptions(fs, cache.NewObjectLRU(objectCacheBytes), filesystem.Options{MaxOpenDescriptors: openPacks})}
	r := &Repo{dir: abs, log: log, st: st, trees: map[plumbing.Hash]*cachedTree{}}
	if _, err := os.Stat(filepath.Join(abs, "HEAD")); errors.Is(err, os.ErrNotExist) {
		g, err := git.InitWithOptions(st.Storage, nil, git.InitOptions{DefaultBranch: plumbing.Main})
		if err != nil {
			return nil, fmt.Errorf("init repository %s: %w", abs, err)
		}
		cfg, err := g.Config()
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		cfg.Core.IsBare = true
		if err := g.SetConfig(cfg); err != nil {
			return nil, fmt.Errorf("write config: %w", err)
		}
		log.Info("created content repository", "path", abs)
	}
	return r, nil
}

// Dir is the repository's folder (the git dir).
func (r *Repo) Dir() string { return r.dir }

// Close releases the storage.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.Close()
}

// Head returns the commit refs/heads/main points at, or ZeroHash.
func (r *Repo) Head() (Hash, error) { return readRef(r.dir, MainRef) }

// Ref returns the commit a ref points at, or ZeroHash.
func (r *Repo) Ref(name string) (Hash, error) { return readRef(r.dir, name) }

// ReadTreeFile returns the content of path in the tree of the commit a ref
// points at, and false when the ref or the file does not exist.
func (r *Repo) ReadTreeFile(ref, p string) ([]byte, bool, error) {
	h, err := r.Ref(ref)
	if err != nil || h.IsZero() {
		return nil, false, err
	}
	b, _, err := r.ReadFile(h, p)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	return b, err == nil, err
}

// CommitRequest appends one commit on top of Parent.
type CommitRequest struct {
	Ref     string // the branch to move; MainRef when empty
	Parent  Hash   // the head the change was based on; ZeroHash for the first commit
	Changes []Change
	// Tree, when set, is the commit's tree as it is (an existing tree,
	// e.g. an earlier commit's, for a rollback), and Changes must be empty.
	Tree    Hash
	Message string
	Author  Signature
}

// Commit writes the request as a commit and moves main to it, only if main
// still points at req.Parent (else ErrConflict). It returns once the
// objects and the ref are on disk.
func (r *Repo) Commit(ctx context.Context, req CommitRequest) (Hash, error) {
	if err := ctx.Err(); err != nil {
		return ZeroHash, err
	}
	for _, c := range req.Changes {
		if err := ValidPath(c.Path); err != nil {
			return ZeroHash, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var base Hash
	var parents []Hash
	if !req.Parent.IsZero() {
		pc, err := object.GetCommit(r.st, req.Parent)
		if err != nil {
			return ZeroHash, fmt.Errorf("read parent %s: %w", req.Parent, err)
		}
		base = pc.TreeHash
		parents = []Hash{req.Parent}
	}
	tree := req.Tree
	if tree.IsZero() {
		var err error
		if tree, err = r.writeTree(base, req.Changes); err != nil {
			return ZeroHash, err
		}
	} else if len(req.Changes) > 0 {
		return ZeroHash, fmt.Errorf("commit: a tree and changes given together")
	} else if _, err := object.GetTree(r.st, tree); err != nil {
		return ZeroHash, fmt.Errorf("read tree %s: %w", tree, err)
	}
	when := req.Author.When
	if when.IsZero() {
		when = time.Now()
	}
	sig := object.Signature{Name: req.Author.Name, Email: req.Author.Email, When: when.Truncate(time.Second)}
	c := &object.Commit{
		Author:       sig,
		Committer:    sig,
		Message:      req.Message,
		TreeHash:     tree,
		ParentHashes: parents,
	}
	obj := r.st.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return ZeroHash, fmt.Errorf("encode commit: %w", err)
	}
	h, err := r.st.SetEncodedObject(obj)
	if err != nil {
		return ZeroHash, fmt.Errorf("write commit: %w", err)
	}
	ref := req.Ref
	if ref == "" {
		ref = MainRef
	}
	if err := casRef(r.dir, ref, req.Parent, h); err != nil {
		return ZeroHash, err
	}
	return h, nil
}

// DeleteRef removes a ref other than main, only if it still points at
// old (else ErrConflict), with the git CLI: it holds git's own lock and
// rewrites packed-refs when the ref is packed.
func (r *Repo) DeleteRef(ctx context.Context, name string, old Hash) error {
	if name == MainRef || !strings.HasPrefix(name, "refs/") {
		return fmt.Errorf("delete ref %s: not a ref that may be deleted", name)
	}
	cmd := exec.CommandContext(ctx, "git", "--git-dir", r.dir, "update-ref", "-d", name, old.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		if cur, rerr := readRef(r.dir, name); rerr == nil && cur != old {
			return fmt.Errorf("%w: %s is at %s, expected %s", ErrConflict, name, short(cur), short(old))
		}
		return fmt.Errorf("git update-ref -d %s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Refs lists the refs under prefix (e.g. "refs/autosave/") and where they
// point, with the git CLI.
func (r *Repo) Refs(ctx context.Context, prefix string) (map[string]Hash, error) {
	cmd := exec.CommandContext(ctx, "git", "--git-dir", r.dir, "for-each-ref", "--format=%(objectname) %(refname)", prefix)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git for-each-ref %s: %w", prefix, err)
	}
	refs := map[string]Hash{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if h, name, ok := strings.Cut(line, " "); ok {
			refs[name] = ParseHash(h)
		}
	}
	return refs, nil
}

// ValidPath accepts the paths a git tree can hold: relative, slash
// separated, no empty, "." or ".." segment, nothing under .git.
func ValidPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || path.Clean(p) != p ||
		strings.ContainsAny(p, "\x00\\") {
		return fmt.Errorf("%w: %q", ErrInvalidPath, p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." || strings.EqualFold(seg, ".git") {
			return fmt.Errorf("%w: %q", ErrInvalidPath, p)
		}
	}
	return nil
}

// ReadCommit returns a commit's metadata.
func (r *Repo) ReadCommit(h Hash) (Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readCommit(h)
}

func (r *Repo) readCommit(h Hash) (Commit, error) {
	c, err := object.GetCommit(r.st, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return Commit{}, fmt.Errorf("%w: commit %s", ErrNotFound, h)
	}
	if err != nil {
		return Commit{}, fmt.Errorf("read commit %s: %w", h, err)
	}
	return Commit{
		Hash:      c.Hash,
		Parents:   append([]Hash(nil), c.ParentHashes...),
		Tree:      c.TreeHash,
		Author:    Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
		Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
		Message:   c.Message,
	}, nil
}

// ReadFile returns the content of path in the tree of commit rev.
func (r *Repo) ReadFile(rev Hash, p string) ([]byte, Hash, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.readCommit(rev)
	if err != nil {
		return nil, ZeroHash, err
	}
	e, ok, err := r.lookup(c.Tree, p)
	if err != nil {
		return nil, ZeroHash, err
	}
	if !ok || !e.Mode.IsFile() {
		return nil, ZeroHash, fmt.Errorf("%w: %s at %s", ErrNotFound, p, short(rev))
	}
	b, err := r.readBlob(e.Hash)
	return b, e.Hash, err
}

// Stat returns the blob hash of path at rev, or ZeroHash when absent.
func (r *Repo) Stat(rev Hash, p string) (Hash, error) {
	if rev.IsZero() {
		return ZeroHash, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.readCommit(rev)
	if err != nil {
		return ZeroHash, err
	}
	e, ok, err := r.lookup(c.Tree, p)
	if err != nil || !ok || !e.Mode.IsFile() {
		return ZeroHash, err
	}
	return e.Hash, nil
}

// Entries returns the hashes of paths (files or folders) in tree, zero
// for one that is absent: whether a part of the tree changed between two
// commits, at the cost of a few tree lookups.
func (r *Repo) Entries(tree Hash, paths ...string) ([]Hash, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Hash, len(paths))
	for i, p := range paths {
		e, ok, err := r.lookup(tree, p)
		if err != nil {
			return nil, err
		}
		if ok {
			out[i] = e.Hash
		}
	}
	return out, nil
}

// ReadBlob returns a blob's content.
func (r *Repo) ReadBlob(h Hash) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readBlob(h)
}

// Diff lists the files that differ between the trees of two commits; a zero
// from means the empty tree.
func (r *Repo) Diff(from, to Hash) ([]FileChange, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var a, b Hash = emptyTree, emptyTree
	if !from.IsZero() {
		c, err := r.readCommit(from)
		if err != nil {
			return nil, err
		}
		a = c.Tree
	}
	if !to.IsZero() {
		c, err := r.readCommit(to)
		if err != nil {
			return nil, err
		}
		b = c.Tree
	}
	var out []FileChange
	if err := r.diffTrees("", a, b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// FirstParents returns the first-parent chain from head back to (not
// including) stop, oldest first. A zero stop walks to the root commit;
// a stop that is not on the chain is ErrNotFound.
func (r *Repo) FirstParents(head, stop Hash) ([]Hash, error) {
	if stop.IsZero() && !head.IsZero() {
		return r.wholeChain(head)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var chain []Hash
	for cur := head; !cur.IsZero() && cur != stop; {
		chain = append(chain, cur)
		c, err := object.GetCommit(r.st, cur)
		if err != nil {
			return nil, fmt.Errorf("walk history at %s: %w", cur, err)
		}
		if len(c.ParentHashes) == 0 {
			if !stop.IsZero() {
				return nil, fmt.Errorf("%w: %s is not an ancestor of %s", ErrNotFound, short(stop), short(head))
			}
			break
		}
		cur = c.ParentHashes[0]
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain, nil
}

// wholeChain is FirstParents to the root from one `git rev-list` process:
// at a start, a long history is walked in a few milliseconds where go-git
// took a quarter of a second for 10,000 commits.
func (r *Repo) wholeChain(head Hash) ([]Hash, error) {
	cmd := exec.Command("git", "--git-dir", r.dir, "rev-list", "--first-parent", "--reverse", head.String(), "--")
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("walk history at %s: %w: %w: %s", head, ErrNotFound, err, strings.TrimSpace(stderr.String()))
	}
	chain := make([]Hash, 0, bytes.Count(out, []byte{'\n'}))
	for line := range bytes.Lines(out) {
		name := string(bytes.TrimSpace(line))
		if !plumbing.IsHash(name) {
			return nil, fmt.Errorf("walk history at %s: git rev-list gave %q", head, name)
		}
		chain = append(chain, plumbing.NewHash(name))
	}
	return chain, nil
}

// History returns the first-parent commits that changed path, newest first,
// at most limit of them (0: no limit), starting at head.
func (r *Repo) History(head Hash, p string, limit int) ([]Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Commit
	for cur := head; !cur.IsZero(); {
		c, err := r.readCommit(cur)
		if err != nil {
			return nil, err
		}
		var parentTree Hash = emptyTree
		var next Hash
		if len(c.Parents) > 0 {
			next = c.Parents[0]
			pc, err := r.readCommit(next)
			if err != nil {
				return nil, err
			}
			parentTree = pc.Tree
		}
		a, _, err := r.lookup(parentTree, p)
		if err != nil {
			return nil, err
		}
		b, _, err := r.lookup(c.Tree, p)
		if err != nil {
			return nil, err
		}
		if a.Hash != b.Hash {
			out = append(out, c)
			if limit > 0 && len(out) == limit {
				break
			}
		}
		cur = next
	}
	return out, nil
}

// Walk calls fn for every file under prefix ("" for all) in rev's tree.
func (r *Repo) Walk(rev Hash, prefix string, fn func(path string, blob Hash) error) error {
	r.mu.Lock()
	c, err := r.readCommit(rev)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	var files []FileChange
	err = r.diffTrees("", emptyTree, c.Tree, &files)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	for _, f := range files {
		if strings.HasPrefix(f.Path, prefix) {
			if err := fn(f.Path, f.New); err != nil {
				return err
			}
		}
	}
	return nil
}

// storage re-reads the pack index when an object is missing: git (a push,
// a repack) adds packs behind go-git's back, and go-git loads its pack
// index only once.
type storage struct{ *filesystem.Storage }

func (s *storage) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	obj, err := s.Storage.EncodedObject(t, h)
	// Missing, or in a pack a full repack just deleted: look again.
	if errors.Is(err, plumbing.ErrObjectNotFound) || errors.Is(err, fs.ErrNotExist) {
		s.Storage.ObjectStorage.Reindex()
		obj, err = s.Storage.EncodedObject(t, h)
	}
	return obj, err
}

// Repack packs loose objects into a new pack with the git CLI, several
// times faster than go-git's repacking and smaller; with all, it also
// merges every pack into one. It does not block writers: a read that
// misses an object (packed meanwhile, or in a pack just merged away)
// re-reads the pack index and finds it.
func (r *Repo) Repack(ctx context.Context, all bool) error {
	args := []string{"--git-dir", r.dir, "repack", "-d", "-q"}
	if all {
		args = append(args, "-a")
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git repack: %w: %s", err, strings.TrimSpace(string(out)))
	}
	// Loose objects nothing reaches any more (discarded autosaves) are
	// never packed: without pruning they stay, and keep the loose count
	// over the repacker's threshold. Only those an hour old go: a writer
	// writes its objects moments before it moves the ref to them.
	prune := exec.CommandContext(ctx, "git", "--git-dir", r.dir, "prune", "--expire=1.hour.ago")
	if out, err := prune.CombinedOutput(); err != nil {
		return fmt.Errorf("git prune: %w: %s", err, strings.TrimSpace(string(out)))
	}
	// Let go the packs kept open: those the repack merged away are
	// deleted, and an open one would hold its disk space.
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st.Storage.ObjectStorage.Reindex()
	if err := r.st.Storage.ObjectStorage.Close(); err != nil {
		r.log.Warn("closing the packs read before a repack failed", "err", err)
	}
	return nil
}

// LooseObjects counts loose objects, to decide when to repack.
func (r *Repo) LooseObjects() int {
	n := 0
	dirs, _ := os.ReadDir(filepath.Join(r.dir, "objects"))
	for _, d := range dirs {
		if len(d.Name()) == 2 && d.IsDir() {
			files, _ := os.ReadDir(filepath.Join(r.dir, "objects", d.Name()))
			n += len(files)
		}
	}
	return n
}

// Packs counts pack files, to decide when to merge them.
func (r *Repo) Packs() int {
	m, _ := filepath.Glob(filepath.Join(r.dir, "objects", "pack", "*.pack"))
	return len(m)
}

// maxPacks is how many packs pile up (pushes arrive as packs, repacks of
// loose objects add one each) before they are merged into one.
const maxPacks = 20

// RunRepacker repacks whenever more than threshold loose objects piled up,
// and merges the packs when there are too many, checking every interval,
// until ctx ends.
func (r *Repo) RunRepacker(ctx context.Context, interval time.Duration, threshold int) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			loose, packs := r.LooseObjects(), r.Packs()
			if loose > threshold || packs > maxPacks {
				start := time.Now()
				if err := r.Repack(ctx, packs > maxPacks); err != nil && ctx.Err() == nil {
					r.log.Error("repack failed", "err", err)
				} else {
					r.log.Info("repacked", "loose", loose, "packs", packs, "took", time.Since(start))
				}
			}
		}
	}
}
