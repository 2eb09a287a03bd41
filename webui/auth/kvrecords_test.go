package auth

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events/eventstest"
)

// kvStores starts an in-process nats-server (the embedded mode's) and
// returns n stores on the accounts bucket, each with its own connection,
// as n nodes would have.
func kvStores(t *testing.T, n int) []*Store {
	t.Helper()
	var out []*Store
	for _, js := range natsNodes(t, n) {
		s, err := NewKVStore(context.Background(), js, fast, 1)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// natsNodes starts an in-process nats-server and returns n connections to it.
func natsNodes(t *testing.T, n int) []jetstream.JetStream {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	var out []jetstream.JetStream
	for range n {
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, js)
	}
	return out
}

// What one node changes, another sees on its next read: an account, a
// password, a disabled account, a token made and revoked, a removal.
func TestKVStoreSharedByNodes(t *testing.T) {
	s := kvStores(t, 2)
	a, b := s[0], s[1]
	if _, err := a.Add("Ann@Example.org", "Ann", RoleEditor, "correct horse battery", false); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add("ann@example.org", "", RoleAdmin, "another password!", false); !errors.Is(err, ErrExists) {
		t.Fatalf("adding it again on the other node: %v, want ErrExists", err)
	}
	got, err := b.Authenticate("ann@example.org", "correct horse battery")
	if err != nil || got.Role != RoleEditor || got.Name != "Ann" {
		t.Fatalf("the other node signs in %+v, %v", got, err)
	}
	tok, plain, err := a.CreateToken("ann@example.org", "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if acc, err := b.FindToken(plain); err != nil || acc.Email != "ann@example.org" {
		t.Fatalf("the other node finds the token: %+v, %v", acc, err)
	}
	if _, err := b.CheckToken("ann@example.org", plain); err != nil {
		t.Fatal(err)
	}
	if _, err := b.FindToken(plain[:len(plain)-1] + "x"); !errors.Is(err, ErrBadToken) {
		t.Fatalf("an altered token: %v", err)
	}
	if _, err := a.SetDisabled("ann@example.org", true, Guard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate("ann@example.org", "correct horse battery"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("disabled on one node, the other signs in: %v", err)
	}
	if _, err := b.FindToken(plain); !errors.Is(err, ErrTokenDisabled) {
		t.Fatalf("disabled on one node, the other takes its token: %v", err)
	}
	if _, err := a.SetDisabled("ann@example.org", false, Guard{}); err != nil {
		t.Fatal(err)
	}
	if err := b.RevokeToken("ann@example.org", tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FindToken(plain); !errors.Is(err, ErrBadToken) {
		t.Fatalf("revoked on one node, the other takes it: %v", err)
	}
	if l, err := a.List(); err != nil || len(l) != 1 || l[0].PasswordHash != "" {
		t.Fatalf("list: %+v, %v", l, err)
	}
	if _, plain, err = a.CreateToken("ann@example.org", "ci"); err != nil {
		t.Fatal(err)
	}
	if err := b.Remove("ann@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get("ann@example.org"); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("removed on one node, the other has it: %v", err)
	}
	if _, err := a.Add("ann@example.org", "", RoleAuthor, "correct horse battery", false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FindToken(plain); !errors.Is(err, ErrBadToken) {
		t.Fatalf("a removed account's token signs in the account made again: %v", err)
	}
}

// Two nodes change one account at once, each deciding on the generation
// it saw: one change wins, the other is refused as stale, every round.
func TestKVStoreConcurrentGuardedChanges(t *testing.T) {
	s := kvStores(t, 2)
	for round := range 10 {
		a, err := s[0].Add("bob@example.org", "", RoleAuthor, "correct horse battery", true)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, role := range []Role{RoleEditor, RoleContributor} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = s[i].SetRoleGuarded("bob@example.org", role, Guard{Generation: a.Generation})
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrStale):
				t.Fatalf("round %d: %v, want ErrStale", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d changes won (%v), want 1", round, won, errs)
		}
	}
}

// Two admins demote each other from two nodes at once: the site keeps
// one admin, every round.
func TestKVStoreKeepsTheLastAdmin(t *testing.T) {
	s := kvStores(t, 2)
	emails := []string{"ann@example.org", "bob@example.org"}
	for round := range 10 {
		for _, e := range emails {
			if _, err := s[0].Add(e, "", RoleAdmin, "correct horse battery", true); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if round%2 == 0 {
					_, errs[i] = s[i].SetRoleGuarded(emails[i], RoleEditor, Guard{KeepAdmin: true})
				} else {
					_, errs[i] = s[i].SetDisabled(emails[i], true, Guard{KeepAdmin: true})
				}
			}()
		}
		close(start)
		wg.Wait()
		l, err := s[1].List()
		if err != nil {
			t.Fatal(err)
		}
		admins := 0
		for _, a := range l {
			if enabledAdmin(a) {
				admins++
			}
		}
		if admins != 1 || (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: %d admins left, errors %v", round, admins, errs)
		}
		for _, err := range errs {
			if err != nil && !errors.Is(err, ErrLastAdmin) {
				t.Fatalf("round %d: %v, want ErrLastAdmin", round, err)
			}
		}
		for _, e := range emails { // both admins again, enabled
			if _, err := s[0].SetDisabled(e, false, Guard{}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A node's files are copied once into the shared store, tokens and all.
func TestKVStoreImportsFiles(t *testing.T) {
	files := NewStore(t.TempDir(), fast)
	if _, err := files.Add("cy@example.org", "Cy", RoleAdmin, "correct horse battery", false); err != nil {
		t.Fatal(err)
	}
	_, plain, err := files.CreateToken("cy@example.org", "git")
	if err != nil {
		t.Fatal(err)
	}
	kv := kvStores(t, 1)[0]
	for want := range []int{1, 0} {
		n, err := kv.Import(files)
		if err != nil || n != 1-want {
			t.Fatalf("import %d: %d, %v", want, n, err)
		}
	}
	if a, err := kv.FindToken(plain); err != nil || a.Email != "cy@example.org" {
		t.Fatalf("imported token: %+v, %v", a, err)
	}
	if _, err := kv.Authenticate("cy@example.org", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.SetRoleGuarded("cy@example.org", RoleEditor, Guard{KeepAdmin: true}); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demoting the only (imported) admin: %v", err)
	}
}

// Two users of the same token keys, each time: two nodes sharing the
// bucket, and on one node the daemon and `chronicle token rotate-key`,
// both on the data directory's files. Each checks what the other issued,
// before and after a rotation; the old key still checks its tokens, new
// ones name the new key; a key retired longer than a token lives is
// dropped at the next rotation; a rotation that drops the old keys
// refuses their tokens at once.
func TestKVTokensRotate(t *testing.T) {
	ctx := context.Background()
	for _, store := range []string{"nats", "files"} {
		t.Run(store, func(t *testing.T) {
			var tk []*Tokens
			switch store {
			case "nats":
				for _, j := range natsNodes(t, 2) {
					x, err := NewKVTokens(ctx, j, t.TempDir()+"/none", time.Hour, 1)
					if err != nil {
						t.Fatal(err)
					}
					tk = append(tk, x)
				}
			case "files":
				keyFile := filepath.Join(t.TempDir(), "secrets", "token.key")
				for range 2 {
					x, err := LoadTokens(keyFile, time.Hour)
					if err != nil {
						t.Fatal(err)
					}
					tk = append(tk, x)
				}
			}
			rotateKeys(t, tk)
		})
	}
}

func rotateKeys(t *testing.T, tk []*Tokens) {
	ctx := context.Background()
	ann := Account{Email: "ann@example.org", Role: RoleEditor}
	old, _, err := tk[0].Issue(ann)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tk[1].Check(old); err != nil {
		t.Fatalf("the other node checks a token: %v", err)
	}
	kid, err := tk[1].RotateKey(ctx, Rotation{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range tk {
		if _, err := tk[i].Check(old); err != nil {
			t.Fatalf("node %d after the rotation, an old token: %v", i, err)
		}
	}
	kidOf := func(tok string) any {
		parsed, _, _ := jwt.NewParser().ParseUnverified(tok, &Claims{})
		return parsed.Header["kid"]
	}
	// Node 0 signs with the new key: on files at once (it reads them
	// again when they change), on the bucket once its watch delivered
	// the set.
	eventstest.CheckFor(t, time.Second, 10*time.Millisecond, func() error {
		tok, _, err := tk[0].Issue(ann)
		if err != nil || kidOf(tok) != kid {
			return fmt.Errorf("the other node signs with %v (%v), want the new key %s", kidOf(tok), err, kid)
		}
		return nil
	})
	// A token naming a key a node lacks makes it read the set again.
	fresh, _, err := tk[1].Issue(ann)
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(fresh) != kid {
		t.Fatalf("a new token is signed by %v, want the new key %s", kidOf(fresh), kid)
	}
	if _, err := tk[0].Check(fresh); err != nil {
		t.Fatalf("the other node checks a token of the new key: %v", err)
	}
	// An hour and more later, the next rotation drops the first key.
	later := time.Now().Add(2 * time.Hour)
	tk[1].now = func() time.Time { return later }
	if _, err := tk[1].RotateKey(ctx, Rotation{}); err != nil {
		t.Fatal(err)
	}
	set, err := tk[0].keys.load()
	if err != nil || len(set.Keys) != 2 {
		t.Fatalf("after two rotations: %d keys, %v; want 2", len(set.Keys), err)
	}
	tk[0].mu.Lock()
	tk[0].fetched = time.Time{} // past refreshKeys
	tk[0].mu.Unlock()
	if _, err := tk[0].Check(old); !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrExpired) {
		t.Fatalf("a token of a dropped key: %v", err)
	}
	// A rotation dropping the old keys: the token of the key retired
	// just now is refused at once.
	tk[1].now = time.Now
	if _, err := tk[0].Check(fresh); err != nil {
		t.Fatalf("a token of the key retired just now: %v", err)
	}
	if _, err := tk[1].RotateKey(ctx, Rotation{DropOld: true}); err != nil {
		t.Fatal(err)
	}
	tk[0].mu.Lock()
	tk[0].fetched = time.Time{}
	tk[0].mu.Unlock()
	if _, err := tk[0].Check(fresh); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("a token of a key dropped by --drop-old: %v", err)
	}
}
