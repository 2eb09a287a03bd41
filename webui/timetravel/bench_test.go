package timetravel

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/projections/render"
	"github.com/chronicle-cms/chronicle/repo"
)

// The benchmarks run on a generated site: benchPosts() posts of about 400
// words in 10 categories (as the API writes them: every date in the front
// matter), one commit each, then benchEdits more commits editing a post
// at random (every 500th the settings, every 997th deleting a post). Set
// CHRONICLE_TT_EDITS for a longer history (the figures: 90000,
// for 100,000 commits), and CHRONICLE_TT_REPO to keep the repository
// between runs (at that path). Under -short (as `make test` runs every
// benchmark, to keep them working) the site is small.
func benchPosts() int {
	if testing.Short() {
		return 300
	}
	return 10000
}

func benchEdits() int {
	if n, err := strconv.Atoi(os.Getenv("CHRONICLE_TT_EDITS")); err == nil && n >= 0 {
		return n
	}
	if testing.Short() {
		return 300
	}
	return 10000
}

var words = strings.Fields(`time year people way day man thing woman life child world school state family student group country
problem hand part place case week company system program question work government number night point home water room mother area
mountain walk garden bread coffee train journey harbour lantern meadow orchard valley winter summer autumn spring letter window
market village island forest bridge castle ocean desert compass engine camera recipe kitchen violin poem canvas marathon bicycle`)

type benchSite struct {
	dir     string // removed at the end ("" for a kept repository)
	repo    *repo.Repo
	commits []string // first-parent, oldest first
}

var (
	benchOnce sync.Once
	bench     *benchSite
	benchErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bench != nil {
		bench.repo.Close()
		if bench.dir != "" {
			os.RemoveAll(bench.dir)
		}
	}
	os.Exit(code)
}

