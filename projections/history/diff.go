package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Op is one piece of a diff: text both sides share ("equal"), or that
// only the newer ("insert") or the older ("delete") has.
type Op struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// diffTimeout bounds a diff: the exact one costs the square of the
// texts' length (hours for two unrelated 1 MiB texts); past it go-diff
// settles for a coarser diff, still a correct one.
const diffTimeout = time.Second

// WordDiff tells how b differs from a word by word: words and the
// spaces between them are its units (DiffUnits).
func WordDiff(a, b string) []Op {
	units := DiffUnits(wordRE.FindAllString(a, -1), wordRE.FindAllString(b, -1))
	out := make([]Op, len(units))
	for i, u := range units {
		out[i] = Op{Op: u.Op, Text: strings.Join(u.Units, "")}
	}
	return out
}

// UnitOp is one piece of a diff of sequences: the units both share
// ("equal"), or that only the newer ("insert") or the older ("delete")
// has.
type UnitOp struct {
	Op    string
	Units []string
}

// DiffUnits tells how sequence b differs from a, unit by unit (a text's
// words, a rendering's tags and words): each distinct unit is mapped to
// one rune, as go-diff maps lines for a line diff, and the diff cleaned
// up for people to read.
func DiffUnits(a, b []string) []UnitOp {
	var vocab []string
	index := map[string]rune{}
	toRunes := func(units []string) []rune {
		out := make([]rune, len(units))
		for i, u := range units {
			r, ok := index[u]
			if !ok {
				r = rune(0x10000 + len(vocab)) // past the BMP: never a rune of the texts' own
				index[u] = r
				vocab = append(vocab, u)
			}
			out[i] = r
		}
		return out
	}
	ra, rb := toRunes(a), toRunes(b)
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = diffTimeout
	diffs := dmp.DiffCleanupSemantic(dmp.DiffMainRunes(ra, rb, false))
	out := make([]UnitOp, 0, len(diffs))
	for _, d := range diffs {
		op := UnitOp{Op: opName(d.Type)}
		for _, r := range d.Text {
			op.Units = append(op.Units, vocab[r-0x10000])
		}
		out = append(out, op)
	}
	return out
}

// wordRE splits a text into words and the space between them.
var wordRE = regexp.MustCompile(`\s+|\S+`)

func opName(t diffmatchpatch.Operation) string {
	switch t {
	case diffmatchpatch.DiffInsert:
		return "insert"
	case diffmatchpatch.DiffDelete:
		return "delete"
	}
	return "equal"
}

// UnifiedDiff is the line diff of a and b in the unified format (as
// `diff -u` and `git diff` print it), with three lines of context; ""
// when they are equal.
func UnifiedDiff(nameA, nameB, a, b string) string {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = diffTimeout
	ca, cb, lines := dmp.DiffLinesToRunes(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(ca, cb, false), lines)
	// Flatten to one entry per line, then group into hunks.
	type line struct {
		op   byte // ' ', '-', '+'
		text string
	}
	var all []line
	for _, d := range diffs {
		op := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			op = '-'
		case diffmatchpatch.DiffInsert:
			op = '+'
		}
		for _, l := range strings.SplitAfter(d.Text, "\n") {
			if l != "" {
				all = append(all, line{op, l})
			}
		}
	}
	const context = 3
	var out bytes.Buffer
	for i := 0; i < len(all); {
		if all[i].op == ' ' {
			i++
			continue
		}
		// A hunk: from context lines before the change to context lines
		// after the last change that is within 2*context of the next.
		start := max(0, i-context)
		end := i
		for j := i; j < len(all); j++ {
			if all[j].op != ' ' {
				end = j
			} else if j-end > 2*context {
				break
			}
		}
		stop := min(len(all), end+context+1)
		aStart, bStart := 1, 1
		for _, l := range all[:start] {
			if l.op != '+' {
				aStart++
			}
			if l.op != '-' {
				bStart++
			}
		}
		aLen, bLen := 0, 0
		for _, l := range all[start:stop] {
			if l.op != '+' {
				aLen++
			}
			if l.op != '-' {
				bLen++
			}
		}
		if out.Len() == 0 {
			fmt.Fprintf(&out, "--- %s\n+++ %s\n", nameA, nameB)
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
		for _, l := range all[start:stop] {
			out.WriteByte(l.op)
			out.WriteString(l.text)
			if !strings.HasSuffix(l.text, "\n") {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = stop
	}
	return out.String()
}

// hunkRange prints a hunk's range as diff does: an empty range names the
// line before it.
func hunkRange(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprintf("%d", start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// FieldChange is one field that differs between two states.
type FieldChange struct {
	Field string          `json:"field"`
	From  json.RawMessage `json:"from"`
	To    json.RawMessage `json:"to"`
}

// bookkeeping are fields of a state that record where and when it was
// stored rather than what an editor set.
var bookkeeping = map[string]bool{"version": true, "revision": true, "blob": true, "updated_at": true}

// CompareStates lists the fields whose values differ between two JSON
// objects, in b's order (then a's fields b lacks), leaving out skip and
// bookkeeping fields. An empty list or "" and null count as equal.
func CompareStates(a, b json.RawMessage, skip ...string) []FieldChange {
	var ma, mb map[string]json.RawMessage
	_ = json.Unmarshal(a, &ma)
	_ = json.Unmarshal(b, &mb)
	keys := keysInOrder(b)
	for _, k := range keysInOrder(a) {
		if _, ok := mb[k]; !ok {
			keys = append(keys, k)
		}
	}
	var out []FieldChange
	for _, k := range keys {
		if bookkeeping[k] || contains(skip, k) || sameJSON(ma[k], mb[k]) {
			continue
		}
		out = append(out, FieldChange{Field: k, From: orNull(ma[k]), To: orNull(mb[k])})
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func orNull(r json.RawMessage) json.RawMessage {
	if len(r) == 0 {
		return json.RawMessage("null")
	}
	return r
}
