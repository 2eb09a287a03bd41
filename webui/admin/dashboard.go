package admin

import (
	"net/http"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
)

// dashboard: drafts to finish, what was published lately, who changed
// what, and whether readers see it all yet.
func (h *handler) dashboard(w http.ResponseWriter, r *http.Request) error {
	drafts, _ := h.cfg.Catalogue.Posts(catalogue.Query{Status: content.Draft, PerPage: 8})
	published, _ := h.cfg.Catalogue.Posts(catalogue.Query{Status: content.Published, PerPage: 8})
	// The queue: the next scheduled posts, soonest first.
	scheduled, _ := h.cfg.Catalogue.Posts(catalogue.Query{Status: content.Scheduled, Sort: catalogue.Oldest, PerPage: 8})
	data := map[string]any{"Drafts": drafts, "Published": published, "Scheduled": scheduled, "Unsaved": h.unsavedDrafts(r)}
	if h.cfg.Activity != nil {
		acts, err := h.cfg.Activity(15)
		if err != nil {
			h.log.Warn("dashboard: the recent activity could not be read", "err", err)
		}
		data["Activity"] = acts
	}
	if h.cfg.Projections != nil {
		data["Projections"] = h.cfg.Projections()
	}
	if h.cfg.Ready != nil {
		if err := h.cfg.Ready(); err != nil {
			data["NotReady"] = "a part of the site is behind or stopped; operators see why at /readyz and /metrics."
		}
	}
	return h.render(w, r, http.StatusOK, "dashboard", page{Title: "Dashboard", Section: "dashboard", Data: data})
}
