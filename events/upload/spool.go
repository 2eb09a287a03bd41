package upload

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/chronicle-cms/chronicle/repo/lfs"
)

// ErrOverLimit: the file has more bytes than one upload may (ErrTooLarge
// is about pixels).
var ErrOverLimit = errors.New("the file is larger than an upload may be")

// Store is the LFS store uploads land in, and the limits they are held
// to. The API and the web admin both take pictures through it, so an
// upload is checked and kept the same way whichever way it came.
type Store struct {
	Dir      string // the LFS store
	MaxBytes int64  // one upload
	Limits   Limits // pixels
	Log      *slog.Logger
}

// Spooled is an upload copied to the store's temporary folder: not yet
// inspected, not yet kept.
type Spooled struct {
	s    Store
	path string
}

// Spool copies r (one file of an upload) to the store's temporary folder,
// refusing it with ErrOverLimit after MaxBytes; an error reading r is
// returned wrapped (an *http.MaxBytesError stays findable with errors.As).
// The caller keeps or discards what it returns.
func (s Store) Spool(r io.Reader) (*Spooled, error) {
	dir := filepath.Join(s.Dir, "tmp")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("upload temporary folder: %w", err)
	}
	f, err := os.CreateTemp(dir, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("upload temporary file: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(r, s.MaxBytes+1))
	f.Close()
	switch {
	case err != nil:
		os.Remove(f.Name())
		return nil, fmt.Errorf("read the upload: %w", err)
	case n > s.MaxBytes:
		os.Remove(f.Name())
		return nil, fmt.Errorf("%w (%d MiB)", ErrOverLimit, s.MaxBytes>>20)
	}
	return &Spooled{s: s, path: f.Name()}, nil
}

// Discard removes a spooled file that is not kept; after Keep it does
// nothing.
func (sp *Spooled) Discard() {
	if sp != nil && sp.path != "" {
		os.Remove(sp.path)
		sp.path = ""
	}
}

// Keep inspects the spooled bytes (Inspect's errors, as they are) and, if
// they are an accepted picture, stores them under their SHA-256, durably,
// with the facts that spare pushes and derivation reading them again. The
// spooled file is gone afterwards either way.
func (sp *Spooled) Keep() (Info, error) {
	defer sp.Discard()
	data, err := os.ReadFile(sp.path)
	if err != nil {
		return Info{}, fmt.Errorf("read the upload back: %w", err)
	}
	info, err := Inspect(data, sp.s.Limits)
	if err != nil {
		return Info{}, err
	}
	if err := lfs.Store(sp.s.Dir, info.SHA256, sp.path); err != nil {
		return Info{}, fmt.Errorf("store upload: %w", err)
	}
	sp.path = ""
	facts := lfs.Facts{Size: info.Bytes, Type: info.Type, Ext: info.Ext, Width: info.Width, Height: info.Height}
	if err := lfs.Record(sp.s.Dir, info.SHA256, facts); err != nil && sp.s.Log != nil {
		// Without the facts they are read from the bytes once more later:
		// logged, not an error for the upload.
		sp.s.Log.Warn("the facts of an upload could not be recorded; they will be read from its bytes", "oid", info.SHA256, "err", err)
	}
	return info, nil
}

// Refused reports whether err is Inspect's refusal of the bytes (the
// uploader's to fix), not a failure of the store.
func Refused(err error) bool {
	return errors.Is(err, ErrUnsupported) || errors.Is(err, ErrTruncated) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrEmpty)
}

// CleanName keeps a file name's last element, printable, at most 200
// runes: an uploader's name for the file, kept as a label only.
func CleanName(s string) string {
	s = filepath.Base(strings.ReplaceAll(s, "\\\\", "/"))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	if s == "." || s == "/" {
		return ""
	}
	return s
}
