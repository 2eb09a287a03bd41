package site

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chronicle-cms/chronicle/projections/pages"
)

// sitePage serves a pre-rendered public page: home, posts, lists,
// archives, feeds, sitemap, robots.txt. No Markdown and no git here.
func (h *Handler) sitePage(w http.ResponseWriter, r *http.Request) {
	pg := h.cfg.Pages.Lookup(r.URL.Path)
	if pg == nil {
		pg = h.cfg.Pages.NotFound()
	}
	ServePage(w, r, pg)
}

// notFound answers unknown public paths with the themed 404 page.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	ServePage(w, r, h.cfg.Pages.NotFound())
}

// ServePage writes a page with validators, conditional answers and
// brotli or gzip. Its headers were built when it was rendered.
func ServePage(w http.ResponseWriter, r *http.Request, pg *pages.Page) {
	if pg.Location != "" {
		http.Redirect(w, r, pg.Location, pg.Status)
		return
	}
	hdr, body, status := PickPage(pg, r.Header.Get("Accept-Encoding"), r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"))
	out := w.Header()
	for k, v := range hdr {
		out[k] = v
	}
	if status == http.StatusNotModified {
		delete(out, "Content-Encoding")
		delete(out, "Content-Length")
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead && status != http.StatusNotModified {
		w.Write(body)
	}
}

// PickPage chooses a page's encoding from a request's Accept-Encoding
// and answers its conditional headers: the response's headers, body and
// status (http.StatusNotModified when the reader's copy is current). Both
// of the daemon's HTTP servers answer pages through it.
func PickPage(pg *pages.Page, acceptEncoding, ifNoneMatch, ifModifiedSince string) (http.Header, []byte, int) {
	body, hdr := pg.Body, pg.Header
	br, gz := encodingQualities(acceptEncoding)
	var e *pages.Encoded
	if br > 0 && br >= gz {
		e = pg.Brotli() // nil until made
	}
	if e == nil && gz > 0 {
		e = pg.Gzip()
	}
	if e != nil {
		body, hdr = e.Body, e.Header
	}
	if pg.Status == http.StatusOK && notModified(pg, ifNoneMatch, ifModifiedSince) {
		return hdr, nil, http.StatusNotModified
	}
	return hdr, body, pg.Status
}

// encodingQualities returns the qualities an Accept-Encoding header gives
// brotli and gzip (listed, or covered by "*"; 0 when refused or absent).
func encodingQualities(header string) (br, gzip float64) {
	var star, brQ, gzQ float64 = 0, -1, -1
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				} else {
					q = 0
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "br":
			brQ = q
		case "gzip", "x-gzip":
			gzQ = q
		case "*":
			star = q
		}
	}
	if brQ < 0 {
		brQ = star
	}
	if gzQ < 0 {
		gzQ = star
	}
	return brQ, gzQ
}

// notModified applies If-None-Match (either encoding's ETag matches), or
// failing that If-Modified-Since.
func notModified(pg *pages.Page, inm, ims string) bool {
	if inm != "" {
		base := strings.Trim(pg.ETag, `"`)
		for _, t := range strings.Split(inm, ",") {
			t = strings.Trim(strings.TrimPrefix(strings.TrimSpace(t), "W/"), `"`)
			if t == "*" || t == base || t == base+"-gz" || t == base+"-br" {
				return true
			}
		}
		return false
	}
	if t, err := http.ParseTime(ims); err == nil && !pg.LastModified.IsZero() {
		return !pg.LastModified.After(t.Add(time.Second - 1))
	}
	return false
}

// FastPages answers GET and HEAD requests for already rendered public
// pages before next (the router) runs: most reader traffic is exactly
// that. Everything else (and any page not rendered yet) goes to next.
// observe times the pages it answers.
func FastPages(pg Pages, next http.Handler, observe prometheus.Observer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			if p := pg.Cached(r.URL.Path); p != nil && r.URL.RawQuery == "" {
				start := time.Now()
				ServePage(w, r, p)
				observe.Observe(time.Since(start).Seconds())
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
