package webui

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// GitConfig sets up git over smart HTTP at /git/site.git.
type GitConfig struct {
	Root    string   // the folder holding site.git
	Env     []string // more environment for git http-backend and the hooks it runs
	MaxPush int64    // bytes of one push; default 512 MiB
	// PublicURL is the site's address as clients reach it: LFS links are
	// built on it, never on a request's Host.
	PublicURL string
}

// gitCreds remembers verified passwords for a few minutes: a git command
// makes several requests, and each argon2id check costs a lot on purpose.
// An entry holds only while the account's password hash is the same.
type gitCreds struct {
	mu sync.Mutex
	ok map[[32]byte]time.Time
}

func (c *gitCreds) key(a auth.Account, password string) [32]byte {
	return sha256.Sum256([]byte(a.Email + "\x00" + a.PasswordHash + "\x00" + password))
}

// gitHTTP serves clone, fetch and push through git http-backend: only the
// smart protocol's endpoints, only for editors and admins.
func (h *Handler) gitHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/git/site.git")
	service := ""
	switch {
	case r.Method == http.MethodGet && rest == "/info/refs":
		service = r.URL.Query().Get("service")
	case r.Method == http.MethodPost && (rest == "/git-upload-pack" || rest == "/git-receive-pack"):
		service = strings.TrimPrefix(rest, "/")
	}
	if service != "git-upload-pack" && service != "git-receive-pack" {
		http.Error(w, "only git's smart HTTP protocol is served here: git clone "+"<this site>/git/site.git", http.StatusNotFound)
		return
	}
	a, err := h.gitAuth(r)
	if err != nil {
		status, msg := gitAuthFailure(w, err)
		http.Error(w, msg, status)
		return
	}
	if !a.Role.Valid() {
		http.Error(w, "this account may not use git", http.StatusForbidden)
		return
	}
	if r.Method == http.MethodPost && r.ContentLength < 0 {
		// net/http/cgi refuses chunked bodies, and git sends big pushes
		// chunked: spool the body to a file and give its length.
		f, n, err := h.spool(r.Body)
		var tooLarge *errPushTooLarge
		switch {
		case errors.As(err, &tooLarge):
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			// A client gone, a full disk: git shows the status; the
			// cause is the log's, under the id the client sees.
			id := errorID()
			h.log.Error("receive a push", "error_id", id, "err", err)
			http.Error(w, "the push could not be received (error "+id+")", http.StatusInternalServerError)
			return
		}
		defer os.Remove(f.Name())
		defer f.Close()
		r.Body, r.ContentLength = f, n
		r.TransferEncoding = nil
		r.Header.Set("Content-Length", fmt.Sprint(n))
	}
	env := append([]string{
		"GIT_PROJECT_ROOT=" + h.cfg.Git.Root,
		"GIT_HTTP_EXPORT_ALL=1",
		"REMOTE_USER=" + a.Email,
		"CHRONICLE_PUSHER=" + a.Email,
		"CHRONICLE_ROLE=" + string(a.Role),
		"GIT_HTTP_MAX_REQUEST_BUFFER=100M",
	}, h.cfg.Git.Env...)
	(&cgi.Handler{
		Path:       h.gitPath,
		Args:       []string{"http-backend"},
		Root:       "/git",
		Env:        env,
		InheritEnv: []string{"PATH", "HOME", "LANG", "TMPDIR"},
		Logger:     slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
		Stderr:     io.Discard,
	}).ServeHTTP(w, r)
}

func (h *Handler) spool(body io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "chronicle-push-*")
	if err != nil {
		return nil, 0, err
	}
	limit := h.cfg.Git.MaxPush
	n, err := io.Copy(f, io.LimitReader(body, limit+1))
	if err == nil && n > limit {
		err = &errPushTooLarge{limit}
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}

// errPushTooLarge is a push over GitConfig.MaxPush.
type errPushTooLarge struct{ limit int64 }

func (e *errPushTooLarge) Error() string {
	return fmt.Sprintf("a push may carry at most %d MiB", e.limit>>20)
}

