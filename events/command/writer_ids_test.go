package command

import (
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/content"
)

// Ids made by one writer sort in the order they were made, also within
// one millisecond.
func TestNewIDsSortInCreationOrder(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	w := &Writer{now: func() time.Time { return now }}
	prev := ""
	for i := 0; i < 1000; i++ {
		id := w.newPostID()
		if !content.ValidID(id) || len(id) != 26 || id <= prev {
			t.Fatalf("id %d: %q after %q", i, id, prev)
		}
		prev = id
	}
}
