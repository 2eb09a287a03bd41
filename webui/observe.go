package webui

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// observer is the middleware every routed request of every area goes
// through: latency by route template (bounded labels), panics recovered
// into a logged 500, nosniff.
type observer struct {
	httpDur *prometheus.HistogramVec
	err     httperr.Adapter
}

func newObserver(reg *prometheus.Registry, log *slog.Logger) *observer {
	o := &observer{err: httperr.Adapter{Log: log},
		httpDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "chronicle_http_request_duration_seconds",
			Help: "HTTP request latency by route template.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)},
			[]string{"method", "route", "status"})}
	reg.MustRegister(o.httpDur)
	return o
}

// statusWriter records the status of the answer; httperr.Started reads
// it through Status.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Status is the answer's status, 0 before it started.
func (s *statusWriter) Status() int { return s.status }

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (o *observer) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				// Logged once with an id by the adapter; answered if
				// nothing was yet.
				o.err.Write(sw, r, panicked{v})
			}
			tmpl := "unmatched"
			if rt := mux.CurrentRoute(r); rt != nil {
				if t, err := rt.GetPathTemplate(); err == nil {
					tmpl = t
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			o.httpDur.WithLabelValues(r.Method, tmpl, statusClass(status)).Observe(time.Since(start).Seconds())
		}()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(sw, r)
	})
}

// panicked is a handler's panic, as an error for the log.
type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprintf("handler panicked: %v", p.v) }

func statusClass(s int) string {
	return string(rune('0'+s/100)) + "xx"
}
