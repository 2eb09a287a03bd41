package admin

import (
	"html/template"
	"regexp"
	"strings"

	"golang.org/x/net/html"

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

// renderedDiff marks, in two renderings of a text, the words one has and
// the other lacks: the older with its removed words in <del>, the newer
// with its added ones in <ins>. Tags and the words and spaces of text are
// the units of one diff (history.DiffUnits, which the word diff is made
// of), and each side keeps its own rendering's tags, in order, so both
// stay as well formed as they were; only runs of text are marked, never
// a tag.
func renderedDiff(a, b template.HTML) (older, newer template.HTML) {
	ops := history.DiffUnits(htmlUnits(string(a)), htmlUnits(string(b)))
	side := func(keep, tag, say string) template.HTML {
		var out, run strings.Builder
		flush := func() {
			if strings.TrimSpace(run.String()) != "" {
				out.WriteString("<" + tag + `><span class="visually-hidden">` + say + ": </span>" + run.String() + "</" + tag + ">")
			} else {
				out.WriteString(run.String())
			}
			run.Reset()
		}
		for _, op := range ops {
			if op.Op != "equal" && op.Op != keep {
				continue
			}
			for _, u := range op.Units {
				switch {
				case op.Op == "equal":
					out.WriteString(u)
				case strings.HasPrefix(u, "<"):
					flush()
					out.WriteString(u)
				default:
					run.WriteString(u)
				}
			}
			flush()
		}
		return template.HTML(out.String())
	}
	return side("delete", "del", "removed"), side("insert", "ins", "added")
}

// htmlUnits splits HTML into its tags and the words and spaces of its
// text, each as written (entities and all).
func htmlUnits(s string) []string {
	var out []string
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		raw := string(z.Raw())
		if tt == html.TextToken {
			out = append(out, unitRE.FindAllString(raw, -1)...)
		} else {
			out = append(out, raw)
		}
	}
}

// unitRE splits text into words and the space between them.
var unitRE = regexp.MustCompile(`\s+|\S+`)
