package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

type apiPost struct {
	ID, Slug, Title, Content, Status, Revision, Path, Blob string
	Version                                                int
	Categories, Tags                                       []string
}

func TestCreateReturnsOnlyOnceDurable(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ann@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ann@example.org")

	r := s.do("POST", "/api/v1/posts", tok, postBody("Hello, world", "tags", []string{"Go"}, "status", "published"))
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)
	if r.header.Get("Location") != "/api/v1/posts/"+p.ID || r.header.Get("ETag") != `"`+p.Blob+`"` || p.Version != 1 {
		t.Fatalf("headers %v, post %+v", r.header, p)
	}
	// The answer came back: the commit must be on main now, with nothing
	// else (no waiting, no retry) in between.
	if head := git(t, s.repoDir(), "rev-parse", "main"); head != p.Revision {
		t.Fatalf("main is %s, the post's revision %s", head, p.Revision)
	}
	clone := filepath.Join(t.TempDir(), "clone")
	git(t, ".", "clone", "-q", s.repoDir(), clone)
	file, err := os.ReadFile(filepath.Join(clone, "posts", p.Path[len("posts/"):]))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"---\nid: " + p.ID + "\n", "title: Hello, world\n", "slug: hello-world\n", "status: published\n", "tags: [Go]\n", "---\nSome *Markdown* for Hello, world.\n"} {
		if !strings.Contains(string(file), want) {
			t.Errorf("post file lacks %q:\n%s", want, file)
		}
	}
	msg := git(t, clone, "log", "-1", "--format=%s%n%n%b%n%an <%ae>")
	want := "Create post “Hello, world”\n\nChronicle-Event: post.created\nChronicle-Subject: post/" + p.ID + "\nChronicle-Actor: ann@example.org\n\nann@example.org <ann@example.org>"
	if msg != want {
		t.Fatalf("commit message:\n%s\nwant:\n%s", msg, want)
	}
	git(t, s.repoDir(), "fsck", "--strict", "--no-dangling")
	// The metrics the issue names, HTTP latency labelled by route template.
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		if r := s.do("GET", "/metrics", "", nil); !strings.Contains(string(r.body), "chronicle_projection_lag_events{projection=\"catalogue\"}") {
			return fmt.Errorf("/metrics (status %d) has no catalogue projection lag yet", r.status)
		}
		return nil
	})
	metrics := string(s.do("GET", "/metrics", "", nil).body)
	for _, want := range []string{"chronicle_events_appended_total 1", "chronicle_append_duration_seconds_count 1",
		"chronicle_publish_lag_commits", "chronicle_projection_lag_events{projection=\"catalogue\"}",
		`chronicle_http_request_duration_seconds_count{method="POST",route="/api/v1/posts",status="2xx"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Accounts never reach the content repository.
	if files := git(t, clone, "log", "--all", "--name-only", "--format="); strings.Contains(files, "account") || strings.Contains(files, "secret") {
		t.Fatalf("repository history names account files:\n%s", files)
	}
}

func TestConcurrentPutsWithSameIfMatch(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ann@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ann@example.org")
	r := s.do("POST", "/api/v1/posts", tok, postBody("Race"))
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)
	tag := r.header.Get("ETag")

	for round := 0; round < 5; round++ {
		var wg sync.WaitGroup
		results := make([]response, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.do("PUT", "/api/v1/posts/"+p.ID, tok, postBody("Race", "content", fmt.Sprintf("writer %d round %d\n", i, round)), "If-Match", tag)
			}()
		}
		wg.Wait()
		codes := []int{results[0].status, results[1].status}
		if !(codes[0] == 200 && codes[1] == 412 || codes[0] == 412 && codes[1] == 200) {
			t.Fatalf("round %d: statuses %v: %s / %s", round, codes, results[0].body, results[1].body)
		}
		winner, loser := results[0], results[1]
		if winner.status != 200 {
			winner, loser = loser, winner
		}
		if d, _ := loser.problem(t); !strings.Contains(d, "If-Match") {
			t.Fatalf("412 detail %q", d)
		}
		tag = winner.header.Get("ETag")
		var won apiPost
		winner.json(t, &won)
		lost := fmt.Sprintf("writer %d round %d", 1-indexOf(results, winner), round)
		// The loser's version is nowhere in history.
		if hist := git(t, s.repoDir(), "log", "-p", "main", "--", won.Path); strings.Contains(hist, lost) {
			t.Fatalf("the refused write %q reached history", lost)
		}
	}
	if n := git(t, s.repoDir(), "rev-list", "--count", "main"); n != "6" {
		t.Fatalf("%s commits, want 1 create + 5 updates", n)
	}
}

func indexOf(rs []response, r response) int {
	if reflect.DeepEqual(rs[0], r) {
		return 0
	}
	return 1
}

// A commit made with the git CLI, outside the daemon, is picked up by the
// outbox and derives the same events as the equivalent API edit.
func TestGitCLICommitBecomesEvents(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ann@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ann@example.org")
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "News"}), 201)
	api := s.do("POST", "/api/v1/posts", tok, postBody("By API", "categories", []string{"news"}), "Prefer", "wait=5")
	mustStatus(t, api, 201)
	var apiP apiPost
	api.json(t, &apiP)

	work := filepath.Join(t.TempDir(), "work")
	git(t, ".", "clone", "-q", s.repoDir(), work)
	os.MkdirAll(filepath.Join(work, "posts", "notes"), 0o755)
	os.WriteFile(filepath.Join(work, "posts", "notes", "by-hand.md"), []byte("---\ntitle: By hand\nauthor: hand@example.org\ncategories: [news]\n---\nWritten in vim.\n"), 0o644)
	git(t, work, "add", ".")
	git(t, work, "commit", "-q", "-m", "Add a post by hand")
	git(t, work, "push", "-q", "origin", "HEAD:main")

	var hand apiPost
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		r := s.do("GET", "/api/v1/posts?status=draft&category=news", tok, nil)
		var l struct{ Items []apiPost }
		r.json(t, &l)
		var titles []string
		for _, p := range l.Items {
			if p.Title == "By hand" {
				hand = p
				return nil
			}
			titles = append(titles, p.Title)
		}
		return fmt.Errorf("news drafts are %q, none titled \"By hand\"", titles)
	})
	if hand.Slug != "by-hand" || hand.Status != "draft" || hand.ID != content.DerivedPostID("posts/notes/by-hand.md") || hand.Version != 1 {
		t.Fatalf("hand-written post: %+v", hand)
	}

	// Compare the derived events of both commits.
	l := openLog(t, s.repoDir())
	evs := readEvents(t, l)
	byCommit := map[string][]events.Event{}
	for _, e := range evs {
		byCommit[e.Commit] = append(byCommit[e.Commit], e)
	}
	a, h := byCommit[apiP.Revision], byCommit[hand.Revision]
	if len(a) != 1 || len(h) != 1 || a[0].Type != events.PostCreated || h[0].Type != events.PostCreated {
		t.Fatalf("API events %v, CLI events %v", a, h)
	}
	if h[0].Actor != "hand@example.org" || a[0].Actor != "ann@example.org" {
		t.Fatalf("actors %q %q", a[0].Actor, h[0].Actor)
	}
	var ad, hd events.PostData
	json.Unmarshal(a[0].Data, &ad)
	json.Unmarshal(h[0].Data, &hd)
	if !reflect.DeepEqual(keysOf(t, a[0].Data), keysOf(t, h[0].Data)) || ad.Post.Status != hd.Post.Status ||
		!reflect.DeepEqual(ad.Post.Categories, hd.Post.Categories) || hd.Post.CreatedAt.IsZero() {
		t.Fatalf("payloads differ in shape:\n%s\n%s", a[0].Data, h[0].Data)
	}

	// Editing by hand then through the API: both are post.updated.
	os.WriteFile(filepath.Join(work, "posts", "notes", "by-hand.md"), []byte("---\ntitle: By hand, edited\nauthor: hand@example.org\ncategories: [news]\n---\nWritten in vim.\n"), 0o644)
	git(t, work, "commit", "-q", "-am", "Edit by hand")
	git(t, work, "push", "-q", "origin", "HEAD:main")
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		var p apiPost
		s.do("GET", "/api/v1/posts/"+hand.ID, tok, nil).json(t, &p)
		if p.Title != "By hand, edited" || p.Version != 2 {
			return fmt.Errorf("hand-written post: %q version %d, want \"By hand, edited\" version 2", p.Title, p.Version)
		}
		return nil
	})
	r := s.do("PUT", "/api/v1/posts/"+hand.ID, tok, postBody("By hand, then API", "categories", []string{"news"}), "Prefer", "wait=5")
	mustStatus(t, r, 200)
	var after apiPost
	r.json(t, &after)
	if after.ID != hand.ID || after.Version != 3 || after.Path != "posts/notes/by-hand.md" {
		t.Fatalf("API edit of a hand-written post: %+v", after)
	}
	evs = readEvents(t, l)
	if got := []events.Type{evs[len(evs)-2].Type, evs[len(evs)-1].Type}; got[0] != events.PostUpdated || got[1] != events.PostUpdated {
		t.Fatalf("last events %v", got)
	}
}

func openLog(t testing.TB, dir string) *gitlog.GitLog {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := repo.Open(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return gitlog.NewGitLog(r, gitlog.NewDeriver(r, quiet))
}

func readEvents(t testing.TB, l events.Log) []events.Event {
	var out []events.Event
	if err := l.Read(context.Background(), events.Cursor{}, func(e events.Event) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func keysOf(t testing.TB, b []byte) []string {
	var m map[string]map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var ks []string
	for k := range m["post"] {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
