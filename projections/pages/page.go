package pages

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Page is a rendered response, ready to serve.
type Page struct {
	Status       int
	ContentType  string
	Body         []byte
	Gzip         []byte // Body gzipped; nil when not worth it
	ETag         string // strong, of Body
	LastModified time.Time
	Location     string // for redirects

	// Response headers, built once: Header for the body as is, GzipHeader
	// for the gzipped body (its own ETag and Content-Encoding).
	Header, GzipHeader http.Header
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
	if pg.Gzip != nil {
		g := h.Clone()
		g["Content-Encoding"] = []string{"gzip"}
		g["Content-Length"] = []string{strconv.Itoa(len(pg.Gzip))}
		if pg.Status == http.StatusOK {
			g["Etag"] = []string{strings.TrimSuffix(pg.ETag, `"`) + `-gz"`}
		}
		pg.GzipHeader = g
	}
	return pg
}

func newPage(status int, contentType string, body []byte, modified time.Time) *Page {
	sum := sha256.Sum256(body)
	pg := &Page{Status: status, ContentType: contentType, Body: body,
		ETag: `"` + hex.EncodeToString(sum[:12]) + `"`, LastModified: modified.UTC().Truncate(time.Second)}
	if len(body) > 512 {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.DefaultCompression)
		w.Write(body)
		w.Close()
		if b.Len() < len(body) {
			pg.Gzip = b.Bytes()
		}
	}
	return pg
}

func redirect(to string) *Page {
	return &Page{Status: 301, ContentType: "text/plain; charset=utf-8", Body: []byte("moved to " + to + "\n"), Location: to}
}
