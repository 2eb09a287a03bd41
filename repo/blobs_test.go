package repo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/repo"
)

// EachBlob hands over what ReadBlob reads, in the order asked (a blob
// asked twice twice, an empty one and one with a newline at the end
// included); a missing blob is ErrNotFound, and fn's error stops it.
func TestEachBlob(t *testing.T) {
	r := open(t)
	bodies := []string{"first\n", "", "no newline", strings.Repeat("big ", 100000)}
	var changes []repo.Change
	for i, b := range bodies {
		changes = append(changes, repo.Change{Path: fmt.Sprintf("f%d", i), Data: []byte(b)})
	}
	head := commit(t, r, repo.ZeroHash, changes...)
	diff, err := r.Diff(repo.ZeroHash, head)
	if err != nil {
		t.Fatal(err)
	}
	var hs []repo.Hash
	for _, ch := range diff {
		hs = append(hs, ch.New)
	}
	hs = append(hs, hs[0])
	var got []repo.Hash
	err = r.EachBlob(context.Background(), hs, func(h repo.Hash, b []byte) error {
		want, err := r.ReadBlob(h)
		if err != nil || !bytes.Equal(b, want) {
			t.Errorf("%s: %d bytes, want %d (%v)", h, len(b), len(want), err)
		}
		got = append(got, h)
		return nil
	})
	if err != nil || fmt.Sprint(got) != fmt.Sprint(hs) {
		t.Fatalf("read %v, want %v (%v)", got, hs, err)
	}
	missing := repo.ParseHash(strings.Repeat("ab", 20))
	if err := r.EachBlob(context.Background(), []repo.Hash{hs[0], missing}, func(repo.Hash, []byte) error { return nil }); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("a missing blob: %v, want ErrNotFound", err)
	}
	stop := errors.New("stop")
	n := 0
	if err := r.EachBlob(context.Background(), hs, func(repo.Hash, []byte) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("stopped after %d blobs with %v, want 1 and stop", n, err)
	}
}

// A BlobStream answers in the order asked, a blob's bytes or not ok for a
// missing object or one that is not a blob, asked from one goroutine and
// taken from another.
func TestBlobStream(t *testing.T) {
	r := open(t)
	head := commit(t, r, repo.ZeroHash, repo.Change{Path: "a", Data: []byte("alpha")}, repo.Change{Path: "b", Data: []byte(strings.Repeat("b", 300000))})
	diff, err := r.Diff(repo.ZeroHash, head)
	if err != nil {
		t.Fatal(err)
	}
	missing := repo.ParseHash(strings.Repeat("cd", 20))
	asked := []repo.Hash{diff[0].New, head, missing, diff[1].New}
	s, err := r.Blobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	go func() {
		for range 50 { // more than a pipe holds: the taker keeps git going
			s.Ask(asked...)
		}
		s.CloseAsking()
	}()
	for range 50 {
		for i, h := range asked {
			b, ok, err := s.Take(h)
			want, _ := r.ReadBlob(h)
			if err != nil || ok != (i == 0 || i == 3) || (ok && !bytes.Equal(b, want)) {
				t.Fatalf("%s: %d bytes, ok %v, %v", h, len(b), ok, err)
			}
		}
	}
}
