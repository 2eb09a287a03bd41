package admin

import (
	"slices"
	"testing"
)

// A unified diff's header lines are never taken for added or removed
// lines, though they start with --- and +++.
func TestDiffLines(t *testing.T) {
	diff := "diff --git a/p.md b/p.md\nindex 1..2 100644\n--- a/p.md\n+++ b/p.md\n@@ -1,3 +1,3 @@\n title\n-old\n+new\n--- rule\n\n\\ No newline at end of file\n"
	var got []string
	for _, l := range diffLines(diff) {
		got = append(got, l.Kind)
	}
	want := []string{"meta", "meta", "meta", "meta", "hunk", "ctx", "del", "add", "del", "ctx", "meta"}
	if !slices.Equal(got, want) {
		t.Errorf("kinds %v, want %v", got, want)
	}
	if diffLines("") != nil {
		t.Error("no diff has lines")
	}
}
