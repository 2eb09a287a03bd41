package pages

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
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
