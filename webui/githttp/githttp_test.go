package githttp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/githttp"
)

// mount serves git and LFS for one editor account (ed@example.org,
// password "correct horse"), with a sign-in budget of two attempts, and
// the log.
func mount(t *testing.T, maxPush int64, publicURL string) (*mux.Router, *bytes.Buffer) {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	accounts := auth.NewStore(filepath.Join(dir, "accounts"), auth.Argon2Params{Time: 1, Memory: 1024, Threads: 1})
	if _, err := accounts.Add("ed@example.org", "Ed", auth.RoleEditor, "correct horse", false); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	r := mux.NewRouter()
	githttp.Mount(r, githttp.Config{Root: dir, MaxPush: maxPush, PublicURL: publicURL, GitPath: gitPath, Logger: log,
		Media: &githttp.MediaConfig{Store: filepath.Join(dir, "lfs"), MaxBytes: 1 << 20},
		Auth:  &auth.Authenticator{Accounts: accounts, SignIns: auth.NewSignIns(time.Hour, 2), Log: log}})
	return r, &logged
}

// Over the sign-in budget, git and LFS answer 429 with Retry-After, never
// 401 (which would make git ask for the password again).
func TestSignInsOverTheLimitAre429(t *testing.T) {
	r, _ := mount(t, 1<<20, "https://example.org")
	for _, tc := range []struct{ method, path, ctype string }{
		{"GET", "/git/site.git/info/refs?service=git-upload-pack", "text/plain; charset=utf-8"},
		{"POST", "/git/site.git/info/lfs/objects/batch", "application/vnd.git-lfs+json"},
	} {
		var codes []int
		for range 3 {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(`{"operation":"download","objects":[]}`))
			req.SetBasicAuth("ed@example.org", "wrong guess")
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			codes = append(codes, w.Code)
			if w.Header().Get("Content-Type") != tc.ctype {
				t.Errorf("%s: answered as %q, want %q", tc.path, w.Header().Get("Content-Type"), tc.ctype)
			}
			if w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
				t.Errorf("%s: 429 without Retry-After", tc.path)
			}
		}
		if codes[len(codes)-1] != http.StatusTooManyRequests {
			t.Errorf("%s: %v, want 429 once over the budget", tc.path, codes)
		}
		r, _ = mount(t, 1<<20, "https://example.org") // a fresh budget for the next
	}
}

// A push longer than the limit is refused by its declared length, with
// the limit in the message, before git reads a byte of it.
func TestPushOverTheLimitIsRefusedByItsLength(t *testing.T) {
	r, _ := mount(t, 1<<10, "https://example.org")
	req := httptest.NewRequest("POST", "/git/site.git/git-receive-pack", bytes.NewReader(make([]byte, 4<<10)))
	req.Header.Set("Content-Type", "application/x-git-receive-pack-request")
	req.SetBasicAuth("ed@example.org", "correct horse")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "at most") {
		t.Fatalf("%d %q, want 413 saying the limit", w.Code, w.Body.String())
	}
}

type failingBody struct{ n int }

func (b *failingBody) Read(p []byte) (int, error) {
	if b.n > 0 {
		b.n--
		return copy(p, "0000"), nil
	}
	return 0, errors.New("read tcp 10.0.0.5:8080: connection reset by peer")
}

// A push that cannot be received is the server's failure: the client is
// told so with an error id; the cause is in the log, once, under that id.
func TestPushThatCannotBeReceivedShowsOnlyAnID(t *testing.T) {
	r, logged := mount(t, 1<<20, "https://example.org")
	req := httptest.NewRequest("POST", "/git/site.git/git-receive-pack", io.NopCloser(&failingBody{n: 3}))
	req.ContentLength = -1 // chunked: spooled first
	req.Header.Set("Content-Type", "application/x-git-receive-pack-request")
	req.SetBasicAuth("ed@example.org", "correct horse")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	body := w.Body.String()
	i := strings.Index(body, "(error ")
	if w.Code != http.StatusInternalServerError || strings.Contains(body, "10.0.0.5") || i < 0 {
		t.Fatalf("%d %q, want 500 with an error id and no cause", w.Code, body)
	}
	id := strings.TrimSuffix(strings.TrimSpace(body[i+len("(error "):]), ")")
	if n := strings.Count(logged.String(), "error_id="+id); n != 1 || !strings.Contains(logged.String(), "connection reset") {
		t.Fatalf("logged %d times under %s:\n%s", n, id, logged.String())
	}
}

// An LFS failure that is the server's is answered in LFS's format with
// the error id as request_id, never its cause.
func TestLFSServerFaultsCarryAnID(t *testing.T) {
	// No public URL: the server cannot link to its objects.
	r, logged := mount(t, 1<<20, "")
	req := httptest.NewRequest("POST", "/git/site.git/info/lfs/objects/batch", strings.NewReader(`{"operation":"download","objects":[]}`))
	req.SetBasicAuth("ed@example.org", "correct horse")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	var got struct {
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	}
	json.Unmarshal(w.Body.Bytes(), &got)
	if w.Code != 500 || got.Message == "" || got.RequestID == "" || !strings.Contains(logged.String(), "error_id="+got.RequestID) {
		t.Fatalf("%d %s\nlog: %s", w.Code, w.Body.String(), logged.String())
	}
}
