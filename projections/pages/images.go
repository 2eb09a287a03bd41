package pages

import (
	"fmt"
	"html/template"
	"net/url"
	"regexp"
	"strings"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections/media"
	"github.com/chronicle-cms/chronicle/projections/render"
)

// image is what the pages know of an upload: enough to lay it out
// without a shift and to offer every width.
type image struct {
	ID      string `json:"id"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Alt     string `json:"alt"`
	Caption string `json:"caption"`
}

// imgView is one <img> of a template.
type imgView struct {
	ID, Src, Srcset, Sizes, Alt, Caption string
	Width, Height                        int
}

// sizes says how wide images show: the text column, or the screen.
const sizes = "(min-width: 44rem) 42rem, 100vw"

// img lays out a media item; widths beyond the original are not offered.
// Callers hold mu.
func (p *Pages) img(id string) (imgView, bool) {
	im, ok := p.media[id]
	if !ok {
		return imgView{}, false
	}
	v := imgView{ID: id, Src: "/media/" + id + "/original", Alt: im.Alt, Caption: im.Caption, Width: im.Width, Height: im.Height, Sizes: sizes}
	var set []string
	for _, w := range media.Widths {
		if w >= im.Width {
			break
		}
		set = append(set, fmt.Sprintf("/media/%s/w%d %dw", id, w, w))
		if w <= media.SrcWidth {
			v.Src = fmt.Sprintf("/media/%s/w%d", id, w)
		}
	}
	set = append(set, fmt.Sprintf("/media/%s/original %dw", id, im.Width))
	v.Srcset = strings.Join(set, ", ")
	return v, true
}

// inlineMedia matches the images the renderer made of media: references,
// with the paragraph around them when they are all it holds.
var inlineMedia = regexp.MustCompile(`(<p>)?<img src="/media/([A-Za-z0-9][A-Za-z0-9_-]*)/original" alt="([^"]*)" loading="lazy"/>(</p>)?`)

// withSrcset gives the post's inline media images their widths, sizes and
// dimensions, and a picture alone in its paragraph with a caption becomes
// a figure with that caption. It runs when a page is rendered, from the
// model: uploads that arrive after the post are picked up when they do.
// Callers hold mu.
func (p *Pages) withSrcset(body string) template.HTML {
	return template.HTML(inlineMedia.ReplaceAllStringFunc(body, func(tag string) string {
		m := inlineMedia.FindStringSubmatch(tag)
		v, ok := p.img(m[2])
		if !ok {
			return tag
		}
		// alt is the renderer's, already escaped; the caption is text.
		img := fmt.Sprintf(`<img src="%s" srcset="%s" sizes="%s" width="%d" height="%d" alt="%s" loading="lazy" decoding="async"/>`,
			v.Src, v.Srcset, v.Sizes, v.Width, v.Height, m[3])
		if m[1] != "" && m[4] != "" && strings.TrimSpace(v.Caption) != "" {
			return `<figure class="inline">` + img + `<figcaption>` + template.HTMLEscapeString(v.Caption) + `</figcaption></figure>`
		}
		return m[1] + img + m[4]
	}))
}

// thumb is a post's feature image laid out for a list, if it is an upload.
// Callers hold mu.
func (p *Pages) thumb(ps *post) *imgView {
	id, ok := content.MediaRefID(ps.FeatureImage)
	if !ok {
		return nil
	}
	v, ok := p.img(id)
	if !ok {
		return nil
	}
	v.Sizes = thumbSizes
	return &v
}

// thumbSizes: list thumbnails show at most 9rem wide.
const thumbSizes = "(min-width: 44rem) 9rem, 30vw"

func imageOf(m content.Media) image {
	return image{ID: m.ID, Width: m.Width, Height: m.Height, Alt: m.Alt, Caption: m.Caption}
}

// allowedIframe re-checks, when a page is rendered, that an iframe's host
// is one the site embeds.
func allowedIframe(src string) bool {
	u, err := url.Parse(src)
	return err == nil && u.Scheme == "https" && render.IframeHost(u.Host)
}
