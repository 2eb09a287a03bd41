package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// Access is who may call a route: anyone, any signed-in account, or an
// account whose role has a capability (Need). The capability is judged
// by the policy, never here.
type Access string

const (
	Public   Access = ""          // anyone; a valid token may still widen what is seen
	SignedIn Access = "signed-in" // any account, whatever its role
)

// Need is the access of a route that needs capability c.
func Need(c policy.Capability) Access { return Access("need:" + string(c)) }

// Capability is the capability a needs, if it needs one.
func (a Access) Capability() (policy.Capability, bool) {
	c, ok := strings.CutPrefix(string(a), "need:")
	return policy.Capability(c), ok
}

// String says who a admits: "public", "signed-in" or the capability.
func (a Access) String() string {
	if c, ok := a.Capability(); ok {
		return string(c)
	}
	if a == Public {
		return "public"
	}
	return string(a)
}

// Actor is the account as the policy sees it.
func (a Account) Actor() policy.Actor { return policy.Actor{Email: a.Email, Role: a.Role} }

// Permit refuses a with a 403 that says what its role may not do, if
// its role lacks c.
func Permit(a Account, c policy.Capability) error {
	if err := a.Actor().Check(c); err != nil {
		return httperr.New(http.StatusForbidden, "%s", err.Error())
	}
	return nil
}

// Authenticator signs requests in, for every area: bearer tokens for the
// API (and the admin to come), and the one sign-in policy (SignIns) with
// the one idea of who the client is (ClientOf) for all sign-ins.
type Authenticator struct {
	Accounts *Store
	Tokens   *Tokens
	SignIns  *SignIns
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client.
	TrustedProxies []netip.Prefix
	Log            *slog.Logger
	// Security records account events (see Record); nil records none.
	Security SecurityLog
}

// ClientAddr is the client sign-in attempts of r are counted for.
func (au *Authenticator) ClientAddr(r *http.Request) string { return ClientOf(r, au.TrustedProxies) }

type principalKey struct{}

// Principal returns the authenticated account of the request, if any.
func Principal(r *http.Request) (Account, bool) {
	a, ok := r.Context().Value(principalKey{}).(Account)
	return a, ok
}

// WithPrincipal returns r carrying a as its authenticated account.
func WithPrincipal(r *http.Request, a Account) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, a))
}

// Authenticate checks a bearer token, if one is sent: an API token (a JWT
// from POST /auth/token) or a personal access token ("chr_…"). Either is
// checked against the account as it is now on disk, so a removed account,
// a revoked token, a password reset or a role change takes effect at once.
// Each refusal says which of these it was, and nothing that tells whether
// some other account or token exists.
func (au *Authenticator) Authenticate(r *http.Request) (Account, bool, error) {
	hdr := r.Header.Get("Authorization")
	if hdr == "" {
		return Account{}, false, nil
	}
	scheme, tok, ok := strings.Cut(hdr, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t") {
		return Account{}, false, Unauthorized("malformed Authorization header: send \"Authorization: Bearer <token>\" with an API token from POST /api/v1/auth/token or a personal access token (chr_…)")
	}
	if IsPersonalToken(tok) {
		return au.authenticatePAT(r, tok)
	}
	claims, err := au.Tokens.Check(tok)
	if errors.Is(err, ErrExpired) {
		return Account{}, false, Unauthorized("the API token expired at %s: get a new one from POST /api/v1/auth/token",
			claims.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return Account{}, false, Unauthorized("the API token is invalid (not one this site issued, or altered): get one from POST /api/v1/auth/token")
	}
	a, err := au.Accounts.Get(claims.Subject)
	if errors.Is(err, ErrNoAccount) {
		return Account{}, false, Unauthorized("the token's account no longer exists")
	}
	if err != nil {
		return Account{}, false, fmt.Errorf("read the token's account: %w", err)
	}
	if a.Disabled {
		return Account{}, false, Unauthorized("the token's account is disabled")
	}
	if !claims.Current(a) {
		return Account{}, false, Unauthorized("the API token was issued before the account's password or role changed: get a new one from POST /api/v1/auth/token")
	}
	return a, true, nil
}

// authenticatePAT checks a personal access token sent as a bearer token.
// Wrong tokens count against the client's address in the sign-in policy;
// over its budget they are answered 429.
func (au *Authenticator) authenticatePAT(r *http.Request, tok string) (Account, bool, error) {
	a, err := au.Accounts.FindToken(tok)
	if errors.Is(err, ErrTokenDisabled) {
		return Account{}, false, Unauthorized("the personal access token's account is disabled")
	}
	if errors.Is(err, ErrBadToken) {
		addr := au.ClientAddr(r)
		au.Log.Info("personal access token refused", "addr", addr)
		if over, wait := au.SignIns.TokenFailed(addr); over {
			return Account{}, false, TooManySignIns(wait)
		}
		au.TokenFailed(r, "api", "")
		return Account{}, false, Unauthorized("unknown or revoked personal access token")
	}
	if err != nil {
		return Account{}, false, fmt.Errorf("check a personal access token: %w", err)
	}
	return a, true, nil
}

// Unauthorized is a 401 asking for a bearer token.
func Unauthorized(format string, args ...any) *httperr.Error {
	return httperr.New(http.StatusUnauthorized, format, args...).With("WWW-Authenticate", `Bearer realm="chronicle"`)
}

// TooManySignIns is the answer over the sign-in limit, for every kind of
// sign-in: 429 with Retry-After.
func TooManySignIns(wait time.Duration) *httperr.Error {
	secs := RetryAfter(wait)
	return httperr.New(http.StatusTooManyRequests, "too many sign-in attempts: try again in %d seconds", secs).
		With("Retry-After", fmt.Sprint(secs))
}

// RetryAfter is a wait in whole seconds, at least 1.
func RetryAfter(wait time.Duration) int { return max(1, int(math.Ceil(wait.Seconds()))) }

// Guard enforces a route's access level before next runs; the area's
// adapter answers a refusal as its clients read errors.
func (au *Authenticator) Guard(level Access, next http.Handler) httperr.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, ok, err := au.Authenticate(r)
		if err != nil {
			return err
		}
		if !ok && level != Public {
			return Unauthorized("this needs an API token (from POST /api/v1/auth/token) or a personal access token, as \"Authorization: Bearer <token>\"")
		}
		if c, need := level.Capability(); need {
			if err := Permit(a, c); err != nil {
				return err
			}
		}
		if ok {
			r = WithPrincipal(r, a)
		}
		next.ServeHTTP(w, r)
		return nil
	}
}
