package content

import (
	"path"
	"strings"
)

// Embed is what a post's embed_url resolved to, recorded in the repository
// (embeds/<post-id>.yaml) so replays render the same whatever the
// provider does later.
type Embed struct {
	URL         string `json:"url" yaml:"url"`
	Kind        string `json:"kind" yaml:"kind"` // iframe, photo, card or link
	Provider    string `json:"provider,omitempty" yaml:"provider,omitempty"`
	Title       string `json:"title,omitempty" yaml:"title,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	Image       string `json:"image,omitempty" yaml:"image,omitempty"`
	IframeSrc   string `json:"iframe_src,omitempty" yaml:"iframe_src,omitempty"`
}

// EmbedsDir holds resolved embeds, one file per post.
const EmbedsDir = "embeds/"

// EmbedPath is where a post's resolved embed is kept.
func EmbedPath(postID string) string { return EmbedsDir + postID + ".yaml" }

// IsEmbedPath reports whether a file is a resolved embed.
func IsEmbedPath(p string) bool {
	return strings.HasPrefix(p, EmbedsDir) && strings.HasSuffix(p, ".yaml") && !strings.Contains(p[len(EmbedsDir):], "/")
}

// ParseEmbed reads embeds/<post-id>.yaml.
func ParseEmbed(file string, data []byte) (Embed, error) {
	var e Embed
	if err := strictYAML(file, data, &e); err != nil {
		return Embed{}, err
	}
	var fe FieldErrors
	switch e.Kind {
	case "iframe", "photo", "card", "link":
	default:
		fe.Add("kind", 0, "must be iframe, photo, card or link")
	}
	checkURL(&fe, "url", e.URL)
	for field, v := range map[string]string{"image": e.Image, "iframe_src": e.IframeSrc} {
		if v != "" {
			checkURL(&fe, field, v)
		}
	}
	return e, fe.Err(file)
}

func EmbedPostID(file string) string { return strings.TrimSuffix(path.Base(file), ".yaml") }
