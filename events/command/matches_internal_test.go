package command

import "testing"

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		ifMatch, blob string
		want          bool
	}{
		{"", "", true}, {"", "b1", true},
		{"*", "b1", true}, {"*", "", false}, // "*": any version, of something that exists
		{"b1", "b1", true}, {"b1", "b2", false}, {"b1", "", false},
	} {
		if got := matches(tc.ifMatch, tc.blob); got != tc.want {
			t.Errorf("If-Match %q on %q: %v", tc.ifMatch, tc.blob, got)
		}
	}
}