// site builds the benchmark's repository with git fast-import, once.
func benchRepo(b *testing.B) *benchSite {
	benchOnce.Do(func() { bench, benchErr = makeSite(benchPosts(), benchEdits()) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return bench
}

func makeSite(posts, edits int) (*benchSite, error) {
	if keep := os.Getenv("CHRONICLE_TT_REPO"); keep != "" {
		// A repository kept between runs (made once by this function).
		if s, err := openSite(keep); err == nil {
			return s, nil
		}
	}
	dir, err := os.MkdirTemp("", "timetravel-bench-")
	if err != nil {
		return nil, err
	}
	gitDir := filepath.Join(dir, "site.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", gitDir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git init: %v: %s", err, out)
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = gitDir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(stdin, 1<<20)
	rng := rand.New(rand.NewSource(42))
	base := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	mark := 0
	file := func(path string, data string) {
		fmt.Fprintf(w, "M 100644 inline %s\ndata %d\n%s\n", path, len(data), data)
	}
	commit := func(when time.Time, msg string, files func()) {
		mark++
		fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\n", mark)
		fmt.Fprintf(w, "author Seed <seed@example.org> %d +0000\ncommitter Seed <seed@example.org> %d +0000\n", when.Unix(), when.Unix())
		fmt.Fprintf(w, "data %d\n%s\n", len(msg), msg)
		if mark > 1 {
			fmt.Fprintf(w, "from :%d\n", mark-1)
		}
		files()
		w.WriteString("\n")
	}
	postFile := func(i int, title string, at, updated time.Time) (string, string) {
		var body strings.Builder
		for n := 0; n < 400; n++ {
			if n > 0 && n%80 == 0 {
				body.WriteString(".\n\n")
			} else if n > 0 {
				body.WriteByte(' ')
			}
			body.WriteString(words[rng.Intn(len(words))])
		}
		slug := fmt.Sprintf("post-%d", i)
		return fmt.Sprintf("posts/%d/%s.md", at.Year(), slug),
			fmt.Sprintf("---\nid: seed%06d\ntitle: %s\nslug: %s\nstatus: published\npublished_at: %s\ncreated_at: %s\nupdated_at: %s\ncategories: [cat-%d]\ntags: [%s, %s]\n---\n%s.\n",
				i, title, slug, at.Format(time.RFC3339), at.Format(time.RFC3339), updated.Format(time.RFC3339), i%10, words[i%40], words[(i/40)%33+40], body.String())
	}
	commit(base, "Site and categories", func() {
		file("site/settings.yaml", "title: Benchmark\nlanguage: en\nposts_per_page: 10\n")
		file("site/profile.yaml", "name: Seed Writer\nbio: Writes *a lot*.\n")
		for c := 0; c < 10; c++ {
			file(fmt.Sprintf("categories/cat-%d.yaml", c), fmt.Sprintf("name: Category %d\n", c))
		}
	})
	when := func(k int) time.Time { return base.Add(time.Duration(k) * time.Hour) }
	exists := make([]bool, posts)
	for i := 0; i < posts; i++ {
		at := when(mark)
		commit(at, fmt.Sprintf("Create post post-%d", i), func() {
			p, d := postFile(i, fmt.Sprintf("Post number %d", i), at, at)
			file(p, d)
		})
		exists[i] = true
	}
	for e := 0; e < edits; e++ {
		at := when(mark)
		i := rng.Intn(posts)
		switch {
		case e%500 == 499:
			commit(at, "Update settings", func() {
				file("site/settings.yaml", fmt.Sprintf("title: Benchmark %d\nlanguage: en\nposts_per_page: 10\n", e))
			})
		case e%997 == 996 && exists[i]:
			commit(at, fmt.Sprintf("Delete post post-%d", i), func() {
				p, _ := postFile(i, "", when(i+1), at)
				fmt.Fprintf(w, "D %s\n", p)
			})
			exists[i] = false
		default:
			commit(at, fmt.Sprintf("Update post post-%d", i), func() {
				p, d := postFile(i, fmt.Sprintf("Post number %d, edit %d", i, e), when(i+1), at)
				file(p, d)
			})
			exists[i] = true
		}
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("git fast-import: %w", err)
	}
	if keep := os.Getenv("CHRONICLE_TT_REPO"); keep != "" {
		if err := os.Rename(gitDir, keep); err != nil {
			return nil, err
		}
		os.Remove(dir)
		return openSite(keep)
	}
	return openSite(gitDir)
}

func openSite(gitDir string) (*benchSite, error) {
	out, err := exec.Command("git", "-C", gitDir, "rev-list", "--first-parent", "--reverse", "main").Output()
	if err != nil {
		return nil, err
	}
	s := &benchSite{commits: strings.Fields(string(out))}
	if os.Getenv("CHRONICLE_TT_REPO") == "" {
		s.dir = filepath.Dir(gitDir)
	}
	if s.repo, err = repo.Open(gitDir, slog.New(slog.DiscardHandler)); err != nil {
		return nil, err
	}
	return s, nil
}

// newBenchHandler is time travel as the daemon sets it up.
func newBenchHandler(s *benchSite) *Handler {
	log := slog.New(slog.DiscardHandler)
	return New(Config{Repo: s.repo, Deriver: gitlog.NewDeriver(s.repo, log, gitlog.WithPostCache(25000)),
		Pages: pages.Config{BaseURL: "https://bench.example.org", Renderer: render.New(), Logger: log}, Logger: log})
}

// cpu is the process's CPU time so far: the machine the benchmarks run on
// may be shared, and wall time then says little.
func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds CPU time per operation to a benchmark's figures.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpu()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
}

func get(b *testing.B, h *Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	if err := h.Serve(rec, httptest.NewRequest(http.MethodGet, path, nil)); err != nil {
		b.Fatal(err)
	}
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String()[:min(200, rec.Body.Len())])
	}
	return rec
}

// arbitrary is a commit three quarters into the history.
func (s *benchSite) arbitrary(i int) string { return s.commits[len(s.commits)*3/4-i%100] }

