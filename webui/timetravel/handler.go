// Package timetravel serves the public site as it stood at any commit of
// main's first-parent history, under /admin/at/{rev}/…: {rev} is a
// commit (its full hash, or an unambiguous abbreviation) or an RFC 3339
// date-time (the newest commit at or before it), and the rest is any
// public path. A site at a commit is built on demand from that commit's
// tree alone (gitlog.DeriveTree applied to a memory-only pages
// projection, pages.NewSnapshot), kept in a small cache, and served by
// the public site's own handlers (site.Mount), so it is what the live
// site showed then; the live projections are never touched. HTML pages
// get a banner (when, who, what; the changes before and after) and their
// links are kept in the past; every answer carries Memento headers (RFC
// 7089). Who may look is decided by the admin, which mounts it.
package timetravel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// Prefix is where time travel is served.
const Prefix = "/admin/at/"

// Config is what time travel needs; all but Snapshots are required.
type Config struct {
	Repo    *repo.Repo
	Deriver *gitlog.Deriver
	// Pages configures the snapshots' pages as the live projection's
	// are (theme, base URL, renderer, logger); its Path is not used.
	Pages pages.Config
	// Snapshots is how many commits' sites are kept (default 4; each
	// holds its posts' text).
	Snapshots int
	Logger    *slog.Logger
}

// Handler serves time travel.
type Handler struct {
	cfg   Config
	chain *chain
	cache *cache
}

// New returns the handler.
func New(cfg Config) *Handler {
	if cfg.Snapshots <= 0 {
		cfg.Snapshots = 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, chain: newChain(cfg.Repo), cache: newCache(cfg.Snapshots)}
}

// Serve answers GET and HEAD for Prefix+"{rev}/{path}". A date or an
// abbreviated hash is redirected to the commit's full hash, so that the
// pages' links name one commit.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request) error {
	rev, path, slash := strings.Cut(strings.TrimPrefix(r.URL.Path, Prefix), "/")
	path = "/" + path
	i, err := h.chain.resolve(rev)
	if errors.Is(err, errUnknown) {
		return httperr.New(http.StatusNotFound, "%s", err.Error())
	}
	if err != nil {
		return fmt.Errorf("time travel to %q: %w", rev, err)
	}
	l, siteWhen, prev, next := h.chain.at(i)
	if rev != l.hash.String() || !slash {
		to := Prefix + l.hash.String() + path
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		w.Header().Set("Cache-Control", "private, no-cache")
		w.Header().Set("Vary", "Cookie")
		http.Redirect(w, r, to, http.StatusFound)
		return nil
	}
	snap, release, err := h.cache.get(r.Context(), l.hash, func() (*snapshot, error) {
		return build(context.Background(), &h.cfg, l.hash, siteWhen)
	})
	if errors.Is(err, ErrBusy) {
		return httperr.New(http.StatusServiceUnavailable, "%s", ErrBusy).With("Retry-After", "5")
	}
	if err != nil {
		return fmt.Errorf("the site at %s: %w", l.hash, err)
	}
	defer release()

	rec := serveInner(snap, r, path)
	base := Prefix + l.hash.String()
	out := w.Header()
	for k, v := range rec.header {
		switch k {
		case "Content-Length", "Etag", "Last-Modified", "Cache-Control", "Vary", "Content-Encoding":
			continue
		}
		out[k] = v
	}
	body := rec.body.Bytes()
	if loc := rec.header.Get("Location"); strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") {
		out.Set("Location", base+loc)
	}
	if strings.HasPrefix(rec.header.Get("Content-Type"), "text/html") {
		b, err := h.banner(l, prev, next, path, r.URL.RawQuery)
		if err != nil {
			return err
		}
		body = inject(Rewrite(body, base), b)
		out.Set("Content-Security-Policy", pastPolicy(rec.header.Get("Content-Security-Policy")))
	}
	out.Set("Content-Length", fmt.Sprint(len(body)))
	out.Set("Cache-Control", "private, no-cache")
	out.Set("Vary", "Cookie")
	out.Set("X-Robots-Tag", "noindex")
	out.Set("Memento-Datetime", l.when.UTC().Format(http.TimeFormat))
	out.Set("Link", h.links(prev, next, r.URL.RequestURI()[len(base):]))
	w.WriteHeader(rec.status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	return nil
}

