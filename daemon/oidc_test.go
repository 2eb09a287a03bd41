package daemon

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// provider is a real OIDC provider in the test (mockoidc) whose token
// answers a test can tamper with: an ID token re-signed with another
// nonce, or by another issuer.
type provider struct {
	*mockoidc.MockOIDC
	mu     sync.Mutex
	tamper func(claims jwt.MapClaims) *mockoidc.MockOIDC // the provider that signs instead; nil: leave it
}

func startProvider(t *testing.T) *provider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{MockOIDC: m}
	m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.mu.Lock()
			tamper := p.tamper
			p.mu.Unlock()
			if r.URL.Path != mockoidc.TokenEndpoint || tamper == nil {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil && body["id_token"] != nil {
				claims := jwt.MapClaims{}
				if _, _, err := jwt.NewParser().ParseUnverified(body["id_token"].(string), claims); err != nil {
					t.Errorf("parse the provider's ID token: %v", err)
				}
				signer := tamper(claims)
				if body["id_token"], err = signer.Keypair.SignJWT(claims); err != nil {
					t.Errorf("sign: %v", err)
				}
			}
			b, _ := json.Marshal(body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			w.Write(b)
		})
	})
	// Middleware is chained when the server starts: add it first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return p
}

// oidcSite starts a daemon that signs in with p, on a port known before
// it starts (the provider sends the browser back to its public URL).
func oidcSite(t *testing.T, p *provider, mods ...func(*Config)) *site {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "ad@example.org", auth.RoleAdmin)
	cfg := p.Config()
	return startSite(t, data, append([]func(*Config){func(c *Config) {
		c.Addr, c.PublicURL = addr, "http://"+addr
		c.OIDC = OIDCConfig{Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, AllowedDomains: []string{"example.org"}}
	}}, mods...)...)
}

