package content

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gosimple/slug"
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// ValidSlug reports whether s can name a post, category or tag page.
func ValidSlug(s string) bool { return len(s) <= MaxSlug && slugRE.MatchString(s) }

// Slugify makes an ASCII slug from a title (transliterating other scripts),
// cut at a word boundary to MaxSlug characters.
func Slugify(title string) string {
	s := slug.Make(title)
	for len(s) > MaxSlug {
		i := strings.LastIndexByte(s[:MaxSlug], '-')
		if i <= 0 {
			s = s[:MaxSlug]
			break
		}
		s = s[:i]
	}
	return strings.Trim(s, "-")
}

// NameProblem is the one rule for the names of categories and tags: one
// line of 1 to MaxName characters, no control characters, with at least
// one letter or digit (the page's address, its slug, is made from them).
// It returns what is wrong, or "".
func NameProblem(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "is required"
	case utf8.RuneCountInString(name) > MaxName:
		return fmt.Sprintf("is %d characters long, at most %d allowed", utf8.RuneCountInString(name), MaxName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "must be one line without control characters"
	case Slugify(name) == "":
		return "needs at least one letter or digit"
	}
	return ""
}

// CategoryRef is the slug of the category a post names: a post may name a
// category by its slug ("news") or by its name ("News"), as it names tags;
// a name stands for the category whose slug is made from it (Slugify), as
// POST /categories makes it.
func CategoryRef(s string) string {
	if ValidSlug(s) {
		return s
	}
	if NameProblem(s) != "" {
		return s // not a name either: refused by ValidatePost
	}
	return Slugify(s)
}

func CategoryRefs(cs []string) []string {
	var out []string
	for _, c := range cs {
		out = append(out, CategoryRef(c))
	}
	return out
}

// MediaRefPrefix marks a reference to an upload in an image field, as in
// Markdown: "media:<id>".
const MediaRefPrefix = "media:"

// MediaRefID is the upload an image field (feature_image, meta.image,
// avatar) refers to: "media:<id>", or a bare id (the older form). It is
// false for a URL.
func MediaRefID(ref string) (string, bool) {
	if id, ok := strings.CutPrefix(ref, MediaRefPrefix); ok {
		return id, ValidID(id)
	}
	if ref != "" && ValidSlug(ref) {
		return ref, true
	}
	return "", false
}

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// DerivedPostID is the id of a post file that names none: a hash of its
// path, so every replay of the same history finds the same id.
func DerivedPostID(filePath string) string {
	sum := sha256.Sum256([]byte("chronicle/post\x00" + filePath))
	return idEncoding.EncodeToString(sum[:])[:26]
}

// MaxID is the longest id a post or media item may have.
const MaxID = 64

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// ValidID reports whether s can identify a post or media item: letters,
// digits, "-" and "_", starting with a letter or digit, at most MaxID
// bytes. Ids go into URLs (/api/v1/posts/{id}), event subjects and file
// names (embeds/<id>.yaml), so nothing that is a path (a/../b) or needs
// escaping. The API's ids (NewID, DerivedPostID) are of this shape; pushed
// files are held to the same rule.
func ValidID(s string) bool { return len(s) <= MaxID && idRE.MatchString(s) }

// committedID is the rule for an id already in git. ValidID came later
// (before it any id was accepted), so an older id stays an id as long as
// it is one name: not empty, "." or "..", no slash or backslash, no control
// characters. (Those could only ever be pushed, never written by the API,
// and cannot name the files kept per post, embeds/<id>.yaml.)
func committedID(s string) bool {
	return s != "" && s != "." && s != ".." && utf8.ValidString(s) && !strings.ContainsAny(s, "/\\") &&
		strings.IndexFunc(s, unicode.IsControl) < 0
}

// rules say how strictly content is checked. Files already committed are
// read with committedRules: everything an earlier version of Chronicle
// derived is still derived (the stricter rules of today and the looser
// ones they replaced, both), so replaying history gives the same events
// forever and a rebuild gives the same site (DESIGN invariants 1 and 2).
// New writes, the API's commands and the push check, are held to
// newRules. A rule made stricter keeps its old form for committedRules.
type rules struct {
	committed bool   // reading what is in git, not checking a new write
	keepID    string // an edit: the post keeps the id it was created with
}

var (
	newRules       = rules{}
	committedRules = rules{committed: true}
)

// id reports whether s may be the id of a post or media item.
func (r rules) id(s string) bool {
	return ValidID(s) || (s != "" && s == r.keepID) || (r.committed && committedID(s))
}

// tag reports whether s may be a tag. Before NameProblem, a tag was 1 to
// 64 characters with a letter or digit (control characters allowed).
func (r rules) tag(s string) bool {
	return NameProblem(s) == "" ||
		(r.committed && strings.TrimSpace(s) != "" && utf8.RuneCountInString(s) <= 64 && Slugify(s) != "")
}

// categoryName reports whether s may name a category. Before NameProblem,
// a name was one line of 1 to MaxTitle characters, letters or not.
func (r rules) categoryName(s string) bool {
	return NameProblem(s) == "" ||
		(r.committed && strings.TrimSpace(s) != "" && utf8.RuneCountInString(s) <= MaxTitle && !strings.ContainsAny(s, "\r\n"))
}

// NewID returns a random post id of the same shape as DerivedPostID.
func NewID(random []byte) string { return idEncoding.EncodeToString(random)[:26] }

const nameRule = "a name is one line of 1 to 200 characters with at least one letter or digit"

func Clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func checkList(fe *FieldErrors, field string, items []string, check func(string) string) {
	if len(items) > MaxListItems {
		fe.Add(field, 0, "has %d items, at most %d allowed", len(items), MaxListItems)
		return
	}
	seen := map[string]bool{}
	for _, it := range items {
		if msg := check(it); msg != "" {
			fe.Add(field, 0, "%s", msg)
		} else if seen[it] {
			fe.Add(field, 0, "%q is listed twice", Clip(it))
		}
		seen[it] = true
	}
}

// checkRef accepts an image reference: an upload as "media:<id>" (the
// form Markdown uses) or a bare media id, or an absolute http(s) URL.
func checkRef(fe *FieldErrors, field, v string) {
	if v == "" || ValidSlug(v) {
		return
	}
	if id, ok := strings.CutPrefix(v, MediaRefPrefix); ok {
		if !ValidID(id) {
			fe.Add(field, 0, "%q is not a media reference: media:<id>, with the id of an upload", Clip(v))
		}
		return
	}
	if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > MaxText {
		fe.Add(field, 0, "%q is neither media:<id> (an upload) nor an http or https URL", Clip(v))
	}
}

func checkURL(fe *FieldErrors, field, v string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > MaxText {
		fe.Add(field, 0, "%q is not an http or https URL", Clip(v))
	}
}

// TagName picks how a tag is shown from the spellings posts use (all with
// the same slug): the most used one, the first in byte order among equals.
func TagName(spellings map[string]int) string {
	best := ""
	for n, k := range spellings {
		if best == "" || k > spellings[best] || (k == spellings[best] && n < best) {
			best = n
		}
	}
	return best
}

// ValidEmail is a sanity check of an account's email address (a post's
// author), not RFC 5322.
func ValidEmail(e string) bool {
	at := strings.LastIndexByte(e, '@')
	return at > 0 && at < len(e)-3 && len(e) <= 254 && !strings.ContainsAny(e, " \t\r\n<>,;\"") && strings.Contains(e[at:], ".")
}
