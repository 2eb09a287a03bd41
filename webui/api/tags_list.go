package api

import (
	"net/http"

	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// listTags lists tags with their post counts; without a token only tags
// of published posts are listed.
func (h *Handler) listTags(w http.ResponseWriter, r *http.Request) error {
	tags := h.cfg.Catalogue.Tags()
	if _, ok := auth.Principal(r); !ok {
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
