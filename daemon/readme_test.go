package daemon

import (
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// readmeBlocks returns the ```sh blocks of a README section (from its
// heading to the next heading of its level).
func readmeBlocks(t *testing.T, heading string) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README has no %q", heading)
	}
	level := heading[:strings.Index(heading, " ")+1]
	section, _, _ = strings.Cut(section, "\n"+level)
	var blocks []string
	for {
		_, rest, ok := strings.Cut(section, "```sh\n")
		if !ok {
			break
		}
		block, after, ok := strings.Cut(rest, "```\n")
		if !ok {
			t.Fatalf("an unfinished sh block under %q", heading)
		}
		blocks, section = append(blocks, block), after
	}
	if len(blocks) == 0 {
		t.Fatalf("no sh block under %q", heading)
	}
	return blocks
}

// The README's examples, run as written and in order by a new user on a
// fresh daemon: the API (with the admin account `make run` makes), media,
// editing with git (an account, a token, a clone, a post, a picture with
// git-lfs) and accounts. Nothing is installed that the README does not
// name (no jq).
func TestReadmeAsANewUser(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@localhost.localdomain", auth.RoleAdmin) // what `make run` makes
	s := startSite(t, data)
	u, _ := url.Parse(s.url)
	home := t.TempDir()
	token := filepath.Join(home, ".token")
	// ./bin/chronicle is this test binary; what `token create` prints last
	// is what the user pastes at git's password prompt.
	write(t, filepath.Join(home, "chronicle"), "#!/bin/sh\nout=$(CHRONICLE_TEST_MAIN=1 '"+os.Args[0]+"' \"$@\") || exit $?\n"+
		"printf '%s\\n' \"$out\"\ncase \"$*\" in *'token create'*) printf '%s' \"$out\" > '"+token+"';; esac\n")
	write(t, filepath.Join(home, "askpass"), "#!/bin/sh\ncase \"$1\" in Password*) cat '"+token+"';; *) echo you@example.org;; esac\n")
	os.Chmod(filepath.Join(home, "chronicle"), 0o755)
	os.Chmod(filepath.Join(home, "askpass"), 0o755)
	photo := testJPEG(800, 500)
	write(t, filepath.Join(home, "holiday.jpg"), string(photo))

	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	for _, h := range []string{"## Use the API", "## Media", "## Editing with git", "## Accounts"} {
		for _, b := range readmeBlocks(t, h) {
			if strings.Contains(b, "jq ") {
				t.Errorf("%s needs jq, which nothing installs", h)
			}
			script.WriteString("echo '### " + h + "'\n" + b)
		}
	}
	run := script.String()
	run = strings.ReplaceAll(run, "./bin/chronicle --data ./data", "'"+filepath.Join(home, "chronicle")+"' --data '"+data+"'")
	run = strings.ReplaceAll(run, "127.0.0.1:8080", u.Host)
	run = strings.ReplaceAll(run, "localhost:8080", u.Host)
	cmd := exec.Command("bash", "-c", run)
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS="+filepath.Join(home, "askpass"),
		"GIT_AUTHOR_NAME=You", "GIT_AUTHOR_EMAIL=you@example.org", "GIT_COMMITTER_NAME=You", "GIT_COMMITTER_EMAIL=you@example.org")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s\n--- script:\n%s", err, out, run)
	}
	output := string(out)

	// What the user was promised.
	for _, want := range []string{`"title":"Hello again"`, `"name":"News"`, `"type":"image/jpeg"`} {
		if !strings.Contains(output, want) {
			t.Errorf("the output lacks %s:\n%s", want, output)
		}
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error { return wantStatus("/posts/hello", s.get("/posts/hello"), 200) })
	if p := s.get("/posts/hello-world"); p.status != 200 || !strings.Contains(string(p.body), "Hello again") {
		t.Errorf("the API's post after the PATCH: %d", p.status)
	}
	if home := string(s.get("/").body); !strings.Contains(home, "My blog") {
		t.Error("the settings' title is not on the home page")
	}
	if pic := s.get("/media/beach/original"); pic.status != 200 || string(pic.body) != string(photo) {
		t.Errorf("the picture added with git: %d", pic.status)
	}
	if _, err := auth.NewStore(filepath.Join(data, "accounts"), cheapHash).Get("ann@example.org"); !errors.Is(err, auth.ErrNoAccount) {
		t.Errorf("the removed account: %v", err)
	}
	// Who pushed comes with an ordinary fetch, as the README says.
	git := func(args ...string) (string, error) {
		c := exec.Command("git", args...)
		c.Dir, c.Env = filepath.Join(home, "mysite"), cmd.Env
		out, err := c.CombinedOutput()
		return string(out), err
	}
	if out, err := git("fetch", "-q"); err != nil {
		t.Fatalf("fetch: %v\n%s", err, out)
	}
	if out, err := git("notes", "--ref=chronicle/pushes", "show", "HEAD"); err != nil || !strings.Contains(out, "you@example.org") {
		t.Errorf("the push note: %v\n%s", err, out)
	}
}
