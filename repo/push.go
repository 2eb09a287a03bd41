package repo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// PushedCommit is one commit of a push, read with the git CLI: during a
// pre-receive hook the pushed objects sit in a quarantine that only git
// itself can read.
type PushedCommit struct {
	Hash        Hash
	Parent      Hash // first parent; zero for a root commit
	AuthorName  string
	AuthorEmail string
	Subject     string
	Changes     []PushedFile
}

// FileMode is a tree entry's mode; the Mode constants are the ones a
// push check tells apart.
type FileMode = filemode.FileMode

const (
	ModeRegular    = filemode.Regular
	ModeExecutable = filemode.Executable
	ModeSymlink    = filemode.Symlink
	ModeSubmodule  = filemode.Submodule
)

// PushedFile is a file the commit changed against its first parent. Data
// holds the new content unless the file was deleted or is larger than the
// size limit given to ReadPush (then Size tells how large). Mode is the
// new entry's mode (zero for a deletion): content is regular files only,
// so the checker needs to see symlinks, executables and gitlinks.
type PushedFile struct {
	Path     string
	Old, New Hash
	Mode     filemode.FileMode
	Size     int64
	Data     []byte
}

// PushLimits bound what ReadPush reads. A push over Commits, Files or
// Bytes is not read further: ReadPush returns a *LimitError.
type PushLimits struct {
	File    int64 // bytes of one file: larger files are listed, not read
	Commits int   // commits in the push
	Files   int   // changed files, summed over the push's commits
	Bytes   int64 // bytes of new content, summed over the changed files
}

// LimitError says a push is over one of its PushLimits. Commit (and Path,
// for files and bytes) is where the limit was crossed.
type LimitError struct {
	Commit Hash
	Path   string
	What   string // "commits", "files" or "bytes"
	Count  int64  // how many the push has (so far, for files and bytes)
	Limit  int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("push over the limit of %d %s (%d or more)", e.Limit, e.What, e.Count)
}

// ReadPush lists the commits that a push of old..new brings, oldest first,
// with their changed files. env is the hook's environment (it carries the
// quarantine's object directories). A push over lim is not read whole: the
// error is a *LimitError.
func ReadPush(ctx context.Context, gitDir string, env []string, old, new Hash, lim PushLimits) ([]PushedCommit, error) {
	git := func(stdin io.Reader, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"--git-dir", gitDir}, args...)...)
		cmd.Env = env
		cmd.Stdin = stdin
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	rng := new.String()
	if !old.IsZero() {
		rng = old.String() + ".." + new.String()
	}
	out, err := git(nil, "rev-list", "--reverse", "--topo-order", "--format=%H%x00%P%x00%an%x00%ae%x00%s", "--no-commit-header", rng)
	if err != nil {
		return nil, err
	}
	var commits []PushedCommit
	index := map[Hash]int{}
	var pairs bytes.Buffer // "<commit> [<first parent>]" lines for diff-tree --stdin
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "\x00", 5)
		if len(f) != 5 {
			return nil, fmt.Errorf("rev-list: unexpected line %q", line)
		}
		c := PushedCommit{Hash: plumbing.NewHash(f[0]), AuthorName: f[2], AuthorEmail: f[3], Subject: f[4]}
		if ps := strings.Fields(f[1]); len(ps) > 0 {
			c.Parent = plumbing.NewHash(ps[0])
		}
		if lim.Commits > 0 && len(commits) >= lim.Commits {
			return nil, &LimitError{Commit: c.Hash, What: "commits", Count: int64(len(commits) + 1), Limit: int64(lim.Commits)}
		}
		index[c.Hash] = len(commits)
		commits = append(commits, c)
		if c.Parent.IsZero() {
			fmt.Fprintln(&pairs, c.Hash)
		} else {
			fmt.Fprintln(&pairs, c.Hash, c.Parent)
		}
	}
	if len(commits) == 0 {
		return nil, nil
	}
	// One diff-tree for the whole push: each commit against its first
	// parent (the change its events are derived from), roots against nothing.
	raw, err := git(&pairs, "diff-tree", "--stdin", "-r", "-z", "--no-renames", "--raw", "--root")
	if err != nil {
		return nil, err
	}
	files := 0
	err = parseRaw(raw, func(commit Hash, f PushedFile) error {
		i, ok := index[commit]
		if !ok {
			return fmt.Errorf("diff-tree: unexpected commit %s", commit)
		}
		if files++; lim.Files > 0 && files > lim.Files {
			return &LimitError{Commit: commit, Path: f.Path, What: "files", Count: int64(files), Limit: int64(lim.Files)}
		}
		commits[i].Changes = append(commits[i].Changes, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Sizes of every new blob (gitlinks name commits elsewhere: no size),
	// then the contents of those small enough.
	var want bytes.Buffer
	for _, c := range commits {
		for _, f := range c.Changes {
			if !f.New.IsZero() && f.Mode != filemode.Submodule {
				fmt.Fprintln(&want, f.New)
			}
		}
	}
	if want.Len() == 0 {
		return commits, nil
	}
	sizes := map[Hash]int64{}
	check, err := git(bytes.NewReader(want.Bytes()), "cat-file", "--batch-check=%(objectname) %(objectsize)")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(check)), "\n") {
		name, size, ok := strings.Cut(line, " ")
		n, err := strconv.ParseInt(size, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("cat-file: unexpected line %q", line)
		}
		sizes[plumbing.NewHash(name)] = n
	}
	// The bytes limit counts every changed file, a blob used twice twice:
	// each is parsed and becomes an event on its own.
	var total int64
	var small bytes.Buffer
	read := map[Hash]bool{}
	for _, c := range commits {
		for _, f := range c.Changes {
			if f.New.IsZero() || f.Mode == filemode.Submodule {
				continue
			}
			n := sizes[f.New]
			if total += n; lim.Bytes > 0 && total > lim.Bytes {
				return nil, &LimitError{Commit: c.Hash, Path: f.Path, What: "bytes", Count: total, Limit: lim.Bytes}
			}
			if !read[f.New] && (lim.File <= 0 || n <= lim.File) {
				read[f.New] = true
				fmt.Fprintln(&small, f.New)
			}
		}
	}
	contents := map[Hash][]byte{}
	if small.Len() > 0 {
		batch, err := git(bytes.NewReader(small.Bytes()), "cat-file", "--batch")
		if err != nil {
			return nil, err
		}
		rd := bufio.NewReader(bytes.NewReader(batch))
		for {
			hdr, err := rd.ReadString('\n')
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			fields := strings.Fields(hdr)
			if len(fields) != 3 {
				return nil, fmt.Errorf("cat-file: unexpected header %q", hdr)
			}
			n, _ := strconv.Atoi(fields[2])
			data := make([]byte, n+1) // content and its trailing newline
			if _, err := io.ReadFull(rd, data); err != nil {
				return nil, err
			}
			contents[plumbing.NewHash(fields[0])] = data[:n]
		}
	}
	for i := range commits {
		for j := range commits[i].Changes {
			f := &commits[i].Changes[j]
			if !f.New.IsZero() && f.Mode != filemode.Submodule {
				f.Size, f.Data = sizes[f.New], contents[f.New]
			}
		}
	}
	return commits, nil
}

