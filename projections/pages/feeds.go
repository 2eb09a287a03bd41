package pages

import (
	"encoding/xml"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/feeds"
)

// FeedItems is how many posts a feed carries.
const FeedItems = 20

// SitemapMax is the most URLs one sitemap file holds (the protocol's limit).
const SitemapMax = 50000

type feedSpec struct {
	title, link string
	posts       []*post
}

// renderFeed builds an Atom, RSS 2.0 or JSON Feed 1.1 document, chosen by
// the path's file name. Item ids are the posts' ids, which never change.
func (p *Pages) renderFeed(path string, spec feedSpec) *Page {
	f := &feeds.Feed{
		Title:       spec.title,
		Link:        &feeds.Link{Href: p.abs(spec.link)},
		Description: firstOf(p.settings.Description, p.settings.Tagline, p.settings.Title), // plain text in all three formats
		Id:          p.abs(spec.link),
		Updated:     p.siteUpdated,
	}
	if p.profile.Name != "" {
		f.Author = &feeds.Author{Name: p.profile.Name, Email: p.profile.Email}
	}
	// Atom's summary (type="html") and RSS's description are HTML; JSON
	// Feed's summary is plain text. Excerpts are plain text.
	jsonFeed := strings.HasSuffix(path, ".json")
	for _, ps := range spec.posts[:min(FeedItems, len(spec.posts))] {
		url := p.abs(PostURL(ps.Slug))
		body, err := p.body(ps)
		if err != nil {
			p.cfg.Logger.Error("feed failed", "path", path, "err", err)
			return p.newPage(500, "text/plain; charset=utf-8", []byte("the feed could not be rendered\n"), p.siteUpdated)
		}
		summary := ps.summary()
		if !jsonFeed {
			summary = html.EscapeString(summary)
		}
		it := &feeds.Item{
			Title:       ps.Title,
			Link:        &feeds.Link{Href: url},
			Id:          "urn:chronicle:post:" + ps.ID,
			Description: summary,
			Content:     body,
			Created:     pubDate(ps),
			Updated:     ps.UpdatedAt.UTC(),
		}
		if f.Author != nil {
			it.Author = f.Author
		}
		f.Items = append(f.Items, it)
		if ps.UpdatedAt.After(f.Updated) {
			f.Updated = ps.UpdatedAt.UTC()
		}
	}
	if f.Updated.IsZero() {
		f.Updated = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	var (
		body string
		err  error
		ct   string
	)
	switch {
	case strings.HasSuffix(path, "feed.xml"):
		body, err, ct = atom(f)
	case strings.HasSuffix(path, "rss.xml"):
		body, err = f.ToRss()
		ct = "application/rss+xml; charset=utf-8"
	default:
		body, err = f.ToJSON()
		ct = "application/feed+json; charset=utf-8"
	}
	if err != nil {
		p.cfg.Logger.Error("feed failed", "path", path, "err", err)
		return p.newPage(500, "text/plain; charset=utf-8", []byte("the feed could not be rendered\n"), f.Updated)
	}
	return p.newPage(200, ct, []byte(body), f.Updated)
}

func atom(f *feeds.Feed) (string, error, string) {
	a := (&feeds.Atom{Feed: f}).AtomFeed()
	// Atom needs a self link and an author; gorilla/feeds leaves both out.
	a.Link = &feeds.AtomLink{Href: f.Link.Href, Rel: "alternate"}
	if a.Author == nil {
		a.Author = &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: f.Title}}
	}
	for i, e := range a.Entries {
		e.Id = f.Items[i].Id
	}
	b, err := xml.MarshalIndent(a, "", "  ")
	return xml.Header + string(b), err, "application/atom+xml; charset=utf-8"
}

// renderSitemap lists every public page; past SitemapMax URLs /sitemap.xml
// becomes an index of /sitemap-1.xml, /sitemap-2.xml…
func (p *Pages) renderSitemap(path string) *Page {
	type url struct {
		Loc     string `xml:"loc"`
		LastMod string `xml:"lastmod,omitempty"`
	}
	var urls []url
	add := func(u string, t time.Time) {
		x := url{Loc: p.abs(u)}
		if !t.IsZero() {
			x.LastMod = t.UTC().Format(time.RFC3339)
		}
		urls = append(urls, x)
	}
	newest := p.siteUpdated
	if len(p.ix.all) > 0 && p.ix.all[0].UpdatedAt.After(newest) {
		newest = p.ix.all[0].UpdatedAt
	}
	add("/", newest)
	add("/about", p.siteUpdated)
	for _, c := range sortedKeys(p.categories) {
		add("/category/"+c, time.Time{})
	}
	for _, t := range sortedKeys(p.ix.byTag) {
		add("/tag/"+t, time.Time{})
	}
	for _, ps := range p.ix.all {
		add(PostURL(ps.Slug), ps.UpdatedAt)
	}
	write := func(v any) *Page {
		b, _ := xml.MarshalIndent(v, "", " ")
		return p.newPage(200, "application/xml; charset=utf-8", append([]byte(xml.Header), b...), newest)
	}
	type urlset struct {
		XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
		URLs    []url    `xml:"url"`
	}
	if len(urls) <= SitemapMax {
		if path != "/sitemap.xml" {
			return nil
		}
		return write(urlset{URLs: urls})
	}
	parts := (len(urls) + SitemapMax - 1) / SitemapMax
	if path == "/sitemap.xml" {
		type sm struct {
			Loc string `xml:"loc"`
		}
		type index struct {
			XMLName  xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 sitemapindex"`
			Sitemaps []sm     `xml:"sitemap"`
		}
		var ix index
		for i := 1; i <= parts; i++ {
			ix.Sitemaps = append(ix.Sitemaps, sm{Loc: p.abs(fmt.Sprintf("/sitemap-%d.xml", i))})
		}
		return write(ix)
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path, "/sitemap-"), ".xml"))
	if err != nil || n < 1 || n > parts || path != fmt.Sprintf("/sitemap-%d.xml", n) {
		return nil
	}
	return write(urlset{URLs: urls[(n-1)*SitemapMax : min(len(urls), n*SitemapMax)]})
}

func (p *Pages) renderRobots() *Page {
	body := "User-agent: *\nDisallow: /admin/\nDisallow: /api/\nAllow: /\n\nSitemap: " + p.abs("/sitemap.xml") + "\n"
	return p.newPage(200, "text/plain; charset=utf-8", []byte(body), p.siteUpdated)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
