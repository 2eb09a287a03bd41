package pages

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections/render"
)

// view is what every template gets.
type view struct {
	Site    siteView
	Meta    metaView
	Heading string
	Intro   string
	Posts   []postLink
	Pager   *pager
	Post    *postView
	Profile *profileView
	Search  *SearchView
}

type siteView struct {
	Title, Tagline, Lang, Author string
	GoogleAnalyticsID            string
	AdSenseClientID              string
	Nav                          []navLink
	Year                         int
}

type navLink struct {
	Name, Href string
	Current    bool
}

type metaView struct {
	Path, Title, OGTitle, Description, Canonical, Type, Image, Robots string
	JSONLD                                                            template.JS
	Alternates                                                        []alternate
}

type alternate struct{ Type, Title, Href string }

type link struct{ Name, Href string }

type postLink struct {
	Title, URL, Summary          string
	PublishedISO, PublishedHuman string
	Categories                   []link
	Thumb                        *imgView // the feature image, on list pages
}

type postView struct {
	postLink
	Author                   string // the byline: the profile's name
	HTML                     template.HTML
	Updated                  bool
	UpdatedISO, UpdatedHuman string
	Tags                     []link
	Embed                    *content.Embed
	Feature                  *imgView
	Gallery                  []imgView
	EmbedURL                 string
	Prev, Next               *postLink
	Related                  []postLink
}

type profileView struct {
	Name, Avatar string
	BioHTML      template.HTML
	Links        []content.Link
}

type pager struct {
	Page, Pages int
	Prev, Next  string
}

func (p *Pages) baseURL() string {
	b := p.settings.BaseURL
	if b == "" {
		b = p.cfg.BaseURL
	}
	return strings.TrimRight(b, "/")
}

func (p *Pages) abs(u string) string {
	if strings.HasPrefix(u, "/") {
		return p.baseURL() + u
	}
	return u
}

func human(t time.Time) string { return t.UTC().Format("2 January 2006") }

func (p *Pages) newView(path, title string) view {
	s := p.settings
	v := view{Site: siteView{Title: s.Title, Tagline: s.Tagline, Lang: s.Language, Author: p.profile.Name,
		GoogleAnalyticsID: s.Analytics.GoogleAnalyticsID, AdSenseClientID: s.Ads.AdSenseClientID, Year: p.lastYear()}}
	v.Site.Nav = p.navigation(path)
	full := s.Title
	if title != "" {
		full = title + " — " + s.Title
	}
	v.Meta = metaView{Path: path, Title: full, OGTitle: full, Canonical: p.abs(path), Type: "website",
		Description: firstOf(s.Description, s.Tagline), Image: p.abs(p.profile.Avatar)}
	v.Meta.Alternates = []alternate{
		{"application/atom+xml", s.Title + " (Atom)", "/feed.xml"},
		{"application/rss+xml", s.Title + " (RSS)", "/rss.xml"},
		{"application/feed+json", s.Title + " (JSON Feed)", "/feed.json"},
	}
	return v
}

// navigation is the header's links between Home and About: those the
// settings choose (categories that no longer exist left out), else the
// first few categories by name. Callers hold mu.
func (p *Pages) navigation(path string) []navLink {
	var items []content.NavItem
	if p.settings.Navigation != nil {
		items = *p.settings.Navigation
	} else {
		cats := make([]content.Category, 0, len(p.categories))
		for _, c := range p.categories {
			cats = append(cats, c)
		}
		content.SortCategories(cats)
		for _, c := range cats[:min(len(cats), content.DefaultNavCategories)] {
			items = append(items, content.NavItem{Category: c.Slug})
		}
	}
	var out []navLink
	for _, it := range items {
		if it.URL != "" {
			out = append(out, navLink{Name: it.Label, Href: it.URL, Current: path == it.URL})
			continue
		}
		c, ok := p.categories[it.Category]
		if !ok {
			continue
		}
		href := "/category/" + c.Slug
		out = append(out, navLink{Name: firstOf(it.Label, c.Name), Href: href, Current: path == href || strings.HasPrefix(path, href+"/")})
	}
	return out
}

