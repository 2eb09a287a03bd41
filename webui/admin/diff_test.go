package admin

import (
	"math/rand"
	"strings"
	"testing"
	"time"
)

// Two long unrelated texts (the cost of an exact diff is the square of
// their length) still give an answer in bounded time.
func TestWordDiffIsBounded(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	text := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteByte(byte('a' + rng.Intn(26)))
		}
		return b.String()
	}
	a, b := text(200_000), text(200_000)
	start := time.Now()
	out := wordDiff(a, b)
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the diff of two 200 KB texts took %v", d)
	}
	if !strings.Contains(string(out), "<ins>") || !strings.Contains(string(out), "<del>") {
		t.Fatal("no diff")
	}
	if got := wordDiff("one two three", "one three four"); got != "one <del>two </del>three<ins> four</ins>" {
		t.Errorf("word diff: %s", got)
	}
}
