package admin

import (
	"html/template"
	"regexp"
	"strings"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// wordDiff shows how b differs from a, word by word: removed words
// struck through, added ones underlined, all escaped. Words (and the
// spaces between them) are diffed as units, each mapped to one rune, as
// go-diff maps lines for a line diff.
func wordDiff(a, b string) template.HTML {
	var vocab []string
	index := map[string]rune{}
	toRunes := func(s string) []rune {
		var out []rune
		for _, w := range wordRE.FindAllString(s, -1) {
			r, ok := index[w]
			if !ok {
				r = rune(0x10000 + len(vocab)) // past the BMP: never a rune of the texts' own
				index[w] = r
				vocab = append(vocab, w)
			}
			out = append(out, r)
		}
		return out
	}
	ra, rb := toRunes(a), toRunes(b)
	dmp := diffmatchpatch.New()
	// The exact diff costs the square of the texts' length (hours for two
	// unrelated 1 MiB texts): past a second, go-diff settles for a coarser
	// one, still correct as a diff.
	dmp.DiffTimeout = time.Second
	diffs := dmp.DiffCleanupSemantic(dmp.DiffMainRunes(ra, rb, false))
	var out strings.Builder
	for _, d := range diffs {
		var text strings.Builder
		for _, r := range d.Text {
			text.WriteString(vocab[r-0x10000])
		}
		t := template.HTMLEscapeString(text.String())
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			out.WriteString("<ins>" + t + "</ins>")
		case diffmatchpatch.DiffDelete:
			out.WriteString("<del>" + t + "</del>")
		default:
			out.WriteString(t)
		}
	}
	return template.HTML(out.String())
}

// wordRE splits a text into words and the space between them.
var wordRE = regexp.MustCompile(`\s+|\S+`)

// fieldChange is one field that differs between two versions of a form.
type fieldChange struct {
	Field, From, To string
}

// changedFields lists the fields other than the text that differ
// between two forms, in the editor's order.
func changedFields(a, b *form) []fieldChange {
	var out []fieldChange
	for _, f := range []string{"title", "slug", "status", "published_at", "categories", "tags", "feature_image", "gallery",
		"embed_url", "excerpt", "meta.description", "meta.image"} {
		x, y := strings.Join(a.values[f], ", "), strings.Join(b.values[f], ", ")
		if strings.TrimSpace(x) != strings.TrimSpace(y) {
			out = append(out, fieldChange{Field: f, From: x, To: y})
		}
	}
	return out
}
