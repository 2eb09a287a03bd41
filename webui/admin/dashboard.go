package admin

import (
	"net/http"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
)

// dashboard: drafts to finish, what was published lately, who changed
// what, and whether readers see it all yet.
func (h *handler) dashboard(w http.ResponseWriter, r *http.Request) error {
	// Each list holds what the account may read: a contributor's or an
	// author's own drafts, every one for an editor.
	vis := readable(r)
	drafts, _ := h.cfg.Catalogue.Posts(catalogue.Query{Status: content.Draft, PerPage: 8, Visible: vis})
	published, _ := h.cfg.Catalogue.Posts(catalogue.Query{Status: content.Published, PerPage: 8, Visible: vis})
	// The queues: the next scheduled posts, soonest first, and those
	// waiting for review, the longest waiting first.
	scheduled, _ := h.cfg.Catalogue.Posts(catalogue.Query{Status: content.Scheduled, Sort: catalogue.Oldest, PerPage: 8, Visible: vis})
	pending, _ := h.cfg.Catalogue.Posts(catalogue.Query{Status: content.Pending, Sort: catalogue.Oldest, PerPage: 8, Visible: vis})
	data := map[string]any{"Drafts": drafts, "Published": published, "Scheduled": scheduled, "Pending": pending, "Unsaved": h.unsavedDrafts(r)}
	// The activity names every change, others' drafts too.
	if h.cfg.Activity != nil && asker(r).Role.Can(policy.ReadAll) {
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
