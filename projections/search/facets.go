package search

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/collector"
)

// facetNames are the facets of every search, in the order of doc's fields.
var facetNames = [...]string{"categories", "tags", "year"}

// facetTable holds every indexed post's facet values as small integers,
// so that counting a search's facets costs a slice increment per hit.
// (bleve's own facets read three doc-value fields per hit: for a word in
// most posts that was two thirds of the query.) It changes only under the
// index's write lock and is read under its read lock.
type facetTable struct {
	terms []facetTerm         // by number
	index map[facetTerm]int32 // term → number; numbers are never reused
	docs  map[string][]int32  // post id → its terms
}

type facetTerm struct {
	facet int // index in facetNames
	value string
}

func newFacetTable() *facetTable {
	return &facetTable{index: map[facetTerm]int32{}, docs: map[string][]int32{}}
}

func (t *facetTable) set(id string, d doc) {
	var nums []int32
	for f, values := range [][]string{d.Categories, d.Tags, {d.Year}} {
		for _, v := range values {
			if v == "" {
				continue
			}
			term := facetTerm{f, v}
			n, ok := t.index[term]
			if !ok {
				n = int32(len(t.terms))
				t.terms = append(t.terms, term)
				t.index[term] = n
			}
			nums = append(nums, n)
		}
	}
	t.docs[id] = nums
}

func (t *facetTable) remove(id string) { delete(t.docs, id) }

// load fills the table from the index's stored fields.
func (t *facetTable) load(idx bleve.Index) error {
	const page = 1000
	for from := 0; ; from += page {
		req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), page, from, false)
		req.Fields = []string{"categories", "tags", "year"}
		req.SortBy([]string{"_id"})
		res, err := idx.Search(req)
		if err != nil {
			return fmt.Errorf("read facets: %w", err)
		}
		for _, h := range res.Hits {
			d := docFromFields(h.Fields)
			t.set(h.ID, d)
		}
		if len(res.Hits) < page {
			return nil
		}
	}
}

// counter counts the facets of one search's hits.
type counter struct {
	t      *facetTable
	counts []int
}

func (t *facetTable) counter() *counter { return &counter{t: t, counts: make([]int, len(t.terms))} }

// context returns ctx with a hook that counts every hit bleve's collector
// sees before the collector ranks it.
func (c *counter) context(ctx context.Context) context.Context {
	return context.WithValue(ctx, search.MakeDocumentMatchHandlerKey,
		search.MakeDocumentMatchHandler(func(sc *search.SearchContext) (search.DocumentMatchHandler, bool, error) {
			rank, _, err := collector.MakeTopNDocumentMatchHandler(sc)
			if err != nil {
				return nil, false, fmt.Errorf("search collector: %w", err)
			}
			if rank == nil {
				return nil, false, errors.New("search collector: not bleve's top-N collector")
			}
			return func(d *search.DocumentMatch) error {
				if d != nil {
					for _, n := range c.t.docs[d.ID] {
						c.counts[n]++
					}
				}
				return rank(d)
			}, true, nil // true: bleve loads each hit's id
		}))
}

// result lists each facet's values, most hits first, then by value.
func (c *counter) result(limit int) map[string][]FacetTerm {
	out := map[string][]FacetTerm{}
	for _, name := range facetNames {
		out[name] = nil
	}
	for n, count := range c.counts {
		if count > 0 {
			term := c.t.terms[n]
			out[facetNames[term.facet]] = append(out[facetNames[term.facet]], FacetTerm{Term: term.value, Count: count})
		}
	}
	for name, terms := range out {
		sort.Slice(terms, func(i, j int) bool {
			if terms[i].Count != terms[j].Count {
				return terms[i].Count > terms[j].Count
			}
			return terms[i].Term < terms[j].Term
		})
		out[name] = terms[:min(len(terms), limit)]
	}
	return out
}
