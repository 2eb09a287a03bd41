package api

import (
	"net/http"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// listTags lists tags with their post counts: of the posts the caller
// may read (every post for editors), and without a token only of
// published posts.
func (h *Handler) listTags(w http.ResponseWriter, r *http.Request) error {
	a, ok := auth.Principal(r)
	var tags []catalogue.Tag
	switch {
	case ok && a.Role.Can(policy.ReadAll):
		tags = h.cfg.Catalogue.Tags()
	case ok:
		reader := a.Actor()
		tags = h.cfg.Catalogue.TagsVisible(func(p *content.Post) bool { return reader.CanRead(p) })
	default:
		tags = h.cfg.Catalogue.Tags()
		pub := tags[:0:0]
		for _, t := range tags {
			if t.Published > 0 {
				t.Total = t.Published
				pub = append(pub, t)
			}
		}
		tags = pub
	}
	if tags == nil {
		tags = []catalogue.Tag{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": tags})
}
