package admin

import (
	"errors"
	"net/url"
	"slices"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
)

// form is a form as the browser sent it (or as the page fills it), with
// the problems to show beside its fields. Field names are the API's JSON
// names, so a problem the writer reports about "title" lands next to the
// title field.
type form struct {
	values   url.Values
	problems map[string]string // by field; "" is the form as a whole
}

// problem is one field's message, and the id that ties it to the field
// (aria-describedby).
type problem struct {
	ID, Message string
}

func newForm(v url.Values) *form {
	if v == nil {
		v = url.Values{}
	}
	return &form{values: v, problems: map[string]string{}}
}

// Value is the field's first value.
func (f *form) Value(name string) string { return f.values.Get(name) }

// Has reports whether the field holds v among its values (check boxes).
func (f *form) Has(name, v string) bool { return slices.Contains(f.values[name], v) }

// Problem is the field's message, nil if it has none.
func (f *form) Problem(name string) *problem {
	if m, ok := f.problems[name]; ok {
		return &problem{ID: name, Message: m}
	}
	return nil
}

// Error is the message of the form as a whole ("") or of a field.
func (f *form) Error(name string) string { return f.problems[name] }

// fail records a problem; the first one of a field stands.
func (f *form) fail(field, msg string) {
	if _, ok := f.problems[field]; !ok {
		f.problems[field] = msg
	}
}

// failed reports whether anything is wrong.
func (f *form) failed() bool { return len(f.problems) > 0 }

// blame puts the writer's refusal of a save beside the fields it names;
// it reports false for an error that is not the user's to fix.
func (f *form) blame(err error) bool {
	var ve *content.ValidationError
	var ce *command.ConflictError
	switch {
	case errors.As(err, &ve):
		for _, fe := range ve.Errors {
			field := fe.Field
			if _, known := fieldNames[field]; !known {
				field = ""
			}
			f.fail(field, fe.Detail)
		}
		if !f.failed() {
			f.fail("", ve.Error())
		}
		return true
	case errors.As(err, &ce):
		field := ce.Field
		if _, known := fieldNames[field]; !known {
			field = ""
		}
		f.fail(field, ce.Detail)
		return true
	}
	return false
}

// fieldNames are the post form's fields.
var fieldNames = map[string]bool{"title": true, "slug": true, "content": true, "excerpt": true, "status": true, "published_at": true,
	"categories": true, "tags": true, "feature_image": true, "gallery": true, "embed_url": true, "meta.description": true, "meta.image": true}
