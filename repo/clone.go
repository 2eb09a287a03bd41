package repo

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Remote is a repository served over git's smart HTTP, and the account
// (email and password or personal access token) that may read it.
type Remote struct {
	URL             string
	Account, Secret string
}

// FetchMain brings main from remote into the bare repository at dir,
// making it if it does not exist: a clone the first time, only what is
// new afterwards. main is replaced as the remote has it, even if it was
// rewritten. The credentials go to git in its environment (an
// Authorization header), never in its arguments or its config, so they
// are neither in the process list nor on disk.
func FetchMain(ctx context.Context, dir string, remote Remote) error {
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
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=true", "GIT_CONFIG_NOSYSTEM=1")
	if remote.Account != "" {
		basic := base64.StdEncoding.EncodeToString([]byte(remote.Account + ":" + remote.Secret))
		cmd.Env = append(cmd.Env, "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader",
			"GIT_CONFIG_VALUE_0=Authorization: Basic "+basic)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git fetch %s: %w: %s", remote.URL, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
