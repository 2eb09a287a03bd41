package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chronicle-cms/chronicle/events"
)

// changed lists the fields of cur's state that differ from prev's, in
// the order the state names them, "content" standing for a post's text.
// A deletion changes no field; what comes after one is compared with the
// state the subject had when it was deleted.
func changed(prev, cur *stored) []string {
	if cur.Deleted {
		return nil
	}
	var a, b map[string]json.RawMessage
	if json.Unmarshal(prev.State, &a) != nil || json.Unmarshal(cur.State, &b) != nil {
		return nil
	}
	var out []string
	for _, k := range keysInOrder(cur.State) {
		if k == "content" {
			continue
		}
		if !sameJSON(a[k], b[k]) {
			out = append(out, k)
		}
		if k == "title" && prev.ContentHash != cur.ContentHash {
			out = append(out, "content")
		}
	}
	return out
}

// keysInOrder returns the keys of a JSON object in the order written.
func keysInOrder(raw json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}

func sameJSON(a, b json.RawMessage) bool {
	norm := func(r json.RawMessage) string {
		s := string(bytes.TrimSpace(r))
		switch s {
		case "", "null", "[]", `""`, "{}":
			return ""
		}
		return s
	}
	return norm(a) == norm(b)
}

// summarize says in one line what a revision did.
func summarize(r *stored) string {
	switch {
	case r.RestoredFrom != "":
		return "restored the revision of " + short(r.RestoredFrom)
	case r.Deleted:
		return "deleted"
	case r.Type == events.PostCreated || r.Type == events.CategoryCreated:
		return "created"
	case r.Type == events.MediaUploaded:
		return "uploaded"
	}
	what := "changed " + list(r.Changed)
	if len(r.Changed) == 0 {
		what = "rewrote the file, changing nothing"
	}
	step := map[events.Type]string{events.PostPublished: "published", events.PostUnpublished: "unpublished",
		events.PostScheduled: "scheduled", events.PostSubmitted: "submitted for review",
		events.PostChangesRequested: "changes requested"}[r.Type]
	switch {
	case step == "":
		return what
	case len(r.Changed) <= 1 || r.Type == events.PostChangesRequested && len(r.Changed) <= 2:
		return step // the status (and the note asking for changes)
	}
	return step + "; " + what
}

// list joins names as a sentence does: "a", "a and b", "a, b and c".
func list(names []string) string {
	names = append([]string(nil), names...)
	for i, n := range names {
		names[i] = strings.ReplaceAll(n, "_", " ")
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return fmt.Sprintf("%s and %s", strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}

func short(commit string) string {
	if len(commit) > 7 {
		return commit[:7]
	}
	return commit
}
