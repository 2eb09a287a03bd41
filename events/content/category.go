package content

import (
	"path"
	"sort"
	"strings"
	"unicode/utf8"
)

// Category groups posts; its slug is its file name.
type Category struct {
	Slug        string `json:"slug" yaml:"-"`
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description" yaml:"description,omitempty"`
}

// IsCategoryPath reports whether a repository file is a category.
func IsCategoryPath(p string) bool {
	return strings.HasPrefix(p, CategoriesDir) && strings.HasSuffix(p, ".yaml") && !strings.Contains(p[len(CategoriesDir):], "/")
}

// CategorySlug is the slug of a category file.
func CategorySlug(p string) string { return strings.TrimSuffix(path.Base(p), ".yaml") }

// CategoryPath is where a category lives.
func CategoryPath(slug string) string { return CategoriesDir + slug + ".yaml" }

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
