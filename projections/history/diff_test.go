package history

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUnifiedDiffAgreesWithGit compares UnifiedDiff's hunks with what
// `git diff --no-index` prints for the same two texts.
func TestUnifiedDiffAgreesWithGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs the git CLI")
	}
	lines := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			b.WriteString(f(i) + "\n")
		}
		return b.String()
	}
	base := lines(30, func(i int) string { return "line " + string(rune('a'+i%26)) + strings.Repeat("x", i%4) })
	tests := []struct{ name, a, b string }{
		{"one line changed", base, strings.Replace(base, "line k\n", "line K\n", 1)},
		{"added at the end", base, base + "more\n"},
		{"removed at the start", base, base[strings.Index(base, "\n")+1:]},
		{"two changes far apart", base, strings.Replace(strings.Replace(base, "line c", "line C", 1), "line y", "line Y", 1)},
		{"two changes close", base, strings.Replace(strings.Replace(base, "line c", "line C", 1), "line ix", "line IX", 1)},
		{"from nothing", "", "new\ntext\n"},
		{"to nothing", "old\ntext\n", ""},
		{"no newline at the end", "a\nb\nc", "a\nB\nc"},
		{"paragraphs", "The first body, about ferries.\n\nA second paragraph.\n", "The admin body, about ferries.\n\nA second paragraph.\n"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		os.WriteFile(a, []byte(tt.a), 0o644)
		os.WriteFile(b, []byte(tt.b), 0o644)
		cmd := exec.Command("git", "diff", "--no-index", "--no-color", "-U3", "--", "a", "b")
		cmd.Dir = dir
		out, _ := cmd.Output() // exit status 1: they differ
		want := string(out)
		if i := strings.Index(want, "\n@@"); i >= 0 {
			want = want[i+1:] // git's header lines name modes and blobs
		}
		got := UnifiedDiff("a/x", "b/x", tt.a, tt.b)
		if i := strings.Index(got, "\n@@"); i >= 0 {
			got = got[i+1:]
		}
		// git names the hunk's "function" after its @@ (a line starting
		// with a letter, for text): not part of the format.
		want = hunkContext.ReplaceAllString(want, "$1")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-git +ours):\n%s", tt.name, diff)
		}
	}
	if UnifiedDiff("a", "b", base, base) != "" {
		t.Error("equal texts have a diff")
	}
}

var hunkContext = regexp.MustCompile(`(?m)^(@@ [^@]+ @@).*$`)

func TestWordDiff(t *testing.T) {
	got := WordDiff("The first body, about ferries.", "The admin body, about big ferries.")
	want := []Op{{"equal", "The "}, {"delete", "first"}, {"insert", "admin"}, {"equal", " body, about "}, {"insert", "big "}, {"equal", "ferries."}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCompareStates(t *testing.T) {
	a := []byte(`{"title":"A","tags":[],"meta":{"description":"x"},"version":1,"content":"c","categories":null}`)
	b := []byte(`{"title":"B","tags":null,"meta":{"description":"y"},"version":2,"content":"d","gallery":["g"]}`)
	var fields []string
	for _, f := range CompareStates(a, b, "content") {
		fields = append(fields, f.Field)
	}
	if diff := cmp.Diff([]string{"title", "meta", "gallery"}, fields); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
