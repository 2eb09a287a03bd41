package webui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// access is who may call a route.
type access int

const (
	public access = iota // anyone; a valid token may still widen what is seen
	editor               // role editor or admin
	admin                // role admin
)

type principalKey struct{}

// principal returns the authenticated account of the request, if any.
func principal(r *http.Request) (auth.Account, bool) {
	a, ok := r.Context().Value(principalKey{}).(auth.Account)
	return a, ok
}

func actor(a auth.Account) command.Actor { return command.Actor{Name: a.Name, Email: a.Email} }

// authenticate checks a bearer token, if one is sent: an API token (a JWT
// from POST /auth/token) or a personal access token ("chr_…"). Either is
// checked against the account as it is now on disk, so a removed account,
// a revoked token, a password reset or a role change takes effect at once.
// Each refusal says which of these it was, and nothing that tells whether
// some other account or token exists.
func (h *Handler) authenticate(r *http.Request) (auth.Account, bool, error) {
	hdr := r.Header.Get("Authorization")
	if hdr == "" {
		return auth.Account{}, false, nil
	}
	scheme, tok, ok := strings.Cut(hdr, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t") {
		return auth.Account{}, false, unauthorized("malformed Authorization header: send \"Authorization: Bearer <token>\" with an API token from POST /api/v1/auth/token or a personal access token (chr_…)")
	}
	if auth.IsPersonalToken(tok) {
		return h.authenticatePAT(r, tok)
	}
	claims, err := h.cfg.Tokens.Check(tok)
	if errors.Is(err, auth.ErrExpired) {
		return auth.Account{}, false, unauthorized("the API token expired at %s: get a new one from POST /api/v1/auth/token",
			claims.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return auth.Account{}, false, unauthorized("the API token is invalid (not one this site issued, or altered): get one from POST /api/v1/auth/token")
	}
	a, err := h.cfg.Accounts.Get(claims.Subject)
	if errors.Is(err, auth.ErrNoAccount) {
		return auth.Account{}, false, unauthorized("the token's account no longer exists")
	}
	if err != nil {
		return auth.Account{}, false, fmt.Errorf("read the token's account: %w", err)
	}
	if !claims.Current(a) {
		return auth.Account{}, false, unauthorized("the API token was issued before the account's password or role changed: get a new one from POST /api/v1/auth/token")
	}
	return a, true, nil
}

// authenticatePAT checks a personal access token sent as a bearer token.
// Wrong tokens count against the client's address in the sign-in policy;
// over its budget they are answered 429.
func (h *Handler) authenticatePAT(r *http.Request, tok string) (auth.Account, bool, error) {
	a, err := h.cfg.Accounts.FindToken(tok)
	if errors.Is(err, auth.ErrBadToken) {
		addr := h.clientAddr(r)
		h.log.Info("personal access token refused", "addr", addr)
		if over, wait := h.signIns.TokenFailed(addr); over {
			return auth.Account{}, false, tooManySignIns(wait)
		}
		return auth.Account{}, false, unauthorized("unknown or revoked personal access token")
	}
	if err != nil {
		return auth.Account{}, false, fmt.Errorf("check a personal access token: %w", err)
	}
	return a, true, nil
}

func unauthorized(format string, args ...any) *Problem {
	return problem(http.StatusUnauthorized, format, args...).with("WWW-Authenticate", `Bearer realm="chronicle"`)
}

// guard enforces a route's access level before its handler runs.
func (h *Handler) guard(level access, next http.Handler) http.Handler {
	return h.api(func(w http.ResponseWriter, r *http.Request) error {
		a, ok, err := h.authenticate(r)
		if err != nil {
			return err
		}
		if !ok && level != public {
			return unauthorized("this needs an API token (from POST /api/v1/auth/token) or a personal access token, as \"Authorization: Bearer <token>\"")
		}
		if level == admin && a.Role != auth.RoleAdmin {
			return problem(http.StatusForbidden, "only an admin may do this; %s is %s", a.Email, a.Role)
		}
		if level == editor && !a.Role.Valid() {
			return problem(http.StatusForbidden, "this needs role editor or admin")
		}
		if ok {
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, a))
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

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

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe records latency by route template (bounded labels), and recovers
// panics into a logged 500.
func (h *Handler) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				id := errorID()
				h.log.Error("handler panicked", "error_id", id, "path", r.URL.Path, "panic", v)
				if sw.status == 0 {
					p := problem(http.StatusInternalServerError, "the server failed to handle this request; quote error id %s when reporting it", id)
					p.ErrorID = id
					writeProblem(sw, p)
				}
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
			h.httpDur.WithLabelValues(r.Method, tmpl, statusClass(status)).Observe(time.Since(start).Seconds())
		}()
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(sw, r)
	})
}

func statusClass(s int) string {
	return string(rune('0'+s/100)) + "xx"
}
