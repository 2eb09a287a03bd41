package content

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

var defaults = FileDefaults{Path: "posts/2026/hello-world.md",
	Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Updated: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)}

func TestHandWrittenPostNeedsOnlyATitle(t *testing.T) {
	p, err := ParsePost([]byte("---\ntitle: Hello\n---\nBody\n"), defaults)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != DerivedPostID(defaults.Path) || p.Slug != "hello-world" || p.Status != Draft ||
		!p.CreatedAt.Equal(defaults.Created) || !p.UpdatedAt.Equal(defaults.Updated) || p.Content != "Body\n" {
		t.Fatalf("derived post: %+v", p)
	}
	again, _ := ParsePost([]byte("---\ntitle: Hello\n---\nBody\n"), defaults)
	if !reflect.DeepEqual(p, again) {
		t.Fatal("derivation is not deterministic")
	}
	pub, err := ParsePost([]byte("---\ntitle: Hello\nstatus: published\n---\n"), defaults)
	if err != nil || pub.PublishedAt == nil || !pub.PublishedAt.Equal(defaults.Created) {
		t.Fatalf("published without date: %+v %v", pub.PublishedAt, err)
	}
}

func TestPostRoundTrip(t *testing.T) {
	pub := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	p := Post{ID: "abc", Slug: "a-post", Title: "A: post — with \"quotes\"", Content: "# Hi\n\nText\n", Excerpt: "Short",
		Status: Published, PublishedAt: &pub, CreatedAt: pub, UpdatedAt: pub.Add(time.Hour),
		Categories: []string{"news"}, Tags: []string{"Go", "git"}, FeatureImage: "https://example.org/a.jpg",
		Gallery: []string{"m1", "m2"}, EmbedURL: "https://www.youtube.com/watch?v=x", Meta: Meta{Description: "D", Image: "m3"},
		Path: defaults.Path}
	b, err := MarshalPost(&p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePost(b, defaults)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip:\n got %+v\nwant %+v\n%s", got, p, b)
	}
}

func TestInvalidPostFilesNameLineAndField(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"no front matter\n", "posts/2026/hello-world.md:1: missing front matter"},
		{"---\ntitle: x\n", "posts/2026/hello-world.md:1: front matter is not closed"},
		{"---\ntitle: Hello\npublished_at: tomorrow\n---\n", `posts/2026/hello-world.md:3: published_at: not a date ("tomorrow")`},
		{"---\ntitle: [a\n---\n", "posts/2026/hello-world.md:2: invalid YAML"},
		{"---\ntitle: Hello\nstatus: live\n---\n", `posts/2026/hello-world.md:3: status: must be "draft", "pending", "scheduled" or "published", not "live"`},
		{"---\ntitle: Hello\nstatus: scheduled\n---\n", `posts/2026/hello-world.md: published_at: is required for a scheduled post: when to publish it`},
		{"---\nslug: x\n---\n", "title: is required"},
		{"---\ntitle: Hello\nslug: ../x\n---\n", `posts/2026/hello-world.md:3: slug: "../x" is not a slug`},
		{"---\ntitle: Hello\ntags: go\n---\n", "posts/2026/hello-world.md:3: tags: must be a list"},
		{"---\ntitle: Hello\nlayout: post\n---\n", "posts/2026/hello-world.md:3: layout: unknown field"},
		{"---\ntitle: " + strings.Repeat("x", 300) + "\n---\n", "title: is 300 characters long"},
		{"---\ntitle: Hello\nembed_url: javascript:alert(1)\n---\n", "embed_url: \"javascript:alert(1)\" is not an http or https URL"},
		{"---\ntitle: a\ntitle: b\n---\n", "posts/2026/hello-world.md:3: title: appears twice"},
	} {
		_, err := ParsePost([]byte(tc.file), defaults)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant …%s…", tc.file, err, tc.want)
		}
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Hello, World!":             "hello-world",
		"Ünïcödé façade":            "unicode-facade",
		"日本語":                       "ri-ben-yu",
		"  --- ":                    "",
		strings.Repeat("word ", 40): strings.TrimSuffix(strings.Repeat("word-", 20), "-"),
	} {
		if got := Slugify(in); got != want || (got != "" && !ValidSlug(got)) {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}
