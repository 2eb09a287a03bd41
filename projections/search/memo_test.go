package search

import (
	"fmt"
	"math/rand"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
)

// samples are a few sentences of each memoised language: stop words,
// plurals, elisions, possessives, accents and mixed case.
var samples = map[string]string{
	"en": `The Runner's shoes were running faster than the runners' dogs; they ran, RUN, runs. Don't stop-believing: it's 3.14 km, e.g. U.S.A. café naïve.`,
	"fr": `L'homme et l'éléphant aujourd'hui mangeaient des châteaux; les chevaux étaient HEUREUX, heureuses, qu'ils disent. Œuvres d'art.`,
	"de": `Die Häuser der Mädchen waren größer als die Bäume; Straße, STRASSE, Kindergärten und Äpfel. Das ist schön, schöner, am schönsten.`,
	"es": `Los niños corrían rápidamente por las calles; las canciones, CANCIÓN, corazones y pingüinos. ¿Dónde están? ¡Allí estábamos!`,
	"it": `L'amico dell'uomo parlava degli alberi; le città erano bellissime, BELLEZZA, parlarono, dell'anno. Perché così?`,
	"pt": `As crianças estavam correndo pelas ruas; canções, CORAÇÕES, informações e não-ditos. Você já comeu pão?`,
	"nl": `De kinderen liepen door de straten; huizen, HUISJES, gelopen en lopende. Het is één van de mooiste.`,
	"sv": `Barnen sprang genom gatorna; husen, HUSET, springande och sprungit. Det är en av de vackraste.`,
	"da": `Børnene løb gennem gaderne; husene, HUSET, løbende og løbet. Det er en af de smukkeste.`,
	"no": `Barna løp gjennom gatene; husene, HUSET, løpende og løpt. Det er en av de vakreste.`,
	"fi": `Lapset juoksivat katuja pitkin; taloissa, TALOJEN, juoksemassa ja juossut. Se on yksi kauneimmista.`,
	"ru": `Дети бежали по улицам; домами, ДОМОВ, бегущие и бежавший. Это одна из самых красивых.`,
}

// TestMemoAnalyzersMakeTheSameTokens: each memoising analyzer makes the
// tokens of the analyzer it stands for (term, position, offsets, type),
// on text it has seen and not, from several goroutines at once (as bleve
// analyses a batch), and past the memo's bound.
func TestMemoAnalyzersMakeTheSameTokens(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var many strings.Builder // more distinct terms than the English memo keeps
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&many, "Word%dings ", i)
	}
	im := mapping.NewIndexMapping()
	en := im.AnalyzerNamed(analyzerOf("en")).(*analysis.DefaultAnalyzer).TokenFilters[0].(*memoFilter)
	en.limit = 2000
	for _, lang := range memoLanguages {
		plain, memo := im.AnalyzerNamed(lang), im.AnalyzerNamed(analyzerOf(lang))
		if plain == nil || memo == nil || lang == analyzerOf(lang) {
			t.Fatalf("%s: analyzers %v and %v", lang, plain, memo)
		}
		texts := []string{samples[lang], samples[lang], strings.ToUpper(samples[lang])}
		if lang == "en" {
			texts = append(texts, string(readme), many.String(), string(readme))
		}
		for _, text := range texts {
			want := analysis.TokenStream(plain.Analyze([]byte(text)))
			var wg sync.WaitGroup
			got := make([]analysis.TokenStream, 4)
			for g := range got {
				wg.Add(1)
				go func() { defer wg.Done(); got[g] = memo.Analyze([]byte(text)) }()
			}
			wg.Wait()
			for _, g := range got {
				if d := tokensDiffer(want, g); d != "" {
					t.Fatalf("%s: %s", lang, d)
				}
			}
		}
	}
	// Full, it holds nothing back: no term is left pending, to be looked
	// up under the lock for ever.
	if !en.full.Load() || len(en.pending) != 0 || len(*en.terms.Load()) > en.limit {
		t.Errorf("the English memo past its bound: full %v, %d terms pending, %d published (bound %d)",
			en.full.Load(), len(en.pending), len(*en.terms.Load()), en.limit)
	}
}

func tokensDiffer(want, got analysis.TokenStream) string {
	for i := 0; i < max(len(want), len(got)); i++ {
		if i >= len(want) || i >= len(got) {
			return fmt.Sprintf("%d tokens, want %d", len(got), len(want))
		}
		w, g := *want[i], *got[i]
		if string(w.Term) != string(g.Term) || w.Position != g.Position || w.Start != g.Start || w.End != g.End ||
			w.Type != g.Type || w.KeyWord != g.KeyWord {
			return fmt.Sprintf("token %d: %q@%d[%d:%d] type %v, want %q@%d[%d:%d] type %v", i,
				g.Term, g.Position, g.Start, g.End, g.Type, w.Term, w.Position, w.Start, w.End, w.Type)
		}
	}
	return ""
}

// TestASCIITokenizerCutsAsUnicodeDoes compares the tokenizer with bleve's
// unicode tokenizer on random text of the characters whose word-break
// classes matter (and a few others: accents, a combining mark, a soft
// hyphen, curly quotes, no-break space, Hebrew, kana, Han).
func TestASCIITokenizerCutsAsUnicodeDoes(t *testing.T) {
	unicode := mapping.NewIndexMapping().AnalyzerNamed("standard").(*analysis.DefaultAnalyzer).Tokenizer
	at := asciiTokenizer{unicode: unicode}
	ascii := []rune("aBz19_:,;.'\" \t\n\r\v-!/\x7f")
	for c := rune(0); c < 0x80; c++ { // every ASCII character, the frequent ones above more often
		ascii = append(ascii, c)
	}
	other := []rune("é’‘\u0301\u00ad\u00a0אカ中·")
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 3000; n++ {
		size, rare := 1+rng.Intn(24), 0.2
		if n%2 == 1 {
			size, rare = 100+rng.Intn(300), 0.004
		}
		var b strings.Builder
		for range size {
			if rng.Float64() < rare {
				b.WriteRune(other[rng.Intn(len(other))])
			} else {
				b.WriteRune(ascii[rng.Intn(len(ascii))])
			}
		}
		text := b.String()
		want := unicode.Tokenize([]byte(text))
		if d := tokensDiffer(want, at.cut([]byte(text))); d != "" {
			t.Fatalf("%q: %s", text, d)
		}
		if d := tokensDiffer(want, at.Tokenize([]byte(text))); d != "" {
			t.Fatalf("%q: %s", text, d)
		}
	}
}
