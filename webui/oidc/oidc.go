// Package oidc signs people in with an OpenID Connect provider ("Sign in
// with Google", or any issuer with discovery): the authorization code
// flow with PKCE, state and nonce, through coreos/go-oidc and
// x/oauth2. It says who someone is (a verified email) and what role the
// provider's claims give; the accounts, sessions and pages are the
// caller's.
package oidc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Config is the provider and who may sign in with it.
type Config struct {
	Issuer       string // e.g. https://accounts.google.com
	ClientID     string
	ClientSecret string
	// RedirectURL is this site's callback, as registered with the
	// provider: <public URL>/admin/login/oidc/callback.
	RedirectURL string
	// AllowedEmails and AllowedDomains limit who may sign in; with both
	// empty, anyone whose verified email has an account here.
	AllowedEmails  []string
	AllowedDomains []string
	// SignUpRole, when set, lets a verified, allowed email without an
	// account sign up with that role; it needs an allow-list.
	SignUpRole string
	// RoleClaim names a claim (e.g. "groups") whose values give the role
	// at every sign-in: the highest of Roles found in it. Empty: the
	// account's own role. It is also asked for as a scope.
	RoleClaim string
	// Roles are the role names, lowest first, that RoleClaim may carry.
	Roles []string
	// Name is the provider as the sign-in button names it.
	Name string
	// HTTPClient talks to the provider; default one with a 10 s timeout.
	HTTPClient *http.Client
}

// Validate checks a configuration before the daemon starts with it.
func (c Config) Validate() error {
	switch {
	case c.Issuer == "" || c.ClientID == "":
		return errors.New("OIDC needs an issuer URL and a client id")
	case !strings.HasPrefix(c.Issuer, "https://") && !strings.HasPrefix(c.Issuer, "http://127.0.0.1") && !strings.HasPrefix(c.Issuer, "http://localhost"):
		return fmt.Errorf("OIDC issuer %q must be an https URL", c.Issuer)
	case c.RedirectURL == "":
		return errors.New("OIDC needs the site's public URL (--public-url) to tell the provider where to come back")
	case c.SignUpRole != "" && len(c.AllowedEmails) == 0 && len(c.AllowedDomains) == 0:
		return errors.New("OIDC sign-up needs an allow-list of emails or domains: otherwise anyone with an account at the provider could sign up")
	case c.SignUpRole != "" && !slices.Contains(c.Roles, c.SignUpRole):
		return fmt.Errorf("OIDC sign-up role %q is not a role (%s)", c.SignUpRole, strings.Join(c.Roles, ", "))
	}
	return nil
}

// Client runs the flow. The provider is discovered on first use (and
// again after a failure), so a provider that is down at start-up delays
// nothing but its own sign-ins: passwords keep working.
type Client struct {
	cfg Config

	mu       sync.Mutex
	provider *gooidc.Provider
}

// New returns a client for cfg (which Validate accepted).
func New(cfg Config) *Client {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Name == "" {
		cfg.Name = "single sign-on"
		if (&Client{cfg: cfg}).google() {
			cfg.Name = "Google"
		}
	}
	return &Client{cfg: cfg}
}

// Name is the provider's name for the sign-in button.
func (c *Client) Name() string { return c.cfg.Name }

func (c *Client) discover(ctx context.Context) (*gooidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, c.cfg.HTTPClient), c.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover the OIDC provider %s: %w", c.cfg.Issuer, err)
	}
	c.provider = p
	return p, nil
}

func (c *Client) oauth(p *gooidc.Provider) *oauth2.Config {
	scopes := []string{gooidc.ScopeOpenID, "email", "profile"}
	if c.cfg.RoleClaim != "" {
		// Providers with a groups claim (Dex, Keycloak…) send it only when
		// asked for by a scope of its name.
		scopes = append(scopes, c.cfg.RoleClaim)
	}
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: c.cfg.RedirectURL, Scopes: scopes}
}

// Flow is what one sign-in attempt keeps between leaving for the
// provider and coming back: in the browser's session, used once.
type Flow struct {
	State, Nonce, Verifier string
}

