package session

import (
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Config sets up a session manager.
type Config struct {
	Store scs.Store
	// Secure marks the cookie Secure: whenever the site is served over
	// https (its public URL), so it never travels in clear.
	Secure bool
	// Path limits the cookie to one area, e.g. "/admin".
	Path string
	// IdleTimeout ends a session unused this long (default 12 hours: a
	// working day with breaks); Lifetime ends any session this long after
	// sign-in, used or not (default 7 days).
	IdleTimeout, Lifetime time.Duration
	// ErrorFunc answers a request whose session could not be loaded or
	// saved (the store failed).
	ErrorFunc func(http.ResponseWriter, *http.Request, error)
}

// Defaults of Config.
const (
	DefaultIdleTimeout = 12 * time.Hour
	DefaultLifetime    = 7 * 24 * time.Hour
	CookieName         = "chronicle_session"
)

// NewManager returns an scs manager with the cookie HttpOnly and
// SameSite=Lax (a link from elsewhere arrives signed in; a form posted
// from elsewhere does not carry the cookie, and is refused by the
// cross-origin check anyway), kept across browser restarts until a
// timeout ends it.
func NewManager(cfg Config) *scs.SessionManager {
	m := scs.New()
	m.Store = cfg.Store
	m.IdleTimeout = cfg.IdleTimeout
	if m.IdleTimeout <= 0 {
		m.IdleTimeout = DefaultIdleTimeout
	}
	m.Lifetime = cfg.Lifetime
	if m.Lifetime <= 0 {
		m.Lifetime = DefaultLifetime
	}
	m.Cookie.Name = CookieName
	m.Cookie.HttpOnly = true
	m.Cookie.SameSite = http.SameSiteLaxMode
	m.Cookie.Secure = cfg.Secure
	m.Cookie.Path = cfg.Path
	if m.Cookie.Path == "" {
		m.Cookie.Path = "/"
	}
	m.Cookie.Persist = true
	if cfg.ErrorFunc != nil {
		m.ErrorFunc = cfg.ErrorFunc
	}
	return m
}