// BenchmarkChain reads main's history once, as the first visit to the
// past after the daemon starts does (later visits read only new commits).
func BenchmarkChain(b *testing.B) {
	s := benchRepo(b)
	b.ResetTimer()
	start := cpu()
	defer reportCPU(b, start)
	for range b.N {
		c := newChain(s.repo)
		if _, err := c.resolve(s.commits[0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(s.commits)), "commits")
}

// BenchmarkFirstPage: the home page at a commit not visited yet — the
// tree's events derived, the pages projection built in memory, the page
// rendered — after the daemon has read some other commit's tree (its
// parsed posts are kept: most files are the same at any two commits).
// Compare with BenchmarkGitShow (one file of that commit with the git
// CLI) and BenchmarkLivePost.
func BenchmarkFirstPage(b *testing.B) {
	s := benchRepo(b)
	h := newBenchHandler(s)
	get(b, h, Prefix+s.commits[len(s.commits)-1]+"/") // the chain read (BenchmarkChain), another tree
	b.ResetTimer()
	start := cpu()
	for i := range b.N {
		h.cache = newCache(4)
		get(b, h, Prefix+s.arbitrary(i)+"/")
	}
	reportCPU(b, start)
}

// BenchmarkFirstPageCold is BenchmarkFirstPage right after the daemon
// started: no tree read before (but the history's chain, read once).
func BenchmarkFirstPageCold(b *testing.B) {
	s := benchRepo(b)
	warm := newBenchHandler(s)
	get(b, warm, Prefix+s.commits[0]+"/")
	b.ResetTimer()
	start := cpu()
	for i := range b.N {
		b.StopTimer()
		h := newBenchHandler(s)
		h.chain = warm.chain
		b.StartTimer()
		get(b, h, Prefix+s.arbitrary(i)+"/")
	}
	reportCPU(b, start)
}

// BenchmarkNextPage: another page at a commit already visited — a post
// page not rendered yet (its Markdown rendered now), or a list.
func BenchmarkNextPage(b *testing.B) {
	s := benchRepo(b)
	h := newBenchHandler(s)
	c := s.arbitrary(0)
	get(b, h, Prefix+c+"/")
	rng := rand.New(rand.NewSource(1))
	paths := []string{"/page/%d", "/category/cat-%d", "/posts/post-%d"}
	b.ResetTimer()
	start := cpu()
	defer reportCPU(b, start)
	for i := range b.N {
		p := paths[i%len(paths)]
		var n int
		switch i % len(paths) {
		case 0:
			n = 2 + rng.Intn(500)
		case 1:
			n = rng.Intn(10)
		default:
			n = rng.Intn(benchPosts() * 3 / 4) // posts that exist at that commit, mostly
		}
		rec := httptest.NewRecorder()
		if err := h.Serve(rec, httptest.NewRequest(http.MethodGet, Prefix+c+fmt.Sprintf(p, n), nil)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstSearch: the first search at a commit builds that
// commit's search index (bleve, in memory) from its posts.
func BenchmarkFirstSearch(b *testing.B) {
	s := benchRepo(b)
	h := newBenchHandler(s)
	get(b, h, Prefix+s.commits[0]+"/")
	b.ResetTimer()
	start := cpu()
	for i := range b.N {
		h.cache = newCache(4)
		get(b, h, Prefix+s.arbitrary(i)+"/search?q=harbour")
	}
	reportCPU(b, start)
}

// BenchmarkLivePost is the baseline for a page: the live pages projection
// (on disk, the same site applied to it) rendering a post page it has not
// rendered yet, as its Lookup does.
func BenchmarkLivePost(b *testing.B) {
	s := benchRepo(b)
	log := slog.New(slog.DiscardHandler)
	p, err := pages.Open(pages.Config{Path: filepath.Join(b.TempDir(), "pages.db"), BaseURL: "https://bench.example.org", Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	h := s.repo
	evs, err := gitlog.NewDeriver(h, log).DeriveTree(repo.ParseHash(s.arbitrary(0)))
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Apply(b.Context(), evs, projections.Checkpoint{}); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	b.ResetTimer()
	start := cpu()
	defer reportCPU(b, start)
	for range b.N {
		p.Lookup(fmt.Sprintf("/posts/post-%d", rng.Intn(benchPosts()*3/4)))
	}
}

// BenchmarkGitShow is the git CLI's cost of one file at a commit.
func BenchmarkGitShow(b *testing.B) {
	s := benchRepo(b)
	c := s.arbitrary(0)
	out, err := exec.Command("git", "-C", s.repo.Dir(), "ls-tree", "-r", "--name-only", c, "posts/").Output()
	if err != nil {
		b.Fatal(err)
	}
	files := strings.Fields(string(out))
	b.ResetTimer()
	for i := range b.N {
		cmd := exec.Command("git", "-C", s.repo.Dir(), "show", c+":"+files[i%len(files)])
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
}