// Start begins a sign-in: the flow to keep, and the provider's URL to
// send the browser to.
func (c *Client) Start(ctx context.Context) (Flow, string, error) {
	p, err := c.discover(ctx)
	if err != nil {
		return Flow{}, "", err
	}
	f := Flow{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
	u := c.oauth(p).AuthCodeURL(f.State, gooidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	return f, u, nil
}

// Identity is who the provider says signed in.
type Identity struct {
	Email string
	Name  string
	// Role is what RoleClaim gives ("" without RoleClaim).
	Role string
}

// Refusal is a sign-in the provider or the rules refused, with what to
// tell the person; nothing about it is an internal error.
type Refusal struct {
	Reason string
	Email  string // who the provider said it was, when it got that far
}

func (r *Refusal) Error() string { return r.Reason }

func refuse(format string, args ...any) error { return &Refusal{Reason: fmt.Sprintf(format, args...)} }

// Finish completes a sign-in from the provider's redirect: the state
// must be the flow's, the code is exchanged with the flow's PKCE
// verifier, and the ID token must come from the issuer, for this client,
// with the flow's nonce and a verified email that the allow-list lets in.
func (c *Client) Finish(ctx context.Context, f Flow, state, code string) (Identity, error) {
	if f.State == "" || state != f.State {
		return Identity{}, refuse("This sign-in was not started here, or it was finished already: start again.")
	}
	if code == "" {
		return Identity{}, refuse("The provider sent no authorization code: start again.")
	}
	p, err := c.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	ctx = gooidc.ClientContext(ctx, c.cfg.HTTPClient)
	tok, err := c.oauth(p).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return Identity{}, refuse("The provider refused the sign-in (%s): start again.", re.ErrorCode)
		}
		return Identity{}, fmt.Errorf("exchange the authorization code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return Identity{}, refuse("The provider sent no ID token.")
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: c.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return Identity{}, refuse("The provider's ID token is not valid for this site: %v", err)
	}
	if idt.Nonce != f.Nonce {
		return Identity{}, refuse("The provider's ID token belongs to another sign-in (its nonce differs): start again.")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, refuse("The provider's ID token could not be read.")
	}
	email, _ := claims["email"].(string)
	email = strings.TrimSpace(email)
	for _, r := range email {
		if r >= 0x80 {
			// Unicode case folding maps some letters onto ASCII ones (the
			// Kelvin sign onto k): such an address could match another's
			// account or an allow-list entry.
			return Identity{}, refuse("This site takes only ASCII email addresses from the provider.")
		}
	}
	email = strings.ToLower(email)
	if email == "" {
		return Identity{}, refuse("The provider did not say which email signed in (the email scope is needed).")
	}
	if !verified(claims["email_verified"]) {
		return Identity{}, &Refusal{Email: email, Reason: fmt.Sprintf("The provider has not verified %s: verify it there first.", email)}
	}
	if !c.allowed(email, claims) {
		return Identity{}, &Refusal{Email: email, Reason: fmt.Sprintf("%s may not sign in to this site.", email)}
	}
	id := Identity{Email: email}
	id.Name, _ = claims["name"].(string)
	if c.cfg.RoleClaim != "" {
		if id.Role = c.roleOf(claims[c.cfg.RoleClaim]); id.Role == "" {
			return Identity{}, &Refusal{Email: email, Reason: fmt.Sprintf("The provider gives %s no role on this site (claim %q).", email, c.cfg.RoleClaim)}
		}
	}
	return id, nil
}

// google reports whether the provider is Google.
func (c *Client) google() bool {
	return strings.TrimSuffix(c.cfg.Issuer, "/") == "https://accounts.google.com"
}

// SignUpRole is the role of an account made at first sign-in, or "".
func (c *Client) SignUpRole() string { return c.cfg.SignUpRole }

// verified reads email_verified, which some providers send as a string.
func verified(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

func (c *Client) allowed(email string, claims map[string]any) bool {
	if len(c.cfg.AllowedEmails) == 0 && len(c.cfg.AllowedDomains) == 0 {
		return true
	}
	for _, e := range c.cfg.AllowedEmails {
		if strings.EqualFold(e, email) {
			return true
		}
	}
	_, domain, _ := strings.Cut(email, "@")
	hd, _ := claims["hd"].(string) // Google's hosted domain, when there is one
	for _, d := range c.cfg.AllowedDomains {
		if c.google() {
			// A personal Google account can carry a verified address of
			// any domain (an ex-employee's, say): only the Workspace's
			// hosted domain says the account is the organisation's.
			if strings.EqualFold(d, hd) && strings.EqualFold(d, domain) {
				return true
			}
			continue
		}
		if strings.EqualFold(d, domain) && (hd == "" || strings.EqualFold(d, hd)) {
			return true
		}
	}
	return false
}

// roleOf is the highest role a claim's value names.
func (c *Client) roleOf(v any) string {
	var values []string
	switch v := v.(type) {
	case string:
		values = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				values = append(values, s)
			}
		}
	}
	best := -1
	for _, s := range values {
		if i := slices.Index(c.cfg.Roles, s); i > best {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return c.cfg.Roles[best]
}

func random() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
