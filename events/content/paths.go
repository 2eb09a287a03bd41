package content

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on a file's name in the repository. Every clone checks these
// files out on someone's machine, whatever its file system: names that
// git itself or Windows or macOS would treat specially are refused.
const (
	MaxPathBytes    = 512
	MaxSegmentBytes = 255
)

// CheckPath says what is wrong with a repository path, or nil. It is the
// rule for every file a push adds: no empty, "." or ".." segments; no
// spelling of ".git" that git, NTFS or HFS+ would take for the repository
// itself (any case, "GIT~1", trailing dots or spaces, invisible Unicode);
// no trailing dot or space anywhere (NTFS drops them, so two names become
// one); no control characters, backslashes, colons or characters that
// reorder or hide text (bidirectional controls, zero-width characters).
func CheckPath(p string) error {
	if !utf8.ValidString(p) {
		return fmt.Errorf("the name is not valid UTF-8")
	}
	if len(p) > MaxPathBytes {
		return fmt.Errorf("the name is %d bytes long, at most %d allowed", len(p), MaxPathBytes)
	}
	for _, r := range p {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return fmt.Errorf("the name holds a control character (%U)", r)
		case r == '\\':
			return fmt.Errorf("the name holds a backslash: folders are separated by /")
		case r == ':':
			return fmt.Errorf("the name holds a colon, which Windows cannot store")
		case invisible(r):
			return fmt.Errorf("the name holds an invisible or text-reordering character (%U)", r)
		}
	}
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("the name has an empty folder (// or a leading or trailing /)")
		case seg == "." || seg == "..":
			return fmt.Errorf("the name has a %q segment", seg)
		case len(seg) > MaxSegmentBytes:
			return fmt.Errorf("a segment of the name is %d bytes long, at most %d allowed", len(seg), MaxSegmentBytes)
		case isDotGit(seg):
			return fmt.Errorf("%q names git's own folder on some systems", seg)
		case strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " "):
			return fmt.Errorf("%q ends in a dot or space, which Windows drops", seg)
		}
	}
	return nil
}

// invisible reports characters that change how a name reads without being
// seen: bidirectional controls (e.g. U+202E, which shows "gpj.exe" as
// "exe.jpg") and the code points HFS+ ignores in names (so ".g\u200cit"
// is ".git" on a Mac), plus other format characters.
func invisible(r rune) bool {
	switch {
	case r >= 0x200b && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2060 && r <= 0x206f, r == 0xfeff, r == 0x061c:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// isDotGit reports whether a segment is ".git" as git's verify_path sees
// it with core.protectNTFS and core.protectHFS: case-insensitively, with
// trailing dots and spaces dropped (NTFS), as the 8.3 short name GIT~1
// (any digit, to be safe), or with an alternate data stream (".git::$…").
func isDotGit(seg string) bool {
	s := strings.ToLower(seg)
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimRight(s, ". ")
	if s == ".git" {
		return true
	}
	if n, ok := strings.CutPrefix(s, "git~"); ok {
		_, err := strconv.Atoi(n)
		return err == nil
	}
	return false
}

// ShowPath quotes a path for a refusal when it holds anything that a
// terminal could misread (escape sequences, reordering characters).
func ShowPath(p string) string {
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' || r == '"' || r == utf8.RuneError || invisible(r) || !unicode.IsPrint(r) && r != ' ' {
			return strconv.QuoteToASCII(p)
		}
	}
	return p
}
