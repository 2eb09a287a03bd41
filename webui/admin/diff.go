package admin

import (
	"html/template"
	"strings"

	"github.com/chronicle-cms/chronicle/projections/history"
)

// diffSide picks what of a word diff a column shows.
type diffSide int

const (
	bothSides diffSide = iota // inline: removed and added words in one text
	oldSide                   // the older text, its removed words marked
	newSide                   // the newer text, its added words marked
)

// diffHTML shows a word diff (history.WordDiff, the one the API gives)
// escaped, removed words in <del> and added ones in <ins>, each starting
// with words a screen reader says and a sighted reader does not see
// (most screen readers announce neither element).
func diffHTML(ops []history.Op, side diffSide) template.HTML {
	var out strings.Builder
	for _, op := range ops {
		t := template.HTMLEscapeString(op.Text)
		switch {
		case op.Op == "delete" && side != newSide:
			out.WriteString(`<del><span class="visually-hidden">removed: </span>` + t + "</del>")
		case op.Op == "insert" && side != oldSide:
			out.WriteString(`<ins><span class="visually-hidden">added: </span>` + t + "</ins>")
		case op.Op == "equal":
			out.WriteString(t)
		}
	}
	return template.HTML(out.String())
}

// wordDiff shows how b differs from a, word by word, inline.
func wordDiff(a, b string) template.HTML { return diffHTML(history.WordDiff(a, b), bothSides) }

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
