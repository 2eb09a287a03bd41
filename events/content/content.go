// Package content is Chronicle's content model: posts, categories, the
// settings, the profile, media and embeds as files in the repository —
// where each lives, how it is parsed, validated and written — and the rules
// for ids, slugs and names. It does no I/O, so forms, tools and tests can
// use it cheaply.
package content

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gosimple/slug"
	"go.yaml.in/yaml/v3"
)

// Status is a post's publication state.
type Status string

const (
	Draft     Status = "draft"
	Published Status = "published"
)

// Post is the full state of a post. Content is Markdown.
type Post struct {
	ID           string     `json:"id"`
	Slug         string     `json:"slug"`
	Title        string     `json:"title"`
	Content      string     `json:"content"`
	Excerpt      string     `json:"excerpt"`
	Status       Status     `json:"status"`
	PublishedAt  *time.Time `json:"published_at"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	Categories   []string   `json:"categories"`
	Tags         []string   `json:"tags"`
	FeatureImage string     `json:"feature_image"`
	Gallery      []string   `json:"gallery"`
	EmbedURL     string     `json:"embed_url"`
	Meta         Meta       `json:"meta"`
	Version      int        `json:"version"`  // set by the catalogue: changes so far
	Revision     string     `json:"revision"` // commit of the last change
	Path         string     `json:"path"`     // file in the repository
	Blob         string     `json:"blob"`     // git blob of the file: the post's ETag
}

// Meta overrides the page metadata derived from the post.
type Meta struct {
	Description string `json:"description" yaml:"description,omitempty"`
	Image       string `json:"image" yaml:"image,omitempty"`
}

// Category groups posts; its slug is its file name.
type Category struct {
	Slug        string `json:"slug" yaml:"-"`
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description" yaml:"description,omitempty"`
}

// Settings are the site-wide settings in site/settings.yaml.
type Settings struct {
	Title        string    `json:"title" yaml:"title"`
	Tagline      string    `json:"tagline" yaml:"tagline,omitempty"`
	Description  string    `json:"description" yaml:"description,omitempty"`
	BaseURL      string    `json:"base_url" yaml:"base_url,omitempty"`
	Language     string    `json:"language" yaml:"language,omitempty"`
	PostsPerPage int       `json:"posts_per_page" yaml:"posts_per_page,omitempty"`
	Analytics    Analytics `json:"analytics" yaml:"analytics,omitempty"`
	Ads          Ads       `json:"ads" yaml:"ads,omitempty"`
	// Navigation chooses the header's links (see NavItem); nil: the
	// first DefaultNavCategories categories.
	Navigation *[]NavItem `json:"navigation,omitempty" yaml:"navigation,omitempty"`
}

// Analytics holds the ids of analytics services; empty means off.
type Analytics struct {
	GoogleAnalyticsID string `json:"google_analytics_id" yaml:"google_analytics_id,omitempty"`
}

// Ads holds the ids of ad services; empty means off.
type Ads struct {
	AdSenseClientID string `json:"adsense_client_id" yaml:"adsense_client_id,omitempty"`
}

// Profile is the author's profile in site/profile.yaml.
type Profile struct {
	Name   string `json:"name" yaml:"name"`
	Bio    string `json:"bio" yaml:"bio,omitempty"`
	Avatar string `json:"avatar" yaml:"avatar,omitempty"`
	Email  string `json:"email" yaml:"email,omitempty"`
	Links  []Link `json:"links" yaml:"links,omitempty"`
}

// Link is one social link on the profile.
type Link struct {
	Name string `json:"name" yaml:"name"`
	URL  string `json:"url" yaml:"url"`
}

// DefaultSettings apply when site/settings.yaml is absent.
func DefaultSettings() Settings {
	return Settings{Title: "Chronicle", Language: "en", PostsPerPage: 10}
}

// Paths of the content files.
const (
	PostsDir      = "posts/"
	CategoriesDir = "categories/"
	SettingsPath  = "site/settings.yaml"
	ProfilePath   = "site/profile.yaml"
)

// Limits on field sizes, shared by the API and pushed files.
const (
	MaxTitle     = 200
	MaxSlug      = 100
	MaxExcerpt   = 1000
	MaxContent   = 1 << 20
	MaxListItems = 50
	MaxName      = 200 // a category's or tag's name
	MaxText      = 2000
)

