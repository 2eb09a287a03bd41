package auth

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// Who a request comes from, for sign-in budgets: the peer, unless it is a
// trusted proxy, and then the nearest untrusted hop it forwarded for.
func TestClientOf(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"no proxy configured: the peer, whatever the header says", "127.0.0.1:4000", "198.51.100.7", nil, "127.0.0.1"},
		{"a trusted proxy: the hop it saw", "127.0.0.1:4000", "198.51.100.7", proxy, "198.51.100.7"},
		{"a forged start of the header is ignored", "127.0.0.1:4000", "203.0.113.9, 198.51.100.7", proxy, "198.51.100.7"},
		{"two trusted proxies in a row", "127.0.0.1:4000", "198.51.100.7, 10.1.2.3", proxy, "198.51.100.7"},
		{"an untrusted peer's header counts for nothing", "192.0.2.5:4000", "198.51.100.7", proxy, "192.0.2.5"},
		{"a garbled hop: only the peer is trusted", "127.0.0.1:4000", "198.51.100.7, nonsense", proxy, "127.0.0.1"},
		{"IPv6 by its /64", "[2001:db8:1:2::7]:4000", "", nil, "2001:db8:1:2::/64"},
		{"a trusted proxy forwarding IPv6", "127.0.0.1:4000", "2001:db8:1:2:3:4:5:6", proxy, "2001:db8:1:2::/64"},
	} {
		r := httptest.NewRequest("POST", "/api/v1/auth/token", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := ClientOf(r, tc.trusted); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
