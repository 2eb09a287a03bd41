// Package ops is the operators' area: /healthz (the process serves),
// /readyz (projections caught up, nothing holding events back) and
// /metrics (Prometheus, for the operators' networks or token only).
// These answers are plain text for probes and scrapers, not documents.
package ops

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is what the operational endpoints read. All of it is required
// (webui.New fills in Ready and Registry).
type Config struct {
	Ready    func() error // nil when ready, else why not
	Registry *prometheus.Registry
	Metrics  MetricsConfig
}

// Mount routes /healthz, /readyz and /metrics on r, the root router.
func Mount(r *mux.Router, cfg Config) {
	r.HandleFunc("/healthz", healthz).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", readyz(cfg.Ready, cfg.Metrics)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", metrics(cfg.Registry, cfg.Metrics)).Methods(http.MethodGet)
}
