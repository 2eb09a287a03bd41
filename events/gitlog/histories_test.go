package gitlog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/tools/txtar"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/repo/lfs"
)

var update = flag.Bool("update", false, "rewrite testdata/histories/*.events from what derivation gives")

// TestDeriveHistories replays every testdata/histories/<name>.txtar into a
// fresh bare repository with the git CLI (as someone writing files by hand
// and pushing them would), derives every commit through a GitLog, and
// compares the events, and what derivation logged, with the golden file
// <name>.events. Run with -update to rewrite the golden files, then read
// the diff: a golden file that records a bug is a bug.
//
// A history is a txtar archive. Its comment says what the history shows.
// Each "-- commit --" section starts a commit; the files after it, up to
// the next "-- commit --", are what that commit writes (whole files, paths
// from the repository's root). A commit section holds header lines, a
// blank line, then the commit message (trailers included, as git keeps
// them):
//
//	Date: 2026-01-05T09:00:00Z   the author and committer date (default:
//	                             2026-01-<N>T09:00:00Z for commit N)
//	Author: Ed <ed@example.org>  (default: Ed <ed@example.org>)
//	Delete: posts/2026/a.md      removes a file (repeatable)
//	LFS: media/cat.png           stores this commit's media/cat.png in the
//	                             LFS store and commits its Git LFS pointer
//	                             instead, as git lfs does (repeatable)
//	Pusher: bob@example.org      records the commit as pushed by bob, as a
//	                             note in refs/notes/chronicle/pushes
//
// A message names commit N of the history as "{commit:N}" (e.g. in a
// Chronicle-Restored-From trailer); it is written as that commit's hash.
//
// Pictures are read by a stand-in for the image library: an LFS object
// whose bytes are "<type> <width>x<height>" (e.g. "image/png 640x480") is
// that picture; anything else is not an image.
//
// In the golden file each event is a section "<height>.<index> <type>
// <subject>" holding the event as indented JSON, a commit without events
// is a section "<height>: no events", and the last section, "log", holds
// what derivation logged. Commit and blob hashes are written as
// "commit:<N>" and "blob:<path>@<N>" (the bytes that commit N was the
// first to write, at that path).
func TestDeriveHistories(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs the git CLI")
	}
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no histories: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := deriveHistory(t, ar)
			golden := strings.TrimSuffix(file, ".txtar") + ".events"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("derived events differ from %s (-want +got; run with -update, then read the diff):\n%s", golden, cmp.Diff(string(want), string(got)))
			}
		})
	}
}

// historyCommit is one "-- commit --" section and its files.
type historyCommit struct {
	date          time.Time
	author, email string
	pusher        string
	deletes, lfs  []string
	message       string
	files         []txtar.File
	hash          repo.Hash
	written       map[repo.Hash]string // blob → path, for the golden's labels
}

// commitRefRE is how a message names an earlier commit of its history,
// "{commit:N}": replaced by that commit's hash when it is made.
var commitRefRE = regexp.MustCompile(`\{commit:(\d+)\}`)

var authorRE = regexp.MustCompile(`^(.*?)\s*<([^>]*)>$`)

