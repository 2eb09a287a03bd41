package api

import (
	"net/http"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// eventView is an event without its payload: the audit trail.
type eventView struct {
	ID      string      `json:"id"`
	Type    events.Type `json:"type"`
	Subject string      `json:"subject"`
	Actor   string      `json:"actor"`
	Author  string      `json:"author,omitempty"` // a pushed commit's claimed author, when not its pusher
	Pusher  string      `json:"pusher,omitempty"`
	Time    time.Time   `json:"time"`
	Commit  string      `json:"commit"`
}

// listEvents is the audit trail: who changed what, newest first, derived
// from the repository's history like everything else.
func (h *Handler) listEvents(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.History == nil {
		return httperr.New(http.StatusServiceUnavailable, "this node has no repository: ask the writer node")
	}
	limit, err := params.Int(r, "limit", 50, 500)
	if err != nil {
		return err
	}
	evs, err := h.cfg.History.Recent(limit)
	if err != nil {
		return err
	}
	out := []eventView{}
	for _, e := range evs[:min(limit, len(evs))] {
		out = append(out, eventView{ID: e.ID, Type: e.Type, Subject: e.Subject, Actor: e.Actor, Author: e.Author, Pusher: e.Pusher, Time: e.Time, Commit: e.Commit})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": out})
}
