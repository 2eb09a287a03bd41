package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/audit"
	"github.com/chronicle-cms/chronicle/webui/api"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// exportEvents is how many events the export test streams.
const exportEvents = 100_000

// auditOf fills an audit log with n events, 500 a commit, written
// straight into the projection (its own store) in batches, as the
// runtime would apply them.
func auditOf(t testing.TB, n int) *audit.Log {
	l, err := audit.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	const perCommit, batch = 500, 10_000
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]events.Event, 0, batch)
	for i := 0; i < n; i++ {
		h, idx := int64(i/perCommit+1), i%perCommit
		commit := fmt.Sprintf("%040x", h)
		evs = append(evs, events.Event{ID: fmt.Sprintf("%s-%d", commit, idx), Type: events.PostUpdated, Subject: fmt.Sprintf("post/p%d", i%1000),
			Actor: fmt.Sprintf("editor%d@example.org", i%7), Time: t0.Add(time.Duration(h) * time.Minute), Commit: commit, Height: h, Index: idx,
			Count: perCommit, Schema: 1, Data: []byte(fmt.Sprintf(`{"post":{"id":"p%d","title":"=Post number %d, a title of some length"}}`, i%1000, i))})
		if len(evs) == batch || i == n-1 {
			if err := l.Apply(context.Background(), evs, projections.Checkpoint{Cursor: evs[len(evs)-1].Cursor()}); err != nil {
				t.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	return l
}

// An export of 100,000 events streams: the server's heap stays within a
// bound far below the export's size while a client reads it slowly, and
// every row arrives.
func TestExportStreamsInBoundedMemory(t *testing.T) {
	start := time.Now()
	l := auditOf(t, exportEvents)
	t.Logf("%d events applied in %s", exportEvents, time.Since(start).Round(time.Millisecond))

	dir := t.TempDir()
	accounts := auth.NewStore(filepath.Join(dir, "accounts"), auth.Argon2Params{Time: 1, Memory: 1024, Threads: 1})
	a, err := accounts.Add("ed@example.org", "", auth.RoleEditor, "a long enough password", false)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.LoadTokens(filepath.Join(dir, "secrets", "token.key"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := tokens.Issue(a)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	r := mux.NewRouter()
	api.Mount(r.PathPrefix("/api/v1").Subrouter(), api.Config{Audit: l, Logger: log, MaxBody: 1 << 20,
		Auth: &auth.Authenticator{Accounts: accounts, Tokens: tokens, SignIns: auth.NewSignIns(time.Second, 10), Log: log}})
	srv := httptest.NewServer(r)
	defer srv.Close()

	for _, format := range []string{"csv", "ndjson"} {
		t.Run(format, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/api/v1/events?format="+format, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			var peak atomic.Uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // samples the heap while the export runs
				defer wg.Done()
				var m runtime.MemStats
				for {
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
					}
				}
			}()
			began := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			// A slow client: small reads with pauses, so that the server
			// must wait on it rather than finish into a buffer.
			br := bufio.NewReaderSize(resp.Body, 4096)
			lines, bytes := 0, 0
			for {
				line, err := br.ReadSlice('\n')
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				lines++
				bytes += len(line)
				if lines%2000 == 0 {
					time.Sleep(2 * time.Millisecond)
				}
			}
			resp.Body.Close()
			took := time.Since(began)
			close(stop)
			wg.Wait()
			want := exportEvents
			if format == "csv" {
				want++ // the header
			}
			if lines != want {
				t.Errorf("%d lines, want %d", lines, want)
			}
			growth := int64(peak.Load()) - int64(before.HeapInuse)
			t.Logf("%s export: %d events, %.1f MiB in %s; heap in use grew at most %.1f MiB", format, exportEvents,
				float64(bytes)/(1<<20), took.Round(time.Millisecond), float64(growth)/(1<<20))
			if limit := int64(16 << 20); growth > limit {
				t.Errorf("the heap grew %.1f MiB during the export of %.1f MiB: more than %d MiB, it does not stream",
					float64(growth)/(1<<20), float64(bytes)/(1<<20), limit>>20)
			}
		})
	}
}
