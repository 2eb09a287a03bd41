package webui

import "net/http"

// apiSearch searches published posts: hits with highlighted snippets,
// facets by category, tag and year.
func (h *Handler) apiSearch(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Search == nil {
		return problem(http.StatusServiceUnavailable, "search is not available on this node")
	}
	q, err := searchQuery(r)
	if err != nil {
		return err
	}
	res, err := h.cfg.Search.Search(q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}
