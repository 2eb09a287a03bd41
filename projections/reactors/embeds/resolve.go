package embeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"code.dny.dev/ssrf"
	"golang.org/x/net/html"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections/render"
)

// Embed is a resolved URL (the content model's type).
type Embed = content.Embed

// Config bounds the resolver.
type Config struct {
	Timeout      time.Duration // whole resolution; default 5s
	MaxBytes     int64         // of one response; default 1 MiB
	AllowPrivate bool          // allow private and loopback addresses (tests only)
}

// Resolver turns a pasted URL into something a page can show: an iframe
// of a known player, a photo, a card (title, description, image) or a
// plain link. It never inserts a provider's HTML: iframes are built here,
// for render.IframeHost hosts only. Every fetch is bounded in time and
// size and, unless allowed for tests, refuses private and loopback
// addresses. Safe for concurrent use.
type Resolver struct {
	cfg    Config
	client *http.Client
}

// NewResolver returns a resolver.
func NewResolver(cfg Config) *Resolver {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 20
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	if !cfg.AllowPrivate {
		dialer.Control = ssrf.New().Safe
	}
	tr := &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout, MaxResponseHeaderBytes: 64 << 10, DisableCompression: false}
	return &Resolver{cfg: cfg, client: &http.Client{Transport: tr, Timeout: cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return checkScheme(req.URL)
		}}}
}

func checkScheme(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s URLs are not fetched", u.Scheme)
	}
	return nil
}

var (
	youtubeID = regexp.MustCompile(`^[A-Za-z0-9_-]{6,20}$`)
	numericID = regexp.MustCompile(`^[0-9]{1,20}$`)
	spotify   = regexp.MustCompile(`^/(track|album|playlist|episode|show|artist)/([A-Za-z0-9]{10,40})$`)
)

// oembedEndpoints are providers whose pages do not announce their oEmbed.
var oembedEndpoints = map[string]string{
	"soundcloud.com": "https://soundcloud.com/oembed?format=json&url=",
	"twitter.com":    "https://publish.twitter.com/oembed?url=",
	"x.com":          "https://publish.twitter.com/oembed?url=",
	"www.flickr.com": "https://www.flickr.com/services/oembed/?format=json&url=",
	"flickr.com":     "https://www.flickr.com/services/oembed/?format=json&url=",
	"flic.kr":        "https://www.flickr.com/services/oembed/?format=json&url=",
}

// Resolve never fails: what cannot be learned leaves a plain link. The
// error says why, for the log.
func (r *Resolver) Resolve(ctx context.Context, raw string) (Embed, error) {
	e := Embed{URL: raw, Kind: "link"}
	u, err := url.Parse(raw)
	if err != nil || checkScheme(u) != nil || u.Host == "" {
		return e, fmt.Errorf("not an http(s) URL: %q", raw)
	}
	if known, ok := fromTable(u); ok {
		return known, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	host := strings.ToLower(u.Hostname())
	if ep, ok := oembedEndpoints[host]; ok {
		if oe, err := r.oembed(ctx, ep+url.QueryEscape(raw), raw); err == nil {
			return oe, nil
		}
	}
	page, err := r.get(ctx, raw, "text/html")
	if err != nil {
		return e, err
	}
	meta := scan(page, u)
	if meta.oembed != "" {
		if oe, err := r.oembed(ctx, meta.oembed, raw); err == nil {
			return oe, nil
		}
	}
	if meta.ogTitle != "" || meta.ogImage != "" {
		return Embed{URL: raw, Kind: "card", Provider: host, Title: meta.ogTitle, Description: meta.ogDescription, Image: meta.ogImage}, nil
	}
	e.Title = meta.title
	return e, nil
}

// fromTable knows the players that need no fetch.
func fromTable(u *url.URL) (Embed, bool) {
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	e := Embed{URL: u.String(), Kind: "iframe"}
	switch {
	case host == "youtube.com" || host == "m.youtube.com":
		id := u.Query().Get("v")
		if strings.HasPrefix(u.Path, "/shorts/") {
			id = strings.TrimPrefix(u.Path, "/shorts/")
		}
		if youtubeID.MatchString(id) {
			e.Provider, e.IframeSrc = "YouTube", "https://www.youtube-nocookie.com/embed/"+id
			return e, true
		}
	case host == "youtu.be":
		if id := strings.TrimPrefix(u.Path, "/"); youtubeID.MatchString(id) {
			e.Provider, e.IframeSrc = "YouTube", "https://www.youtube-nocookie.com/embed/"+id
			return e, true
		}
	case host == "vimeo.com":
		if id := strings.TrimPrefix(u.Path, "/"); numericID.MatchString(id) {
			e.Provider, e.IframeSrc = "Vimeo", "https://player.vimeo.com/video/"+id
			return e, true
		}
	case host == "open.spotify.com":
		if m := spotify.FindStringSubmatch(u.Path); m != nil {
			e.Provider, e.IframeSrc = "Spotify", "https://open.spotify.com/embed/"+m[1]+"/"+m[2]
			return e, true
		}
	}
	return Embed{}, false
}

// get fetches at most MaxBytes of a URL.
func (r *Resolver) get(ctx context.Context, raw, accept string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "Chronicle embed resolver")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", raw, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, r.cfg.MaxBytes))
	return b, err
}

