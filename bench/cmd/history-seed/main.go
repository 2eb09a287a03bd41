// Command history-seed writes a synthetic site with a long history into a
// Chronicle data directory's repository, for the history benchmark: N
// posts and C commits in all on main's first-parent chain, written as the
// API's writer would (one change a commit, front matter as MarshalPost
// renders it, Chronicle-* trailers, author dates increasing), where one
// "hot" post of many words gets R revisions of a few words each and the
// others get edits spread over time. It streams the history to
// `git fast-import`, which is what makes 100,000 commits take seconds,
// not hours, and prints what the benchmark needs to find (key=value).
//
//	go run ./bench/cmd/history-seed -data /tmp/site -posts 10000 -commits 100000
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chronicle-cms/chronicle/repo"
)

func main() {
	var cfg config
	data := flag.String("data", "./data", "data directory (its site.git must be new)")
	flag.IntVar(&cfg.Posts, "posts", 10000, "posts")
	flag.IntVar(&cfg.Commits, "commits", 100000, "commits in all")
	flag.IntVar(&cfg.HotRevisions, "hot-revisions", 1000, "revisions of the hot post (its creation included)")
	flag.IntVar(&cfg.HotWords, "hot-words", 5000, "words of the hot post")
	flag.IntVar(&cfg.Words, "words", 300, "words of the other posts")
	flag.IntVar(&cfg.Categories, "categories", 10, "categories")
	flag.Int64Var(&cfg.Seed, "seed", 42, "random seed: the same seed writes the same history")
	flag.Parse()

	start := time.Now()
	info, err := seed(filepath.Join(*data, "site.git"), cfg)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %d commits (%d posts) in %s", info.Commits, cfg.Posts, time.Since(start).Round(time.Millisecond))
	info.print(os.Stdout)
}

// seed creates the bare repository at dir and writes the history into it.
func seed(dir string, cfg config) (info, error) {
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err == nil {
		return info{}, fmt.Errorf("%s exists: history-seed writes a new repository", dir)
	}
	r, err := repo.Open(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return info{}, err
	}
	r.Close()
	cmd := exec.Command("git", "--git-dir", dir, "fast-import", "--quiet", "--done")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return info{}, err
	}
	if err := cmd.Start(); err != nil {
		return info{}, fmt.Errorf("start git fast-import: %w", err)
	}
	w := bufio.NewWriterSize(in, 1<<20)
	inf, genErr := generate(w, cfg)
	if genErr == nil {
		genErr = w.Flush()
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		return info{}, fmt.Errorf("git fast-import: %w", err)
	}
	return inf, genErr
}
