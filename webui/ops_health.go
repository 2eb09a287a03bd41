package webui

import (
	"fmt"
	"net/http"
)

// healthz answers while the process serves at all.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz answers 200 once projections have caught up with the log and
// while nothing holds events back; else 503, with the reason (a
// projection or the outbox, and its error) for those who may read the
// metrics: it can name files and servers.
func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := h.cfg.Ready(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		if h.operator(r) {
			fmt.Fprintf(w, "not ready: %v\n", err)
		} else {
			w.Write([]byte("not ready\n"))
		}
		return
	}
	w.Write([]byte("ready\n"))
}
