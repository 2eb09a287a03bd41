package content

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Status is a post's publication state.
type Status string

const (
	Draft     Status = "draft"
	Published Status = "published"
	// Scheduled is a post to be published at its published_at: until
	// then it is not public anywhere, like a draft.
	Scheduled Status = "scheduled"
	// Pending is a post submitted for review: not public, waiting for
	// an editor to publish or schedule it, or to ask for changes.
	Pending Status = "pending"
)

// Public reports whether a post of status s is on the public site.
func (s Status) Public() bool { return s == Published }

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
	// Author is the account (email) the post belongs to: who may change
	// it besides editors. Empty on posts written before authorship.
	Author string `json:"author,omitempty"`
	// ReviewNote is what an editor asked to change when sending a
	// submitted post back to its author.
	ReviewNote string `json:"review_note,omitempty"`
	Version    int    `json:"version"`  // set by the catalogue: changes so far
	Revision   string `json:"revision"` // commit of the last change
	Path       string `json:"path"`     // file in the repository
	Blob       string `json:"blob"`     // git blob of the file: the post's ETag
}

// Meta overrides the page metadata derived from the post.
type Meta struct {
	Description string `json:"description" yaml:"description,omitempty"`
	Image       string `json:"image" yaml:"image,omitempty"`
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

// IsPostPath reports whether a repository file is a post.
func IsPostPath(p string) bool { return strings.HasPrefix(p, PostsDir) && strings.HasSuffix(p, ".md") }

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
		case "author":
			p.Author = scalar(&fe, k.Value, v, line)
		case "review_note":
			p.ReviewNote = scalar(&fe, k.Value, v, line)
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
	switch p.Status {
	case Draft, Published, Pending:
	case Scheduled:
		if p.PublishedAt == nil {
			fe.Add("published_at", 0, "is required for a scheduled post: when to publish it")
		}
	default:
		fe.Add("status", 0, "must be %q, %q, %q or %q, not %q", Draft, Pending, Scheduled, Published, Clip(string(p.Status)))
	}
	if p.Author != "" && !ValidEmail(p.Author) {
		fe.Add("author", 0, "%q is not an account's email address", Clip(p.Author))
	}
	if n := utf8.RuneCountInString(p.ReviewNote); n > MaxText {
		fe.Add("review_note", 0, "is %d characters long, at most %d allowed", n, MaxText)
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
	Author       string   `yaml:"author,omitempty"`
	ReviewNote   string   `yaml:"review_note,omitempty"`
}

// MarshalPost renders a post as the file an editor would write.
func MarshalPost(p *Post) ([]byte, error) {
	fm := postFrontMatter{
		ID: p.ID, Title: p.Title, Slug: p.Slug, Status: p.Status,
		CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: p.UpdatedAt.UTC().Format(time.RFC3339),
		Excerpt: p.Excerpt, Categories: p.Categories, Tags: p.Tags,
		FeatureImage: p.FeatureImage, Gallery: p.Gallery, EmbedURL: p.EmbedURL,
		Author: p.Author, ReviewNote: p.ReviewNote,
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
