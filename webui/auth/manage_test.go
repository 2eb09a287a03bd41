package auth

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestList(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir, fast)
	if l, err := s.List(); err != nil || len(l) != 0 {
		t.Fatalf("an empty store: %v %v", l, err)
	}
	for _, e := range []string{"zed@example.org", "Ann@Example.org", "bob@example.org"} {
		if _, err := s.Add(e, "Name of "+e, RoleEditor, "long enough password", false); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreateToken("bob@example.org", "laptop"); err != nil {
		t.Fatal(err)
	}
	// Not account files: a stray file and one whose name is not its email's.
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)
	b, _ := os.ReadFile(s.rec.(*fileRecords).path("zed@example.org"))
	os.WriteFile(filepath.Join(dir, "0123456789abcdef0123456789abcdef.json"), b, 0o600)

	l, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range l {
		got = append(got, a.Email)
		if a.PasswordHash != "" {
			t.Errorf("%s: List gives the password hash", a.Email)
		}
		if a.Generation == "" || a.CreatedAt.IsZero() || a.Name == "" {
			t.Errorf("%s: incomplete: %+v", a.Email, a)
		}
	}
	if want := []string{"ann@example.org", "bob@example.org", "zed@example.org"}; !slices.Equal(got, want) {
		t.Fatalf("List: %v, want %v", got, want)
	}
}

func TestGuardKeepsAnAdmin(t *testing.T) {
	s := NewStore(t.TempDir(), fast)
	for e, r := range map[string]Role{"ann@example.org": RoleAdmin, "bob@example.org": RoleEditor} {
		if _, err := s.Add(e, "", r, "long enough password", false); err != nil {
			t.Fatal(err)
		}
	}
	keep := Guard{KeepAdmin: true}
	if _, err := s.SetRoleGuarded("ann@example.org", RoleEditor, keep); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demote the last admin: %v", err)
	}
	if err := s.RemoveGuarded("ann@example.org", keep); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("remove the last admin: %v", err)
	}
	if a, err := s.Get("ann@example.org"); err != nil || a.Role != RoleAdmin {
		t.Fatalf("after refusals: %+v %v", a, err)
	}
	// An editor is not the last admin; nor is an admin once there is another.
	if _, err := s.SetRoleGuarded("ann@example.org", RoleAdmin, keep); err != nil {
		t.Fatalf("an admin stays admin: %v", err)
	}
	if err := s.RemoveGuarded("bob@example.org", keep); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add("cid@example.org", "", RoleAdmin, "long enough password", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetRoleGuarded("ann@example.org", RoleEditor, keep); err != nil {
		t.Fatalf("demote one of two admins: %v", err)
	}
	if err := s.RemoveGuarded("cid@example.org", keep); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("remove the admin left: %v", err)
	}
	// Without the guard (the CLI, run by the operator) it is allowed.
	if err := s.Remove("cid@example.org"); err != nil {
		t.Fatal(err)
	}
}

// Two admins demoting each other at once: one of them stays admin.
func TestGuardKeepsAnAdminUnderRaces(t *testing.T) {
	for range 20 {
		s := NewStore(t.TempDir(), fast)
		for _, e := range []string{"ann@example.org", "bob@example.org"} {
			if _, err := s.Add(e, "", RoleAdmin, "long enough password", false); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for _, e := range []string{"ann@example.org", "bob@example.org"} {
			wg.Go(func() { s.SetRoleGuarded(e, RoleEditor, Guard{KeepAdmin: true}) })
		}
		wg.Wait()
		l, _ := s.List()
		admins := 0
		for _, a := range l {
			if a.Role == RoleAdmin {
				admins++
			}
		}
		if admins != 1 {
			t.Fatalf("%d admins left, want 1", admins)
		}
	}
}

func TestGuardRefusesAStaleChange(t *testing.T) {
	s := NewStore(t.TempDir(), fast)
	a, err := s.Add("ann@example.org", "Ann", RoleEditor, "long enough password", false)
	if err != nil {
		t.Fatal(err)
	}
	seen := Guard{Generation: a.Generation}
	b, err := s.SetRoleGuarded(a.Email, RoleAdmin, seen)
	if err != nil || b.Generation == a.Generation {
		t.Fatalf("a current change: %+v %v", b, err)
	}
	if _, err := s.SetPassword(a.Email, "another long password", seen); !errors.Is(err, ErrStale) {
		t.Fatalf("a password change decided before the role change: %v", err)
	}
	if err := s.RemoveGuarded(a.Email, seen); !errors.Is(err, ErrStale) {
		t.Fatalf("a removal decided before the role change: %v", err)
	}
	if _, err := s.Authenticate(a.Email, "long enough password"); err != nil {
		t.Fatalf("the refused change changed the password: %v", err)
	}
}

func TestSetPassword(t *testing.T) {
	s := NewStore(t.TempDir(), fast)
	a, err := s.Add("ann@example.org", "Ann", RoleAdmin, "long enough password", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPassword(a.Email, "short", Guard{}); err == nil {
		t.Fatal("a short password was taken")
	}
	if _, err := s.SetPassword("nobody@example.org", "another long password", Guard{}); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("no account: %v", err)
	}
	b, err := s.SetPassword(a.Email, "another long password", Guard{Generation: a.Generation})
	if err != nil {
		t.Fatal(err)
	}
	if b.Generation == a.Generation || b.Role != RoleAdmin || b.Name != "Ann" || !b.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("after a password change: %+v (was %+v)", b, a)
	}
	if _, err := s.Authenticate(a.Email, "long enough password"); !errors.Is(err, ErrBadPassword) {
		t.Fatalf("the old password: %v", err)
	}
	if _, err := s.Authenticate(a.Email, "another long password"); err != nil {
		t.Fatalf("the new password: %v", err)
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p := GeneratePassword()
		if checkPassword(p) != nil || len(p) < 20 || seen[p] {
			t.Fatalf("generated %q", p)
		}
		seen[p] = true
	}
}

