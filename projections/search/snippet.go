package search

import (
	"html"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
)

// marker finds a query's words in text, as the index sees them: both are
// run through the same analyzer, so "walked" marks "walking" in English.
type marker struct {
	analyzer analysis.Analyzer
	terms    map[string]bool
	prefix   string // the word being typed, analysed: matches as a prefix
	fuzzy    []string
	words    int // words long enough to forgive a typo
}

// canFuzz reports whether a search forgiving typos could match more.
func (m *marker) canFuzz() bool { return m.words > 0 }

func (ix *Index) newMarker(words, phrases []string, typing, fuzzy bool) *marker {
	a := ix.idx.Mapping().AnalyzerNamed(ix.lang)
	m := &marker{analyzer: a, terms: map[string]bool{}}
	if a == nil {
		return m
	}
	all := append(append([]string(nil), words...), phrases...)
	for i, w := range all {
		for _, t := range a.Analyze([]byte(w)) {
			term := string(t.Term)
			m.terms[term] = true
			if utf8.RuneCountInString(term) >= fuzzyMinRunes && i < len(words) {
				m.words++
				if fuzzy {
					m.fuzzy = append(m.fuzzy, term)
				}
			}
			if typing && i == len(words)-1 {
				m.prefix = strings.ToLower(w)
			}
		}
	}
	return m
}

func (m *marker) matches(term, original string) bool {
	if m.terms[term] {
		return true
	}
	if m.prefix != "" && len(m.prefix) >= 2 && strings.HasPrefix(strings.ToLower(original), m.prefix) {
		return true
	}
	for _, f := range m.fuzzy {
		if withinOneEdit(term, f) {
			return true
		}
	}
	return false
}

// mark returns text as escaped HTML with <mark> around matching words,
// cut to a window of about width characters around the first match (the
// whole text when width is 0).
func (m *marker) mark(text string, width int) string {
	if m.analyzer == nil || len(m.terms) == 0 && m.prefix == "" {
		return html.EscapeString(cut(text, 0, width))
	}
	var spans [][2]int
	if width == 0 || len(text) <= width {
		spans = m.spans(text, 0, len(text), false)
	} else if first := m.spans(text, 0, len(text), true); len(first) > 0 {
		// Analysing a post's whole text for every hit was a fifth of a
		// search: find the first match, then mark only the window.
		from := max(0, first[0][0]-width/3)
		spans = m.spans(text, from, min(len(text), from+width+width/2), false)
	}
	from, to := 0, len(text)
	if width > 0 && len(text) > width {
		start := 0
		if len(spans) > 0 {
			start = spans[0][0]
		}
		from = max(0, start-width/3)
		for from > 0 && !utf8.RuneStart(text[from]) {
			from--
		}
		if i := strings.IndexByte(text[from:min(len(text), from+40)], ' '); from > 0 && i >= 0 {
			from += i + 1
		}
		to = min(len(text), from+width)
		for to < len(text) && !utf8.RuneStart(text[to]) {
			to++
		}
		if i := strings.LastIndexByte(text[from:to], ' '); to < len(text) && i > width/2 {
			to = from + i
		}
	}
	var b strings.Builder
	if from > 0 {
		b.WriteString("…")
	}
	pos := from
	for _, s := range spans {
		if s[0] < pos || s[1] > to {
			continue
		}
		b.WriteString(html.EscapeString(text[pos:s[0]]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[s[0]:s[1]]))
		b.WriteString("</mark>")
		pos = s[1]
	}
	b.WriteString(html.EscapeString(text[pos:to]))
	if to < len(text) {
		b.WriteString("…")
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// spans returns the matching words of text[from:to] as offsets in text,
// only the first one if first is set. The text is analysed in pieces cut
// at spaces, so that finding an early match does not analyse the rest.
func (m *marker) spans(text string, from, to int, first bool) [][2]int {
	for from > 0 && from < len(text) && text[from-1] != ' ' && text[from] != ' ' {
		from-- // start on a word's first byte
	}
	var out [][2]int
	for from < to {
		end := min(to, from+512)
		if i := strings.LastIndexByte(text[from:end], ' '); end < to && i > 0 {
			end = from + i
		} else if end < to {
			for end < len(text) && text[end] != ' ' {
				end++ // a 512-byte word: take it whole
			}
		}
		piece := text[from:end]
		for _, t := range m.analyzer.Analyze([]byte(piece)) {
			if t.Start >= 0 && t.End <= len(piece) && m.matches(string(t.Term), piece[t.Start:t.End]) {
				out = append(out, [2]int{from + t.Start, from + t.End})
				if first {
					return out
				}
			}
		}
		from = end
	}
	return out
}

func cut(s string, from, width int) string {
	if width == 0 || len(s) <= width {
		return s
	}
	for width < len(s) && !utf8.RuneStart(s[width]) {
		width++
	}
	return s[from:width] + "…"
}

// withinOneEdit reports whether a and b differ by at most one insertion,
// deletion or substitution.
func withinOneEdit(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > len(rb) {
		ra, rb = rb, ra
	}
	if len(rb)-len(ra) > 1 {
		return false
	}
	i := 0
	for i < len(ra) && ra[i] == rb[i] {
		i++
	}
	if len(ra) == len(rb) {
		return string(ra[i+min(1, len(ra)-i):]) == string(rb[i+min(1, len(rb)-i):])
	}
	return string(ra[i:]) == string(rb[i+1:])
}
