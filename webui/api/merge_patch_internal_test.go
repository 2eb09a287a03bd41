package api

import (
	"errors"
	"reflect"
	"testing"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// A patch names fields exactly as the JSON does: "Title" is refused, not
// matched case-blind (which left the old value and answered 200).
func TestPatchNamesAreExact(t *testing.T) {
	for _, tc := range []struct {
		out   any
		patch map[string]any
		field string // "" when accepted
	}{
		{&postRequest{}, map[string]any{"title": "x", "meta": map[string]any{"description": "d"}}, ""},
		{&postRequest{}, map[string]any{"Title": "x"}, "Title"},
		{&postRequest{}, map[string]any{"meta": map[string]any{"Description": "d"}}, "meta.Description"},
		{&postRequest{}, map[string]any{"subtitle": "x"}, "subtitle"},
		{&content.Settings{}, map[string]any{"title": "T", "analytics": map[string]any{"google_analytics_id": "G-1"}}, ""},
		{&content.Settings{}, map[string]any{"analytics": map[string]any{"Google_Analytics_ID": "G-1"}}, "analytics.Google_Analytics_ID"},
	} {
		err := exactNames(reflect.TypeOf(tc.out), tc.patch, "")
		var p *httperr.Error
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%v refused: %v", tc.patch, err)
		case tc.field != "" && (!errors.As(err, &p) || len(p.Errors) == 0 || p.Errors[0].Field != tc.field):
			t.Errorf("%v: %v, want a problem naming %s", tc.patch, err, tc.field)
		}
	}
}
