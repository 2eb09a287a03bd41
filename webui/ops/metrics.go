package ops

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsConfig says who may read /metrics: clients from the listed
// networks, or anyone sending the token as a
// bearer token. The figures tell an attacker what the daemon is doing
// (sign-in failures, lag, routes): they are not for the public.
type MetricsConfig struct {
	AllowFrom []netip.Prefix // empty: no address (webui.Config's default is loopback)
	Token     string         // empty: no token opens it
}

// operator reports whether the request comes from those who may read
// the metrics (and the reasons /readyz gives).
func (cfg MetricsConfig) operator(r *http.Request) bool {
	return allowed(r.RemoteAddr, cfg.AllowFrom) || (cfg.Token != "" && bearerIs(r, sha256.Sum256([]byte(cfg.Token))))
}

// metrics serves the registry to those cfg allows, and 401 to others.
func metrics(reg *prometheus.Registry, cfg MetricsConfig) http.Handler {
	serve := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cfg.operator(r) {
			serve.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="chronicle metrics"`)
		http.Error(w, "metrics are served to the daemon's own machine (--metrics-allow) or with the metrics token (--metrics-token)", http.StatusUnauthorized)
	})
}

// bearerIs reports whether the request's bearer token hashes to want, in
// constant time.
func bearerIs(r *http.Request, want [32]byte) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

func allowed(remote string, nets []netip.Prefix) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && auth.InAny(ip.Unmap(), nets)
}