// A token's last use is recorded, at most once per UsedEvery, and never
// brings a revoked token back.
func TestTokenLastUsed(t *testing.T) {
	s := NewStore(t.TempDir(), fast)
	if _, err := s.Add("ann@example.org", "", RoleEditor, "long enough password", false); err != nil {
		t.Fatal(err)
	}
	git, gitSecret, _ := s.CreateToken("ann@example.org", "git")
	api, apiSecret, _ := s.CreateToken("ann@example.org", "api")
	lastUsed := func(id string) *time.Time {
		ts, err := s.Tokens("ann@example.org")
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range ts {
			if tk.ID == id {
				return tk.LastUsedAt
			}
		}
		t.Fatalf("no token %s", id)
		return nil
	}
	if lastUsed(git.ID) != nil {
		t.Fatal("a new token has been used")
	}
	if _, err := s.CheckToken("ann@example.org", gitSecret); err != nil {
		t.Fatal(err)
	}
	if at := lastUsed(git.ID); at == nil || time.Since(*at) > time.Minute {
		t.Fatalf("git use (CheckToken): %v", at)
	}
	if lastUsed(api.ID) != nil {
		t.Fatal("another token's use recorded")
	}
	if _, err := s.FindToken(apiSecret); err != nil {
		t.Fatal(err)
	}
	if at := lastUsed(api.ID); at == nil {
		t.Fatal("API use (FindToken) not recorded")
	}
	// Within UsedEvery, a use writes nothing.
	before, _ := os.ReadFile(s.rec.(*fileRecords).tokensPath("ann@example.org"))
	for range 3 {
		s.CheckToken("ann@example.org", gitSecret)
		s.FindToken(apiSecret)
	}
	if after, _ := os.ReadFile(s.rec.(*fileRecords).tokensPath("ann@example.org")); string(after) != string(before) {
		t.Fatal("uses within the hour rewrote the token file")
	}
	// A use checked before a revocation and recorded after it.
	ts, _ := s.Tokens("ann@example.org")
	old := ts[0]
	old.LastUsedAt = nil
	if err := s.RevokeToken("ann@example.org", old.ID); err != nil {
		t.Fatal(err)
	}
	s.used("ann@example.org", old)
	if _, err := s.CheckToken("ann@example.org", gitSecret); !errors.Is(err, ErrBadToken) {
		t.Fatalf("the revoked token: %v", err)
	}
	if ts, _ := s.Tokens("ann@example.org"); len(ts) != 1 {
		t.Fatalf("after revoking one of two: %d tokens", len(ts))
	}
}

// TestDisableKeepsAnAdminAndSurvivesAReset disables accounts: not the
// last enabled admin, each time a new generation, and a password reset
// (user add --reset) does not enable the account again.
func TestDisableKeepsAnAdminAndSurvivesAReset(t *testing.T) {
	s := NewStore(t.TempDir(), fast)
	for _, e := range []string{"ad@example.org", "ed@example.org"} {
		role := RoleEditor
		if e == "ad@example.org" {
			role = RoleAdmin
		}
		if _, err := s.Add(e, "", role, "a long passphrase", false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SetDisabled("ad@example.org", true, Guard{KeepAdmin: true}); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("disabling the last admin: %v", err)
	}
	before, _ := s.Get("ed@example.org")
	a, err := s.SetDisabled("ed@example.org", true, Guard{KeepAdmin: true})
	if err != nil || !a.Disabled || a.Generation == before.Generation {
		t.Fatalf("disable: %+v %v", a, err)
	}
	if _, err := s.Authenticate("ed@example.org", "a long passphrase"); !errors.Is(err, ErrDisabled) || !errors.Is(err, ErrBadPassword) {
		t.Errorf("a disabled account's password: %v", err)
	}
	if a, err = s.Add("ed@example.org", "", RoleEditor, "another long passphrase", true); err != nil || !a.Disabled {
		t.Errorf("a reset enabled the account: %+v %v", a, err)
	}
}
