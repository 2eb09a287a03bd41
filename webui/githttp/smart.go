// Package githttp serves the site's repository over git's smart HTTP
// protocol at /git/site.git (clone, fetch, push through git
// http-backend) and the Git LFS API beside it, with the same accounts and
// the same sign-in policy as the API (auth.SignIns). Handlers return
// errors to the one adapter (httperr), which answers them as git and
// git-lfs show errors to their users: text for git, LFS JSON for LFS.
package githttp

import (
	"crypto/sha256"
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

	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// Config sets up git over smart HTTP at /git/site.git. Its zero values
// are not defaults: webui.New fills them in.
type Config struct {
	Root    string   // the folder holding site.git
	Env     []string // more environment for git http-backend and the hooks it runs
	MaxPush int64    // bytes of one push
	// Pushed is called after each push has been answered, whether main
	// moved or not (nil: nothing is).
	Pushed func()
	// PublicURL is the site's address as clients reach it: LFS links are
	// built on it, never on a request's Host.
	PublicURL string
	GitPath   string       // absolute path of git: net/http/cgi does not search PATH
	Media     *MediaConfig // nil: no LFS
	Auth      *auth.Authenticator
	Logger    *slog.Logger
}

// Handler holds the dependencies of git's and LFS's handlers.
type Handler struct {
	cfg   Config
	log   *slog.Logger
	creds gitCreds
	git   httperr.Adapter // answers as git shows errors
	lfs   httperr.Adapter // answers as git-lfs shows errors
}

// gitCreds remembers verified passwords for a few minutes: a git command
// makes several requests, and each argon2id check costs a lot on purpose.
// An entry holds only while the account's password hash and credential
// generation are the same: a reset, a role change or disabling the
// account ends it at once.
type gitCreds struct {
	mu sync.Mutex
	ok map[[32]byte]time.Time
}

func (c *gitCreds) key(a auth.Account, password string) [32]byte {
	return sha256.Sum256([]byte(a.Email + "\x00" + a.PasswordHash + "\x00" + a.Generation + "\x00" + password))
}

// writeGitError writes e as text, which git shows its user (with the
// error id, for a server fault, that ties it to the log).
func writeGitError(w http.ResponseWriter, r *http.Request, e *httperr.Error) {
	msg := e.Detail
	if e.ErrorID != "" {
		msg += " (error " + e.ErrorID + ")"
	}
	http.Error(w, msg, e.Status)
}

// gitHTTP serves clone, fetch and push through git http-backend: only the
// smart protocol's endpoints, only for roles that may use git.
func (h *Handler) gitHTTP(w http.ResponseWriter, r *http.Request) error {
	rest := strings.TrimPrefix(r.URL.Path, "/git/site.git")
	service := ""
	switch {
	case r.Method == http.MethodGet && rest == "/info/refs":
		service = r.URL.Query().Get("service")
	case r.Method == http.MethodPost && (rest == "/git-upload-pack" || rest == "/git-receive-pack"):
		service = strings.TrimPrefix(rest, "/")
	}
	if service != "git-upload-pack" && service != "git-receive-pack" {
		return httperr.New(http.StatusNotFound, "only git's smart HTTP protocol is served here: git clone <this site>/git/site.git")
	}
	a, err := h.gitAuth(r)
	if err != nil {
		return err
	}
	// A clone holds every file, drafts of others included: only roles
	// that may read them use git; pushed files are judged one by one by
	// the writer's pre-receive check.
	if err := auth.Permit(a, policy.UseGit); err != nil {
		return err
	}
	if r.Method == http.MethodPost && r.ContentLength > h.cfg.MaxPush {
		// Refused on its declared length, before a byte is read: only
		// chunked pushes went through the limit before.
		return pushTooLarge(h.cfg.MaxPush)
	}
	if r.Method == http.MethodPost && r.ContentLength < 0 {
		// net/http/cgi refuses chunked bodies, and git sends big pushes
		// chunked: spool the body to a file and give its length.
		f, n, err := h.spool(r.Body)
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		defer f.Close()
		r.Body, r.ContentLength = f, n
		r.TransferEncoding = nil
		r.Header.Set("Content-Length", fmt.Sprint(n))
	}
	env := append([]string{
		"GIT_PROJECT_ROOT=" + h.cfg.Root,
		"GIT_HTTP_EXPORT_ALL=1",
		"REMOTE_USER=" + a.Email,
		"CHRONICLE_PUSHER=" + a.Email,
		"CHRONICLE_ROLE=" + string(a.Role),
		"GIT_HTTP_MAX_REQUEST_BUFFER=100M",
		// Editors' unsaved drafts (refs/autosave/…) are nobody else's
		// business: not advertised to fetches, and not to pushes either.
		"GIT_CONFIG_COUNT=2",
		"GIT_CONFIG_KEY_0=uploadpack.hideRefs", "GIT_CONFIG_VALUE_0=refs/autosave/",
		"GIT_CONFIG_KEY_1=receive.hideRefs", "GIT_CONFIG_VALUE_1=refs/autosave/",
	}, h.cfg.Env...)
	(&cgi.Handler{
		Path:       h.cfg.GitPath,
		Args:       []string{"http-backend"},
		Root:       "/git",
		Env:        env,
		InheritEnv: []string{"PATH", "HOME", "LANG", "TMPDIR"},
		Logger:     slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
		Stderr:     io.Discard,
	}).ServeHTTP(w, r)
	if service == "git-receive-pack" && r.Method == http.MethodPost && h.cfg.Pushed != nil {
		h.cfg.Pushed()
	}
	return nil
}

// spool copies a push's body to a temporary file. A push over MaxPush is
// a 413 that says the limit; any other failure (a client gone, a full
// disk) is the server's, its cause for the log only.
func (h *Handler) spool(body io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "chronicle-push-*")
	if err != nil {
		return nil, 0, httperr.Wrap(fmt.Errorf("spool a push: %w", err), http.StatusInternalServerError, "the push could not be received")
	}
	limit := h.cfg.MaxPush
	n, err := io.Copy(f, io.LimitReader(body, limit+1))
	var refusal error
	switch {
	case err != nil:
		refusal = httperr.Wrap(fmt.Errorf("receive a push: %w", err), http.StatusInternalServerError, "the push could not be received")
	case n > limit:
		refusal = pushTooLarge(limit)
	default:
		if _, err = f.Seek(0, io.SeekStart); err != nil {
			refusal = httperr.Wrap(fmt.Errorf("rewind a spooled push: %w", err), http.StatusInternalServerError, "the push could not be received")
		}
	}
	if refusal != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, refusal
	}
	return f, n, nil
}

