package admin

import "fmt"

// A repeatable rows editor without JavaScript: a form shows the rows
// saved plus a few empty ones to fill in; a row left empty is dropped on
// save. Each row's inputs are named like the writer's fields,
// "links[2].url", so a message about a row lands beside its input.

// emptyRows is how many empty rows a form offers for new entries.
const emptyRows = 3

// maxRows bounds the rows a submitted form is read for.
const maxRows = 200

// row is one row of a rows editor as a template shows it.
type row struct {
	Index  int // in the form's input names
	Number int // as people count, for its legend
}

// rowsOf are n rows.
func rowsOf(n int) []row {
	rs := make([]row, n)
	for i := range rs {
		rs[i] = row{Index: i, Number: i + 1}
	}
	return rs
}

// rowName is the name of a row's input: list[i].col.
func rowName(list string, i int, col string) string { return fmt.Sprintf("%s[%d].%s", list, i, col) }

// sentRows is how many rows of list the form holds: rows 0, 1… as long
// as any of their columns was sent.
func sentRows(f *form, list string, cols ...string) int {
	n := 0
	for ; n < maxRows; n++ {
		sent := false
		for _, c := range cols {
			if _, ok := f.values[rowName(list, n, c)]; ok {
				sent = true
			}
		}
		if !sent {
			break
		}
	}
	return n
}
