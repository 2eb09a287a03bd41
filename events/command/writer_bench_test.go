package command_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

// seed makes a repository holding n posts, sharded by year as the writer
// does (posts/<year>/<slug>.md), and returns a writer over it.
func seed(b *testing.B, n int) (*command.Writer, *repo.Repo, []string) {
	b.Helper()
	if testing.Short() {
		n /= 100 // `make test` only checks that the benchmarks run
	}
	r, err := repo.Open(filepath.Join(b.TempDir(), "site.git"), quiet)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	changes := []repo.Change{{Path: "categories/news.yaml", Data: []byte("name: News\n")}}
	ids := make([]string, n)
	body := strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 80)
	for i := 0; i < n; i++ {
		ids[i] = fmt.Sprintf("seed%06d", i)
		changes = append(changes, repo.Change{Path: fmt.Sprintf("posts/%d/post-%d.md", 2016+i%10, i),
			Data: []byte(fmt.Sprintf("---\nid: %s\ntitle: Post %d\nslug: post-%d\nstatus: published\ncreated_at: %d-03-04T05:06:07Z\ncategories: [news]\n---\n%s\n", ids[i], i, i, 2016+i%10, body))})
	}
	if _, err := r.Commit(context.Background(), repo.CommitRequest{Changes: changes, Message: "seed\n",
		Author: repo.Signature{Name: "Seed", Email: "seed@example.org"}}); err != nil {
		b.Fatal(err)
	}
	l := gitlog.NewGitLog(r, gitlog.NewDeriver(r, quiet))
	w := command.NewWriter(l, gitlog.NewDeriver(r, quiet), quiet, command.WriterConfig{})
	if err := w.Sync(); err != nil {
		b.Fatal(err)
	}
	return w, r, ids
}

func report(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/sum.Seconds(), "edits/s")
}

// BenchmarkAppend measures the API's write path without HTTP: validate,
// render the file, rewrite the trees on its path, fsync objects, move main
// by lock file, derive the commit's events. Run with -benchtime=300x.
func BenchmarkAppend(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("create/posts=%d", n), func(b *testing.B) {
			w, _, _ := seed(b, n)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				_, err := w.CreatePost(context.Background(), command.Actor{Email: "bench@example.org", Role: policy.Editor},
					command.PostInput{Title: fmt.Sprintf("Bench %d", i), Content: "Body\n", Categories: []string{"news"}})
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			report(b, lat)
		})
		b.Run(fmt.Sprintf("update/posts=%d", n), func(b *testing.B) {
			w, _, ids := seed(b, n)
			rng := rand.New(rand.NewSource(1))
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := ids[rng.Intn(len(ids))]
				start := time.Now()
				_, err := w.UpdatePost(context.Background(), command.Actor{Email: "bench@example.org", Role: policy.Editor}, id, "",
					command.PostInput{Title: fmt.Sprintf("Edited %d", i), Content: fmt.Sprintf("Edit %d\n", i), Status: content.Published, Categories: []string{"news"}})
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			report(b, lat)
		})
	}
}

// BenchmarkGitCLICommit is the baseline: the same one-file commit made by
// the git CLI's plumbing (hash-object, update-index on a temporary index,
// write-tree, commit-tree, update-ref) on the same repository.
func BenchmarkGitCLICommit(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("posts=%d", n), func(b *testing.B) {
			_, r, _ := seed(b, n)
			index := filepath.Join(b.TempDir(), "index")
			env := append(os.Environ(), "GIT_INDEX_FILE="+index, "GIT_AUTHOR_NAME=B", "GIT_AUTHOR_EMAIL=b@example.org",
				"GIT_COMMITTER_NAME=B", "GIT_COMMITTER_EMAIL=b@example.org", "GIT_DIR="+r.Dir())
			run := func(stdin string, args ...string) string {
				cmd := exec.Command("git", args...)
				cmd.Env = env
				cmd.Stdin = strings.NewReader(stdin)
				out, err := cmd.Output()
				if err != nil {
					b.Fatalf("git %v: %v", args, err)
				}
				return strings.TrimSpace(string(out))
			}
			run("", "read-tree", "main")
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				parent := run("", "rev-parse", "main")
				blob := run(fmt.Sprintf("---\ntitle: Bench %d\n---\nBody\n", i), "hash-object", "-w", "--stdin")
				run("", "update-index", "--add", "--cacheinfo", "100644,"+blob+",posts/2026/bench-"+fmt.Sprint(i)+".md")
				tree := run("", "write-tree")
				c := run("bench\n", "commit-tree", tree, "-p", parent)
				run("", "update-ref", "refs/heads/main", c, parent)
				lat = append(lat, time.Since(start))
			}
			report(b, lat)
		})
	}
}
