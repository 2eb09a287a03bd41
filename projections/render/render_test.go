package render

import (
	"strings"
	"testing"
)

func TestHostileMarkdownIsNeutralised(t *testing.T) {
	r := New()
	for _, src := range []string{
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"[x](javascript:alert(1))",
		"[x](JaVaScRiPt:alert(1))",
		"[x](  javascript:alert(1))",
		"![x](javascript:alert(1))",
		"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
		"<a href=\"javascript:alert(1)\">x</a>",
		"<iframe src=https://evil.example></iframe>",
		"<svg onload=alert(1)>",
		"`<script>` and ```\n<script>alert(1)</script>\n```",
		"[x](vbscript:msgbox)",
		"<style>body{display:none}</style>",
		"# <script>alert(1)</script> heading",
		"<div onclick=\"alert(1)\">hi</div>",
		"![alt text](javascript:alert(1))",
		"![alt text](  JAVASCRIPT:alert(1))",
	} {
		out := strings.ToLower(r.Markdown(src).HTML)
		for _, bad := range []string{"<script", "javascript:", "onerror", "onload", "onclick", "<iframe", "data:text", "vbscript", "<style", "<svg"} {
			if strings.Contains(out, bad) {
				t.Errorf("%q rendered %q, which contains %q", src, out, bad)
			}
		}
	}
}

func TestUnsafeImageBecomesItsAltText(t *testing.T) {
	if got := New().Markdown("![alt *text*](javascript:alert(1)) and ![ok](/x.png)").HTML; got != `<p>alt text and <img src="/x.png" alt="ok" loading="lazy"/></p>`+"\n" {
		t.Fatalf("got %q", got)
	}
}

func TestRendering(t *testing.T) {
	const src = "# A *title*\n\nFirst paragraph with `code` and a [link](https://example.org).\n\n![pic](media:m1)\n\n```go\nfunc main() {}\n```\n\n- [x] done\n\n| a |\n|---|\n| 1 |\n\nNote[^1] ~~old~~ https://auto.example\n\n[^1]: Footnote.\n"
	d := New().Markdown(src)
	for _, want := range []string{
		`<h1 id="a-title">A <em>title</em><a href="#a-title" class="anchor"`,
		`<span class="visually-hidden">Link to this section</span>`,
		`<a href="https://example.org" rel="nofollow">link</a>`,
		`<img src="/media/m1/original" alt="pic" loading="lazy"/>`,
		`<pre class="chroma"><code><span class="line"><span class="cl"><span class="kd">func</span>`,
		`<input checked="" disabled="" type="checkbox" aria-label="done"/> done`,
		`<table>`, `<del>old</del>`, `<a href="https://auto.example" rel="nofollow">`,
		`<sup id="fnref:1"><a href="#fn:1" class="footnote-ref" role="doc-noteref"`,
	} {
		if !strings.Contains(d.HTML, want) {
			t.Errorf("HTML lacks %s\n%s", want, d.HTML)
		}
	}
	if d.Summary != "First paragraph with code and a link." || d.FirstImage != "/media/m1/original" || !strings.HasPrefix(d.Text, "A title\nFirst paragraph") {
		t.Fatalf("summary %q, image %q, text %q", d.Summary, d.FirstImage, d.Text)
	}
	if text := New().Text(src); text != d.Text {
		t.Errorf("Text is\n%s\nwant Markdown's\n%s", text, d.Text)
	}
}

func TestCut(t *testing.T) {
	long := strings.Repeat("word ", 50)
	got := Cut(long, 160)
	if len([]rune(got)) > 161 || !strings.HasSuffix(got, "word…") {
		t.Fatalf("Cut = %q", got)
	}
	if Cut("short, fine.", 160) != "short, fine." {
		t.Fatal("short text changed")
	}
}

func TestCollapseSpace(t *testing.T) {
	for _, s := range []string{"", " ", "a", "  a  b\t\n c ", "é\u00a0ü\u2003x", "\n\nline\n", "bad\xff byte"} {
		if got, want := collapseSpace(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Errorf("collapseSpace(%q) = %q, want %q", s, got, want)
		}
	}
}
