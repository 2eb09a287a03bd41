package daemon

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// Analytics and ads snippets appear only when their ids are set, and the
// page's CSP lets exactly those scripts in.
func TestAnalyticsAndAdsOnlyWhenConfigured(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	tok := s.token("admin@example.org")
	home := s.get("/")
	if b := string(home.body); strings.Contains(b, "googletagmanager") || strings.Contains(b, "adsbygoogle") ||
		strings.Contains(home.header.Get("Content-Security-Policy"), "google") {
		t.Fatalf("snippets or CSP exceptions without ids:\n%s", home.header.Get("Content-Security-Policy"))
	}
	mustStatus(t, s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "T", "posts_per_page": 10, "language": "en",
		"analytics": map[string]string{"google_analytics_id": "G-ABC1234"}, "ads": map[string]string{"adsense_client_id": "ca-pub-1234567890123456"}},
		"Prefer", "wait=5"), 200)
	home = s.get("/")
	b := string(home.body)
	for _, want := range []string{`https://www.googletagmanager.com/gtag/js?id=G-ABC1234`, `data-id="G-ABC1234"`, `adsbygoogle.js?client=ca-pub-1234567890123456`} {
		if !strings.Contains(b, want) {
			t.Errorf("home lacks %s", want)
		}
	}
	csp := home.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "https://www.googletagmanager.com") || !strings.Contains(csp, "https://pagead2.googlesyndication.com") {
		t.Errorf("CSP does not allow the configured scripts: %s", csp)
	}
	// No inline script is needed, so none is allowed; frames and
	// connections only where the features go.
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "frame-src https:;") || strings.Contains(csp, "connect-src 'self' https:;") {
		t.Errorf("CSP wider than the features need: %s", csp)
	}
	if !strings.Contains(csp, "frame-src https://open.spotify.com") {
		t.Errorf("embed players not framed: %s", csp)
	}
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(b, -1) {
		if !strings.Contains(tag, " src=") && !strings.Contains(tag, `type="application/ld+json"`) {
			t.Errorf("an inline script: %s", tag)
		}
	}
	if js := s.get("/static/gtag.js"); js.status != 200 || !strings.Contains(string(js.body), `gtag("config", id)`) {
		t.Errorf("gtag.js: %d", js.status)
	}
}

// A site overrides any template or static file from <data>/theme/, no
// rebuild of the binary needed.
func TestThemeOverride(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	os.MkdirAll(filepath.Join(data, "theme", "templates"), 0o755)
	os.MkdirAll(filepath.Join(data, "theme", "static"), 0o755)
	os.WriteFile(filepath.Join(data, "theme", "templates", "notfound.html"), []byte(`{{define "main"}}<h1>Lost at sea</h1>{{end}}`), 0o644)
	os.WriteFile(filepath.Join(data, "theme", "static", "style.css"), []byte("body { color: rebeccapurple; }\n"), 0o644)
	os.WriteFile(filepath.Join(data, "theme", "static", "extra.js"), []byte("console.log('mine');\n"), 0o644)
	s := startSite(t, data)
	r := s.get("/nowhere")
	if r.status != 404 || !strings.Contains(string(r.body), "<h1>Lost at sea</h1>") {
		t.Fatalf("overridden 404: %d\n%s", r.status, r.body)
	}
	if css := s.get("/static/style.css"); !strings.Contains(string(css.body), "rebeccapurple") {
		t.Fatalf("overridden stylesheet: %s", css.body)
	}
	if js := s.get("/static/extra.js"); js.status != 200 || !strings.Contains(js.header.Get("Content-Type"), "javascript") {
		t.Fatalf("added static file: %d %s", js.status, js.header.Get("Content-Type"))
	}
	if home := string(s.get("/").body); !strings.Contains(home, "<h1 class=\"visually-hidden\">") {
		t.Fatalf("templates not overridden should stay built in")
	}
}
