package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/repo"
)

// Pushes are checked before main moves by git's pre-receive hook, which
// runs `chronicle hook pre-receive`: that process hands the ref updates and
// the quarantine's whereabouts to the daemon over a private unix socket,
// and prints the daemon's refusals, which git shows as "remote:" lines.
// Once git http-backend has answered a push, the daemon wakes the outbox
// itself, so the pushed commits become events now: a post-receive hook did
// that before, at the cost of starting this binary again in every push.

const hookScript = `#!/bin/sh
# Installed by Chronicle. Pushes over HTTP are checked by the daemon before
# main moves; other local writers (the git CLI on this machine) are trusted.
[ -n "$CHRONICLE_HOOK_BIN" ] || exit 0
exec "$CHRONICLE_HOOK_BIN" hook %s
`

func (c *Config) hookSocket() string { return filepath.Join(c.DataDir, "run", "hooks.sock") }

// installHooks writes the hooks and the receive settings into the repository.
func installHooks(gitDir string) error {
	p := filepath.Join(gitDir, "hooks", "pre-receive")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, []byte(fmt.Sprintf(hookScript, "pre-receive")), 0o755); err != nil {
		return fmt.Errorf("install pre-receive hook: %w", err)
	}
	// An older Chronicle installed a post-receive hook that only woke the
	// outbox.
	if err := os.Remove(filepath.Join(gitDir, "hooks", "post-receive")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the old post-receive hook: %w", err)
	}
	// receive.fsckObjects runs git's own object checks on every pushed
	// object before the hook sees it, strictly (warnings refuse too): names
	// like .git, .., GIT~1 or .git with ignorable Unicode, .gitmodules,
	// null and malformed object ids, unsorted or duplicate tree entries,
	// odd file modes. The hook then checks what git allows but the site
	// does not. Only fsckWarnOnly are let through, as warnings.
	settings := [][2]string{{"receive.denyNonFastForwards", "true"}, {"receive.denyDeletes", "true"},
		{"http.receivepack", "true"}, {"core.logAllRefUpdates", "true"},
		{"receive.fsckObjects", "true"}}
	for _, id := range fsckWarnOnly {
		settings = append(settings, [2]string{"receive.fsck." + id, "warn"})
	}
	// Only what is not set already: a git process each, at every start.
	set, err := exec.Command("git", "--git-dir", gitDir, "config", "--local", "--list").Output()
	if err != nil {
		return fmt.Errorf("git config --list: %w", err)
	}
	have := map[string]bool{}
	for _, line := range strings.Split(string(set), "\n") {
		have[line] = true // "key=value", keys in lower case
	}
	for _, kv := range settings {
		if have[strings.ToLower(kv[0])+"="+kv[1]] {
			continue
		}
		if out, err := exec.Command("git", "--git-dir", gitDir, "config", kv[0], kv[1]).CombinedOutput(); err != nil {
			return fmt.Errorf("git config %s: %w: %s", kv[0], err, out)
		}
	}
	return nil
}

// fsckWarnOnly are git's object checks that old histories fail for
// harmless reasons, so that an old blog's history can be pushed: trees
// with zero-padded modes (git before 2010), and author or committer lines
// other tools wrote loosely (a bad time zone or date, no space before the
// date or email, an odd name or email, a NUL in the message). None of
// them is about what a clone checks out or where; every check about
// names, modes, object ids and tree structure stays an error.
var fsckWarnOnly = []string{
	"zeroPaddedFilemode",
	"badTimezone", "badDate", "badDateOverflow", "zeroPaddedDate", "missingSpaceBeforeDate",
	"badEmail", "badName", "missingEmail", "missingNameBeforeEmail", "missingSpaceBeforeEmail",
	"nulInCommit",
}

// hookTimeout bounds a hook's call to the daemon (the push check). The
// daemon gives up checkMargin sooner, so that its refusal (and not the
// hook's "not running") reaches the pusher, and so that a push it accepts
// still has time to land.
const (
	hookTimeout = 2 * time.Minute
	checkMargin = 15 * time.Second
)

