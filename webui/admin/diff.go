package admin

import (
	"html/template"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// wordDiff shows how b differs from a, word by word where it can (the
// semantic cleanup merges character edits into whole words): removed
// text struck through, added text underlined, both escaped.
func wordDiff(a, b string) template.HTML {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // a post is at most 1 MiB; no deadline, an exact diff
	diffs := dmp.DiffCleanupSemantic(dmp.DiffMain(a, b, true))
	var out strings.Builder
	for _, d := range diffs {
		text := template.HTMLEscapeString(d.Text)
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			out.WriteString("<ins>" + text + "</ins>")
		case diffmatchpatch.DiffDelete:
			out.WriteString("<del>" + text + "</del>")
		default:
			out.WriteString(text)
		}
	}
	return template.HTML(out.String())
}

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
