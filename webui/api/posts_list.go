package api

import (
	"net/http"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

type postList struct {
	Items      []content.Post `json:"items"`
	Page       int            `json:"page"`
	PerPage    int            `json:"per_page"`
	Total      int            `json:"total"`
	TotalPages int            `json:"total_pages"`
}

// listPosts pages through posts, newest first. Without a token only
// published posts are listed; with one, also the unpublished posts the
// policy lets the account read (its own; every one for editors), so a
// status filter such as pending (the review queue) lists only those.
func (h *Handler) listPosts(w http.ResponseWriter, r *http.Request) error {
	q := catalogue.Query{Status: content.Status(r.URL.Query().Get("status")),
		Category: r.URL.Query().Get("category"), Tag: r.URL.Query().Get("tag")}
	var err error
	if q.Page, err = params.Int(r, "page", 1, 1_000_000); err != nil {
		return err
	}
	if q.PerPage, err = params.Int(r, "per_page", 20, 100); err != nil {
		return err
	}
	switch q.Status {
	case "", content.Published:
	case content.Draft, content.Scheduled, content.Pending:
	default:
		return httperr.Field(http.StatusBadRequest, "status", "must be %q, %q, %q or %q", content.Draft, content.Pending, content.Scheduled, content.Published)
	}
	a, signedIn := auth.Principal(r)
	if !signedIn {
		if q.Status != content.Published && q.Status != "" {
			return auth.Unauthorized("listing drafts, pending and scheduled posts needs an API token")
		}
		q.Status = content.Published
	} else {
		q.Visible = a.Actor().CanRead
	}
	items, total := h.cfg.Catalogue.Posts(q)
	if items == nil {
		items = []content.Post{}
	}
	for i := range items {
		presentPost(&items[i])
		if !signedIn {
			anonymous(&items[i])
		}
	}
	return writeJSON(w, http.StatusOK, postList{Items: items, Page: q.Page, PerPage: q.PerPage, Total: total,
		TotalPages: (total + q.PerPage - 1) / q.PerPage})
}
