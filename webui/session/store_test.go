package session

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openStore(t *testing.T) (*BoltStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sessions.db")
	s, err := OpenBolt(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestBoltStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	s, err := OpenBolt(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	const token = "tok-abcdefghijklmnopqrstuvwxyz0123456789"
	if _, ok, err := s.Find(token); ok || err != nil {
		t.Fatalf("unknown token: found %v, %v", ok, err)
	}
	if err := s.Commit(token, []byte("data-1"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := s.Find(token); !ok || err != nil || string(b) != "data-1" {
		t.Fatalf("find = %q %v %v", b, ok, err)
	}
	if err := s.Commit(token, []byte("data-2"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if b, _, _ := s.Find(token); string(b) != "data-2" {
		t.Fatalf("overwrite: %q", b)
	}
	if err := s.Commit("other", []byte("x"), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if _, ok, _ := s.Find("other"); ok {
		t.Fatal("an expired session was found")
	}
	if n, err := s.Sweep(); n != 1 || err != nil {
		t.Fatalf("sweep removed %d, %v; want the one expired", n, err)
	}
	if err := s.Delete(token); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Find(token); ok {
		t.Fatal("a deleted session was found")
	}
	if err := s.Delete("never-there"); err != nil {
		t.Fatalf("deleting an unknown token: %v", err)
	}
	// The file holds digests, never a token someone could present.
	if err := s.Commit(token, []byte("d"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(token)) {
		t.Fatal("the store file contains a session token")
	}
	reopened, err := OpenBolt(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	reopened.now = s.now // the test's clock, not the day it runs on
	if b, ok, _ := reopened.Find(token); !ok || string(b) != "d" {
		t.Fatal("a session did not survive reopening the store")
	}
}

func TestManagerCookie(t *testing.T) {
	s, _ := openStore(t)
	for _, secure := range []bool{false, true} {
		m := NewManager(Config{Store: s, Secure: secure, Path: "/admin"})
		h := m.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.Put(r.Context(), "account", "a@example.org")
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/", nil))
		c := rec.Header().Get("Set-Cookie")
		for _, want := range []string{CookieName + "=", "Path=/admin", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(c, want) {
				t.Errorf("cookie %q lacks %s", c, want)
			}
		}
		if strings.Contains(c, "Secure") != secure {
			t.Errorf("cookie %q: Secure should be %v", c, secure)
		}
	}
}