// lastYear is the year of the newest content, for the footer: a
// deterministic stand-in for "now".
func (p *Pages) lastYear() int {
	t := p.siteUpdated
	if len(p.ix.all) > 0 && pubDate(p.ix.all[0]).After(t) {
		t = pubDate(p.ix.all[0])
	}
	if t.IsZero() {
		return 2026
	}
	return t.Year()
}

func firstOf(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

func (p *Pages) link(ps *post) postLink {
	d := pubDate(ps)
	l := postLink{Title: ps.Title, URL: PostURL(ps.Slug), Summary: ps.summary(),
		PublishedISO: d.Format(time.RFC3339), PublishedHuman: human(d)}
	for _, c := range ps.Categories {
		if cat, ok := p.categories[c]; ok {
			l.Categories = append(l.Categories, link{cat.Name, "/category/" + c})
		}
	}
	return l
}

func (p *Pages) execute(name string, v view, status int, modified time.Time) *Page {
	var b bytes.Buffer
	if err := p.theme.pages[name].ExecuteTemplate(&b, "layout", v); err != nil {
		p.cfg.Logger.Error("page template failed", "template", name, "path", v.Meta.Path, "err", err)
		return p.newPage(500, "text/plain; charset=utf-8", []byte("the page could not be rendered\n"), modified)
	}
	return p.newPage(status, "text/html; charset=utf-8", b.Bytes(), modified)
}

// newPage builds a page with its headers. Callers hold mu.
func (p *Pages) newPage(status int, contentType string, body []byte, modified time.Time) *Page {
	pg := newPage(status, contentType, body, modified).headers(p.csp())
	pg.compress = p.compress
	return pg
}

// csp allows the site's own files, images from anywhere, frames only from
// the embed players' hosts, and the analytics and ads scripts (from their
// hosts, never inline: gtag.js starts analytics) only when the settings
// turn them on. Callers hold mu.
func (p *Pages) csp() string {
	script, connect, frame := []string{"'self'"}, []string{"'self'"}, iframeSources()
	if p.settings.Analytics.GoogleAnalyticsID != "" {
		script = append(script, "https://www.googletagmanager.com")
		connect = append(connect, "https://*.google-analytics.com", "https://*.analytics.google.com", "https://www.googletagmanager.com")
	}
	if p.settings.Ads.AdSenseClientID != "" {
		script = append(script, "https://pagead2.googlesyndication.com", "https://partner.googleadservices.com",
			"https://tpc.googlesyndication.com", "https://www.googletagservices.com", "https://adservice.google.com", "https://*.adtrafficquality.google")
		connect = append(connect, "https://pagead2.googlesyndication.com", "https://*.adtrafficquality.google")
		frame = append(frame, "https://googleads.g.doubleclick.net", "https://tpc.googlesyndication.com", "https://www.google.com", "https://*.adtrafficquality.google")
	}
	return "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src " + strings.Join(script, " ") +
		"; connect-src " + strings.Join(connect, " ") + "; frame-src " + strings.Join(frame, " ") +
		"; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
}

// iframeSources are the embed players' origins, in a stable order.
func iframeSources() []string {
	var out []string
	for _, h := range render.IframeHosts() {
		out = append(out, "https://"+h)
	}
	return out
}

// render builds the page at path from the model, or nil if there is none.
// Callers hold mu for reading.
// Serves reports whether path is in the pages' address space, whether or
// not a page exists there: the addresses render knows.
func Serves(path string) bool {
	switch path {
	case "/", "/about", "/robots.txt", "/feed.xml", "/rss.xml", "/feed.json":
		return true
	}
	for _, prefix := range []string{"/sitemap", "/page/", "/posts/", "/category/", "/tag/", "/archive/"} {
		if strings.HasPrefix(path, prefix) {
			return !strings.ContainsAny(path, "?#%")
		}
	}
	return false
}

func (p *Pages) render(path string) *Page {
	switch path {
	case "/":
		return p.renderList(path, listing{base: "", posts: p.ix.all, home: true}, 1)
	case "/about":
		return p.renderAbout()
	case "/robots.txt":
		return p.renderRobots()
	case "/feed.xml", "/rss.xml", "/feed.json":
		return p.renderFeed(path, feedSpec{title: p.settings.Title, link: "/", posts: p.ix.all})
	}
	if strings.HasPrefix(path, "/sitemap") {
		return p.renderSitemap(path)
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch segs[0] {
	case "page":
		if len(segs) == 2 {
			return p.listPage(path, listing{base: "", posts: p.ix.all, home: true}, segs[1])
		}
	case "posts":
		if len(segs) == 2 {
			if ps, ok := p.bySlug[segs[1]]; ok {
				return p.renderPost(ps)
			}
		}
	case "category", "tag":
		if len(segs) < 2 {
			return nil
		}
		var l listing
		if segs[0] == "category" {
			c, ok := p.categories[segs[1]]
			if !ok {
				return nil
			}
			l = listing{base: "/category/" + c.Slug, posts: p.ix.byCat[c.Slug], heading: c.Name, intro: c.Description, kind: "Category"}
		} else {
			posts := p.ix.byTag[segs[1]]
			if len(posts) == 0 {
				return nil
			}
			l = listing{base: "/tag/" + segs[1], posts: posts, heading: "Tagged “" + p.ix.tagNames[segs[1]] + "”", kind: "Tag"}
		}
		switch {
		case len(segs) == 2:
			return p.renderList(path, l, 1)
		case len(segs) == 3 && (segs[2] == "feed.xml" || segs[2] == "rss.xml" || segs[2] == "feed.json"):
			return p.renderFeed(path, feedSpec{title: p.settings.Title + ": " + strings.Trim(l.heading, "“”"), link: l.base, posts: l.posts})
		case len(segs) == 4 && segs[2] == "page":
			return p.listPage(path, l, segs[3])
		}
	case "archive":
		return p.renderArchive(path, segs[1:])
	}
	return nil
}

// listing is a paginated list of posts.
type listing struct {
	base           string // "" for home, "/category/x", "/archive/2026"…
	posts          []*post
	heading, intro string
	kind           string
	home           bool
	mustHavePosts  bool
}

func (p *Pages) listPage(path string, l listing, n string) *Page {
	page, err := strconv.Atoi(n)
	if err != nil || page < 1 || strconv.Itoa(page) != n {
		return nil
	}
	if page == 1 {
		return redirect(firstOf(l.base, "/"))
	}
	return p.renderList(path, l, page)
}

func (p *Pages) perPage() int {
	if n := p.settings.PostsPerPage; n > 0 {
		return n
	}
	return 10
}

func (p *Pages) renderList(path string, l listing, page int) *Page {
	per := p.perPage()
	pages := max(1, (len(l.posts)+per-1)/per)
	if page > pages || (l.mustHavePosts && len(l.posts) == 0) {
		return nil
	}
	title := l.heading
	if l.kind == "Category" {
		title = l.heading
	}
	if page > 1 {
		title = strings.TrimSpace(firstOf(title, "Posts") + fmt.Sprintf(" (page %d)", page))
	}
	v := p.newView(path, title)
	if l.home && page == 1 {
		v.Meta.Title = firstOf(strings.TrimSpace(p.settings.Title+" — "+p.settings.Tagline), p.settings.Title)
		if p.settings.Tagline == "" {
			v.Meta.Title = p.settings.Title
		}
		ld, _ := json.Marshal(map[string]any{"@context": "https://schema.org", "@type": "Blog", "name": p.settings.Title,
			"url": p.abs("/"), "description": v.Meta.Description})
		v.Meta.JSONLD = template.JS(ld)
	}
	if l.intro != "" {
		v.Meta.Description = l.intro
	}
	if l.kind != "" {
		feed := l.base + "/feed.xml"
		v.Meta.Alternates = append(v.Meta.Alternates, alternate{"application/atom+xml", p.settings.Title + ": " + strings.Trim(l.heading, "“”") + " (Atom)", feed})
	}
	v.Heading, v.Intro = l.heading, l.intro
	start := (page - 1) * per
	modified := p.siteUpdated
	for _, ps := range l.posts[start:min(len(l.posts), start+per)] {
		pl := p.link(ps)
		pl.Thumb = p.thumb(ps)
		v.Posts = append(v.Posts, pl)
		if ps.UpdatedAt.After(modified) {
			modified = ps.UpdatedAt
		}
	}
	v.Pager = &pager{Page: page, Pages: pages}
	if page > 1 {
		v.Pager.Prev = pageURL(l.base, page-1)
	}
	if page < pages {
		v.Pager.Next = pageURL(l.base, page+1)
	}
	return p.execute("list", v, 200, modified)
}

func pageURL(base string, n int) string {
	if n == 1 {
		return firstOf(base, "/")
	}
	return fmt.Sprintf("%s/page/%d", base, n)
}

func (p *Pages) renderArchive(path string, segs []string) *Page {
	if len(segs) == 0 || len(segs[0]) != 4 {
		return nil
	}
	year, err := strconv.Atoi(segs[0])
	if err != nil {
		return nil
	}
	l := listing{base: fmt.Sprintf("/archive/%04d", year), posts: p.ix.byYear[year], heading: fmt.Sprintf("Posts from %d", year), kind: "Archive", mustHavePosts: true}
	rest := segs[1:]
	if len(rest) > 0 && len(rest[0]) == 2 && rest[0] != "pa" {
		month, err := strconv.Atoi(rest[0])
		if err != nil || month < 1 || month > 12 {
			return nil
		}
		l.base = fmt.Sprintf("/archive/%04d/%02d", year, month)
		l.posts = p.ix.byMonth[[2]int{year, month}]
		l.heading = fmt.Sprintf("Posts from %s %d", time.Month(month), year)
		rest = rest[1:]
	}
	l.kind = "" // archives have no feeds of their own
	switch {
	case len(rest) == 0:
		return p.renderList(path, l, 1)
	case len(rest) == 2 && rest[0] == "page":
		if len(l.posts) == 0 {
			return nil
		}
		return p.listPage(path, l, rest[1])
	}
	return nil
}

func (p *Pages) renderPost(ps *post) *Page {
	path := PostURL(ps.Slug)
	v := p.newView(path, ps.Title)
	body, err := p.body(ps)
	if err != nil {
		p.cfg.Logger.Error("post page failed", "path", path, "err", err)
		return p.newPage(500, "text/plain; charset=utf-8", []byte("the page could not be rendered\n"), ps.UpdatedAt)
	}
	_, summary, firstImage := ps.rendered()
	pv := &postView{postLink: p.link(ps), Author: p.profile.Name, HTML: p.withSrcset(body), EmbedURL: ps.EmbedURL}
	if id, ok := content.MediaRefID(ps.FeatureImage); ok {
		if v, ok := p.img(id); ok {
			pv.Feature = &v
		}
	}
	if pv.Feature == nil && strings.Contains(ps.FeatureImage, "/") {
		pv.Feature = &imgView{Src: ps.FeatureImage}
	}
	for _, id := range ps.Gallery {
		if v, ok := p.img(id); ok {
			pv.Gallery = append(pv.Gallery, v)
		}
	}
	if e, ok := p.embeds[ps.ID]; ok && e.URL == ps.EmbedURL {
		if e.Kind == "iframe" && !allowedIframe(e.IframeSrc) {
			e.Kind = "link" // recorded by hand, or by a provider list since narrowed
		}
		pv.Embed = &e
	} else if ps.EmbedURL != "" {
		pv.Embed = &content.Embed{URL: ps.EmbedURL, Kind: "link"}
	}
	if pub := pubDate(ps); ps.UpdatedAt.Sub(pub) > 24*time.Hour {
		pv.Updated, pv.UpdatedISO, pv.UpdatedHuman = true, ps.UpdatedAt.UTC().Format(time.RFC3339), human(ps.UpdatedAt)
	}
	for i, t := range ps.Tags {
		pv.Tags = append(pv.Tags, link{t, "/tag/" + ps.tagSlugs[i]})
	}
	if i := indexOf(p.ix.all, ps); i >= 0 {
		if i > 0 {
			l := p.link(p.ix.all[i-1])
			pv.Next = &l // newer
		}
		if i+1 < len(p.ix.all) {
			l := p.link(p.ix.all[i+1])
			pv.Prev = &l // older
		}
	}
	pv.Related = p.related(ps, 3)
	v.Post = pv
	v.Meta.Type = "article"
	v.Meta.OGTitle = ps.Title
	v.Meta.Description = render.Cut(firstOf(ps.Meta.Description, ps.Excerpt, summary, v.Meta.Description), render.SummaryLen)
	if img := firstOf(ps.Meta.Image, ps.FeatureImage, firstImage); img != "" {
		v.Meta.Image = p.abs(p.imageURL(img))
	}
	ld := map[string]any{"@context": "https://schema.org", "@type": "BlogPosting", "headline": ps.Title,
		"datePublished": pubDate(ps).Format(time.RFC3339), "dateModified": ps.UpdatedAt.UTC().Format(time.RFC3339),
		"url": v.Meta.Canonical, "mainEntityOfPage": v.Meta.Canonical, "description": v.Meta.Description}
	if v.Meta.Image != "" {
		ld["image"] = v.Meta.Image
	}
	if p.profile.Name != "" {
		ld["author"] = map[string]string{"@type": "Person", "name": p.profile.Name}
	}
	if len(ps.Tags) > 0 {
		ld["keywords"] = strings.Join(ps.Tags, ", ")
	}
	b, _ := json.Marshal(ld) // escapes <, > and & as \u003c…: safe inside <script>
	v.Meta.JSONLD = template.JS(b)
	modified := ps.UpdatedAt
	if p.siteUpdated.After(modified) {
		modified = p.siteUpdated
	}
	return p.execute("post", v, 200, modified)
}

// imageURL turns a reference to an upload (media:<id>, or a bare id)
// into the URL of a variant fit for sharing cards (JPEG, about 1,600
// wide, or the nearest); URLs pass through.
func (p *Pages) imageURL(ref string) string {
	if id, ok := content.MediaRefID(ref); ok {
		return "/media/" + id + "/w1600.jpg"
	}
	if strings.HasPrefix(ref, content.MediaRefPrefix) {
		return "" // not an id: nothing to show
	}
	return ref
}

func indexOf(all []*post, ps *post) int {
	// all is sorted newest first: binary search by date, then scan ties.
	i := sort.Search(len(all), func(i int) bool { return !newer(all[i], ps) })
	if i < len(all) && all[i] == ps {
		return i
	}
	return -1
}

// related are the posts sharing the most categories (counting double) and
// tags with ps, newest first among equals.
func (p *Pages) related(ps *post, n int) []postLink {
	score := map[*post]int{}
	for _, c := range ps.Categories {
		for _, q := range p.ix.byCat[c] {
			score[q] += 2
		}
	}
	for _, t := range ps.tagSlugs {
		for _, q := range p.ix.byTag[t] {
			score[q]++
		}
	}
	delete(score, ps)
	better := func(a, b *post) bool {
		if score[a] != score[b] {
			return score[a] > score[b]
		}
		return newer(a, b)
	}
	// The best n by insertion: candidates can number thousands.
	top := make([]*post, 0, n+1)
	for q := range score {
		i := len(top)
		for i > 0 && better(q, top[i-1]) {
			i--
		}
		if i < n {
			top = append(top[:i], append([]*post{q}, top[i:]...)...)
			if len(top) > n {
				top = top[:n]
			}
		}
	}
	var out []postLink
	for _, q := range top {
		out = append(out, p.link(q))
	}
	return out
}

func (p *Pages) renderAbout() *Page {
	v := p.newView("/about", "About")
	pr := p.profile
	v.Profile = &profileView{Name: pr.Name, Avatar: p.imageURL(pr.Avatar), Links: pr.Links, BioHTML: template.HTML(p.bio.HTML)}
	if p.bio.Text != "" {
		v.Meta.Description = render.Cut(p.bio.Text, render.SummaryLen)
	}
	v.Meta.Type = "profile"
	return p.execute("about", v, 200, p.siteUpdated)
}

func (p *Pages) renderNotFound() *Page {
	v := p.newView("/404", "Page not found")
	v.Meta.Robots = "noindex"
	return p.execute("notfound", v, 404, p.siteUpdated)
}