// hookRequest is what a hook sends to the daemon.
type hookRequest struct {
	Hook    string   `json:"hook"`
	Updates []string `json:"updates"` // "<old> <new> <ref>" lines
	Pusher  string   `json:"pusher"`
	Role    string   `json:"role"`
	Env     []string `json:"env"`
}

type hookResponse struct {
	Refusals []string `json:"refusals"`
}

// hookServer answers hooks on the unix socket.
func hookServer(ctx context.Context, path string, writer *command.Writer, log *slog.Logger) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	os.Remove(path) // a socket left by a previous run
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	os.Chmod(path, 0o600)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		var req hookRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var res hookResponse
		switch req.Hook {
		case "pre-receive":
			pr := command.PushRequest{Pusher: req.Pusher, Role: policy.Role(req.Role), Env: req.Env, Image: inspectImage}
			for _, u := range req.Updates {
				f := strings.Fields(u)
				if len(f) != 3 {
					continue
				}
				pr.Updates = append(pr.Updates, command.PushUpdate{Old: repo.ParseHash(f[0]), New: repo.ParseHash(f[1]), Ref: f[2]})
			}
			// The hook gives up after hookTimeout (and then the request's
			// context ends); the check stops checkMargin before that.
			ctx, cancel := context.WithTimeout(r.Context(), hookTimeout-checkMargin)
			refusals, err := writer.ValidatePush(ctx, pr)
			gaveUp := ctx.Err() != nil
			cancel()
			switch {
			case err != nil && gaveUp:
				log.Warn("a push check was given up", "pusher", req.Pusher, "err", err)
				refusals = []string{"the server took too long to check this push; nothing was changed: push fewer or smaller changes, or try again"}
			case err != nil:
				log.Error("validating a push failed", "pusher", req.Pusher, "err", err)
				refusals = []string{"the server could not check this push; nothing was changed: try again"}
			}
			if len(refusals) > 0 {
				log.Info("push refused", "pusher", req.Pusher, "refusals", len(refusals))
			}
			res.Refusals = refusals
		}
		json.NewEncoder(w).Encode(res)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		os.Remove(path)
	}, nil
}

// inspectImage reads a stored object as uploads are read. The limits are
// wide: every object in the store passed the upload limits on its way in
// (API or LFS), and pushed metadata must only agree with it.
func inspectImage(data []byte) (content.ImageInfo, error) {
	info, err := upload.Inspect(data, upload.Limits{MaxPixels: math.MaxInt, MaxSide: math.MaxInt})
	if err != nil {
		return content.ImageInfo{}, err
	}
	return content.ImageInfo{Type: info.Type, Ext: info.Ext, Width: info.Width, Height: info.Height}, nil
}

// runHook is `chronicle hook <name>`, run by git inside a push.
func runHook(name string, stdin io.Reader, stderr io.Writer) error {
	socket := os.Getenv("CHRONICLE_HOOK_SOCKET")
	if socket == "" {
		return errors.New("CHRONICLE_HOOK_SOCKET is not set: this command is run by git hooks")
	}
	req := hookRequest{Hook: name, Pusher: os.Getenv("CHRONICLE_PUSHER"), Role: os.Getenv("CHRONICLE_ROLE")}
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		req.Updates = append(req.Updates, sc.Text())
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") || k == "PATH" || k == "HOME" {
			req.Env = append(req.Env, kv)
		}
	}
	body, _ := json.Marshal(req)
	c := &http.Client{Timeout: hookTimeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		}}}
	resp, err := c.Post("http://chronicle/hook", "application/json", strings.NewReader(string(body)))
	if err != nil {
		fmt.Fprintln(stderr, "error: the site is not running, nothing was changed:", err)
		return errors.New("daemon unreachable")
	}
	defer resp.Body.Close()
	var res hookResponse
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		fmt.Fprintln(stderr, "error: the site's answer was unreadable; nothing was changed")
		return err
	}
	for _, r := range res.Refusals {
		fmt.Fprintln(stderr, "error:", r)
	}
	if len(res.Refusals) > 0 {
		return fmt.Errorf("push refused")
	}
	return nil
}
