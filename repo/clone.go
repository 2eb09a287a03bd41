package repo

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Remote is a repository served over git's smart HTTP, and the account
// (email and password or personal access token) that may read it.
type Remote struct {
	URL             string
	Account, Secret string
	// Stall bounds each wait on the remote (default 30 s, whole
	// seconds): to connect, and for the transfer to move at all (a byte
	// a second). A remote that drops packets would otherwise hold a
	// fetch for TCP's own connect timeout, and one that accepted the
	// connection and never answers, for ever.
	Stall time.Duration
}

// DefaultStall is a Remote's Stall when it sets none: well above the
// quiet a server may keep while it prepares a pack (git's upload-pack
// sends a keep-alive every 5 s meanwhile).
const DefaultStall = 30 * time.Second

// FetchMain brings main from remote into the bare repository at dir,
// making it if it does not exist: a clone the first time, only what is
// new afterwards. main is replaced as the remote has it, even if it was
// rewritten. The credentials go to git in its environment (an
// Authorization header), never in its arguments or its config, so they
// are neither in the process list nor on disk.
//
// Each wait on the remote is bounded by remote.Stall: it is reached
// first with a bounded connect (git has no connect timeout of its own,
// and the node reaches the remote directly, as its forwarded writes
// do), then git gives up when the transfer stays below a byte a second
// that long (http.lowSpeedLimit and http.lowSpeedTime).
func FetchMain(ctx context.Context, dir string, remote Remote) error {
	stall := remote.Stall
	if stall <= 0 {
		stall = DefaultStall
	}
	stall = max(stall.Round(time.Second), time.Second)
	if err := reach(ctx, remote.URL, stall); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
		}
		if out, err := exec.CommandContext(ctx, "git", "init", "-q", "--bare", "-b", "main", dir).CombinedOutput(); err != nil {
			return fmt.Errorf("git init %s: %w: %s", dir, err, strings.TrimSpace(string(out)))
		}
	}
	cmd := exec.CommandContext(ctx, "git", "--git-dir", dir, "fetch", "-q", "--no-tags", "--no-write-fetch-head",
		strings.TrimRight(remote.URL, "/"), "+"+MainRef+":"+MainRef)
	conf := []string{"http.lowSpeedLimit", "1", "http.lowSpeedTime", strconv.Itoa(int(stall / time.Second))}
	if remote.Account != "" {
		basic := base64.StdEncoding.EncodeToString([]byte(remote.Account + ":" + remote.Secret))
		conf = append(conf, "http.extraHeader", "Authorization: Basic "+basic)
	}
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=true", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_COUNT="+strconv.Itoa(len(conf)/2))
	for i := 0; i < len(conf); i += 2 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", i/2, conf[i]), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", i/2, conf[i+1]))
	}
	// git fetches through a child (git-remote-http) that holds the
	// pipes: ending git alone, when ctx ends, would leave it connecting
	// or waiting and Run waiting for it. The whole group goes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git fetch %s: %w: %s", remote.URL, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// reach connects to rawURL's host within wait, and hangs up: an error
// if it does not answer. A remote reached through a proxy (git honours
// http_proxy and https_proxy) or by a scheme other than HTTP is left to
// git and its low-speed limits.
func reach(ctx context.Context, rawURL string, wait time.Duration) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("remote %q: %w", rawURL, err)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if port == "" {
		return nil
	}
	if p, err := http.ProxyFromEnvironment(&http.Request{URL: u}); err != nil || p != nil {
		return nil
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	c, err := (&net.Dialer{Timeout: wait}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	return c.Close()
}
