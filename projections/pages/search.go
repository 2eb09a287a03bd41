package pages

import (
	"fmt"
	"html/template"
	"net/url"
	"sort"
	"time"
)

// SearchView is a search result page's content, filled by the web layer
// from the search projection.
type SearchView struct {
	// Problem, if set, says why the search was not run; Status is then
	// the page's status (4xx).
	Problem string
	Status  int
	Query   string
	Filter  string
	Total   int
	Hits    []SearchHit
	Facets  []Facet
	Pager   *pager
}

// SearchHit is one result; TitleHTML and Snippet are escaped HTML with
// <mark> around matches.
type SearchHit struct {
	URL            string
	TitleHTML      template.HTML
	Snippet        template.HTML
	PublishedISO   string
	PublishedHuman string
}

// Facet is one way to refine the search.
type Facet struct {
	Name  string
	Terms []FacetTerm
}

// FacetTerm links to the search refined by one value.
type FacetTerm struct {
	Term, Href string
	Count      int
	Current    bool
}

// NewSearchHit builds a hit.
func NewSearchHit(slug, titleHTML, snippet string, published time.Time) SearchHit {
	return SearchHit{URL: PostURL(slug), TitleHTML: template.HTML(titleHTML), Snippet: template.HTML(snippet),
		PublishedISO: published.UTC().Format(time.RFC3339), PublishedHuman: human(published)}
}

// SetPager adds page links to a search view for the query values q.
func (s *SearchView) SetPager(q url.Values, page, pages int) {
	if pages <= 1 {
		return
	}
	at := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", fmt.Sprint(n))
		return "/search?" + v.Encode()
	}
	s.Pager = &pager{Page: page, Pages: pages}
	if page > 1 {
		s.Pager.Prev = at(page - 1)
	}
	if page < pages {
		s.Pager.Next = at(page + 1)
	}
}

// CategoryName names a category for facets.
func (p *Pages) CategoryName(slug string) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if c, ok := p.categories[slug]; ok {
		return c.Name
	}
	return slug
}

// TagName names a tag for facets.
func (p *Pages) TagName(slug string) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if n, ok := p.ix.tagNames[slug]; ok {
		return n
	}
	return slug
}

// RenderSearch renders a search page (not cached: it depends on the query).
func (p *Pages) RenderSearch(s *SearchView) *Page {
	p.mu.RLock()
	defer p.mu.RUnlock()
	v := p.newView("/search", "Search")
	if s.Query != "" {
		v.Meta.Title = fmt.Sprintf("Search: %s — %s", s.Query, p.settings.Title)
	}
	v.Meta.Robots = "noindex"
	v.Search = s
	status := 200
	if s.Problem != "" && s.Status >= 400 {
		status = s.Status
	}
	return p.execute("search", v, status, time.Time{})
}

func sortStrings(s []string) { sort.Strings(s) }
