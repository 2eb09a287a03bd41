package search

import (
	"github.com/blevesearch/bleve/v2/analysis"
)

// asciiTokenizer cuts text into the tokens bleve's unicode tokenizer
// makes (words by UAX #29, as blevesearch/segment's scanner finds them:
// its Unicode 8 rules), reading ASCII text itself: the scanner's state
// tables were a tenth of indexing an English post. A stretch of text
// between ASCII spaces that holds other bytes goes to the unicode
// tokenizer, as does text with many of them.
//
// In ASCII the rules come down to: letters, digits and underscores join;
// one colon joins two letters, one comma or semicolon two digits, one
// full stop or apostrophe two letters or two digits; a word with a digit
// and no letter is a number. Every other character (white space
// included) is a boundary on both sides and makes no token, so a stretch
// cut at ASCII white space is cut as it would be in its place. (Invalid
// UTF-8, which the scanner stops at, cannot reach it: a post's text was
// checked for it, whether it came through the API's JSON or from a file
// in git, in content.SplitFrontMatter.)
type asciiTokenizer struct {
	unicode analysis.Tokenizer
}

// ASCII character classes, after the Word_Break property.
const (
	wbOther    = iota
	wbLetter   // ALetter
	wbDigit    // Numeric
	wbUnder    // ExtendNumLet
	wbMidL     // MidLetter: joins letters
	wbMidN     // MidNum: joins digits
	wbMidLN    // MidNumLet, Single_Quote: joins either
	wbSpace    // where a stretch may be cut
	wbNonASCII // a byte of a longer UTF-8 sequence
)

var wbClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = wbLetter, wbLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = wbDigit
	}
	t['_'], t[':'], t[','], t[';'], t['.'], t['\''] = wbUnder, wbMidL, wbMidN, wbMidN, wbMidLN, wbMidLN
	for _, c := range " \t\n\v\f\r" {
		t[c] = wbSpace
	}
	for c := 0x80; c < 256; c++ {
		t[c] = wbNonASCII
	}
	return t
}()

func (t asciiTokenizer) Tokenize(input []byte) analysis.TokenStream {
	nonASCII := 0
	for _, c := range input {
		if c >= 0x80 {
			nonASCII++
		}
	}
	if nonASCII > len(input)/64 { // mostly another script: a call per stretch would cost more
		return t.unicode.Tokenize(input)
	}
	return t.cut(input)
}

func (t asciiTokenizer) cut(input []byte) analysis.TokenStream {
	ts := tokens{out: make(analysis.TokenStream, 0, len(input)/6+1)}
	s, cut := 0, -1 // s: what is not cut yet starts there; cut: the last space after s
	for i := 0; i < len(input); i++ {
		switch wbClass[input[i]] {
		case wbSpace:
			cut = i
		case wbNonASCII:
			w := max(s, cut)
			ts.ascii(input, s, w)
			e := i + 1
			for e < len(input) && wbClass[input[e]] != wbSpace {
				e++
			}
			for _, tok := range t.unicode.Tokenize(input[w:e]) {
				ts.add(tok.Term, w+tok.Start, w+tok.End, tok.Type)
			}
			s, i = e, e-1
		}
	}
	ts.ascii(input, s, len(input))
	return ts.out
}

// tokens gathers a stream, its tokens allocated in blocks.
type tokens struct {
	out   analysis.TokenStream
	block []analysis.Token
}

func (ts *tokens) add(term []byte, start, end int, typ analysis.TokenType) {
	if len(ts.block) == 0 {
		ts.block = make([]analysis.Token, max(16, cap(ts.out)-len(ts.out)))
	}
	tok := &ts.block[0]
	ts.block = ts.block[1:]
	*tok = analysis.Token{Term: term, Start: start, End: end, Position: len(ts.out) + 1, Type: typ}
	ts.out = append(ts.out, tok)
}

// ascii adds the words of input[s:e], which is ASCII and ends at a space
// or at the end of input.
func (ts *tokens) ascii(input []byte, s, e int) {
	for i := s; i < e; {
		switch wbClass[input[i]] {
		case wbLetter, wbDigit, wbUnder:
		default:
			i++
			continue
		}
		start, letter, digit := i, false, false
	word:
		for ; i < e; i++ {
			switch k := wbClass[input[i]]; k {
			case wbLetter:
				letter = true
			case wbDigit:
				digit = true
			case wbUnder:
			case wbMidL, wbMidN, wbMidLN:
				if i+1 >= e {
					break word
				}
				prev, next := wbClass[input[i-1]], wbClass[input[i+1]]
				if prev != next || (prev == wbLetter && k == wbMidN) || (prev == wbDigit && k == wbMidL) ||
					(prev != wbLetter && prev != wbDigit) {
					break word
				}
				i++ // the letter or digit after it
			default:
				break word
			}
		}
		typ := analysis.AlphaNumeric
		if digit && !letter {
			typ = analysis.Numeric
		}
		ts.add(input[start:i], start, i, typ)
	}
}
