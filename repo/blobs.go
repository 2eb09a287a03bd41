package repo

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// EachBlob reads the blobs hs names, in that order, from one `git cat-file
// --batch` process, and hands each to fn; an error from fn stops it. For
// many blobs at once (every post of a site): git inflates them in a
// process of its own, and the repository's lock and object cache stay
// free for the daemon's other readers. The bytes are fn's to keep.
func (r *Repo) EachBlob(ctx context.Context, hs []Hash, fn func(h Hash, b []byte) error) error {
	if len(hs) == 0 {
		return nil
	}
	s, err := r.Blobs(ctx)
	if err != nil {
		return err
	}
	defer s.Close() // stops git, and so the asking below, if fn stopped early
	go func() {
		if s.Ask(hs...) == nil {
			s.CloseAsking()
		}
	}()
	for _, h := range hs {
		b, ok, err := s.Take(h)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("read blob %s: %w", h, ErrNotFound)
		}
		if err := fn(h, b); err != nil {
			return err
		}
	}
	return nil
}

// BlobStream is one `git cat-file --batch` process asked for objects as a
// history is read: Ask names them ahead of need, Take returns the
// answers in the order asked, so git inflates the next commits' files
// while the caller works on this one's.
type BlobStream struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	w      *bufio.Writer
	rd     *bufio.Reader
	stderr strings.Builder
	cancel context.CancelFunc
}

// Blobs starts a BlobStream; Close ends it.
func (r *Repo) Blobs(ctx context.Context) (*BlobStream, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &BlobStream{cmd: exec.CommandContext(ctx, "git", "--git-dir", r.dir, "cat-file", "--batch"), cancel: cancel}
	s.cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1")
	s.cmd.Stderr = &s.stderr
	var err error
	if s.in, err = s.cmd.StdinPipe(); err != nil {
		cancel()
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	s.w, s.rd = bufio.NewWriter(s.in), bufio.NewReaderSize(out, 256<<10)
	return s, nil
}

// Ask asks for the objects hs. Git may block writing its answers until
// they are taken: a caller asking from one goroutine and taking from
// another must let the taker know what is coming before asking for it.
func (s *BlobStream) Ask(hs ...Hash) error {
	for _, h := range hs {
		if _, err := fmt.Fprintln(s.w, h); err != nil {
			return fmt.Errorf("git cat-file: %w", err)
		}
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	return nil
}

// Take returns the answer to the next object asked: its bytes if it is a
// blob, ok false if it is missing or not a blob.
func (s *BlobStream) Take(h Hash) (b []byte, ok bool, err error) {
	hdr, err := s.rd.ReadString('\n')
	if err != nil {
		return nil, false, fmt.Errorf("git cat-file: read %s: %w: %s", h, err, strings.TrimSpace(s.stderr.String()))
	}
	fields := strings.Fields(hdr)
	if len(fields) == 0 || fields[0] != h.String() {
		return nil, false, fmt.Errorf("git cat-file: %s: unexpected answer %q", h, strings.TrimSpace(hdr))
	}
	if len(fields) == 2 && fields[1] == "missing" {
		return nil, false, nil
	}
	n, err := strconv.Atoi(fields[len(fields)-1])
	if len(fields) != 3 || err != nil {
		return nil, false, fmt.Errorf("git cat-file: %s: unexpected answer %q", h, strings.TrimSpace(hdr))
	}
	b = make([]byte, n+1) // the object and the newline after it
	if _, err := io.ReadFull(s.rd, b); err != nil {
		return nil, false, fmt.Errorf("git cat-file: read %s: %w", h, err)
	}
	return b[:n], fields[1] == "blob", nil
}

// CloseAsking tells git nothing more will be asked; Take still returns
// what was.
func (s *BlobStream) CloseAsking() error { return s.in.Close() }

// Close stops git.
func (s *BlobStream) Close() error {
	s.in.Close()
	s.cancel()
	s.cmd.Wait()
	return nil
}
