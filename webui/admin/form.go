package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/webui/httperr"
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

// inputs names the inputs of the form being shown, for blame: the
// input beside which each of the writer's field names goes. Forms name
// their inputs as the API's JSON does, so most map to themselves; a
// repeatable row is sent to the writer only when filled in, so its
// fields' indexes differ from the rows'. A field not named here is shown
// at the top of the form.
type inputs map[string]string

// sameNames are inputs named as the writer names its fields.
func sameNames(names ...string) inputs {
	in := make(inputs, len(names))
	for _, n := range names {
		in[n] = n
	}
	return in
}

// blame puts the writer's refusal of a save beside the inputs (of the
// form being shown) that it names; what is the thing saved, as a
// conflict's message names it ("this post", "the settings"). It reports
// false for an error that is not the user's to fix.
func (f *form) blame(err error, what string, in inputs) bool {
	var ve *content.ValidationError
	var ce *command.ConflictError
	var pe *policy.Refusal
	switch {
	case errors.As(err, &pe):
		f.fail(in[pe.Field], pe.Reason) // beside the field it is about, else on the form
		return true
	case errors.As(err, &ve):
		for _, fe := range ve.Errors {
			if input, known := in[fe.Field]; known {
				f.fail(input, fe.Detail)
			} else if fe.Field != "" {
				f.fail("", fe.Field+": "+fe.Detail)
			} else {
				f.fail("", fe.Detail)
			}
		}
		if !f.failed() {
			f.fail("", ve.Error())
		}
		return true
	case errors.As(err, &ce):
		f.fail(in[ce.Field], ce.Detail) // "" when unknown: the form as a whole
		return true
	case errors.Is(err, command.ErrStale):
		f.fail("", fmt.Sprintf("Someone else saved %s after you opened it, so your save was not made (what you wrote is still here). "+
			"Copy your changes, open %s again, and apply them there.", what, what))
		return true
	}
	return false
}

// postInputs are the post form's fields.
func postInputs() inputs {
	return sameNames("title", "slug", "content", "excerpt", "status", "published_at",
		"categories", "tags", "feature_image", "gallery", "embed_url", "meta.description", "meta.image", "author", "review_note")
}

// readForm reads a posted form of at most limit bytes (a larger one is
// refused whole: nothing is saved).
func readForm(w http.ResponseWriter, r *http.Request, limit int64) (*form, error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := r.ParseForm(); err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return nil, httperr.New(http.StatusRequestEntityTooLarge, "the form is larger than %d KiB: nothing was saved", limit>>10)
		}
		return nil, httperr.New(http.StatusBadRequest, "the form could not be read: nothing was saved")
	}
	return newForm(r.PostForm), nil
}