func pushTooLarge(limit int64) *httperr.Error {
	return httperr.New(http.StatusRequestEntityTooLarge, "a push may carry at most %d MiB", limit>>20)
}

// errGitAuth asks for credentials, in git's and git-lfs's ways.
func errGitAuth() *httperr.Error {
	return httperr.New(http.StatusUnauthorized, "sign in with your email and your password or a personal access token (chronicle token create)").
		With("WWW-Authenticate", `Basic realm="Chronicle git", charset="UTF-8"`).
		With("LFS-Authenticate", `Basic realm="Chronicle git"`)
}

// gitAuth checks HTTP Basic credentials: the account's email with its
// password or one of its personal access tokens, under the sign-in policy
// the API's sign-in uses (auth.SignIns). Its errors are a 401 asking for
// credentials, or over the policy's limit a 429 with Retry-After.
func (h *Handler) gitAuth(r *http.Request) (auth.Account, error) {
	email, secret, ok := r.BasicAuth()
	if !ok || email == "" || secret == "" {
		return auth.Account{}, errGitAuth()
	}
	addr := h.cfg.Auth.ClientAddr(r)
	signIns := h.cfg.Auth.SignIns
	if auth.IsPersonalToken(secret) {
		a, err := h.cfg.Auth.Accounts.CheckToken(email, secret)
		if err != nil {
			h.log.Info("git sign-in refused", "email", auth.NormalizeEmail(email), "addr", addr, "with", "token")
			if over, wait := signIns.TokenFailed(addr); over {
				return auth.Account{}, auth.TooManySignIns(wait)
			}
			h.cfg.Auth.TokenFailed(r, "git", email)
			return auth.Account{}, errGitAuth()
		}
		return a, nil
	}
	a, err := h.cfg.Auth.Accounts.Get(email)
	if err == nil {
		key := h.creds.key(a, secret)
		h.creds.mu.Lock()
		until, cached := h.creds.ok[key]
		h.creds.mu.Unlock()
		if cached && time.Now().Before(until) && !a.Disabled {
			return a, nil
		}
	}
	if ok, wait := signIns.Password(email, addr); !ok {
		return auth.Account{}, auth.TooManySignIns(wait)
	}
	a, err = h.cfg.Auth.Accounts.Authenticate(email, secret)
	if err != nil {
		if !errors.Is(err, auth.ErrNoAccount) && !errors.Is(err, auth.ErrBadPassword) {
			h.log.Error("git sign-in failed", "email", auth.NormalizeEmail(email), "err", err)
		} else {
			h.log.Info("git sign-in refused", "email", auth.NormalizeEmail(email), "addr", addr)
			h.cfg.Auth.SignInFailed(r, "git", email)
		}
		return auth.Account{}, errGitAuth()
	}
	signIns.Succeeded(a.Email, addr)
	h.cfg.Auth.SignedIn(r, "git", a)
	h.creds.mu.Lock()
	if len(h.creds.ok) > 1000 {
		h.creds.ok = map[[32]byte]time.Time{}
	}
	h.creds.ok[h.creds.key(a, secret)] = time.Now().Add(5 * time.Minute)
	h.creds.mu.Unlock()
	return a, nil
}

// signedIn signs a Git LFS request in before next runs, which finds the
// account with auth.Principal: an account whose role may use git and has
// every capability in need.
func (h *Handler) signedIn(next httperr.HandlerFunc, need ...policy.Capability) httperr.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, err := h.gitAuth(r)
		if err != nil {
			return err
		}
		for _, c := range append([]policy.Capability{policy.UseGit}, need...) {
			if err := auth.Permit(a, c); err != nil {
				return err
			}
		}
		return next(w, auth.WithPrincipal(r, a))
	}
}