type oembedDoc struct {
	Type         string `json:"type"`
	Title        string `json:"title"`
	ProviderName string `json:"provider_name"`
	URL          string `json:"url"`
	HTML         string `json:"html"`
	ThumbnailURL string `json:"thumbnail_url"`
}

// oembed reads an oEmbed document. Its html is only mined for an iframe
// src on an allow-listed host; it is never inserted.
func (r *Resolver) oembed(ctx context.Context, endpoint, raw string) (Embed, error) {
	b, err := r.get(ctx, endpoint, "application/json")
	if err != nil {
		return Embed{}, err
	}
	var d oembedDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return Embed{}, fmt.Errorf("oEmbed: %w", err)
	}
	e := Embed{URL: raw, Provider: d.ProviderName, Title: d.Title, Image: safeURL(d.ThumbnailURL)}
	switch {
	case d.Type == "photo" && safeURL(d.URL) != "":
		e.Kind, e.Image = "photo", safeURL(d.URL)
	case iframeSrc(d.HTML) != "":
		e.Kind, e.IframeSrc = "iframe", iframeSrc(d.HTML)
	default:
		e.Kind = "card"
	}
	return e, nil
}

// iframeSrc finds the src of the first iframe in html whose host pages
// may frame (render.IframeHost).
func iframeSrc(h string) string {
	z := html.NewTokenizer(strings.NewReader(h))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			if t.Data != "iframe" {
				continue
			}
			for _, a := range t.Attr {
				if a.Key != "src" {
					continue
				}
				u, err := url.Parse(a.Val)
				if err == nil && u.Scheme == "https" && render.IframeHost(u.Host) {
					return u.String()
				}
			}
		}
	}
}

func safeURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

type pageMeta struct {
	title, oembed, ogTitle, ogDescription, ogImage string
}

// scan reads the head of a page: title, oEmbed discovery link, OpenGraph.
func scan(page []byte, base *url.URL) pageMeta {
	var m pageMeta
	z := html.NewTokenizer(strings.NewReader(string(page)))
	inTitle := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			return m
		case html.TextToken:
			if inTitle && m.title == "" {
				m.title = strings.TrimSpace(string(z.Text()))
			}
		case html.EndTagToken:
			inTitle = false
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			attr := map[string]string{}
			for _, a := range t.Attr {
				attr[a.Key] = a.Val
			}
			switch t.Data {
			case "title":
				inTitle = true
			case "link":
				if strings.EqualFold(attr["rel"], "alternate") && strings.EqualFold(attr["type"], "application/json+oembed") && m.oembed == "" {
					if u, err := base.Parse(attr["href"]); err == nil && checkScheme(u) == nil {
						m.oembed = u.String()
					}
				}
			case "meta":
				switch attr["property"] {
				case "og:title":
					m.ogTitle = attr["content"]
				case "og:description":
					m.ogDescription = attr["content"]
				case "og:image":
					if u, err := base.Parse(attr["content"]); err == nil {
						m.ogImage = safeURL(u.String())
					}
				}
			case "body":
				return m // the head is all we need
			}
		}
	}
}
