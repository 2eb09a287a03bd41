package seclog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/webui/seclog"
)

func query(t testing.TB, l *seclog.File, f seclog.Filter) []seclog.Event {
	t.Helper()
	var out []seclog.Event
	if err := l.Query(context.Background(), f, func(e seclog.Event) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// Two writers (the daemon and `chronicle user add`) append to one file;
// every event is read back once, newest first and oldest first, across
// the reader's blocks, and pages from a cursor cover them all.
func TestAppendAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "security.log")
	a, err := seclog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := seclog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 3000 // about 600 KB: several of the reader's blocks
	var wg sync.WaitGroup
	for w, l := range []*seclog.File{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 2 {
				if err := l.Record(seclog.Event{Time: t0.Add(time.Duration(i) * time.Second), Type: seclog.SignInFailed,
					Account: fmt.Sprintf("user%d@example.com", i), Client: "192.0.2.1", Detail: string(make([]byte, 100))}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// A line being written is not read.
	raw, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	raw.WriteString(`{"time":"2026-01-01T00:00:00Z","type":"signin.fa`)
	raw.Close()

	newest := query(t, a, seclog.Filter{})
	oldest := query(t, a, seclog.Filter{Oldest: true})
	if len(newest) != n || len(oldest) != n {
		t.Fatalf("read %d newest first and %d oldest first, want %d", len(newest), len(oldest), n)
	}
	rev := slices.Clone(oldest)
	slices.Reverse(rev)
	if !slices.EqualFunc(newest, rev, func(x, y seclog.Event) bool { return x == y }) {
		t.Error("newest first is not oldest first reversed")
	}
	seen := map[string]bool{}
	for _, e := range newest {
		seen[e.Account] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct events, want %d", len(seen), n)
	}
	for _, order := range []bool{false, true} {
		var got []seclog.Event
		f := seclog.Filter{Oldest: order}
		for {
			page := 0
			err := a.Query(context.Background(), f, func(e seclog.Event) error {
				got, f.After = append(got, e), e.ID
				if page++; page == 700 {
					return seclog.ErrStop
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if page < 700 {
				break
			}
		}
		want := newest
		if order {
			want = oldest
		}
		if !slices.Equal(got, want) {
			t.Errorf("oldest=%v: pages give %d events, not the %d in order", order, len(got), len(want))
		}
	}
	if err := a.Query(context.Background(), seclog.Filter{After: "7"}, func(seclog.Event) error { return nil }); err != seclog.ErrBadCursor {
		t.Errorf("a cursor inside a line: %v", err)
	}
}

func TestFilter(t *testing.T) {
	l, err := seclog.Open(filepath.Join(t.TempDir(), "security.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	all := []seclog.Event{
		{Type: seclog.SignIn, Actor: "ann@example.com", Account: "ann@example.com"},
		{Type: seclog.SignInFailed, Account: "bob@example.com"},
		{Type: seclog.RoleChanged, Actor: "ann@example.com", Account: "bob@example.com"},
		{Type: seclog.AccountRemoved, Actor: "ann@example.com", Account: "cid@example.com"},
		{Type: seclog.TokenCreated, Actor: "bob@example.com", Account: "bob@example.com"},
	}
	for i := range all {
		all[i].Time = t0.Add(time.Duration(i) * time.Hour)
		if err := l.Record(all[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		f    seclog.Filter
		want []int
	}{
		{"all", seclog.Filter{}, []int{4, 3, 2, 1, 0}},
		{"actor or account", seclog.Filter{Actor: "BOB@example.com"}, []int{4, 2, 1}},
		{"type", seclog.Filter{Types: []string{"signin.failed"}}, []int{1}},
		{"prefix", seclog.Filter{Types: []string{"account.", "token."}}, []int{4, 3, 2}},
		{"since", seclog.Filter{Since: t0.Add(3 * time.Hour)}, []int{4, 3}},
		{"until", seclog.Filter{Until: t0.Add(time.Hour)}, []int{1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int
			for _, e := range query(t, l, tc.f) {
				got = append(got, int(e.Time.Sub(t0)/time.Hour))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
