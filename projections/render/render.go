// Package render turns post Markdown into sanitised HTML, plain text for
// search, and the pieces page metadata is derived from. It runs when
// events are applied, never when a page is requested.
package render

import (
	"bytes"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Doc is a rendered Markdown document.
type Doc struct {
	HTML       string // sanitised
	Text       string // plain text, for search and descriptions
	Summary    string // first paragraph, cut at a word to about SummaryLen characters
	FirstImage string // URL of the first image, if any
}

// SummaryLen is the length descriptions are cut to.
const SummaryLen = 160

// Renderer is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// New returns a renderer: CommonMark, GFM (tables, strikethrough, task
// lists, autolinks), footnotes, heading ids with anchors, and code
// highlighted with CSS classes. Raw HTML in Markdown is dropped by goldmark
// (no WithUnsafe) and the output is sanitised again by bluemonday.
func New() *Renderer {
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM, extension.Footnote,
			highlighting.NewHighlighting(highlighting.WithFormatOptions(chromahtml.WithClasses(true)))),
		goldmark.WithParserOptions(parser.WithAutoHeadingID(),
			parser.WithASTTransformers(util.Prioritized(transformer{}, 100))),
		goldmark.WithRendererOptions(html.WithXHTML()),
	)
	return &Renderer{md: md, policy: Policy()}
}

var (
	classRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,30}( [a-z][a-z0-9_-]{0,30}){0,4}$`)
	idRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_:.-]{0,80}$`)
)

// Policy is the sanitiser for rendered Markdown: bluemonday's UGC policy,
// plus the class and id attributes that highlighting, footnotes, task
// lists and heading anchors need, restricted to safe patterns.
func Policy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("class").Matching(classRE).OnElements("pre", "code", "span", "div", "a", "li", "ul", "ol", "sup", "section", "input", "hr", "table", "td", "th")
	p.AllowAttrs("id").Matching(idRE).OnElements("h1", "h2", "h3", "h4", "h5", "h6", "li", "sup", "div")
	p.AllowAttrs("role").Matching(regexp.MustCompile(`^doc-(endnotes|noteref|backlink)$`)).OnElements("div", "section", "a")
	p.AllowAttrs("aria-hidden").Matching(regexp.MustCompile(`^true$`)).OnElements("span")
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("aria-label").Matching(regexp.MustCompile(`^(done|not done)$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^(|checked|disabled)$`)).OnElements("input")
	p.AllowAttrs("loading").Matching(regexp.MustCompile(`^lazy$`)).OnElements("img")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	return p
}

// Markdown renders src.
func (r *Renderer) Markdown(src string) Doc {
	source := []byte(src)
	root := r.md.Parser().Parse(text.NewReader(source))
	var buf bytes.Buffer
	if err := r.md.Renderer().Render(&buf, source, root); err != nil {
		// goldmark's renderer only fails on writer errors; a bytes.Buffer has none.
		buf.Reset()
	}
	d := Doc{HTML: r.policy.Sanitize(buf.String())}
	ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if img, ok := n.(*ast.Image); ok && entering && d.FirstImage == "" {
			d.FirstImage = string(img.Destination)
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	var firstPara string
	d.Text, firstPara = texts(root, source)
	d.Summary = Cut(firstPara, SummaryLen)
	return d
}

// Text is the plain text of src, as Markdown's Doc.Text: for search,
// without the cost of HTML and its sanitising.
func (r *Renderer) Text(src string) string {
	source := []byte(src)
	t, _ := texts(r.md.Parser().Parse(text.NewReader(source)), source)
	return t
}

// texts is the plain text of a parsed document, a block a line, and its
// first paragraph's.
func texts(root ast.Node, source []byte) (txt, firstPara string) {
	var b strings.Builder
	ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Paragraph, *ast.Heading, *ast.CodeBlock, *ast.FencedCodeBlock:
			t := plain(n, source)
			if t == "" {
				return ast.WalkSkipChildren, nil
			}
			if _, ok := n.(*ast.Paragraph); ok && firstPara == "" {
				firstPara = t
			}
			b.WriteString(t)
			b.WriteString("\n")
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String()), firstPara
}