func parseHistory(t *testing.T, ar *txtar.Archive) []*historyCommit {
	t.Helper()
	var cs []*historyCommit
	for _, f := range ar.Files {
		if f.Name != "commit" {
			if len(cs) == 0 {
				t.Fatalf("file %s before the first -- commit --", f.Name)
			}
			c := cs[len(cs)-1]
			c.files = append(c.files, f)
			continue
		}
		n := len(cs) + 1
		c := &historyCommit{date: time.Date(2026, 1, n, 9, 0, 0, 0, time.UTC), author: "Ed", email: "ed@example.org",
			message: fmt.Sprintf("commit %d\n", n)}
		head, msg, _ := strings.Cut("\n"+string(f.Data), "\n\n") // headers, blank line, message
		for _, line := range strings.Split(head, "\n") {
			if line == "" {
				continue
			}
			k, v, ok := strings.Cut(line, ": ")
			switch {
			case !ok:
				t.Fatalf("commit %d: header %q is not \"Key: value\"", n, line)
			case k == "Date":
				d, err := time.Parse(time.RFC3339, v)
				if err != nil {
					t.Fatalf("commit %d: %v", n, err)
				}
				c.date = d
			case k == "Author":
				m := authorRE.FindStringSubmatch(v)
				if m == nil {
					t.Fatalf("commit %d: author %q is not \"Name <email>\"", n, v)
				}
				c.author, c.email = m[1], m[2]
			case k == "Pusher":
				c.pusher = v
			case k == "Delete":
				c.deletes = append(c.deletes, v)
			case k == "LFS":
				c.lfs = append(c.lfs, v)
			default:
				t.Fatalf("commit %d: unknown header %q", n, k)
			}
		}
		if strings.TrimSpace(msg) != "" {
			c.message = msg
		}
		cs = append(cs, c)
	}
	if len(cs) == 0 {
		t.Fatal("a history needs at least one -- commit --")
	}
	return cs
}

// replay makes the commits with the git CLI in a bare repository, the
// work tree and index kept outside it, git's user configuration ignored.
func replay(t *testing.T, cs []*historyCommit, gitDir, lfsDir string) {
	t.Helper()
	work, tmp := t.TempDir(), t.TempDir()
	isolated := append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
	if out, err := exec.Command("git", "init", "--quiet", "--bare", "--initial-branch=main", gitDir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	base := append(isolated, "GIT_DIR="+gitDir, "GIT_WORK_TREE="+work, "GIT_INDEX_FILE="+filepath.Join(tmp, "index"))
	git := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "gc.auto=0", "-c", "core.autocrlf=false"}, args...)...)
		cmd.Dir, cmd.Env = work, append(base, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for i, c := range cs {
		for _, p := range c.deletes {
			if err := os.Remove(filepath.Join(work, p)); err != nil {
				t.Fatalf("commit %d: %v", i+1, err)
			}
		}
		c.written = map[repo.Hash]string{}
		for _, f := range c.files {
			data := f.Data
			for _, p := range c.lfs {
				if p != f.Name {
					continue
				}
				oid := fmt.Sprintf("%x", sha256.Sum256(data))
				obj := lfs.ObjectPath(lfsDir, oid)
				if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(obj, data, 0o644); err != nil {
					t.Fatal(err)
				}
				data = content.LFSPointerFile(oid, int64(len(data)))
			}
			dst := filepath.Join(work, filepath.FromSlash(f.Name))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				t.Fatal(err)
			}
			c.written[repo.BlobHash(data)] = f.Name
		}
		for _, p := range c.lfs {
			if !slices.ContainsFunc(c.files, func(f txtar.File) bool { return f.Name == p }) {
				t.Fatalf("commit %d: LFS: %s names no file of the commit", i+1, p)
			}
		}
		msgFile := filepath.Join(tmp, "message")
		msg := commitRefRE.ReplaceAllStringFunc(c.message, func(ref string) string {
			n, _ := strconv.Atoi(commitRefRE.FindStringSubmatch(ref)[1])
			if n < 1 || n > i {
				t.Fatalf("commit %d: %s names no earlier commit", i+1, ref)
			}
			return cs[n-1].hash.String()
		})
		if err := os.WriteFile(msgFile, []byte(msg), 0o644); err != nil {
			t.Fatal(err)
		}
		date := c.date.Format(time.RFC3339)
		env := []string{"GIT_AUTHOR_NAME=" + c.author, "GIT_AUTHOR_EMAIL=" + c.email, "GIT_AUTHOR_DATE=" + date,
			"GIT_COMMITTER_NAME=" + c.author, "GIT_COMMITTER_EMAIL=" + c.email, "GIT_COMMITTER_DATE=" + date}
		git(env, "add", "--all")
		git(env, "commit", "--quiet", "--allow-empty", "--no-verify", "--cleanup=verbatim", "--file", msgFile)
		c.hash = repo.ParseHash(git(nil, "rev-parse", "refs/heads/main"))
		if c.pusher != "" {
			git(env, "notes", "--ref", gitlog.PushNotesRef, "add", "--message", gitlog.TrailerPusher+": "+c.pusher, c.hash.String())
		}
	}
}

