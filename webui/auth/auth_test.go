package auth

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var fast = Argon2Params{Time: 1, Memory: 1024, Threads: 1}

func TestPasswords(t *testing.T) {
	s := NewStore(t.TempDir(), fast)
	if _, err := s.Add(" Ann@Example.org ", "Ann", RoleEditor, "long enough password", false); err != nil {
		t.Fatal(err)
	}
	a, err := s.Authenticate("ann@example.ORG", "long enough password")
	if err != nil || a.Role != RoleEditor || a.Email != "ann@example.org" || !strings.HasPrefix(a.PasswordHash, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("authenticate: %+v %v", a, err)
	}
	if _, err := s.Authenticate("ann@example.org", "long enough passworD"); !errors.Is(err, ErrBadPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := s.Authenticate("bob@example.org", "long enough password"); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("unknown account: %v", err)
	}
	if _, err := s.Add("ann@example.org", "", RoleAdmin, "another long password", false); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := s.Add("ann@example.org", "", RoleAdmin, "another long password", true); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Authenticate("ann@example.org", "another long password"); a.Role != RoleAdmin {
		t.Fatalf("reset: %+v", a)
	}
	// A hash asking for absurd work is refused rather than computed.
	if s.verify("$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "x") {
		t.Fatal("verified a hostile hash")
	}
}

func TestTokens(t *testing.T) {
	dir := t.TempDir()
	tk, err := LoadTokens(filepath.Join(dir, "k"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := LoadTokens(filepath.Join(dir, "k"), time.Hour)
	tok, _, err := tk.Issue(Account{Email: "ann@example.org", Role: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := again.Check(tok); err != nil || c.Subject != "ann@example.org" || c.Role != RoleAdmin {
		t.Fatalf("check with the reloaded key: %+v %v", c, err)
	}
	set, err := tk.keySet("")
	if err != nil {
		t.Fatal(err)
	}
	sign := func(m jwt.SigningMethod, c Claims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(set.Keys[0].Secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := func() Claims {
		now := time.Now()
		return Claims{Role: RoleAdmin, RegisteredClaims: jwt.RegisteredClaims{Issuer: Issuer, Audience: jwt.ClaimStrings{Audience},
			Subject: "ann@example.org", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}}
	}
	for name, mutate := range map[string]func(*Claims) (jwt.SigningMethod, bool){
		"valid": func(c *Claims) (jwt.SigningMethod, bool) { return jwt.SigningMethodHS256, true },
		"HS512": func(c *Claims) (jwt.SigningMethod, bool) { return jwt.SigningMethodHS512, false },
		"expired": func(c *Claims) (jwt.SigningMethod, bool) {
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
			return jwt.SigningMethodHS256, false
		},
		"no expiry":    func(c *Claims) (jwt.SigningMethod, bool) { c.ExpiresAt = nil; return jwt.SigningMethodHS256, false },
		"other issuer": func(c *Claims) (jwt.SigningMethod, bool) { c.Issuer = "someone"; return jwt.SigningMethodHS256, false },
		"other aud": func(c *Claims) (jwt.SigningMethod, bool) {
			c.Audience = jwt.ClaimStrings{"x"}
			return jwt.SigningMethodHS256, false
		},
		"future iat": func(c *Claims) (jwt.SigningMethod, bool) {
			c.IssuedAt = jwt.NewNumericDate(time.Now().Add(time.Hour))
			return jwt.SigningMethodHS256, false
		},
	} {
		c := good()
		m, ok := mutate(&c)
		if _, err := tk.Check(sign(m, c)); (err == nil) != ok {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// The signature's first character changed: all six of its bits are
	// the signature's (the last ones were "xx" once in about a thousand
	// tokens, or differed only in bits the decoder drops).
	at := strings.LastIndexByte(tok, '.') + 1
	other := byte('A')
	if tok[at] == other {
		other = 'B'
	}
	if _, err := tk.Check(tok[:at] + string(other) + tok[at+1:]); err == nil {
		t.Error("tampered signature accepted")
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(time.Hour, 2)
	ok1, _ := l.Allow("a")
	ok2, _ := l.Allow("a")
	ok3, wait := l.Allow("a")
	okB, _ := l.Allow("b")
	if !ok1 || !ok2 || ok3 || wait < 59*time.Minute || !okB {
		t.Fatalf("%v %v %v(%s) %v", ok1, ok2, ok3, wait, okB)
	}
}
