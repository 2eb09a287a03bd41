package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
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

// Tokens issues and checks HS256 API tokens. Its keys are a set: one
// signs, the others (retired by a rotation) still verify the tokens they
// signed until those expire; a token names its key in the "kid" header.
type Tokens struct {
	keys    keySource
	ttl     time.Duration
	now     func() time.Time
	refresh time.Duration // how long a key set read is used before it is read again

	mu      sync.Mutex
	set     KeySet
	fetched time.Time
}

// Key is one HS256 key.
type Key struct {
	ID     string `json:"id"`
	Secret []byte `json:"secret"`
	// Retired is when the key stopped signing; it verifies until the
	// tokens it signed have expired.
	Retired time.Time `json:"retired,omitzero"`
}

// KeySet is the keys tokens are checked with, and which one signs.
type KeySet struct {
	Signing string `json:"signing"`
	Keys    []Key  `json:"keys"`
}

func (ks KeySet) key(id string) (Key, bool) {
	for _, k := range ks.Keys {
		if k.ID == id {
			return k, true
		}
	}
	return Key{}, false
}

// keySource is where a Tokens reads its key set: files on one node
// (filekeys.go), a key-value bucket every node shares (kvkeys.go).
type keySource interface{ load() (KeySet, error) }

// keyWriter is a key source a rotation can change: update reads the
// set, passes it to fn and writes what fn returns, atomically against
// other writers (another node, `chronicle token rotate-key`).
type keyWriter interface {
	update(ctx context.Context, fn func(KeySet) (KeySet, error)) error
}

// refreshKeys is how long a key set read from the shared bucket is used
// before it is read again (sooner when a token names a key not in it:
// another node rotated).
const refreshKeys = 10 * time.Second

// keySet returns the key set, read again if it is old or lacks kid.
func (t *Tokens) keySet(kid string) (KeySet, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, known := t.set.key(kid)
	if t.fetched.IsZero() || time.Since(t.fetched) >= t.refresh || kid != "" && !known {
		set, err := t.keys.load()
		if err != nil {
			return KeySet{}, err
		}
		t.set, t.fetched = set, time.Now()
	}
	return t.set, nil
}

func newKey() (Key, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Key{}, err
	}
	id := make([]byte, 6)
	rand.Read(id)
	return Key{ID: fmt.Sprintf("%x", id), Secret: b}, nil
}

// fileKeyID names the key of a token.key file, the same on every read.
func fileKeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return fmt.Sprintf("f%x", sum[:5])
}

// LoadTokens returns tokens whose keys are files beside keyFile (see
// fileKeys), creating a random signing key on first use. The keys never
// leave the data directory; its folder is made private (0700), and
// tightened if it exists. A rotation (RotateKey, here or in another
// process) is seen at the next token issued or checked.
func LoadTokens(keyFile string, ttl time.Duration) (*Tokens, error) {
	if _, err := readKeyFile(keyFile, true); err != nil {
		return nil, err
	}
	src := newFileKeys(keyFile)
	if _, err := src.load(); err != nil {
		return nil, err
	}
	// Read at every use: load is a stat(2) while the files are unchanged.
	return newTokens(src, ttl, 0), nil
}

// readKeyFile reads a token.key, creating it if create; nil if it does
// not exist and create is false.
func readKeyFile(keyFile string, create bool) ([]byte, error) {
	key, err := os.ReadFile(keyFile)
	if errors.Is(err, os.ErrNotExist) && !create {
		return nil, nil
	}
	if err := PrivateDir(filepath.Dir(keyFile)); err != nil {
		return nil, err
	}
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
	return key, nil
}

func newTokens(src keySource, ttl, refresh time.Duration) *Tokens {
	if ttl <= 0 {
		ttl = time.Hour
	}
	return &Tokens{keys: src, ttl: ttl, now: time.Now, refresh: refresh}
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
	set, err := t.keySet("")
	if err != nil {
		return "", time.Time{}, err
	}
	k, ok := set.key(set.Signing)
	if !ok {
		return "", time.Time{}, fmt.Errorf("the signing key %s is not in the key set", set.Signing)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"] = k.ID
	s, err := tok.SignedString(k.Secret)
	return s, exp, err
}

// Check verifies a token's signature, algorithm, issuer, audience and
// expiry, and returns its claims. Errors are ErrExpired (only for a token
// whose signature and claims are otherwise good) or ErrInvalidToken.
func (t *Tokens) Check(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, t.verifyKey,
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

// verifyKey is the key a token names in its "kid" header; a token
// without one (issued before keys had ids) is checked with the signing
// key.
func (t *Tokens) verifyKey(tok *jwt.Token) (any, error) {
	kid, _ := tok.Header["kid"].(string)
	set, err := t.keySet(kid)
	if err != nil {
		return nil, err
	}
	if kid == "" {
		kid = set.Signing
	}
	k, ok := set.key(kid)
	if !ok {
		return nil, fmt.Errorf("unknown key %q", kid)
	}
	return k.Secret, nil
}
