package webui_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/chronicle-cms/chronicle/webui"
	"github.com/chronicle-cms/chronicle/webui/ops"
)

// /metrics is for the daemon's own machine, or whoever holds its token.
func TestMetricsAreNotPublic(t *testing.T) {
	for _, tc := range []struct {
		name          string
		cfg           ops.MetricsConfig
		remote, authz string
		want          int
	}{
		{"loopback by default", ops.MetricsConfig{}, "127.0.0.1:5000", "", 200},
		{"IPv6 loopback by default", ops.MetricsConfig{}, "[::1]:5000", "", 200},
		{"a stranger", ops.MetricsConfig{}, "192.0.2.7:5000", "", 401},
		{"a stranger with a guess", ops.MetricsConfig{Token: "s3cret"}, "192.0.2.7:5000", "Bearer guess", 401},
		{"a stranger with the token", ops.MetricsConfig{Token: "s3cret"}, "192.0.2.7:5000", "Bearer s3cret", 200},
		{"no token configured, empty bearer", ops.MetricsConfig{}, "192.0.2.7:5000", "Bearer ", 401},
		{"a listed network", ops.MetricsConfig{AllowFrom: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, "10.1.2.3:5000", "", 200},
		{"loopback not listed", ops.MetricsConfig{AllowFrom: []netip.Prefix{}}, "127.0.0.1:5000", "", 401},
	} {
		h := webui.New(webui.Config{Metrics: tc.cfg})
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = tc.remote
		if tc.authz != "" {
			req.Header.Set("Authorization", tc.authz)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tc.want || (w.Code == 401 && w.Header().Get("WWW-Authenticate") == "") {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.want)
		}
		if w.Code == http.StatusOK && w.Header().Get("Content-Type") == "" {
			t.Errorf("%s: not the exposition format", tc.name)
		}
	}
}