// pictureStandIn is the image library as the fixtures use it: bytes
// "<type> <width>x<height>" are that picture.
func pictureStandIn(b []byte) (content.ImageInfo, error) {
	var typ string
	var w, h int
	if _, err := fmt.Sscanf(string(b), "%s %dx%d", &typ, &w, &h); err != nil || !strings.HasPrefix(typ, "image/") {
		return content.ImageInfo{}, fmt.Errorf("not an image")
	}
	ext := map[string]string{"image/jpeg": "jpg"}[typ]
	if ext == "" {
		ext = strings.TrimPrefix(typ, "image/")
	}
	return content.ImageInfo{Type: typ, Ext: ext, Width: w, Height: h}, nil
}

// deriveHistory replays a history and renders what derivation makes of
// it as the golden file's text.
func deriveHistory(t *testing.T, ar *txtar.Archive) []byte {
	t.Helper()
	cs := parseHistory(t, ar)
	gitDir, lfsDir := filepath.Join(t.TempDir(), "site.git"), t.TempDir()
	replay(t, cs, gitDir, lfsDir)

	labels := map[string]string{}
	for i, c := range cs {
		labels[c.hash.String()] = fmt.Sprintf("commit:%d", i+1)
		for h, p := range c.written {
			if _, ok := labels[h.String()]; !ok {
				labels[h.String()] = fmt.Sprintf("blob:%s@%d", p, i+1)
			}
		}
	}
	hashRE := regexp.MustCompile(`\b[0-9a-f]{40}\b`)
	relabel := func(s string) string {
		return hashRE.ReplaceAllStringFunc(s, func(h string) string {
			if l, ok := labels[h]; ok {
				return l
			}
			return h
		})
	}

	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}))
	read := func(log *slog.Logger, bulk bool) []events.Event {
		r, err := repo.Open(gitDir, log)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		l := gitlog.NewGitLog(r, gitlog.NewDeriver(r, log, gitlog.WithPictures(lfsDir, pictureStandIn)))
		if bulk {
			gitlog.ReadInBulk(l)
		}
		var evs []events.Event
		if err := l.Read(context.Background(), events.Cursor{}, func(e events.Event) error {
			evs = append(evs, e)
			return nil
		}); err != nil {
			t.Fatalf("read the log: %v", err)
		}
		return evs
	}
	evs := read(logger, false)
	// Derivation is a function of the repository: a second replay, by a
	// deriver that has seen nothing yet, gives the same events, and so
	// does one taking every commit's changes from git log, as a long
	// history is read.
	if again := read(quiet, false); !equalEvents(again, evs) {
		t.Errorf("a second derivation of the history differs from the first")
	}
	if bulk := read(quiet, true); !equalEvents(bulk, evs) {
		t.Errorf("the history read in bulk (git log) differs from the one read commit by commit")
	}

	out := &txtar.Archive{Comment: []byte("Derived by TestDeriveHistories from the .txtar of the same name; go test -update rewrites it.\n")}
	byHeight := map[int64][]events.Event{}
	for _, e := range evs {
		byHeight[e.Height] = append(byHeight[e.Height], e)
	}
	for i := range cs {
		height := int64(i + 1)
		if len(byHeight[height]) == 0 {
			out.Files = append(out.Files, txtar.File{Name: fmt.Sprintf("%d: no events", height)})
		}
		for _, e := range byHeight[height] {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(e); err != nil {
				t.Fatal(err)
			}
			out.Files = append(out.Files, txtar.File{Name: fmt.Sprintf("%d.%d %s %s", e.Height, e.Index, e.Type, e.Subject), Data: []byte(relabel(b.String()))})
		}
	}
	out.Files = append(out.Files, txtar.File{Name: "log", Data: []byte(relabel(logged.String()))})
	return txtar.Format(out)
}

func equalEvents(a, b []events.Event) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
