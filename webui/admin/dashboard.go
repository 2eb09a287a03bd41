package admin

import (
	"net/http"
	"time"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
)

// activity is one line of the dashboard's recent activity.
type activity struct {
	Time    time.Time
	Actor   string
	Subject string
	Type    string
}

// dashboard: drafts to finish, what was published lately, who changed
// what, and whether readers see it all yet.
func (h *handler) dashboard(w http.ResponseWriter, r *http.Request) error {
	drafts, _ := h.cfg.Catalogue.Posts(catalogue.Query{Status: content.Draft, PerPage: 8})
	published, _ := h.cfg.Catalogue.Posts(catalogue.Query{Status: content.Published, PerPage: 8})
	data := map[string]any{"Drafts": drafts, "Published": published, "Unsaved": h.unsavedDrafts(r)}
	if h.cfg.History != nil {
		evs, err := h.cfg.History.Recent(15)
		if err != nil {
			h.log.Warn("dashboard: the recent activity could not be read", "err", err)
		}
		var acts []activity
		for _, e := range evs {
			acts = append(acts, activity{Time: e.Time, Actor: e.Actor, Subject: e.Subject, Type: string(e.Type)})
			if len(acts) == 15 {
				break
			}
		}
		data["Activity"] = acts
	}
	if h.cfg.Ready != nil {
		if err := h.cfg.Ready(); err != nil {
			data["NotReady"] = "a part of the site is behind or stopped; operators see why at /readyz and /metrics."
		}
	}
	return h.render(w, r, http.StatusOK, "dashboard", page{Title: "Dashboard", Section: "dashboard", Data: data})
}
