package daemon

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// startProcess runs the daemon as a child process and waits until ready.
func startProcess(t testing.TB, data string, extra ...string) (*site, *exec.Cmd) {
	t.Helper()
	return startProcessLogging(t, data, testWriter{t}, extra...)
}

// startProcessLogging is startProcess with the daemon's log going to
// stderr; extra flags come last, so they win.
func startProcessLogging(t testing.TB, data string, stderr io.Writer, extra ...string) (*site, *exec.Cmd) {
	t.Helper()
	s, cmd := launchProcess(t, data, stderr, extra...)
	s.waitReady()
	return s, cmd
}

// launchProcess starts the daemon as startProcessLogging does, without
// waiting for it to be ready.
func launchProcess(t testing.TB, data string, stderr io.Writer, extra ...string) (*site, *exec.Cmd) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--data", data, "--addr", addr, "--log-level", "warn", "--reconcile-interval", "200ms"}, extra...)...)
	cmd.Env = append(os.Environ(), "CHRONICLE_TEST_MAIN=1")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &site{t: t, data: data, url: "http://" + addr}, cmd
}

// The daemon is killed with SIGKILL in the middle of 500 concurrent
// writes. After a restart every acknowledged write is in git and in the
// catalogue, exactly once, and the repository is sound.
func TestSIGKILLDuringWritesLosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ann@example.org", auth.RoleEditor)
	s, cmd := startProcess(t, data)
	tok := s.token("ann@example.org")

	const total, workers, killAfter = 500, 32, 150
	var (
		mu      sync.Mutex
		acked   = map[string]string{} // id → title
		n       atomic.Int64
		killed  = make(chan struct{})
		once    sync.Once
		jobs    = make(chan int)
		wg      sync.WaitGroup
		clients = &http.Client{Timeout: 10 * time.Second}
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				title := fmt.Sprintf("Crash test %d", i)
				body := fmt.Sprintf(`{"title":%q,"content":"write %d"}`, title, i)
				req, _ := http.NewRequest("POST", s.url+"/api/v1/posts", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := clients.Do(req)
				if err != nil {
					continue // the daemon is gone: not acknowledged
				}
				var p apiPost
				if resp.StatusCode == 201 && decodeBody(resp, &p) == nil {
					mu.Lock()
					acked[p.ID] = title
					mu.Unlock()
					if n.Add(1) == killAfter {
						once.Do(func() {
							cmd.Process.Signal(os.Kill)
							close(killed)
						})
					}
				} else {
					resp.Body.Close()
				}
			}
		}()
	}
	for i := 0; i < total; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("only %d writes were acknowledged; the kill never happened", n.Load())
	}
	cmd.Wait()
	t.Logf("%d of %d writes acknowledged before SIGKILL", len(acked), total)

	s, _ = startProcess(t, data)
	tok = s.token("ann@example.org")

	// Git: every acknowledged post is in exactly one file on main.
	inGit := map[string]int{}
	for _, line := range strings.Split(git(t, s.repoDir(), "grep", "-h", "^id: ", "main", "--", "posts/"), "\n") {
		inGit[strings.TrimPrefix(line, "id: ")]++
	}
	for id := range acked {
		if inGit[id] != 1 {
			t.Errorf("acknowledged post %s is in %d files", id, inGit[id])
		}
	}
	git(t, s.repoDir(), "fsck", "--strict", "--no-dangling")

	// Catalogue: every committed post (acknowledged or not) once, at version 1.
	eventstest.CheckFor(t, 30*time.Second, pollEvery, func() error {
		var l struct{ Total int }
		s.do("GET", "/api/v1/posts?status=draft&per_page=1", tok, nil).json(t, &l)
		if l.Total != len(inGit) {
			return fmt.Errorf("catalogue: %d drafts, want the %d in git", l.Total, len(inGit))
		}
		return nil
	})
	for id, title := range acked {
		r := s.do("GET", "/api/v1/posts/"+id, tok, nil)
		mustStatus(t, r, 200)
		var p apiPost
		r.json(t, &p)
		if p.Title != title || p.Version != 1 {
			t.Errorf("post %s: title %q version %d, want %q version 1", id, p.Title, p.Version, title)
		}
	}
	for page := 1; page <= (len(inGit)+99)/100; page++ {
		var l struct{ Items []apiPost }
		s.do("GET", fmt.Sprintf("/api/v1/posts?status=draft&per_page=100&page=%d", page), tok, nil).json(t, &l)
		for _, p := range l.Items {
			if p.Version != 1 {
				t.Errorf("post %s applied %d times", p.ID, p.Version)
			}
		}
	}
}
