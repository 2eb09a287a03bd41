package webui

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

type tokenRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type tokenResponse struct {
	Token     string `json:"token"`
	TokenType string `json:"token_type"`
	ExpiresIn int    `json:"expires_in"`
	ExpiresAt string `json:"expires_at"`
}

// createToken exchanges an email and password for an API token. Attempts
// are limited by the sign-in policy shared with git (see auth.SignIns).
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Email == "" {
		return fieldProblem(http.StatusUnprocessableEntity, "email", "is required")
	}
	if req.Password == "" {
		return fieldProblem(http.StatusUnprocessableEntity, "password", "is required")
	}
	addr := h.clientAddr(r)
	if ok, wait := h.signIns.Password(req.Email, addr); !ok {
		return tooManySignIns(wait)
	}
	a, err := h.cfg.Accounts.Authenticate(req.Email, req.Password)
	if errors.Is(err, auth.ErrNoAccount) || errors.Is(err, auth.ErrBadPassword) {
		h.log.Info("sign-in refused", "email", auth.NormalizeEmail(req.Email), "addr", addr)
		return unauthorized("wrong email or password")
	}
	if err != nil {
		return fmt.Errorf("authenticate: %w", err)
	}
	h.signIns.Succeeded(a.Email, addr)
	tok, exp, err := h.cfg.Tokens.Issue(a)
	if err != nil {
		return fmt.Errorf("issue token: %w", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, tokenResponse{Token: tok, TokenType: "Bearer",
		ExpiresIn: int(exp.Sub(h.cfg.Tokens.Now()).Seconds()), ExpiresAt: exp.UTC().Format("2006-01-02T15:04:05Z")})
}

// clientAddr is the address sign-in attempts are counted for.
func (h *Handler) clientAddr(r *http.Request) string {
	return clientOf(r, h.cfg.TrustedProxies)
}

// clientOf is who sent r, for sign-in budgets: its peer's address, or,
// when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not one (a client can put anything at the
// start of that header; only what trusted proxies appended counts). An
// IPv6 client counts by its /64, since one host commonly has all of it.
func clientOf(r *http.Request, trusted []netip.Prefix) string {
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(peer)
	if err != nil {
		return peer
	}
	ip = ip.Unmap()
	if inAny(ip, trusted) {
		var hops []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(v, ",")...)
		}
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a garbled hop: trust nothing before it
			}
			if ip = hop.Unmap(); !inAny(ip, trusted) {
				break
			}
		}
	}
	return clientOfIP(ip)
}

func inAny(ip netip.Addr, nets []netip.Prefix) bool {
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// retryAfter is a wait in whole seconds, at least 1.
func retryAfter(wait time.Duration) int { return max(1, int(math.Ceil(wait.Seconds()))) }

// tooManySignIns is the answer over the sign-in limit.
func tooManySignIns(wait time.Duration) *Problem {
	secs := retryAfter(wait)
	return problem(http.StatusTooManyRequests, "too many sign-in attempts: try again in %d seconds", secs).
		with("Retry-After", fmt.Sprint(secs))
}