var errGitAuth = errors.New("sign in with your email and your password or a personal access token (chronicle token create)")

// errGitTooMany is a git or LFS sign-in over the sign-in policy's limit.
type errGitTooMany struct{ wait time.Duration }

func (e errGitTooMany) Error() string {
	return fmt.Sprintf("too many sign-in attempts: try again in %d seconds", retryAfter(e.wait))
}

// gitAuthFailure sets the headers for a refused git or LFS sign-in and
// returns its status and message: 429 with Retry-After over the limit,
// else 401 asking for credentials.
func gitAuthFailure(w http.ResponseWriter, err error) (int, string) {
	var tooMany errGitTooMany
	if errors.As(err, &tooMany) {
		w.Header().Set("Retry-After", fmt.Sprint(retryAfter(tooMany.wait)))
		return http.StatusTooManyRequests, err.Error()
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="Chronicle git", charset="UTF-8"`)
	w.Header().Set("LFS-Authenticate", `Basic realm="Chronicle git"`)
	return http.StatusUnauthorized, errGitAuth.Error()
}

type gitAccountKey struct{}

// gitSignIn signs in a Git LFS request before its handler runs, answering
// a refusal in LFS's JSON (401, or 429 with Retry-After); the handler's
// own gitAuth then finds the account in the request's context.
func (h *Handler) gitSignIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := h.gitAuth(r)
		if err != nil {
			status, msg := gitAuthFailure(w, err)
			w.Header().Set("Content-Type", lfsType)
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{"message": msg})
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), gitAccountKey{}, a)))
	}
}

// gitAuth checks HTTP Basic credentials: the account's email with its
// password or one of its personal access tokens, under the sign-in policy
// the API's sign-in uses (auth.SignIns). Errors are errGitAuth or
// errGitTooMany.
func (h *Handler) gitAuth(r *http.Request) (auth.Account, error) {
	if a, ok := r.Context().Value(gitAccountKey{}).(auth.Account); ok {
		return a, nil // signed in by gitSignIn
	}
	email, secret, ok := r.BasicAuth()
	if !ok || email == "" || secret == "" {
		return auth.Account{}, errGitAuth
	}
	addr := h.clientAddr(r)
	if auth.IsPersonalToken(secret) {
		a, err := h.cfg.Accounts.CheckToken(email, secret)
		if err != nil {
			h.log.Info("git sign-in refused", "email", auth.NormalizeEmail(email), "addr", addr, "with", "token")
			if over, wait := h.signIns.TokenFailed(addr); over {
				return auth.Account{}, errGitTooMany{wait}
			}
			return auth.Account{}, errGitAuth
		}
		return a, nil
	}
	a, err := h.cfg.Accounts.Get(email)
	if err == nil {
		key := h.creds.key(a, secret)
		h.creds.mu.Lock()
		until, cached := h.creds.ok[key]
		h.creds.mu.Unlock()
		if cached && time.Now().Before(until) {
			return a, nil
		}
	}
	if ok, wait := h.signIns.Password(email, addr); !ok {
		return auth.Account{}, errGitTooMany{wait}
	}
	a, err = h.cfg.Accounts.Authenticate(email, secret)
	if err != nil {
		if !errors.Is(err, auth.ErrNoAccount) && !errors.Is(err, auth.ErrBadPassword) {
			h.log.Error("git sign-in failed", "email", auth.NormalizeEmail(email), "err", err)
		} else {
			h.log.Info("git sign-in refused", "email", auth.NormalizeEmail(email), "addr", addr)
		}
		return auth.Account{}, errGitAuth
	}
	h.signIns.Succeeded(a.Email, addr)
	h.creds.mu.Lock()
	if len(h.creds.ok) > 1000 {
		h.creds.ok = map[[32]byte]time.Time{}
	}
	h.creds.ok[h.creds.key(a, secret)] = time.Now().Add(5 * time.Minute)
	h.creds.mu.Unlock()
	return a, nil
}