// FieldError is one problem with one field of a file or request.
type FieldError struct {
	Field  string `json:"field"`
	Line   int    `json:"line,omitempty"`
	Detail string `json:"detail"`
}

// ValidationError lists everything wrong with one file or request.
type ValidationError struct {
	File   string
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, f := range e.Errors {
		if i > 0 {
			b.WriteString("\n")
		}
		if e.File != "" {
			b.WriteString(e.File)
			if f.Line > 0 {
				fmt.Fprintf(&b, ":%d", f.Line)
			}
			b.WriteString(": ")
		}
		if f.Field != "" {
			b.WriteString(f.Field + ": ")
		}
		b.WriteString(f.Detail)
	}
	return b.String()
}

type FieldErrors []FieldError

func (fe *FieldErrors) Add(field string, line int, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Line: line, Detail: fmt.Sprintf(format, args...)})
}

func (fe FieldErrors) Err(file string) error {
	if len(fe) == 0 {
		return nil
	}
	return &ValidationError{File: file, Errors: fe}
}

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

// IsPostPath reports whether a repository file is a post.
func IsPostPath(p string) bool { return strings.HasPrefix(p, PostsDir) && strings.HasSuffix(p, ".md") }

// IsCategoryPath reports whether a repository file is a category.
func IsCategoryPath(p string) bool {
	return strings.HasPrefix(p, CategoriesDir) && strings.HasSuffix(p, ".yaml") && !strings.Contains(p[len(CategoriesDir):], "/")
}

// CategorySlug is the slug of a category file.
func CategorySlug(p string) string { return strings.TrimSuffix(path.Base(p), ".yaml") }

// CategoryPath is where a category lives.
func CategoryPath(slug string) string { return CategoriesDir + slug + ".yaml" }

// FileDefaults are what a post file may leave out, derived from its commit.
type FileDefaults struct {
	Path    string
	Created time.Time // when the file first appeared
	Updated time.Time // the commit that last changed it
}

// ParsePost reads a post file as a new write (a push) must be: YAML front
// matter between "---" lines, then Markdown. A hand-written file needs
// only a title; the id, slug, status and dates it leaves out come from d.
// Errors name the line of the field.
func ParsePost(data []byte, d FileDefaults) (Post, error) { return parsePostRules(data, d, newRules) }

// ParsePostKeepingID is ParsePost for a file that replaces a post already
// on main: its id, chosen perhaps under older rules, stays valid (only new
// posts are held to today's id rule).
func ParsePostKeepingID(data []byte, d FileDefaults, id string) (Post, error) {
	return parsePostRules(data, d, rules{keepID: id})
}

// ParseCommittedPost reads a post file already in git (committedRules).
func ParseCommittedPost(data []byte, d FileDefaults) (Post, error) {
	return parsePostRules(data, d, committedRules)
}

