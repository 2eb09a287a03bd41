package search

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
)

// memoPrefix names the memoising twin of a language's analyzer: "memo_en"
// makes the very tokens "en" makes.
//
// Every filter of the stemmed languages' analyzers (possessive, elision,
// lower case, stop words, normalisation, stemmer) maps one token's term
// to one term, or drops the token, whatever the tokens around it: the
// whole chain is a function of the term the tokenizer cut. Words repeat
// (a few thousand make most of any text), and the chain was a third of
// analysing a post, the stemmer most of it; a map look-up costs far less.
// The twin's tokenizer reads ASCII text itself (tokenizer.go).
const memoPrefix = "memo_"

// memoLanguages are the analyzers whose every token filter works on one
// term at a time (checked in TestMemoAnalyzersMakeTheSameTokens); cjk's
// bigram filter joins neighbours, so it is not one of them.
var memoLanguages = []string{"en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "ru"}

// memoMax bounds a memo: once it holds that many terms it is full, and
// new terms go through the filters each time, as without it, taking no
// lock. 65,536 terms hold far more than the words a site uses often, in
// a few MB.
const memoMax = 1 << 16

func init() {
	for _, lang := range memoLanguages {
		if err := registry.RegisterAnalyzer(memoPrefix+lang, memoConstructor(lang)); err != nil {
			panic(err)
		}
	}
}

// analyzerOf names the analyzer a field of a language's documents is
// indexed with.
func analyzerOf(lang string) string {
	for _, l := range memoLanguages {
		if l == lang {
			return memoPrefix + lang
		}
	}
	return lang
}

func memoConstructor(lang string) registry.AnalyzerConstructor {
	return func(config map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
		a, err := cache.AnalyzerNamed(lang)
		if err != nil {
			return nil, err
		}
		da, ok := a.(*analysis.DefaultAnalyzer)
		if !ok || len(da.CharFilters) > 0 {
			return nil, fmt.Errorf("analyzer %s: not a tokenizer and token filters", lang)
		}
		m := &memoFilter{chain: da.TokenFilters, limit: memoMax}
		m.terms.Store(&map[string]memoTerm{})
		tok := da.Tokenizer
		if _, ok := tok.(*unicode.UnicodeTokenizer); ok {
			tok = asciiTokenizer{unicode: tok}
		}
		return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: []analysis.TokenFilter{m}}, nil
	}
}

// memoTerm is what the chain made of a term: another term, or nothing
// (a stop word).
type memoTerm struct {
	term []byte // shared by every token it is given to: read only
	drop bool
}

// memoFilter runs its chain of filters once per distinct term. bleve
// analyses a batch's documents on several goroutines at once: the terms
// known are a map that is never written once published, so a look-up
// takes no lock; new terms wait in pending, under mu, until there are
// enough of them to publish a larger map. Once full, it learns no more:
// what was pending is published, and an unknown term goes through the
// chain on its goroutine, as without the memo.
type memoFilter struct {
	chain []analysis.TokenFilter
	limit int // terms kept at most
	terms atomic.Pointer[map[string]memoTerm]
	full  atomic.Bool

	mu      sync.Mutex
	pending map[string]memoTerm
}

func (m *memoFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	terms := *m.terms.Load()
	learning := !m.full.Load()
	out := make(analysis.TokenStream, 0, len(input))
	for _, tok := range input {
		t, ok := terms[string(tok.Term)]
		if !ok && learning && !tok.KeyWord { // no tokenizer marks keywords; never kept
			t, ok = m.learn(tok)
		}
		switch {
		case !ok:
			out = append(out, m.run(tok)...)
		case !t.drop:
			tok.Term = t.term
			out = append(out, tok)
		}
	}
	return out
}

// run passes one token through the chain.
func (m *memoFilter) run(tok *analysis.Token) analysis.TokenStream {
	ts := analysis.TokenStream{tok}
	for _, f := range m.chain {
		ts = f.Filter(ts)
	}
	return ts
}

// learn passes a term the published map lacks through the chain (a copy
// of it: the lower-case filter writes in place), outside the lock, and
// keeps what it made; not ok if it made several tokens of one, which none
// of memoLanguages' filters do.
func (m *memoFilter) learn(tok *analysis.Token) (memoTerm, bool) {
	m.mu.Lock()
	t, ok := m.pending[string(tok.Term)]
	m.mu.Unlock()
	if ok {
		return t, true
	}
	c := *tok
	c.Term = append([]byte(nil), tok.Term...)
	switch ts := m.run(&c); len(ts) {
	case 0:
		t.drop = true
	case 1:
		t.term = ts[0].Term
	default:
		return t, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.full.Load() {
		return t, true
	}
	published := *m.terms.Load()
	if len(published)+len(m.pending) >= m.limit {
		m.publish(published)
		m.full.Store(true)
		return t, true
	}
	if m.pending == nil {
		m.pending = map[string]memoTerm{}
	}
	m.pending[string(tok.Term)] = t
	// Publish when pending is an eighth of what is published (at least
	// 64): each term is copied a few times in all, and most look-ups find
	// their term without taking mu.
	if len(m.pending) >= max(64, len(published)/8) {
		m.publish(published)
	}
	return t, true
}

// publish makes published and pending the map look-ups read. Callers hold
// mu.
func (m *memoFilter) publish(published map[string]memoTerm) {
	if len(m.pending) == 0 {
		return
	}
	next := make(map[string]memoTerm, len(published)+len(m.pending))
	for k, v := range published {
		next[k] = v
	}
	for k, v := range m.pending {
		next[k] = v
	}
	m.terms.Store(&next)
	clear(m.pending)
}
