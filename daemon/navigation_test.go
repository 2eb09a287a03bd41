package daemon

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// The header's navigation is chosen in the settings, through the API or
// a push, and checked the same way by both.
func TestNavigationSettings(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	tok := s.token("admin@example.org")
	wait := []string{"Prefer", "wait=5"}
	for _, name := range []string{"News", "Travel", "Books", "Cooking", "Diving", "Eels", "Fish"} {
		mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": name}, wait...), 201)
	}
	if home := string(s.get("/").body); strings.Contains(home, `href="/category/travel"`) || !strings.Contains(home, `href="/category/books"`) {
		t.Error("by default the header should hold the first four categories by name")
	}

	r := s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "Blog", "navigation": []any{"travel", map[string]string{"url": "javascript:alert(1)"}}})
	mustStatus(t, r, 422)
	if detail, fields := r.problem(t); !strings.Contains(strings.Join(fields, " "), "navigation[1]") {
		t.Errorf("refusal names %v: %s", fields, detail)
	}
	mustStatus(t, s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "Blog",
		"navigation": []any{"travel", map[string]string{"label": "Go", "url": "/tag/go"}}}, wait...), 200)
	home := string(s.get("/").body)
	if !strings.Contains(home, `<li><a href="/category/travel">Travel</a></li>`) || !strings.Contains(home, `<li><a href="/tag/go">Go</a></li>`) ||
		strings.Contains(home, `href="/category/books"`) {
		t.Errorf("chosen header not shown:\n%s", home)
	}
	var got struct{ Navigation []any }
	s.do("GET", "/api/v1/settings", tok, nil).json(t, &got)
	if len(got.Navigation) != 2 || got.Navigation[0] != "travel" {
		t.Errorf("settings read back: %v", got.Navigation)
	}

	// By git: the same checks.
	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("admin@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	write(t, filepath.Join(work, "site", "settings.yaml"), "title: Blog\nnavigation:\n  - Travel Stuff\n")
	gitTry(t, work, "commit", "-qam", "bad navigation")
	out, err := gitTry(t, work, "push", "origin", "HEAD:main")
	if err == nil || !strings.Contains(out, "site/settings.yaml") || !strings.Contains(out, "navigation[0].category") {
		t.Errorf("push of a bad navigation: %v\n%s", err, out)
	}
}
