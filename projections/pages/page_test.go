package pages

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// A reused gzip writer starts each page afresh: every page's gzip form
// is its own body, whatever was compressed before it.
func TestGzipWritersAreReused(t *testing.T) {
	c := &compressor{}
	for i := range 5 {
		body := bytes.Repeat(fmt.Appendf(nil, "<p>Page %d, about quartzite.</p>\n", i), 100*(i+1))
		r, err := gzip.NewReader(bytes.NewReader(c.gzip(body)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("page %d: %d bytes back (%v), want %d", i, len(got), err, len(body))
		}
	}
}

// Gzipping a page (40 kB of HTML) with a new writer, as each page's
// first gzip request once did, against a reused one: a new writer
// allocates and clears about 1 MB of tables.
func BenchmarkPageGzip(b *testing.B) {
	body := bytes.Repeat([]byte("<p>Some words about quartzite and other rocks, for a while.</p>\n"), 600)
	for _, bc := range []struct {
		name string
		c    *compressor
	}{{"new writer", nil}, {"reused writer", &compressor{}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.c.gzip(body)
			}
		})
	}
}
