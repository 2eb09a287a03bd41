package api

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events"
)

// CursorHeader names the position in the log just after a write's
// events, sent with every write's answer. A read node that forwarded the
// write waits until its own projections reach it ("Prefer: wait"), and a
// client may quote it when reporting what it saw.
const CursorHeader = "Chronicle-Cursor"

// FormatCursor writes c as CursorHeader carries it:
// "commit=<hash>; height=<n>; index=<n>; count=<n>".
func FormatCursor(c events.Cursor) string {
	return fmt.Sprintf("commit=%s; height=%d; index=%d; count=%d", c.Commit, c.Height, c.Index, c.Count)
}

// ParseCursor reads a CursorHeader value written by FormatCursor.
func ParseCursor(s string) (events.Cursor, error) {
	var c events.Cursor
	seen := 0
	for _, part := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return events.Cursor{}, fmt.Errorf("cursor %q: %q is not key=value", s, part)
		}
		var err error
		switch k {
		case "commit":
			c.Commit = v
		case "height":
			c.Height, err = strconv.ParseInt(v, 10, 64)
		case "index":
			c.Index, err = strconv.Atoi(v)
		case "count":
			c.Count, err = strconv.Atoi(v)
		default:
			continue // a later field: not ours to refuse
		}
		if err != nil {
			return events.Cursor{}, fmt.Errorf("cursor %q: %s: %w", s, k, err)
		}
		seen++
	}
	if seen < 4 {
		return events.Cursor{}, fmt.Errorf("cursor %q: needs commit, height, index and count", s)
	}
	return c, nil
}

// PreferWait reads "Prefer: wait=N" (RFC 7240) from h, capped at 30
// seconds; 0 when not asked.
func PreferWait(h interface{ Values(string) []string }) time.Duration {
	for _, pref := range h.Values("Prefer") {
		for _, part := range strings.Split(pref, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && strings.EqualFold(k, "wait") {
				if n, err := strconv.Atoi(strings.Trim(v, `"`)); err == nil && n > 0 {
					return time.Duration(min(n, 30)) * time.Second
				}
			}
		}
	}
	return 0
}
