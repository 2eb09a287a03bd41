package ops

import (
	"fmt"
	"net/http"
)

// healthz answers while the process serves at all.
func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz answers 200 once projections have caught up with the log and
// while nothing holds events back; else 503, with the reason (a
// projection or the outbox, and its error) for those who may read the
// metrics: it can name files and servers.
func readyz(ready func() error, metrics MetricsConfig) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			if metrics.operator(r) {
				fmt.Fprintf(w, "not ready: %v\n", err)
			} else {
				w.Write([]byte("not ready\n"))
			}
			return
		}
		w.Write([]byte("ready\n"))
	}
}