// serveInner asks the snapshot's site for path, as a plain GET without
// encodings or validators: its answer is rewritten before it is sent.
func serveInner(snap *snapshot, r *http.Request, path string) *recorder {
	in := r.Clone(r.Context())
	in.Method = http.MethodGet
	in.URL.Path, in.URL.RawPath = path, ""
	in.RequestURI = in.URL.RequestURI()
	for _, k := range []string{"Accept-Encoding", "If-None-Match", "If-Modified-Since", "Range"} {
		in.Header.Del(k)
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	snap.router.ServeHTTP(rec, in)
	return rec
}

// recorder keeps a response to rewrite it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (rc *recorder) Header() http.Header { return rc.header }
func (rc *recorder) WriteHeader(status int) {
	if !rc.wrote {
		rc.status, rc.wrote = status, true
	}
}
func (rc *recorder) Write(b []byte) (int, error) {
	rc.WriteHeader(http.StatusOK)
	return rc.body.Write(b)
}

// links is the Memento Link header: the live page, and the same page
// at the changes before and after.
func (h *Handler) links(prev, next int, path string) string {
	out := []string{fmt.Sprintf(`<%s>; rel="original"`, path)}
	for _, n := range []struct {
		i   int
		rel string
	}{{prev, "prev memento"}, {next, "next memento"}} {
		if n.i < 0 {
			continue
		}
		c, when := h.chain.hash(n.i)
		out = append(out, fmt.Sprintf(`<%s%s%s>; rel=%q; datetime=%q`, Prefix, c, path, n.rel, when.UTC().Format(http.TimeFormat)))
	}
	return strings.Join(out, ", ")
}

// internalLink matches a root-relative URL in an attribute, as the
// theme's templates and the Markdown renderer write them (double quotes;
// a quote inside text is escaped, so it never matches).
var internalLink = regexp.MustCompile(`(\s(?:href|src|action)=")(/[^"]*)"`)

// Rewrite keeps a page's links to the site under base (the site at one
// commit): everything root-relative but media and the theme's files,
// which are the live ones (originals are content-addressed and never
// change; the theme is not part of history).
func Rewrite(body []byte, base string) []byte {
	return internalLink.ReplaceAllFunc(body, func(m []byte) []byte {
		sub := internalLink.FindSubmatch(m)
		u := string(sub[2])
		if strings.HasPrefix(u, "//") || strings.HasPrefix(u, "/media/") || strings.HasPrefix(u, "/static/") {
			return m
		}
		return []byte(string(sub[1]) + base + u + `"`)
	})
}

// Banner markers: what lies between them is the banner, not the page.
const (
	BannerStart = "<!-- chronicle:time-travel -->"
	BannerEnd   = "<!-- /chronicle:time-travel -->"
)

const bannerCSS = `.chronicle-tt{font:1rem/1.5 system-ui,sans-serif;background:#fff3c4;color:#1d1d1d;border-bottom:2px solid #8a6d00;padding:.6rem 1rem}` +
	`.chronicle-tt p{margin:0 0 .3rem}.chronicle-tt a{color:#1d1d1d;margin-right:1.2rem}.chronicle-tt code{font-size:.9em}`

// bannerHash allows the banner's style in the page's policy.
var bannerHash = func() string {
	sum := sha256.Sum256([]byte(bannerCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// pastPolicy is a page's Content-Security-Policy as time travel serves
// it: the banner's style allowed by its hash, and scripts and
// connections only from the site itself — analytics or ads the settings
// had then do not run inside the admin (nor count an editor's visit).
func pastPolicy(csp string) string {
	if csp == "" {
		return ""
	}
	var out []string
	for _, d := range strings.Split(csp, ";") {
		d = strings.TrimSpace(d)
		name, _, _ := strings.Cut(d, " ")
		switch name {
		case "style-src":
			d = "style-src " + bannerHash + " " + strings.TrimPrefix(d, "style-src ")
		case "script-src", "connect-src":
			d = name + " 'self'"
		case "frame-ancestors":
			d = "frame-ancestors 'none'"
		}
		out = append(out, d)
	}
	return strings.Join(out, "; ")
}

var bannerTmpl = template.Must(template.New("banner").Parse(`<aside class="chronicle-tt" aria-label="Time travel">
<p><strong>The site as it was on <time datetime="{{.ISO}}">{{.Human}}</time></strong>, after “{{.Summary}}” by {{.Actor}} (commit <code>{{.Short}}</code>).</p>
<p>{{with .Prev}}<a href="{{.}}" rel="prev">← Previous change</a>{{end}}{{with .Next}}<a href="{{.}}" rel="next">Next change →</a>{{end}}<a href="{{.Now}}">Back to now</a></p>
</aside>`))

// banner is the box at the top of a page in the past.
func (h *Handler) banner(l link, prev, next int, path, query string) ([]byte, error) {
	c, err := h.cfg.Repo.ReadCommit(l.hash)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", l.hash, err)
	}
	actor, _, _, err := h.cfg.Deriver.Who(c)
	if err != nil {
		return nil, fmt.Errorf("who made %s: %w", l.hash, err)
	}
	summary, _, _ := strings.Cut(c.Message, "\n")
	if query != "" {
		path += "?" + query
	}
	v := struct {
		ISO, Human, Summary, Actor, Short, Prev, Next, Now string
	}{ISO: l.when.UTC().Format(time.RFC3339), Human: l.when.UTC().Format("2 January 2006, 15:04 UTC"), Summary: strings.TrimSpace(summary),
		Actor: actor, Short: l.hash.String()[:10], Now: path}
	if prev >= 0 {
		ph, _ := h.chain.hash(prev)
		v.Prev = Prefix + ph.String() + path
	}
	if next >= 0 {
		nh, _ := h.chain.hash(next)
		v.Next = Prefix + nh.String() + path
	}
	var b bytes.Buffer
	b.WriteString(BannerStart) // (html/template drops comments)
	if err := bannerTmpl.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("render the time-travel banner: %w", err)
	}
	b.WriteString(BannerEnd)
	return b.Bytes(), nil
}

// inject puts the banner's style at the end of the head and the banner
// at the top of the body.
func inject(body, banner []byte) []byte {
	style := []byte(BannerStart + "<style>" + bannerCSS + "</style>" + BannerEnd)
	out := make([]byte, 0, len(body)+len(banner)+len(style))
	if i := bytes.Index(body, []byte("</head>")); i >= 0 {
		out = append(append(append(out, body[:i]...), style...), body[i:]...)
		body, out = out, make([]byte, 0, len(out)+len(banner))
	}
	i := bytes.Index(body, []byte("<body"))
	if i < 0 {
		return append(banner, body...)
	}
	j := bytes.IndexByte(body[i:], '>')
	if j < 0 {
		return append(banner, body...)
	}
	i += j + 1
	if i < len(body) && body[i] == '\n' {
		i++
	}
	return append(append(append(out, body[:i]...), banner...), body[i:]...)
}
