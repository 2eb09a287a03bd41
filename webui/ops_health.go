package webui

import "net/http"

// healthz answers while the process serves at all.
func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz answers 200 only once projections have caught up with the log.
func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !h.cfg.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("catching up\n"))
		return
	}
	w.Write([]byte("ready\n"))
}
