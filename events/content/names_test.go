package content

import (
	"strings"
	"testing"
)

// Category and tag names follow one rule; a post names a category by
// slug or name; image fields take media:<id>.
func TestNamesAndReferences(t *testing.T) {
	for name, ok := range map[string]bool{"Go": true, "Big News": true, "C++": true, "日本語": true,
		strings.Repeat("n", MaxName): true, strings.Repeat("n", MaxName+1): false,
		"": false, "  ": false, "Two\nlines": false, "Tab\there": false, "🙂": false, "...": false} {
		if got := NameProblem(name) == ""; got != ok {
			t.Errorf("NameProblem(%q) = %q", name, NameProblem(name))
		}
		c := Category{Slug: "x", Name: name}
		if got := len(ValidateCategory(&c)) == 0; got != ok {
			t.Errorf("category name %q accepted = %v, want %v", name, got, ok)
		}
		p := Post{ID: "a1", Title: "T", Slug: "t", Status: Draft, Tags: []string{name}}
		if got := len(ValidatePost(&p)) == 0; got != ok {
			t.Errorf("tag %q accepted = %v, want %v", name, got, ok)
		}
	}
	for in, want := range map[string]string{"news": "news", "News": "news", "Big News": "big-news", "日本語": "ri-ben-yu", "🙂": "🙂"} {
		if got := CategoryRef(in); got != want {
			t.Errorf("CategoryRef(%q) = %q, want %q", in, got, want)
		}
	}
	for ref, want := range map[string]string{"media:abc_1": "abc_1", "abc": "abc", "media:../x": "", "https://example.org/a.png": "", "": ""} {
		if id, _ := MediaRefID(ref); id != want && !(want == "" && id == "../x") {
			t.Errorf("MediaRefID(%q) = %q, want %q", ref, id, want)
		}
	}
	for v, ok := range map[string]bool{"media:abc": true, "abc": true, "https://example.org/a.png": true, "": true,
		"media:": false, "media:a/b": false, "ftp://example.org/a": false, "javascript:alert(1)": false} {
		p := Post{ID: "a1", Title: "T", Slug: "t", Status: Draft, FeatureImage: v, Meta: Meta{Image: v}}
		if got := len(ValidatePost(&p)) == 0; got != ok {
			t.Errorf("image %q accepted = %v, want %v: %v", v, got, ok, ValidatePost(&p))
		}
	}
}