// parseRaw reads `git diff-tree --stdin -z --raw` output: a commit's id,
// then its changes, each ":<old mode> <new mode> <old> <new> <status>" and
// the path.
func parseRaw(raw []byte, each func(commit Hash, f PushedFile) error) error {
	parts := bytes.Split(raw, []byte{0})
	var commit Hash
	for i := 0; i < len(parts); i++ {
		tok := string(parts[i])
		if tok == "" {
			continue
		}
		if !strings.HasPrefix(tok, ":") {
			if !plumbing.IsHash(tok) {
				return fmt.Errorf("diff-tree: unexpected token %q", tok)
			}
			commit = plumbing.NewHash(tok)
			continue
		}
		meta := strings.Fields(tok[1:])
		if len(meta) != 5 || i+1 >= len(parts) {
			return fmt.Errorf("diff-tree: unexpected entry %q", tok)
		}
		i++
		f := PushedFile{Path: string(parts[i])}
		if meta[2] != plumbing.ZeroHash.String() {
			f.Old = plumbing.NewHash(meta[2])
		}
		if meta[3] != plumbing.ZeroHash.String() {
			f.New = plumbing.NewHash(meta[3])
			m, err := filemode.New(meta[1])
			if err != nil {
				return fmt.Errorf("diff-tree: mode of %q: %w", f.Path, err)
			}
			f.Mode = m
		}
		if err := each(commit, f); err != nil {
			return err
		}
	}
	return nil
}

// IsAncestor reports whether a is an ancestor of b (the git CLI, so
// quarantined objects count).
func IsAncestor(ctx context.Context, gitDir string, env []string, a, b Hash) (bool, error) {
	cmd := exec.CommandContext(ctx, "git", "--git-dir", gitDir, "merge-base", "--is-ancestor", a.String(), b.String())
	cmd.Env = env
	err := cmd.Run()
	if err == nil {
		return true, nil
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return false, nil
	}
	return false, fmt.Errorf("git merge-base: %w", err)
}