func parsePostRules(data []byte, d FileDefaults, r rules) (Post, error) {
	var fe FieldErrors
	fm, body, err := SplitFrontMatter(data)
	if err != nil {
		fe.Add("", 1, "%s", err)
		return Post{}, fe.Err(d.Path)
	}
	p := Post{Content: body, Path: d.Path}
	var root yaml.Node
	if err := yaml.Unmarshal(fm, &root); err != nil {
		fe.Add("", yamlErrorLine(err)+1, "invalid YAML: %s", yamlErrorText(err))
		return Post{}, fe.Err(d.Path)
	}
	var doc *yaml.Node
	if len(root.Content) > 0 {
		doc = root.Content[0]
	}
	if doc == nil || doc.Kind != yaml.MappingNode {
		fe.Add("", 2, "front matter must be a mapping of fields")
		return Post{}, fe.Err(d.Path)
	}
	var created, updated, published *time.Time
	seen := map[string]bool{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		line := k.Line + 1 // line 1 of the file is the opening "---"
		if seen[k.Value] {
			fe.Add(k.Value, line, "appears twice")
			continue
		}
		seen[k.Value] = true
		switch k.Value {
		case "id":
			p.ID = scalar(&fe, k.Value, v, line)
		case "title":
			p.Title = scalar(&fe, k.Value, v, line)
		case "slug":
			p.Slug = scalar(&fe, k.Value, v, line)
		case "status":
			p.Status = Status(scalar(&fe, k.Value, v, line))
		case "excerpt":
			p.Excerpt = scalar(&fe, k.Value, v, line)
		case "feature_image":
			p.FeatureImage = scalar(&fe, k.Value, v, line)
		case "embed_url":
			p.EmbedURL = scalar(&fe, k.Value, v, line)
		case "published_at":
			published = date(&fe, k.Value, v, line)
		case "created_at":
			created = date(&fe, k.Value, v, line)
		case "updated_at":
			updated = date(&fe, k.Value, v, line)
		case "categories":
			p.Categories = CategoryRefs(list(&fe, k.Value, v, line))
		case "tags":
			p.Tags = list(&fe, k.Value, v, line)
		case "gallery":
			p.Gallery = list(&fe, k.Value, v, line)
		case "meta":
			if v.Kind != yaml.MappingNode {
				fe.Add("meta", line, "must be a mapping with description and image")
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				mk, mv := v.Content[j], v.Content[j+1]
				switch mk.Value {
				case "description":
					p.Meta.Description = scalar(&fe, "meta.description", mv, mk.Line+1)
				case "image":
					p.Meta.Image = scalar(&fe, "meta.image", mv, mk.Line+1)
				default:
					fe.Add("meta."+mk.Value, mk.Line+1, "unknown field")
				}
			}
		default:
			fe.Add(k.Value, line, "unknown field")
		}
	}
	if p.ID == "" {
		p.ID = DerivedPostID(d.Path)
	}
	if p.Slug == "" {
		base := strings.TrimSuffix(path.Base(d.Path), ".md")
		if ValidSlug(base) {
			p.Slug = base
		} else {
			p.Slug = Slugify(base)
		}
	}
	if p.Status == "" {
		p.Status = Draft
	}
	p.CreatedAt = d.Created.UTC()
	if created != nil {
		p.CreatedAt = *created
	}
	p.UpdatedAt = d.Updated.UTC()
	if updated != nil {
		p.UpdatedAt = *updated
	}
	if published != nil {
		p.PublishedAt = published
	} else if p.Status == Published {
		t := p.CreatedAt
		p.PublishedAt = &t
	}
	lines := fieldLines(doc)
	for _, e := range validatePostRules(&p, r) {
		if e.Line == 0 {
			e.Line = lines[strings.SplitN(e.Field, ".", 2)[0]]
		}
		fe = append(fe, e)
	}
	if err := fe.Err(d.Path); err != nil {
		return Post{}, err
	}
	return p, nil
}

func fieldLines(doc *yaml.Node) map[string]int {
	m := map[string]int{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		m[doc.Content[i].Value] = doc.Content[i].Line + 1
	}
	return m
}

func scalar(fe *FieldErrors, field string, v *yaml.Node, line int) string {
	if v.Kind != yaml.ScalarNode {
		fe.Add(field, line, "must be a single value")
		return ""
	}
	if v.Tag == "!!null" {
		return ""
	}
	return v.Value
}