// oidcClient is a browser without JavaScript: cookies, no redirects followed.
func oidcClient(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func fetch(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// toProvider starts a sign-in and goes to the provider, which sends the
// browser back at once: the callback URL it sends it to.
func toProvider(t *testing.T, s *site, c *http.Client) *url.URL {
	t.Helper()
	st, loc, body := fetch(t, c, s.url+"/admin/login/oidc")
	if st != http.StatusSeeOther {
		t.Fatalf("start: %d %s", st, body)
	}
	st, loc, body = fetch(t, c, loc)
	if st != http.StatusFound {
		t.Fatalf("the provider's authorize: %d %s", st, body)
	}
	back, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, s.url+"/admin/login/oidc/callback?") {
		t.Fatalf("the provider sends the browser to %q", loc)
	}
	return back
}

func signedInAs(t *testing.T, s *site, c *http.Client) string {
	st, _, body := fetch(t, c, s.url+"/admin/")
	if st != 200 {
		return ""
	}
	return body
}

// TestOIDCSignIn signs in with a real provider, then tries every way a
// sign-in must be refused: each with a clear message and no session.
func TestOIDCSignIn(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	s := oidcSite(t, p)
	// Taken first: the refusals below spend this address's sign-in budget.
	adm := s.token("ad@example.org")

	// The sign-in page offers it; it works and the session is the account's.
	if _, _, page := fetch(t, oidcClient(t), s.url+"/admin/login"); !strings.Contains(page, `href="/admin/login/oidc"`) {
		t.Fatalf("the sign-in page does not offer the provider:\n%s", page)
	}
	c := oidcClient(t)
	p.QueueUser(&mockoidc.MockUser{Subject: "ed", Email: "ed@example.org", EmailVerified: true})
	back := toProvider(t, s, c)
	st, loc, body := fetch(t, c, back.String())
	if st != http.StatusSeeOther || loc != "/admin/" {
		t.Fatalf("callback: %d to %q: %s", st, loc, body)
	}
	if dash := signedInAs(t, s, c); !strings.Contains(dash, "ed@example.org") {
		t.Fatalf("not signed in after the provider's answer")
	}
	usedCode := back.Query().Get("code")
	// Passwords still work beside it (before the refusals below spend
	// this address's sign-in budget).
	b := s.browser()
	if loc := b.signIn("ed@example.org", password); loc != "/admin/" {
		t.Errorf("password sign-in beside OIDC: to %q", loc)
	}

	tests := []struct {
		name   string
		user   *mockoidc.MockUser
		tamper func(*url.URL)                                // changes the callback URL
		token  func(claims jwt.MapClaims) *mockoidc.MockOIDC // changes the ID token
		status int
		says   string
	}{
		{name: "wrong state", tamper: func(u *url.URL) { q := u.Query(); q.Set("state", "forged"); u.RawQuery = q.Encode() },
			status: 401, says: "not started here"},
		{name: "replayed code", tamper: func(u *url.URL) { q := u.Query(); q.Set("code", usedCode); u.RawQuery = q.Encode() },
			status: 401, says: "refused the sign-in (invalid_grant)"},
		{name: "wrong nonce", token: func(c jwt.MapClaims) *mockoidc.MockOIDC { c["nonce"] = "someone-elses"; return p.MockOIDC },
			status: 401, says: "belongs to another sign-in"},
		{name: "unverified email", user: &mockoidc.MockUser{Subject: "u", Email: "ed@example.org", EmailVerified: false},
			status: 401, says: "has not verified ed@example.org"},
		{name: "outside the allow-list", user: &mockoidc.MockUser{Subject: "m", Email: "mallory@evil.test", EmailVerified: true},
			status: 401, says: "mallory@evil.test may not sign in"},
		{name: "no account", user: &mockoidc.MockUser{Subject: "n", Email: "newcomer@example.org", EmailVerified: true},
			status: 403, says: "has no account on this site"},
		{name: "another issuer", token: func(c jwt.MapClaims) *mockoidc.MockOIDC {
			other := startProvider(t)
			c["iss"] = other.Issuer()
			return other.MockOIDC
		}, status: 401, says: "not valid for this site"},
	}
	for _, tt := range tests {
		c := oidcClient(t)
		user := tt.user
		if user == nil {
			user = &mockoidc.MockUser{Subject: "ed", Email: "ed@example.org", EmailVerified: true}
		}
		p.QueueUser(user)
		back := toProvider(t, s, c)
		if tt.tamper != nil {
			tt.tamper(back)
		}
		p.mu.Lock()
		p.tamper = tt.token
		p.mu.Unlock()
		st, _, body := fetch(t, c, back.String())
		p.mu.Lock()
		p.tamper = nil
		p.mu.Unlock()
		if st != tt.status || !strings.Contains(body, tt.says) {
			t.Errorf("%s: %d, want %d saying %q:\n%s", tt.name, st, tt.status, tt.says, body)
		}
		if signedInAs(t, s, c) != "" {
			t.Errorf("%s: a session after a refused sign-in", tt.name)
		}
		// The flow is used up: the same answer again is refused too (or,
		// past this address's budget for callbacks it never started, 429).
		if st, _, _ := fetch(t, c, back.String()); st != 401 && st != 429 {
			t.Errorf("%s: the same callback again: %d", tt.name, st)
		}
	}
	// The security log tells each attempt, with the method.
	var log struct {
		Items []struct{ Type, Account, Method, Detail string }
	}
	s.do("GET", "/api/v1/security-events?limit=100", adm, nil).json(t, &log)
	seen := map[string]int{}
	for _, e := range log.Items {
		if e.Method == "oidc" {
			seen[e.Type+" "+e.Account]++
		}
	}
	for _, want := range []string{"signin.succeeded ed@example.org", "signin.failed mallory@evil.test", "signin.failed newcomer@example.org"} {
		if seen[want] == 0 {
			t.Errorf("the security log lacks %q: %v\n%+v", want, seen, log.Items)
		}
	}
	// A script calling the callback with no sign-in started is refused,
	// then limited, and fills no log.
	before := len(log.Items)
	limited := false
	for i := 0; i < 40 && !limited; i++ {
		st, _, _ := fetch(t, oidcClient(t), s.url+"/admin/login/oidc/callback?state=x&code=y")
		limited = st == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("40 callbacks from one address, none limited")
	}
	s.do("GET", "/api/v1/security-events?limit=500", adm, nil).json(t, &log)
	if n := len(log.Items) - before; n > 0 {
		t.Errorf("the flood added %d entries to the security log", n)
	}
}

// TestOIDCSignUpAndRoleClaim lets allowed emails sign up with a role,
// and takes the role from a groups claim at every sign-in.
func TestOIDCSignUpAndRoleClaim(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	s := oidcSite(t, p, func(c *Config) { c.OIDC.SignUpRole, c.OIDC.RoleClaim = "editor", "groups" })
	c := oidcClient(t)
	p.QueueUser(&mockoidc.MockUser{Subject: "n", Email: "newcomer@example.org", EmailVerified: true, Groups: []string{"staff", "admin"}})
	back := toProvider(t, s, c)
	if st, loc, body := fetch(t, c, back.String()); st != http.StatusSeeOther || loc != "/admin/" {
		t.Fatalf("sign-up: %d %q %s", st, loc, body)
	}
	a, err := auth.NewStore(s.data+"/accounts", cheapHash).Get("newcomer@example.org")
	if err != nil || a.Role != auth.RoleAdmin || a.PasswordHash != "" {
		t.Fatalf("the signed-up account: %+v %v", a, err)
	}
	// No group naming a role: refused.
	c = oidcClient(t)
	p.QueueUser(&mockoidc.MockUser{Subject: "n", Email: "newcomer@example.org", EmailVerified: true, Groups: []string{"staff"}})
	back = toProvider(t, s, c)
	if st, _, body := fetch(t, c, back.String()); st != 401 || !strings.Contains(body, "no role on this site") {
		t.Errorf("without a role in its groups: %d %s", st, body)
	}
	// An account without a password cannot sign in with an empty one.
	r := s.browser().post("/admin/login", url.Values{"email": {"newcomer@example.org"}, "password": {""}})
	if r.status == http.StatusSeeOther {
		t.Error("an account made by the provider signed in without a password")
	}
}

// TestOIDCSignInThroughABrowser clicks "Sign in with …" in chromium and
// lands on the dashboard.
func TestOIDCSignInThroughABrowser(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	s := oidcSite(t, p, func(c *Config) { c.OIDC.Name = "Example ID" })
	p.QueueUser(&mockoidc.MockUser{Subject: "ed", Email: "ed@example.org", EmailVerified: true})
	ctx, cancel := browserCtx(t, time.Minute)
	defer cancel()
	var heading, button string
	err := chromedp.Run(ctx,
		chromedp.Navigate(s.url+"/admin/login"),
		chromedp.Text("#oidc", &button, chromedp.ByQuery),
		chromedp.Click("#oidc", chromedp.ByQuery),
		chromedp.WaitVisible("#drafts-h", chromedp.ByQuery),
		chromedp.Text("h1", &heading, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if button != "Sign in with Example ID" || heading != "Dashboard" {
		t.Errorf("button %q, then %q", button, heading)
	}
}
