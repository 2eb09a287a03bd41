package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chronicle-cms/chronicle/repo/atomicfile"
)

// Token claims: issuer and audience are fixed, expiry is required.
const (
	Issuer   = "chronicle"
	Audience = "chronicle-api"
)

// Claims are what an API token says about its bearer.
type Claims struct {
	Role Role `json:"role"`
	// Generation is the account's credential generation when the token
	// was issued; see Current.
	Generation string `json:"gen,omitempty"`
	jwt.RegisteredClaims
}

// Current reports whether the token was issued for the account as it is:
// a password reset or a role change since refuses it.
func (c *Claims) Current(a Account) bool { return c.Generation == a.Generation }

var (
	// ErrExpired: the token was good but its time is over.
	ErrExpired = errors.New("token expired")
	// ErrInvalidToken: not a token this server issued (malformed, forged,
	// another algorithm, issuer or audience).
	ErrInvalidToken = errors.New("invalid token")
)

// Tokens issues and checks HS256 API tokens.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// LoadTokens reads the signing key from keyFile, creating a random one on
// first use. The key never leaves the data directory; its folder is made
// private (0700), and tightened if it exists.
func LoadTokens(keyFile string, ttl time.Duration) (*Tokens, error) {
	if err := PrivateDir(filepath.Dir(keyFile)); err != nil {
		return nil, err
	}
	key, err := os.ReadFile(keyFile)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := atomicfile.Write(keyFile, key, 0o600); err != nil {
			return nil, fmt.Errorf("write token key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read token key: %w", err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("token key %s is too short", keyFile)
	}
	if ttl <= 0 {
		ttl = time.Hour
	}
	return &Tokens{key: key, ttl: ttl, now: time.Now}, nil
}

// Issue returns a token for a and its expiry.
func (t *Tokens) Issue(a Account) (string, time.Time, error) {
	now := t.now().Truncate(time.Second)
	exp := now.Add(t.ttl)
	jti := make([]byte, 12)
	rand.Read(jti)
	c := Claims{Role: a.Role, Generation: a.Generation, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: Issuer, Audience: jwt.ClaimStrings{Audience}, Subject: a.Email,
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		ID: fmt.Sprintf("%x", jti),
	}}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	return s, exp, err
}

// Check verifies a token's signature, algorithm, issuer, audience and
// expiry, and returns its claims. Errors are ErrExpired (only for a token
// whose signature and claims are otherwise good) or ErrInvalidToken.
func (t *Tokens) Check(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer), jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(t.now), jwt.WithLeeway(5*time.Second))
	if err != nil {
		// jwt/v5 checks the signature before the claims, so an expired
		// token's other checks all passed unless it says so too.
		if errors.Is(err, jwt.ErrTokenExpired) && !errors.Is(err, jwt.ErrTokenSignatureInvalid) &&
			!errors.Is(err, jwt.ErrTokenInvalidIssuer) && !errors.Is(err, jwt.ErrTokenInvalidAudience) &&
			!errors.Is(err, jwt.ErrTokenUsedBeforeIssued) && !errors.Is(err, jwt.ErrTokenNotValidYet) &&
			!errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
			return &c, fmt.Errorf("%w at %s", ErrExpired, c.ExpiresAt.UTC().Format(time.RFC3339))
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return &c, nil
}

// Now is the tokens' clock.
func (t *Tokens) Now() time.Time { return t.now() }
