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

// PushedFile is a file the commit changed against its first parent. Data
// holds the new content unless the file was deleted or is larger than the
// size limit given to ReadPush (then Size tells how large).
type PushedFile struct {
	Path     string
	Old, New Hash
	Size     int64
	Data     []byte
}

// ReadPush lists the commits that a push of old..new brings, oldest first,
// with their changed files. env is the hook's environment (it carries the
// quarantine's object directories). Files over maxSize are not read.
func ReadPush(ctx context.Context, gitDir string, env []string, old, new Hash, maxSize int64) ([]PushedCommit, error) {
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
		diffArgs := []string{"diff-tree", "-r", "-z", "--no-renames", "--raw", "--no-commit-id"}
		if c.Parent.IsZero() {
			diffArgs = append(diffArgs, "--root", c.Hash.String())
		} else {
			diffArgs = append(diffArgs, c.Parent.String(), c.Hash.String())
		}
		raw, err := git(nil, diffArgs...)
		if err != nil {
			return nil, err
		}
		if c.Changes, err = parseRaw(raw); err != nil {
			return nil, err
		}
		commits = append(commits, c)
	}
	// Sizes of every new blob, then the contents of those small enough.
	var want bytes.Buffer
	for _, c := range commits {
		for _, f := range c.Changes {
			if !f.New.IsZero() {
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
	var small bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(string(check)), "\n") {
		name, size, ok := strings.Cut(line, " ")
		n, err := strconv.ParseInt(size, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("cat-file: unexpected line %q", line)
		}
		h := plumbing.NewHash(name)
		if _, seen := sizes[h]; !seen && n <= maxSize {
			fmt.Fprintln(&small, name)
		}
		sizes[h] = n
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
			if !f.New.IsZero() {
				f.Size, f.Data = sizes[f.New], contents[f.New]
			}
		}
	}
	return commits, nil
}

// parseRaw reads `git diff-tree -z --raw` output.
func parseRaw(raw []byte) ([]PushedFile, error) {
	var out []PushedFile
	parts := bytes.Split(raw, []byte{0})
	for i := 0; i+1 < len(parts); i += 2 {
		meta := strings.Fields(strings.TrimPrefix(string(parts[i]), ":"))
		if len(meta) != 5 {
			return nil, fmt.Errorf("diff-tree: unexpected entry %q", parts[i])
		}
		f := PushedFile{Path: string(parts[i+1])}
		if meta[0] == "160000" || meta[1] == "160000" {
			return nil, fmt.Errorf("%s: submodules are not content", f.Path)
		}
		if meta[2] != plumbing.ZeroHash.String() {
			f.Old = plumbing.NewHash(meta[2])
		}
		if meta[3] != plumbing.ZeroHash.String() {
			f.New = plumbing.NewHash(meta[3])
		}
		out = append(out, f)
	}
	return out, nil
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
