package admin

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
)

// The writer numbers only the rows it was sent; its messages land beside
// the rows the form showed, and a field the form lacks at its top.
func TestBlameMapsRowsToTheirInputs(t *testing.T) {
	f := newForm(url.Values{"title": {"Site"}, "language": {"en"}, "posts_per_page": {"10"}, "nav_choice": {navCustom},
		"navigation[0].label": {""}, "navigation[0].target": {""}, // left out
		"navigation[1].label": {"Docs"}, "navigation[1].target": {"javascript:alert(1)"},
		"navigation[2].label": {""}, "navigation[2].target": {"Not A Slug"},
		"navigation[3].label": {"No target"}, "navigation[3].target": {""}})
	s, in := readSettingsForm(f)
	if s.Navigation == nil || len(*s.Navigation) != 3 {
		t.Fatalf("navigation %+v, want the 3 filled rows", s.Navigation)
	}
	if !f.blame(content.ValidateSettings(&s).Err(""), "the settings", in) {
		t.Fatal("a validation error is the user's to fix")
	}
	for input, want := range map[string]bool{"navigation[1].target": true, "navigation[2].target": true, "navigation[3].target": true,
		"navigation[0].target": false, "navigation[1].label": false, "": false} {
		if got := f.Problem(input) != nil; got != want {
			t.Errorf("%q has a message: %v, want %v (%v)", input, got, want, f.problems)
		}
	}

	f = newForm(nil)
	f.blame(&content.ValidationError{Errors: []content.FieldError{{Field: "unknown.field", Detail: "is wrong"}}}, "this post", postInputs())
	if got := f.Error(""); got != "unknown.field: is wrong" {
		t.Errorf("a field the form lacks: %q at the top", got)
	}
	f = newForm(nil)
	if !f.blame(fmt.Errorf("wrapped: %w", command.ErrStale), "the profile", profileInputs()) || f.Error("") == "" {
		t.Error("a stale save is the user's to redo")
	}
	if f := newForm(nil); f.blame(fmt.Errorf("disk full"), "the profile", profileInputs()) {
		t.Error("a failure of the site is not the user's")
	}
}