// plain is the text of a block, as a reader would read it.
func plain(n ast.Node, src []byte) string {
	var b strings.Builder
	if n.Kind() == ast.KindCodeBlock || n.Kind() == ast.KindFencedCodeBlock {
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(src))
		}
		return strings.TrimSpace(b.String())
	}
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.CodeSpan:
			for ch := c.FirstChild(); ch != nil; ch = ch.NextSibling() {
				if t, ok := ch.(*ast.Text); ok {
					b.Write(t.Segment.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		case *ast.AutoLink:
			b.Write(c.Label(src))
		case *ast.Link:
			if class, ok := c.AttributeString("class"); ok && string(class.([]byte)) == "anchor" {
				return ast.WalkSkipChildren, nil
			}
		}
		return ast.WalkContinue, nil
	})
	return collapseSpace(b.String())
}

// collapseSpace is strings.Join(strings.Fields(s), " ") without the
// slice of words: it ran for every block of every post.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			space = b.Len() > 0
		} else {
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteString(s[i : i+n]) // as it was, even if not UTF-8
		}
		i += n
	}
	return b.String()
}

// Cut trims s to at most n characters at a word boundary, adding "…".
func Cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	i := len(r)
	for i > n/2 && !unicode.IsSpace(r[i-1]) {
		i--
	}
	if i <= n/2 {
		i = n
	}
	return strings.TrimRightFunc(string(r[:i]), func(c rune) bool { return unicode.IsSpace(c) || unicode.IsPunct(c) }) + "…"
}

// transformer resolves media: image references and adds anchor links to
// headings.
type transformer struct{}

func (transformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	var images []*ast.Image
	var boxes []*extast.TaskCheckBox
	defer func() {
		for _, b := range boxes {
			html := `<input disabled="" type="checkbox" aria-label="not done"/> `
			if b.IsChecked {
				html = `<input checked="" disabled="" type="checkbox" aria-label="done"/> `
			}
			s := ast.NewString([]byte(html))
			s.SetCode(true)
			b.Parent().ReplaceChild(b.Parent(), b, s)
		}
		for _, img := range images {
			alt := ast.NewString(img.Text(reader.Source()))
			img.Parent().ReplaceChild(img.Parent(), img, alt)
		}
	}()
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Image:
			if id, ok := strings.CutPrefix(string(n.Destination), "media:"); ok {
				n.Destination = []byte("/media/" + id + "/original")
			}
			if !safeImageURL(string(n.Destination)) {
				// The sanitiser would strip the src and leave an invalid
				// <img>: show the alt text instead.
				images = append(images, n)
				return ast.WalkSkipChildren, nil
			}
			n.SetAttributeString("loading", []byte("lazy"))
		case *extast.TaskCheckBox:
			// goldmark's checkbox has no accessible name: say what it shows.
			boxes = append(boxes, n)
		case *ast.Heading:
			if id, ok := n.AttributeString("id"); ok {
				a := ast.NewLink()
				a.Destination = append([]byte("#"), id.([]byte)...)
				a.SetAttributeString("class", []byte("anchor"))
				label := ast.NewString([]byte(`<span aria-hidden="true">#</span><span class="visually-hidden">Link to this section</span>`))
				label.SetCode(true) // written verbatim: our own markup, which the sanitiser still checks
				a.AppendChild(a, label)
				n.AppendChild(n, a)
			}
		}
		return ast.WalkContinue, nil
	})
}

// safeImageURL accepts relative URLs and http(s) ones.
func safeImageURL(u string) bool {
	u = strings.TrimSpace(u)
	if i := strings.IndexAny(u, ":/?#"); i >= 0 && u[i] == ':' {
		scheme := strings.ToLower(u[:i])
		return scheme == "http" || scheme == "https"
	}
	return u != ""
}
