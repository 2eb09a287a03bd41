package daemon

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readmeBlock returns the first ```sh block after a README heading.
func readmeBlock(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README has no %q", heading)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatalf("no sh block under %q", heading)
	}
	return block
}

// "Editing with git", run as written, in order, by a new user on a fresh
// daemon: the account, the token, the clone, a post that shows on the
// site, and the notes saying who pushed it.
func TestReadmeEditingWithGit(t *testing.T) {
	data := t.TempDir()
	s := startSite(t, data)
	u, _ := url.Parse(s.url)
	home := t.TempDir()
	token := filepath.Join(home, ".token")
	// ./bin/chronicle is this test binary; what `token create` prints is
	// what the user would paste at git's password prompt.
	write(t, filepath.Join(home, "chronicle"), "#!/bin/sh\nout=$(CHRONICLE_TEST_MAIN=1 '"+os.Args[0]+"' \"$@\") || exit $?\n"+
		"printf '%s\\n' \"$out\"\ncase \"$*\" in *'token create'*) printf '%s' \"$out\" > '"+token+"';; esac\n")
	write(t, filepath.Join(home, "askpass"), "#!/bin/sh\ncase \"$1\" in Password*) cat '"+token+"';; *) echo you@example.org;; esac\n")
	os.Chmod(filepath.Join(home, "chronicle"), 0o755)
	os.Chmod(filepath.Join(home, "askpass"), 0o755)

	script := readmeBlock(t, "## Editing with git")
	script = strings.ReplaceAll(script, "./bin/chronicle --data ./data", "'"+filepath.Join(home, "chronicle")+"' --data '"+data+"'")
	script = strings.ReplaceAll(script, "127.0.0.1:8080", u.Host)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS="+filepath.Join(home, "askpass"),
		"GIT_AUTHOR_NAME=You", "GIT_AUTHOR_EMAIL=you@example.org", "GIT_COMMITTER_NAME=You", "GIT_COMMITTER_EMAIL=you@example.org")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's commands failed: %v\n%s\n--- script:\n%s", err, out, script)
	}
	waitFor(t, 10*time.Second, func() bool { return s.get("/posts/hello").status == 200 })

	// The notes come with an ordinary fetch, as the README says.
	env := cmd.Env
	gitIn := func(args ...string) (string, error) {
		c := exec.Command("git", args...)
		c.Dir, c.Env = filepath.Join(home, "mysite"), env
		out, err := c.CombinedOutput()
		return string(out), err
	}
	if out, err := gitIn("fetch", "-q"); err != nil {
		t.Fatalf("fetch: %v\n%s", err, out)
	}
	if out, err := gitIn("notes", "--ref=chronicle/pushes", "show", "HEAD"); err != nil || !strings.Contains(out, "you@example.org") {
		t.Errorf("the push note: %v\n%s", err, out)
	}
}
