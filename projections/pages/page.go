package pages

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
)

// Page is a rendered response, ready to serve.
type Page struct {
	Status       int
	ContentType  string
	Body         []byte
	ETag         string // strong, of Body
	LastModified time.Time
	Location     string // for redirects

	// Header holds the response headers for Body, built once.
	Header http.Header

	compressible bool // big enough to try gzip and brotli on
	gzOnce       sync.Once
	gz           *Encoded
	br           atomic.Pointer[Encoded] // made in the background, see Brotli
	brQueued     atomic.Bool
	compress     *compressor

	// The page cache's: whether a reader used the page since the clock
	// hand last passed it, the cache holding it and its key there.
	used     atomic.Bool
	cache    *pageCache
	cacheKey string
}

// cost is what the page holds in memory when it is cached; its
// compressed forms are added as they are made (see pageCache.grew).
func (pg *Page) cost() int64 { return int64(len(pg.Body)) + pageOverhead }

func (pg *Page) key() string { return pg.cacheKey }

// made accounts for a compressed form of the page.
func (pg *Page) made(e *Encoded) {
	if e != nil && pg.cache != nil {
		pg.cache.grew(pg, len(e.Body))
	}
}

// Gzip returns the page gzipped, with its own ETag and Content-Encoding,
// or nil when the page is too small or does not shrink. It is made at the
// first request that wants it, not when the page is rendered: an edit's
// pages (feeds are large) are then ready sooner.
func (pg *Page) Gzip() *Encoded {
	if !pg.compressible {
		return nil
	}
	pg.gzOnce.Do(func() {
		pg.gz = pg.encoded("gzip", "-gz", pg.compress.gzip(pg.Body))
		pg.made(pg.gz)
	})
	return pg.gz
}

// encoded returns body as the page's encoding named, or nil if it is not
// smaller than the page.
func (pg *Page) encoded(encoding, etagSuffix string, body []byte) *Encoded {
	if len(body) >= len(pg.Body) {
		return nil
	}
	h := pg.Header.Clone()
	h["Content-Encoding"] = []string{encoding}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	if pg.Status == http.StatusOK {
		h["Etag"] = []string{strings.TrimSuffix(pg.ETag, `"`) + etagSuffix + `"`}
	}
	return &Encoded{Body: body, Header: h}
}

// Encoded is a compressed form of a page with its headers.
type Encoded struct {
	Body   []byte
	Header http.Header
}

// Brotli returns the page's brotli form, or nil while it is not made yet:
// the first call queues it. Brotli at its best setting is a quarter
// smaller than gzip for a page but takes ~15 ms, too long for a reader to
// wait and worth it for every later one.
func (pg *Page) Brotli() *Encoded {
	if e := pg.br.Load(); e != nil || !pg.compressible || pg.compress == nil {
		return e
	}
	if pg.brQueued.CompareAndSwap(false, true) {
		pg.compress.queue(pg)
	}
	return nil
}

// compressor makes brotli forms one at a time, so that readers arriving
// at a freshly rendered site cannot set every core compressing, and
// keeps gzip writers for reuse: a new one allocates and clears more
// memory than compressing a page takes time.
type compressor struct {
	todo  chan *Page
	busy  atomic.Bool
	gzips sync.Pool // *gzip.Writer
}

// gzip compresses body with a writer of c's, or a new one when c is nil.
func (c *compressor) gzip(body []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(body) / 4)
	var w *gzip.Writer
	if c != nil {
		w, _ = c.gzips.Get().(*gzip.Writer)
	}
	if w == nil {
		w, _ = gzip.NewWriterLevel(&b, gzip.DefaultCompression)
	} else {
		w.Reset(&b)
	}
	w.Write(body)
	w.Close()
	if c != nil {
		w.Reset(io.Discard) // not holding this page's bytes while pooled
		c.gzips.Put(w)
	}
	return b.Bytes()
}

// queue hands pg to the compressor; when the queue is full, pg is left
// to a later request.
func (c *compressor) queue(pg *Page) {
	select {
	case c.todo <- pg:
	default:
		pg.brQueued.Store(false)
		return
	}
	if c.busy.CompareAndSwap(false, true) {
		go c.run()
	}
}

// run compresses until the queue is empty. A goroutine runs only while
// there is work, so the compressor needs no shutdown.
func (c *compressor) run() {
	for {
		select {
		case pg := <-c.todo:
			if e := pg.encodeBrotli(); e != nil {
				pg.br.Store(e)
				pg.made(e)
			}
		default:
			c.busy.Store(false)
			if len(c.todo) == 0 || !c.busy.CompareAndSwap(false, true) {
				return
			}
		}
	}
}

func (pg *Page) encodeBrotli() *Encoded {
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, brotli.BestCompression)
	w.Write(pg.Body)
	w.Close()
	return pg.encoded("br", "-br", b.Bytes())
}

// headers prepares the response headers; csp applies to HTML pages.
func (pg *Page) headers(csp string) *Page {
	h := http.Header{
		"Content-Type":           {pg.ContentType},
		"Vary":                   {"Accept-Encoding"},
		"X-Content-Type-Options": {"nosniff"},
		"Content-Length":         {strconv.Itoa(len(pg.Body))},
	}
	if strings.HasPrefix(pg.ContentType, "text/html") {
		h["Content-Security-Policy"] = []string{csp}
		h["Referrer-Policy"] = []string{"strict-origin-when-cross-origin"}
	}
	if pg.Status == http.StatusOK {
		h["Etag"] = []string{pg.ETag}
		h["Cache-Control"] = []string{"public, max-age=0, must-revalidate"}
		if !pg.LastModified.IsZero() {
			h["Last-Modified"] = []string{pg.LastModified.Format(http.TimeFormat)}
		}
	} else {
		h["Cache-Control"] = []string{"no-cache"}
	}
	pg.Header = h
	return pg
}

func newPage(status int, contentType string, body []byte, modified time.Time) *Page {
	sum := sha256.Sum256(body)
	return &Page{Status: status, ContentType: contentType, Body: body, compressible: len(body) > 512,
		ETag: `"` + hex.EncodeToString(sum[:12]) + `"`, LastModified: modified.UTC().Truncate(time.Second)}
}

func redirect(to string) *Page {
	return &Page{Status: 301, ContentType: "text/plain; charset=utf-8", Body: []byte("moved to " + to + "\n"), Location: to}
}
