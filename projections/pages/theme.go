package pages

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
)

//go:embed theme
var builtin embed.FS

// pageTemplates are the page kinds; each is parsed with layout.html.
var pageTemplates = []string{"list", "post", "about", "search", "notfound"}

// theme is the parsed templates and the static files, the built-in ones
// overridden file by file by those in the site's theme folder.
type theme struct {
	pages  map[string]*template.Template
	assets map[string]Asset
}

// Asset is a static file of the theme.
type Asset struct {
	Body        []byte
	ContentType string
	Hash        string // of the content: part of the asset's URL
}

func loadTheme(dir string) (*theme, error) {
	read := func(name string) ([]byte, error) {
		if dir != "" {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
			if err == nil {
				return b, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
		}
		return builtin.ReadFile("theme/" + name)
	}
	th := &theme{pages: map[string]*template.Template{}, assets: map[string]Asset{}}
	// Static files: the built-in ones and any the site adds.
	names := map[string]bool{}
	entries, _ := builtin.ReadDir("theme/static")
	for _, e := range entries {
		names[e.Name()] = true
	}
	if dir != "" {
		extra, _ := os.ReadDir(filepath.Join(dir, "static"))
		for _, e := range extra {
			if e.Type().IsRegular() {
				names[e.Name()] = true
			}
		}
	}
	for n := range names {
		b, err := read("static/" + n)
		if err != nil {
			return nil, fmt.Errorf("theme static/%s: %w", n, err)
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(n))
		if ct == "" {
			ct = "application/octet-stream"
		}
		th.assets[n] = Asset{Body: b, ContentType: ct, Hash: hex.EncodeToString(sum[:6])}
	}
	funcs := template.FuncMap{
		"asset": func(name string) string {
			if a, ok := th.assets[name]; ok {
				return "/static/" + name + "?v=" + a.Hash
			}
			return "/static/" + name
		},
	}
	layout, err := read("templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("theme templates/layout.html: %w", err)
	}
	for _, name := range pageTemplates {
		body, err := read("templates/" + name + ".html")
		if err != nil {
			return nil, fmt.Errorf("theme templates/%s.html: %w", name, err)
		}
		t, err := template.New(name).Funcs(funcs).Parse(string(layout))
		if err == nil {
			_, err = t.Parse(string(body))
		}
		if err != nil {
			return nil, fmt.Errorf("theme template %s: %w", name, err)
		}
		th.pages[name] = t
	}
	return th, nil
}

// Asset returns a static file of the theme.
func (p *Pages) Asset(name string) (Asset, bool) {
	a, ok := p.theme.assets[name]
	return a, ok
}
