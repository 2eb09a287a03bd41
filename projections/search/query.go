package search

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Query is a reader's search. Q holds words, "quoted phrases" and the
// filters category:slug, tag:slug and year:2026; the last word also
// matches as a prefix (search as you type) and every word of four letters
// or more forgives one typo.
type Query struct {
	Q        string `json:"q"`
	Category string `json:"category,omitempty"`
	Tag      string `json:"tag,omitempty"`
	Year     string `json:"year,omitempty"`
	Sort     string `json:"sort"` // "relevance" (default) or "date"
	Page     int    `json:"page"`
	PerPage  int    `json:"per_page"`
}

// Hit is one matching post. TitleHTML and Snippet are escaped HTML whose
// only markup is <mark> around matched terms.
type Hit struct {
	ID          string    `json:"id"`
	Slug        string    `json:"slug"`
	Title       string    `json:"title"`
	TitleHTML   string    `json:"title_html"`
	Snippet     string    `json:"snippet"`
	PublishedAt time.Time `json:"published_at"`
	Score       float64   `json:"score"`
}

// FacetTerm is one value of a facet and the number of hits having it.
type FacetTerm struct {
	Term  string `json:"term"`
	Count int    `json:"count"`
}

// Result is one page of hits.
type Result struct {
	Query      Query                  `json:"query"`
	Total      int                    `json:"total"`
	TotalPages int                    `json:"total_pages"`
	Hits       []Hit                  `json:"hits"`
	Facets     map[string][]FacetTerm `json:"facets"`
	Took       time.Duration          `json:"-"`
}

// MaxTerms is the most terms a query's text may hold. A term is what the
// site language's analyzer makes of the words and phrases (filters aside):
// "a-b-c" is three, a run of CJK characters one per character or pair, and
// each becomes a term query in every field, fuzzy on the typo-forgiving
// run, so terms, not space-separated words, are what a search costs.
const MaxTerms = 32

// TooManyTermsError is Search's answer to a query over MaxTerms.
type TooManyTermsError struct{ Terms, Max int }

func (e *TooManyTermsError) Error() string {
	return fmt.Sprintf("search: the query has %d terms, at most %d allowed", e.Terms, e.Max)
}

// Terms counts the terms of q's text as the index's analyzer splits them
// for a search (see MaxTerms).
func (ix *Index) Terms(q Query) int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.terms(q)
}

// terms is Terms for callers holding mu.
func (ix *Index) terms(q Query) int {
	words, phrases := tokenizeAll(&q)
	a := ix.idx.Mapping().AnalyzerNamed(ix.lang)
	n := 0
	for _, s := range append(words, phrases...) {
		if a == nil {
			n += len(strings.Fields(s))
			continue
		}
		n += len(a.Analyze([]byte(s)))
	}
	return n
}

// Search runs q. A query of more than MaxTerms terms is a
// *TooManyTermsError, before anything is searched.
func (ix *Index) Search(q Query) (Result, error) {
	if q.Page < 1 {
		q.Page = 1
	}
	if q.PerPage < 1 || q.PerPage > 100 {
		q.PerPage = 10
	}
	if q.Sort != "date" {
		q.Sort = "relevance"
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if n := ix.terms(q); n > MaxTerms {
		return Result{}, &TooManyTermsError{Terms: n, Max: MaxTerms}
	}
	res, facets, mk, err := ix.run(&q, false)
	if err == nil && res.Total < fuzzyBelow && mk.canFuzz() {
		// Typos are forgiven only when the words as typed find little: a
		// word in thousands of posts gains nothing from its misspellings
		// but noise, and matching them was most of a broad query's time.
		res, facets, mk, err = ix.run(&q, true)
	}
	if err != nil {
		return Result{}, err
	}
	out := Result{Query: q, Total: int(res.Total), Took: res.Took, Hits: []Hit{}, Facets: facets.result(20)}
	out.TotalPages = (out.Total + q.PerPage - 1) / q.PerPage
	for _, h := range res.Hits {
		str := func(k string) string { s, _ := h.Fields[k].(string); return s }
		hit := Hit{ID: h.ID, Slug: str("slug"), Title: str("title"), Score: h.Score}
		hit.PublishedAt, _ = time.Parse(time.RFC3339, str("published_at"))
		hit.TitleHTML = mk.mark(hit.Title, 0)
		hit.Snippet = mk.mark(str("content"), 220)
		out.Hits = append(out.Hits, hit)
	}
	return out, nil
}

// fuzzyMinRunes is the length from which a word forgives a typo.
const fuzzyMinRunes = 4

// fuzzyBelow is the number of hits under which a search is run again
// forgiving a typo in each word.
const fuzzyBelow = 10

// run runs q once, counting its facets; the marker is for its snippets.
func (ix *Index) run(q *Query, fuzzy bool) (*bleve.SearchResult, *counter, *marker, error) {
	bq, mk := ix.build(q, fuzzy)
	req := bleve.NewSearchRequestOptions(bq, q.PerPage, (q.Page-1)*q.PerPage, false)
	req.Fields = []string{"slug", "title", "published_at", "excerpt", "content"}
	// Ties are broken by id: equal scores must come back in the same
	// order whatever the index's history (a rebuilt index is identical).
	if q.Sort == "date" {
		req.SortBy([]string{"-published_at", "-_score", "_id"})
	} else {
		req.SortBy([]string{"-_score", "_id"})
	}
	facets := ix.facets.counter()
	res, err := ix.idx.SearchInContext(facets.context(context.Background()), req)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("search: %w", err)
	}
	return res, facets, mk, nil
}

