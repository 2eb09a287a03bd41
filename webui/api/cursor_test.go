package api_test

import (
	"testing"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/webui/api"
)

func TestCursorHeaderRoundTrips(t *testing.T) {
	c := events.Cursor{Commit: "0123456789abcdef0123456789abcdef01234567", Height: 42, Index: 2, Count: 3}
	got, err := api.ParseCursor(api.FormatCursor(c))
	if err != nil || got != c {
		t.Fatalf("%+v, %v; want %+v", got, err, c)
	}
	for _, bad := range []string{"", "commit=x", "commit=x; height=1; index=0", "commit=x; height=one; index=0; count=1", "garbage"} {
		if _, err := api.ParseCursor(bad); err == nil {
			t.Errorf("ParseCursor(%q) accepted", bad)
		}
	}
}
