package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A password reset, a role change and a removal each end the account's
// API tokens at once; a token survives nothing else.
func TestCredentialChangesEndAPITokens(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(filepath.Join(dir, "accounts"), fast)
	tk, err := LoadTokens(filepath.Join(dir, "secrets", "token.key"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	const email = "ann@example.org"
	if _, err := s.Add(email, "Ann", RoleEditor, "long enough password", false); err != nil {
		t.Fatal(err)
	}
	issue := func() string {
		a, err := s.Get(email)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := tk.Issue(a)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	current := func(tok string) bool {
		c, err := tk.Check(tok)
		if err != nil {
			t.Fatal(err)
		}
		a, err := s.Get(c.Subject)
		return err == nil && c.Current(a)
	}
	tok := issue()
	if !current(tok) {
		t.Fatal("a fresh token is refused")
	}
	// Making and revoking personal tokens is not a credential change.
	pt, _, err := s.CreateToken(email, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(email, pt.ID); err != nil || !current(tok) {
		t.Fatalf("token refused after PAT changes: %v", err)
	}

	// In this order: a reset sets the role too, the role change then
	// makes the admin checked below.
	for _, c := range []struct {
		name   string
		change func() error
	}{
		{"password reset", func() error { _, err := s.Add(email, "", RoleEditor, "another long password", true); return err }},
		{"role change", func() error { _, err := s.SetRole(email, RoleAdmin); return err }},
	} {
		name, change := c.name, c.change
		tok := issue()
		if err := change(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if current(tok) {
			t.Errorf("%s: a token issued before is still accepted", name)
		}
		if !current(issue()) {
			t.Errorf("%s: a token issued after is refused", name)
		}
	}
	if a, _ := s.Get(email); a.Name != "Ann" || a.Role != RoleAdmin {
		t.Errorf("after the changes: %+v", a)
	}

	tok = issue()
	_, secret, _ := s.CreateToken(email, "ci")
	if err := s.Remove(email); err != nil {
		t.Fatal(err)
	}
	if current(tok) {
		t.Error("a removed account's token is accepted")
	}
	if _, err := s.FindToken(secret); !errors.Is(err, ErrBadToken) {
		t.Errorf("a removed account's personal token: %v", err)
	}
	if err := s.Remove(email); !errors.Is(err, ErrNoAccount) {
		t.Errorf("removing twice: %v", err)
	}
	// Added again, the same email gets a new generation: the old account's
	// tokens stay refused.
	if _, err := s.Add(email, "Ann", RoleEditor, "long enough password", false); err != nil {
		t.Fatal(err)
	}
	if current(tok) {
		t.Error("a token of the removed account works for the new one")
	}
}

// Expired and invalid tokens are told apart; only a token that would be
// good but for its age is called expired.
func TestTokenErrors(t *testing.T) {
	dir := t.TempDir()
	tk, err := LoadTokens(filepath.Join(dir, "k"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := tk.Issue(Account{Email: "ann@example.org", Role: RoleEditor})
	tk.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := tk.Check(tok); !errors.Is(err, ErrExpired) || errors.Is(err, ErrInvalidToken) {
		t.Errorf("expired: %v", err)
	}
	other, _ := LoadTokens(filepath.Join(dir, "other"), time.Hour)
	other.now = tk.now
	if _, err := other.Check(tok); !errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrExpired) {
		t.Errorf("expired and signed with another key: %v", err)
	}
	for _, bad := range []string{"", "x", "a.b.c", tok + "x"} {
		if _, err := tk.Check(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// PATs are found from the token alone, and only while they exist.
func TestFindToken(t *testing.T) {
	s := NewStore(t.TempDir(), fast)
	for _, e := range []string{"ann@example.org", "bob@example.org"} {
		if _, err := s.Add(e, "", RoleEditor, "long enough password", false); err != nil {
			t.Fatal(err)
		}
	}
	_, annSecret, _ := s.CreateToken("ann@example.org", "")
	bt, bobSecret, _ := s.CreateToken("bob@example.org", "")
	if a, err := s.FindToken(annSecret); err != nil || a.Email != "ann@example.org" {
		t.Fatalf("ann: %+v %v", a, err)
	}
	if a, err := s.FindToken(bobSecret); err != nil || a.Email != "bob@example.org" {
		t.Fatalf("bob: %+v %v", a, err)
	}
	// Bob's id with another secret, a token without its secret, garbage.
	id := strings.Split(bobSecret, "_")[1]
	for _, bad := range []string{TokenPrefix + id + "_" + strings.Repeat("A", 43), TokenPrefix + id + "_", TokenPrefix, "chr_x_y", annSecret + "x"} {
		if _, err := s.FindToken(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if err := s.RevokeToken("bob@example.org", bt.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindToken(bobSecret); !errors.Is(err, ErrBadToken) {
		t.Errorf("revoked: %v", err)
	}
}

// The accounts and secrets folders are private, and made private if they
// were not.
func TestFoldersArePrivate(t *testing.T) {
	dir := t.TempDir()
	accounts, secrets := filepath.Join(dir, "accounts"), filepath.Join(dir, "secrets")
	for _, d := range []string{accounts, secrets} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := NewStore(accounts, fast)
	if err := s.Prepare(); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTokens(filepath.Join(secrets, "token.key"), time.Hour); err != nil {
		t.Fatal(err)
	}
	fresh := NewStore(filepath.Join(dir, "new", "accounts"), fast)
	if _, err := fresh.Add("ann@example.org", "", RoleEditor, "long enough password", false); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{accounts, secrets, filepath.Join(dir, "new", "accounts")} {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", d, st.Mode(), err)
		}
	}
}

// A stranger failing on purpose spends the account's budget, but the
// owner still signs in from an address that signed in before; each
// address and each (account, address) pair has its own budget.
func TestSignInPolicy(t *testing.T) {
	p := NewSignIns(time.Hour, 3)
	const ann = "ann@example.org"
	if ok, _ := p.Password(ann, "10.0.0.1"); !ok {
		t.Fatal("first attempt refused")
	}
	p.Succeeded(ann, "10.0.0.1") // ann's laptop
	// Ann's first attempt spent one of the account's 3: the stranger gets 2.
	for i := 0; i < 2; i++ {
		if ok, _ := p.Password("ANN@example.org", "192.0.2.66"); !ok {
			t.Fatalf("stranger's attempt %d refused early", i)
		}
	}
	ok, wait := p.Password(ann, "192.0.2.66")
	if ok || wait < 59*time.Minute {
		t.Fatalf("stranger over the account's budget: %v %s", ok, wait)
	}
	// More addresses do not help the stranger.
	if ok, _ := p.Password(ann, "192.0.2.67"); ok {
		t.Fatal("a new address got past the account's spent budget")
	}
	// Ann, from her laptop, is not locked out: she has her pair's budget.
	for i := 0; i < 2; i++ {
		if ok, _ := p.Password(ann, "10.0.0.1"); !ok {
			t.Fatalf("the owner's known address was locked out (attempt %d)", i)
		}
	}
	if ok, _ := p.Password(ann, "10.0.0.1"); ok {
		t.Fatal("a known address has no limit of its own")
	}
	// Another account from the stranger's first new address is fine.
	if ok, _ := p.Password("bob@example.org", "192.0.2.67"); !ok {
		t.Fatal("an unrelated account is limited")
	}
	// A refused attempt spends nothing: 192.0.2.67 still has budget.
	if ok, _ := p.Password("carol@example.org", "192.0.2.67"); !ok {
		t.Fatal("a refused attempt spent the address's budget")
	}

	// Tokens: failures count per address and, over the budget, are told
	// to wait; a good token is never refused, whoever failed before.
	for i := 0; i < 3; i++ {
		if over, _ := p.TokenFailed("198.51.100.1"); over {
			t.Fatalf("wrong token %d over the limit early", i)
		}
	}
	if over, wait := p.TokenFailed("198.51.100.1"); !over || wait < 59*time.Minute {
		t.Fatalf("fourth wrong token: %v %s", over, wait)
	}
	// The address's budget is shared with passwords.
	if ok, _ := p.Password("dave@example.org", "198.51.100.1"); ok {
		t.Fatal("an address that guessed tokens may guess passwords")
	}
}
