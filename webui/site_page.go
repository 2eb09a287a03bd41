package webui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/projections/pages"
)

// sitePage serves a pre-rendered public page: home, posts, lists,
// archives, feeds, sitemap, robots.txt. No Markdown and no git here.
func (h *Handler) sitePage(w http.ResponseWriter, r *http.Request) {
	pg := h.cfg.Pages.Lookup(r.URL.Path)
	if pg == nil {
		pg = h.cfg.Pages.NotFound()
	}
	h.servePage(w, r, pg)
}

// notFound answers unknown public paths with the themed 404 page.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Pages == nil {
		http.NotFound(w, r)
		return
	}
	h.servePage(w, r, h.cfg.Pages.NotFound())
}

// servePage writes a page with validators, conditional answers and gzip.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request, pg *pages.Page) {
	hd := w.Header()
	if pg.Location != "" {
		http.Redirect(w, r, pg.Location, pg.Status)
		return
	}
	body, tag := pg.Body, pg.ETag
	gz := pg.Gzip != nil && acceptsGzip(r)
	if gz {
		body, tag = pg.Gzip, strings.TrimSuffix(pg.ETag, `"`)+`-gz"`
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Type", pg.ContentType)
	hd.Set("Vary", "Accept-Encoding")
	if strings.HasPrefix(pg.ContentType, "text/html") {
		hd.Set("Content-Security-Policy", h.csp())
		hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	}
	if pg.Status == http.StatusOK {
		hd.Set("ETag", tag)
		hd.Set("Cache-Control", "public, max-age=0, must-revalidate")
		if !pg.LastModified.IsZero() {
			hd.Set("Last-Modified", pg.LastModified.Format(http.TimeFormat))
		}
		if notModified(r, pg) {
			hd.Del("Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(pg.Status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			return !strings.Contains(strings.ReplaceAll(q, " ", ""), "q=0") || strings.Contains(q, "q=0.")
		}
	}
	return false
}

// notModified applies If-None-Match (either encoding's ETag matches), or
// failing that If-Modified-Since.
func notModified(r *http.Request, pg *pages.Page) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		base := strings.Trim(pg.ETag, `"`)
		for _, t := range strings.Split(inm, ",") {
			t = strings.Trim(strings.TrimPrefix(strings.TrimSpace(t), "W/"), `"`)
			if t == "*" || t == base || t == base+"-gz" {
				return true
			}
		}
		return false
	}
	if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !pg.LastModified.IsZero() {
		return !pg.LastModified.After(ims.Add(time.Second - 1))
	}
	return false
}

// csp allows the site's own files, images from anywhere, and the analytics
// and ads scripts only when the settings turn them on.
func (h *Handler) csp() string {
	s := h.cfg.Pages.Settings()
	script := "'self'"
	if s.Analytics.GoogleAnalyticsID != "" {
		script += " 'unsafe-inline' https://www.googletagmanager.com https://www.google-analytics.com"
	}
	if s.Ads.AdSenseClientID != "" {
		script += " https://pagead2.googlesyndication.com https://adservice.google.com"
	}
	return "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src " + script +
		"; connect-src 'self' https:; frame-src https:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
}