// build turns a reader's query into bleve's, and a marker for snippets.
// Filters in the text are moved into q's fields.
func (ix *Index) build(q *Query, fuzzy bool) (query.Query, *marker) {
	var must []query.Query
	words, phrases := tokenize(q)
	typing := !strings.HasSuffix(q.Q, " ")
	for i, w := range words {
		must = append(must, ix.wordQuery(w, typing && i == len(words)-1, fuzzy))
	}
	for _, p := range phrases {
		var any []query.Query
		for _, f := range []string{"title", "body"} {
			pq := bleve.NewMatchPhraseQuery(p)
			pq.SetField(f)
			pq.Analyzer = ix.lang
			any = append(any, pq)
		}
		must = append(must, bleve.NewDisjunctionQuery(any...))
	}
	for field, v := range map[string]string{"categories": q.Category, "tags": q.Tag, "year": q.Year} {
		if v != "" {
			t := bleve.NewTermQuery(v)
			t.SetField(field)
			must = append(must, t)
		}
	}
	mk := ix.newMarker(words, phrases, typing, fuzzy)
	switch len(must) {
	case 0:
		return bleve.NewMatchAllQuery(), mk
	case 1:
		return must[0], mk
	}
	return bleve.NewConjunctionQuery(must...), mk
}

// wordQuery matches one word in any text field (the body, which holds
// them all) with a bonus in the title and tags; if fuzzy, with one typo
// for words of four letters or more; and, for the word being typed, as a
// prefix.
func (ix *Index) wordQuery(w string, typing, fuzzy bool) query.Query {
	match := func(field string, boost float64, fuzzy bool) query.Query {
		m := bleve.NewMatchQuery(w)
		m.SetField(field)
		m.Analyzer = ix.lang
		m.SetBoost(boost)
		if fuzzy {
			m.SetFuzziness(1)
		}
		return m
	}
	any := []query.Query{match("body", 1, false), match("title", 3, false), match("tag_names", 2, false)}
	if fuzzy && len([]rune(w)) >= fuzzyMinRunes {
		any = append(any, match("body", 0.3, true))
	}
	if typing && len([]rune(w)) >= 2 {
		p := bleve.NewPrefixQuery(strings.ToLower(w))
		p.SetField("body")
		p.SetBoost(0.5)
		any = append(any, p)
	}
	return bleve.NewDisjunctionQuery(any...)
}

// tokenize splits q.Q into words and phrases and moves filters into q.
// Words and phrases past the 20th of each are dropped.
func tokenize(q *Query) (words, phrases []string) { return split(q, maxParts) }

// tokenizeAll is tokenize without dropping any.
func tokenizeAll(q *Query) (words, phrases []string) { return split(q, -1) }

// maxParts is the most words, and phrases, a query is built from.
const maxParts = 20

func split(q *Query, limit int) (words, phrases []string) {
	appendNonEmpty := func(s []string, v string) []string {
		if v = strings.TrimSpace(v); v != "" && (limit < 0 || len(s) < limit) {
			return append(s, v)
		}
		return s
	}
	s := q.Q
	for len(s) > 0 {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		if s == "" {
			break
		}
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				phrases = appendNonEmpty(phrases, s[1:])
				break
			}
			phrases = appendNonEmpty(phrases, s[1:1+end])
			s = s[2+end:]
			continue
		}
		end := strings.IndexFunc(s, unicode.IsSpace)
		if end < 0 {
			end = len(s)
		}
		tok := s[:end]
		s = s[end:]
		if k, v, ok := strings.Cut(tok, ":"); ok && v != "" {
			switch strings.ToLower(k) {
			case "category":
				q.Category = strings.ToLower(v)
				continue
			case "tag":
				q.Tag = strings.ToLower(v)
				continue
			case "year":
				q.Year = v
				continue
			}
		}
		words = appendNonEmpty(words, tok)
	}
	return words, phrases
}
