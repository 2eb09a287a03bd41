package upload

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/repo/lfs"
)

// An upload is kept only whole, within the limit and a picture by its
// bytes; whatever is refused leaves nothing behind, in the store or its
// temporary folder.
func TestStoreKeepsOnlyPictures(t *testing.T) {
	dir := t.TempDir()
	s := Store{Dir: dir, MaxBytes: 64 << 10, Limits: DefaultLimits}
	left := func() []string {
		var files []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, strings.TrimPrefix(p, dir))
			}
			return nil
		})
		return files
	}

	if _, err := s.Spool(bytes.NewReader(make([]byte, 64<<10+1))); !errors.Is(err, ErrOverLimit) {
		t.Fatalf("over the limit: %v", err)
	}
	sp, err := s.Spool(strings.NewReader("plain text named .png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Keep(); !errors.Is(err, ErrUnsupported) || !Refused(err) {
		t.Fatalf("text: %v", err)
	}
	sp, _ = s.Spool(strings.NewReader("discarded"))
	sp.Discard()
	if f := left(); len(f) != 0 {
		t.Fatalf("refused uploads left %v", f)
	}

	png := encoded(t, "png", 30, 20)
	sp, err = s.Spool(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	info, err := sp.Keep()
	if err != nil || info.Type != "image/png" || info.Width != 30 || info.Bytes != int64(len(png)) {
		t.Fatalf("a PNG: %+v %v", info, err)
	}
	if !lfs.Exists(dir, info.SHA256, info.Bytes) {
		t.Fatal("the PNG is not in the store")
	}
	if f, ok := lfs.ReadFacts(dir, info.SHA256, info.Bytes); !ok || f.Type != "image/png" || f.Height != 20 {
		t.Fatalf("its facts: %+v %v", f, ok)
	}
	if f := left(); len(f) != 2 { // the object and its facts
		t.Fatalf("the store holds %v", f)
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{"../../holiday photo.JPG": "holiday photo.JPG", "a\x00b\nc.png": "abc.png", "": "", "/": ""} {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}
