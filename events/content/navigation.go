package content

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The site's navigation (the header's links between Home and About) is
// chosen in the settings: `navigation`, a list whose items are a
// category's slug or a link. Left out, it is the first
// DefaultNavCategories categories in reader order (by name): a header
// that fits, whatever the number of categories. An empty list shows none.

// DefaultNavCategories is how many categories the header shows when the
// settings do not choose.
const DefaultNavCategories = 4

// MaxNavItems bounds the navigation: a header, not a sitemap.
const MaxNavItems = 12

// NavItem is one entry of the navigation: a category, by slug (its name
// shown unless Label is given), or a link with a label. Written as the
// slug alone, or as {label, url} (or {category, label}).
type NavItem struct {
	Category string `json:"category,omitempty" yaml:"category,omitempty"`
	Label    string `json:"label,omitempty" yaml:"label,omitempty"`
	URL      string `json:"url,omitempty" yaml:"url,omitempty"`
}

type navItemFields NavItem // without the methods

// UnmarshalYAML reads a slug or a mapping with known keys only.
func (n *NavItem) UnmarshalYAML(v *yaml.Node) error {
	switch v.Kind {
	case yaml.ScalarNode:
		*n = NavItem{Category: v.Value}
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(v.Content); i += 2 {
			if k := v.Content[i].Value; k != "category" && k != "label" && k != "url" {
				return fmt.Errorf("line %d: navigation: unknown field %q (a category's slug, or label and url)", v.Content[i].Line, k)
			}
		}
		var f navItemFields
		if err := v.Decode(&f); err != nil {
			return err
		}
		*n = NavItem(f)
		return nil
	}
	return fmt.Errorf("line %d: navigation: an item is a category's slug, or label and url", v.Line)
}

// MarshalYAML writes a category without a label as its slug.
func (n NavItem) MarshalYAML() (any, error) {
	if n.Category != "" && n.Label == "" && n.URL == "" {
		return n.Category, nil
	}
	return navItemFields(n), nil
}

// UnmarshalJSON reads a slug or an object with known keys only.
func (n *NavItem) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '"' {
		*n = NavItem{}
		return json.Unmarshal(b, &n.Category)
	}
	var f navItemFields
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("navigation: an item is a category's slug, or an object with label and url: %w", err)
	}
	*n = NavItem(f)
	return nil
}

// MarshalJSON writes a category without a label as its slug.
func (n NavItem) MarshalJSON() ([]byte, error) {
	if n.Category != "" && n.Label == "" && n.URL == "" {
		return json.Marshal(n.Category)
	}
	return json.Marshal(navItemFields(n))
}

// validateNavigation checks the items' form; categories that do not exist
// (any more) are left out when the header is built.
func validateNavigation(fe *FieldErrors, items []NavItem) {
	if len(items) > MaxNavItems {
		fe.Add("navigation", 0, "has %d items, at most %d allowed", len(items), MaxNavItems)
		return
	}
	seen := map[string]bool{}
	for i, it := range items {
		field := fmt.Sprintf("navigation[%d]", i)
		if it.Label != "" && (utf8.RuneCountInString(it.Label) > MaxName || strings.ContainsAny(it.Label, "\r\n")) {
			fe.Add(field+".label", 0, "must be one line of at most %d characters", MaxName)
		}
		switch {
		case it.Category != "" && it.URL != "":
			fe.Add(field, 0, "is a category or a link (label and url), not both")
		case it.Category != "":
			if !ValidSlug(it.Category) {
				fe.Add(field+".category", 0, "%q is not a category's slug", Clip(it.Category))
			} else if seen[it.Category] {
				fe.Add(field+".category", 0, "%q is already in the navigation", it.Category)
			}
			seen[it.Category] = true
		case it.URL != "":
			if strings.TrimSpace(it.Label) == "" {
				fe.Add(field+".label", 0, "is required with a url")
			}
			if !sitePath(it.URL) {
				checkURL(fe, field+".url", it.URL)
			}
		default:
			fe.Add(field, 0, "is empty: give a category's slug, or label and url")
		}
	}
}

// sitePath accepts an address on the site itself, such as /tag/go.
func sitePath(u string) bool {
	return strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && len(u) <= MaxText &&
		!strings.ContainsAny(u, "\\ \t\r\n\"'<>")
}