func list(fe *FieldErrors, field string, v *yaml.Node, line int) []string {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		fe.Add(field, line, "must be a list")
		return nil
	}
	out := make([]string, 0, len(v.Content))
	for _, item := range v.Content {
		if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
			fe.Add(field, item.Line+1, "items must be single values")
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

// ParseDate accepts RFC 3339 and the shorter forms people type by hand,
// read as UTC.
func ParseDate(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func date(fe *FieldErrors, field string, v *yaml.Node, line int) *time.Time {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.ScalarNode {
		fe.Add(field, line, "not a date")
		return nil
	}
	t, ok := ParseDate(v.Value)
	if !ok {
		fe.Add(field, line, "not a date (%q)", v.Value)
		return nil
	}
	return &t
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func yamlErrorLine(err error) int {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 1
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

func yamlErrorText(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	return yamlLineRE.ReplaceAllString(strings.TrimPrefix(s, "unmarshal errors:\n  "), "line")
}

func SplitFrontMatter(data []byte) (fm []byte, body string, err error) {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return nil, "", fmt.Errorf("missing front matter: a post starts with a line \"---\", then at least \"title: ...\", then \"---\"")
	}
	rest := data[4:]
	var end int
	switch {
	case bytes.HasPrefix(rest, []byte("---\n")) || bytes.Equal(rest, []byte("---")):
		end = 0
	default:
		i := bytes.Index(rest, []byte("\n---\n"))
		if i < 0 {
			if bytes.HasSuffix(rest, []byte("\n---")) {
				i = len(rest) - 4
			} else {
				return nil, "", fmt.Errorf("front matter is not closed by a line \"---\"")
			}
		}
		end = i + 1
	}
	fm = rest[:end]
	body = strings.TrimPrefix(string(rest[min(end+4, len(rest)):]), "\n")
	if !utf8.ValidString(body) || !utf8.Valid(fm) {
		return nil, "", fmt.Errorf("file is not valid UTF-8")
	}
	return fm, body, nil
}

// ValidatePost checks a new post (newRules).
func ValidatePost(p *Post) FieldErrors { return validatePostRules(p, newRules) }

// ValidatePostKeepingID is ValidatePost for a post that already has an
// id, chosen when it was created (perhaps under older rules): that id
// stays valid. An empty id is ValidatePost.
func ValidatePostKeepingID(p *Post, id string) FieldErrors {
	r := newRules
	r.keepID = id
	return validatePostRules(p, r)
}

// validatePostRules checks the rules every post obeys, wherever it came
// from, as strictly as r says.
func validatePostRules(p *Post, r rules) FieldErrors {
	var fe FieldErrors
	if !r.id(p.ID) {
		fe.Add("id", 0, "%q is not an id: letters, digits, - and _, at most %d characters", Clip(p.ID), MaxID)
	}
	switch n := utf8.RuneCountInString(p.Title); {
	case strings.TrimSpace(p.Title) == "":
		fe.Add("title", 0, "is required")
	case n > MaxTitle:
		fe.Add("title", 0, "is %d characters long, at most %d allowed", n, MaxTitle)
	case strings.ContainsAny(p.Title, "\n\r"):
		fe.Add("title", 0, "must be one line")
	}
	if !ValidSlug(p.Slug) {
		fe.Add("slug", 0, "%q is not a slug: lower-case letters, digits and single hyphens, at most %d characters", Clip(p.Slug), MaxSlug)
	}
	if p.Status != Draft && p.Status != Published {
		fe.Add("status", 0, "must be %q or %q, not %q", Draft, Published, Clip(string(p.Status)))
	}
	if n := utf8.RuneCountInString(p.Excerpt); n > MaxExcerpt {
		fe.Add("excerpt", 0, "is %d characters long, at most %d allowed", n, MaxExcerpt)
	}
	if len(p.Content) > MaxContent {
		fe.Add("content", 0, "is %d bytes, at most %d allowed", len(p.Content), MaxContent)
	}
	checkList(&fe, "categories", p.Categories, func(s string) string {
		if !ValidSlug(s) {
			return fmt.Sprintf("%q is not a category: name one by its slug or its name (%s)", Clip(s), nameRule)
		}
		return ""
	})
	checkList(&fe, "tags", p.Tags, func(s string) string {
		if !r.tag(s) {
			return fmt.Sprintf("%q is not a tag: %s", Clip(s), nameRule)
		}
		return ""
	})
	checkList(&fe, "gallery", p.Gallery, func(s string) string {
		if !ValidSlug(s) {
			return fmt.Sprintf("%q is not a media id", Clip(s))
		}
		return ""
	})
	checkRef(&fe, "feature_image", p.FeatureImage)
	checkRef(&fe, "meta.image", p.Meta.Image)
	if p.EmbedURL != "" {
		checkURL(&fe, "embed_url", p.EmbedURL)
	}
	if n := utf8.RuneCountInString(p.Meta.Description); n > MaxText {
		fe.Add("meta.description", 0, "is %d characters long, at most %d allowed", n, MaxText)
	}
	return fe
}

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

type postFrontMatter struct {
	ID           string   `yaml:"id"`
	Title        string   `yaml:"title"`
	Slug         string   `yaml:"slug"`
	Status       Status   `yaml:"status"`
	PublishedAt  string   `yaml:"published_at,omitempty"`
	CreatedAt    string   `yaml:"created_at"`
	UpdatedAt    string   `yaml:"updated_at"`
	Excerpt      string   `yaml:"excerpt,omitempty"`
	Categories   []string `yaml:"categories,omitempty,flow"`
	Tags         []string `yaml:"tags,omitempty,flow"`
	FeatureImage string   `yaml:"feature_image,omitempty"`
	Gallery      []string `yaml:"gallery,omitempty,flow"`
	EmbedURL     string   `yaml:"embed_url,omitempty"`
	Meta         *Meta    `yaml:"meta,omitempty"`
}

// MarshalPost renders a post as the file an editor would write.
func MarshalPost(p *Post) ([]byte, error) {
	fm := postFrontMatter{
		ID: p.ID, Title: p.Title, Slug: p.Slug, Status: p.Status,
		CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: p.UpdatedAt.UTC().Format(time.RFC3339),
		Excerpt: p.Excerpt, Categories: p.Categories, Tags: p.Tags,
		FeatureImage: p.FeatureImage, Gallery: p.Gallery, EmbedURL: p.EmbedURL,
	}
	if p.PublishedAt != nil {
		fm.PublishedAt = p.PublishedAt.UTC().Format(time.RFC3339)
	}
	if p.Meta != (Meta{}) {
		m := p.Meta
		fm.Meta = &m
	}
	var b bytes.Buffer
	b.WriteString("---\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(fm); err != nil {
		return nil, fmt.Errorf("encode front matter: %w", err)
	}
	enc.Close()
	b.WriteString("---\n")
	b.WriteString(p.Content)
	if p.Content != "" && !strings.HasSuffix(p.Content, "\n") {
		b.WriteString("\n")
	}
	return b.Bytes(), nil
}

// strictYAML decodes a small YAML file into v, refusing unknown fields.
func strictYAML(file string, data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && err.Error() != "EOF" {
		return &ValidationError{File: file, Errors: []FieldError{{Line: yamlErrorLine(err), Detail: "invalid YAML: " + yamlErrorText(err)}}}
	}
	return nil
}

func MarshalYAML(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	enc.Close()
	return b.Bytes(), nil
}

// ParseCategory reads categories/<slug>.yaml as a new write (a push) must
// be.
func ParseCategory(file string, data []byte) (Category, error) {
	return parseCategory(file, data, newRules)
}

// ParseCommittedCategory reads a category file already in git
// (committedRules).
func ParseCommittedCategory(file string, data []byte) (Category, error) {
	return parseCategory(file, data, committedRules)
}

func parseCategory(file string, data []byte, r rules) (Category, error) {
	var c Category
	if err := strictYAML(file, data, &c); err != nil {
		return Category{}, err
	}
	c.Slug = CategorySlug(file)
	if c.Name == "" {
		c.Name = c.Slug
	}
	return c, validateCategory(&c, r).Err(file)
}

// ValidateCategory checks a new category's fields (newRules).
func ValidateCategory(c *Category) FieldErrors { return validateCategory(c, newRules) }

func validateCategory(c *Category, r rules) FieldErrors {
	var fe FieldErrors
	if !ValidSlug(c.Slug) {
		fe.Add("slug", 0, "%q is not a slug: lower-case letters, digits and single hyphens, at most %d characters", Clip(c.Slug), MaxSlug)
	}
	if msg := NameProblem(c.Name); msg != "" && !r.categoryName(c.Name) {
		fe.Add("name", 0, "%s (%s)", msg, nameRule)
	}
	if n := utf8.RuneCountInString(c.Description); n > MaxText {
		fe.Add("description", 0, "is %d characters long, at most %d allowed", n, MaxText)
	}
	return fe
}

// MarshalCategory renders a category file.
func MarshalCategory(c *Category) ([]byte, error) { return MarshalYAML(c) }

var (
	gaRE      = regexp.MustCompile(`^(G-[A-Z0-9]{4,20}|UA-\d{4,10}-\d{1,4})$`)
	adsenseRE = regexp.MustCompile(`^ca-pub-\d{10,20}$`)
	langRE    = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

// ParseSettings reads site/settings.yaml over the defaults.
func ParseSettings(data []byte) (Settings, error) {
	s := DefaultSettings()
	if err := strictYAML(SettingsPath, data, &s); err != nil {
		return Settings{}, err
	}
	return s, ValidateSettings(&s).Err(SettingsPath)
}

// ValidateSettings checks the settings' fields.
func ValidateSettings(s *Settings) FieldErrors {
	var fe FieldErrors
	if strings.TrimSpace(s.Title) == "" {
		fe.Add("title", 0, "is required")
	} else if utf8.RuneCountInString(s.Title) > MaxTitle {
		fe.Add("title", 0, "at most %d characters allowed", MaxTitle)
	}
	if utf8.RuneCountInString(s.Tagline) > MaxTitle {
		fe.Add("tagline", 0, "at most %d characters allowed", MaxTitle)
	}
	if utf8.RuneCountInString(s.Description) > MaxText {
		fe.Add("description", 0, "at most %d characters allowed", MaxText)
	}
	if s.BaseURL != "" {
		checkURL(&fe, "base_url", s.BaseURL)
	}
	if !langRE.MatchString(s.Language) {
		fe.Add("language", 0, "%q is not a language tag such as \"en\" or \"pt-BR\"", Clip(s.Language))
	}
	if s.PostsPerPage < 1 || s.PostsPerPage > 100 {
		fe.Add("posts_per_page", 0, "must be between 1 and 100, not %d", s.PostsPerPage)
	}
	if id := s.Analytics.GoogleAnalyticsID; id != "" && !gaRE.MatchString(id) {
		fe.Add("analytics.google_analytics_id", 0, "%q is not a Google Analytics id (G-XXXXXXX)", Clip(id))
	}
	if id := s.Ads.AdSenseClientID; id != "" && !adsenseRE.MatchString(id) {
		fe.Add("ads.adsense_client_id", 0, "%q is not an AdSense client id (ca-pub-…)", Clip(id))
	}
	if s.Navigation != nil {
		validateNavigation(&fe, *s.Navigation)
	}
	return fe
}

// MarshalSettings renders site/settings.yaml.
func MarshalSettings(s *Settings) ([]byte, error) { return MarshalYAML(s) }

// ParseProfile reads site/profile.yaml.
func ParseProfile(data []byte) (Profile, error) {
	var p Profile
	if err := strictYAML(ProfilePath, data, &p); err != nil {
		return Profile{}, err
	}
	return p, ValidateProfile(&p).Err(ProfilePath)
}

// ValidateProfile checks the profile's fields.
func ValidateProfile(p *Profile) FieldErrors {
	var fe FieldErrors
	if utf8.RuneCountInString(p.Name) > MaxTitle {
		fe.Add("name", 0, "at most %d characters allowed", MaxTitle)
	}
	if utf8.RuneCountInString(p.Bio) > 10*MaxText {
		fe.Add("bio", 0, "at most %d characters allowed", 10*MaxText)
	}
	checkRef(&fe, "avatar", p.Avatar)
	if p.Email != "" && (!strings.Contains(p.Email, "@") || len(p.Email) > 254 || strings.ContainsAny(p.Email, " <>\r\n")) {
		fe.Add("email", 0, "%q is not an email address", Clip(p.Email))
	}
	if len(p.Links) > MaxListItems {
		fe.Add("links", 0, "at most %d links allowed", MaxListItems)
	}
	for i, l := range p.Links {
		if strings.TrimSpace(l.Name) == "" || utf8.RuneCountInString(l.Name) > maxLinkName {
			fe.Add(fmt.Sprintf("links[%d].name", i), 0, "is required, at most %d characters", maxLinkName)
		}
		checkURL(&fe, fmt.Sprintf("links[%d].url", i), l.URL)
	}
	return fe
}

const maxLinkName = 64

// MarshalProfile renders site/profile.yaml.
func MarshalProfile(p *Profile) ([]byte, error) { return MarshalYAML(p) }

// SortCategories orders categories as readers see them: by name, case
// folded, then by slug.
func SortCategories(cs []Category) {
	sort.Slice(cs, func(i, j int) bool {
		if a, b := strings.ToLower(cs[i].Name), strings.ToLower(cs[j].Name); a != b {
			return a < b
		}
		return cs[i].Slug < cs[j].Slug
	})
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
