package repo

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	fdiff "github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"
)

// diffTimeout bounds the line diff of one file: past it the rest of the
// file is shown as removed and added whole, a worse diff but a bounded
// answer.
const diffTimeout = time.Second

// UnifiedDiff is the unified diff, in git's format with three lines of
// context, that turns the file at path from a into b; a nil a is a file
// added, a nil b a file deleted. old and new are the two blobs, for the
// "index" line. It also counts the lines added and deleted. It is made
// in the process with go-git's encoder (no git process per file); the
// caller bounds the sizes it gives.
func UnifiedDiff(path string, old, new Hash, a, b []byte) (text string, added, deleted int) {
	fp := &filePatch{}
	if a != nil {
		fp.from = &patchFile{path: path, hash: old}
	}
	if b != nil {
		fp.to = &patchFile{path: path, hash: new}
	}
	for _, d := range diff.DoWithTimeout(string(a), string(b), diffTimeout) {
		op := fdiff.Equal
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			op = fdiff.Add
			added += lines(d.Text)
		case diffmatchpatch.DiffDelete:
			op = fdiff.Delete
			deleted += lines(d.Text)
		}
		fp.chunks = append(fp.chunks, chunk{d.Text, op})
	}
	var sb strings.Builder
	// Writing to a strings.Builder does not fail.
	_ = fdiff.NewUnifiedEncoder(&sb, fdiff.DefaultContextLines).Encode(patch{fp})
	return sb.String(), added, deleted
}

func lines(s string) int {
	n := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// BlobSize is the size of a blob, found without reading the blob.
func (r *Repo) BlobSize(h Hash) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	os := r.st.Storage.ObjectStorage
	n, err := os.EncodedObjectSize(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		os.Reindex() // packed by git behind go-git's back
		n, err = os.EncodedObjectSize(h)
	}
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return 0, fmt.Errorf("%w: blob %s", ErrNotFound, h)
	}
	if err != nil {
		return 0, fmt.Errorf("size of blob %s: %w", h, err)
	}
	return n, nil
}

// patch, filePatch, patchFile and chunk are go-git's patch interfaces
// for one file.
type patch struct{ fp *filePatch }

func (p patch) FilePatches() []fdiff.FilePatch { return []fdiff.FilePatch{p.fp} }
func (p patch) Message() string                { return "" }

type filePatch struct {
	from, to *patchFile
	chunks   []fdiff.Chunk
}

func (f *filePatch) IsBinary() bool { return false }

func (f *filePatch) Files() (fdiff.File, fdiff.File) {
	// A nil *patchFile inside the interface would not be nil to the encoder.
	var from, to fdiff.File
	if f.from != nil {
		from = f.from
	}
	if f.to != nil {
		to = f.to
	}
	return from, to
}

func (f *filePatch) Chunks() []fdiff.Chunk { return f.chunks }

type patchFile struct {
	path string
	hash Hash
}

func (f *patchFile) Hash() plumbing.Hash     { return f.hash }
func (f *patchFile) Mode() filemode.FileMode { return filemode.Regular }
func (f *patchFile) Path() string            { return f.path }

type chunk struct {
	content string
	op      fdiff.Operation
}

func (c chunk) Content() string       { return c.content }
func (c chunk) Type() fdiff.Operation { return c.op }
