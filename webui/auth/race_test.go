package auth

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// TestMain lets a test run this test binary as a second process that
// writes the same account files (see TestTokenWritesAcrossProcesses).
func TestMain(m *testing.M) {
	if dir := os.Getenv("CHRONICLE_AUTH_CHILD_DIR"); dir != "" {
		os.Exit(child(dir))
	}
	os.Exit(m.Run())
}

// child makes tokens for ann, printing each id, as the CLI would while the
// daemon runs.
func child(dir string) int {
	s := NewStore(dir, fast)
	for i := 0; i < 40; i++ {
		t, _, err := s.CreateToken("ann@example.org", fmt.Sprint("child ", i))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(t.ID)
	}
	return 0
}

// A revocation racing a creation must not be lost, and neither must the
// creation: each store (as the daemon and the CLI each have one) reads,
// changes and writes the token file under the account files' lock.
func TestTokenCreateRevokeRace(t *testing.T) {
	dir := t.TempDir()
	daemon, cli := NewStore(dir, fast), NewStore(dir, fast)
	if _, err := daemon.Add("ann@example.org", "Ann", RoleEditor, "long enough password", false); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for round := 0; round < 40; round++ {
		old, oldSecret, err := daemon.CreateToken("ann@example.org", "old")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var newSecret string
		var errs [2]error
		wg.Add(2)
		go func() { defer wg.Done(); errs[0] = daemon.RevokeToken("ann@example.org", old.ID) }()
		go func() { defer wg.Done(); _, newSecret, errs[1] = cli.CreateToken("ann@example.org", "new") }()
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: %v", round, errs)
		}
		if _, err := daemon.CheckToken("ann@example.org", oldSecret); err == nil {
			lost++ // the revocation answered success, and the token still works
		}
		if _, err := daemon.CheckToken("ann@example.org", newSecret); err != nil {
			lost++ // the creation answered success, and the token does not work
		}
	}
	if lost > 0 {
		t.Fatalf("%d of 80 acknowledged token changes were lost", lost)
	}
	// What remains is exactly the 40 tokens made by the second store.
	if ts, _ := daemon.Tokens("ann@example.org"); len(ts) != 40 {
		t.Fatalf("%d tokens remain, want 40", len(ts))
	}
}

// The same between processes: another process creates tokens while this
// one revokes others.
func TestTokenWritesAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	s := NewStore(dir, fast)
	if _, err := s.Add("ann@example.org", "Ann", RoleEditor, "long enough password", false); err != nil {
		t.Fatal(err)
	}
	var revoke []PersonalToken
	for i := 0; i < 40; i++ {
		tk, _, err := s.CreateToken("ann@example.org", "to revoke")
		if err != nil {
			t.Fatal(err)
		}
		revoke = append(revoke, tk)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CHRONICLE_AUTH_CHILD_DIR="+dir)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for _, tk := range revoke {
		if err := s.RevokeToken("ann@example.org", tk.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, errOut.String())
	}
	made := strings.Fields(out.String())
	ts, err := s.Tokens("ann@example.org")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, tk := range ts {
		have[tk.ID] = true
	}
	for _, tk := range revoke {
		if have[tk.ID] {
			t.Errorf("revoked token %s is back", tk.ID)
		}
	}
	for _, id := range made {
		if !have[id] {
			t.Errorf("token %s made by the other process is gone", id)
		}
	}
	if len(made) != 40 || len(ts) != 40 {
		t.Fatalf("other process made %d tokens, %d remain", len(made), len(ts))
	}
}
