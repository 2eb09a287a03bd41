package auth

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientOf is who sent r, for sign-in budgets: its peer's address, or,
// when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one (a client can put anything at the
// start of that header; only what trusted proxies appended counts). An
// IPv6 client counts by its /64, since one host commonly has all of it.
func ClientOf(r *http.Request, trusted []netip.Prefix) string {
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(peer)
	if err != nil {
		return peer
	}
	ip = ip.Unmap()
	if InAny(ip, trusted) {
		var hops []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(v, ",")...)
		}
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a garbled hop: trust nothing before it
			}
			if ip = hop.Unmap(); !InAny(ip, trusted) {
				break
			}
		}
	}
	return ClientOfIP(ip)
}

// ClientOfIP is the client an address stands for: itself for IPv4, its
// /64 for IPv6. The connection bounds and the sign-in budgets both count
// clients so.
func ClientOfIP(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// InAny reports whether ip is in one of nets: the one network check of
// the trusted proxies and of who may read /metrics.
func InAny(ip netip.Addr, nets []netip.Prefix) bool {
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}
