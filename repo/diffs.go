package repo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// Diffs reads, from one `git log` process, each commit of main's
// first-parent chain after a commit with its changes against its first
// parent, oldest first: what Diff(parent, commit) returns, for a whole
// history at once. Reading a long history (a fast start, a rebuild),
// git's tree diff costs a fraction of decoding every changed tree here.
type Diffs struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	rd     *bufio.Reader
	stderr strings.Builder
	next   string // a commit already read: the one Next returns next
	done   bool
}

// FirstParentDiffs starts reading the first-parent chain from head back
// to (not including) stop; a zero stop reads it all. Close ends it.
func (r *Repo) FirstParentDiffs(ctx context.Context, stop, head Hash) (*Diffs, error) {
	args := []string{"--git-dir", r.dir, "log", "--first-parent", "--diff-merges=first-parent", "--reverse", "--root",
		"--raw", "-z", "--no-renames", "--no-abbrev", "--ignore-submodules=none", "--no-color", "--no-ext-diff", "--format=%H", head.String()}
	if !stop.IsZero() {
		args = append(args, "^"+stop.String())
	}
	d := &Diffs{cmd: exec.CommandContext(ctx, "git", args...)}
	d.cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1")
	d.cmd.Stderr = &d.stderr
	var err error
	if d.out, err = d.cmd.StdoutPipe(); err != nil {
		return nil, fmt.Errorf("git log: %w", err)
	}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("git log: %w", err)
	}
	d.rd = bufio.NewReaderSize(d.out, 256<<10)
	return d, nil
}

// Next returns the next commit and its changes, in Diff's order (git's
// tree order, which is the byte order of the paths); io.EOF after the
// last.
func (d *Diffs) Next() (Hash, []FileChange, error) {
	if d.done {
		return ZeroHash, nil, io.EOF
	}
	commit := d.next
	if commit == "" {
		tok, err := d.token()
		if err == io.EOF {
			return ZeroHash, nil, d.finish()
		}
		if err != nil {
			return ZeroHash, nil, err
		}
		commit = tok
	}
	d.next = ""
	h := ParseHash(commit)
	if h.IsZero() {
		return ZeroHash, nil, fmt.Errorf("git log: expected a commit, read %q", commit)
	}
	var changes []FileChange
	for {
		tok, err := d.token()
		if err == io.EOF {
			d.done = true
			if err := d.finish(); err != io.EOF {
				return ZeroHash, nil, err
			}
			break
		}
		if err != nil {
			return ZeroHash, nil, err
		}
		if !strings.HasPrefix(tok, ":") {
			d.next = tok // the next commit
			break
		}
		// ":oldmode newmode oldhash newhash status", then the path.
		f := strings.Fields(tok[1:])
		path, err := d.token()
		if err != nil || len(f) != 5 {
			return ZeroHash, nil, fmt.Errorf("git log: unexpected change line %q: %w", tok, errors.Join(err, io.ErrUnexpectedEOF))
		}
		// As Diff: folders are walked, submodules are not files.
		ch := FileChange{Path: path, Old: blobOf(f[0], f[2]), New: blobOf(f[1], f[3])}
		if !ch.Old.IsZero() || !ch.New.IsZero() {
			changes = append(changes, ch)
		}
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].Path < changes[j].Path })
	return h, changes, nil
}

func blobOf(mode, hash string) Hash {
	switch mode {
	case "000000", "040000", "160000":
		return ZeroHash
	}
	return ParseHash(hash)
}

// token reads up to the next NUL, without the newlines git puts between
// a commit and its changes.
func (d *Diffs) token() (string, error) {
	s, err := d.rd.ReadString(0)
	if err == io.EOF && strings.TrimSpace(s) != "" {
		return "", fmt.Errorf("git log: output ends inside a record: %w", io.ErrUnexpectedEOF)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimLeft(s[:len(s)-1], "\n"), nil
}

func (d *Diffs) finish() error {
	d.done = true
	if err := d.cmd.Wait(); err != nil {
		return fmt.Errorf("git log: %w: %s", err, strings.TrimSpace(d.stderr.String()))
	}
	return io.EOF
}

// Close stops reading (the process is ended if it still runs).
func (d *Diffs) Close() error {
	if d.done {
		return nil
	}
	d.done = true
	d.out.Close()
	d.cmd.Process.Kill()
	d.cmd.Wait()
	return nil
}
