// Command seed writes a synthetic site into a Chronicle data directory's
// repository, for benchmarks: N published posts of realistic length in
// C categories, each with a few tags, as one commit or one commit per post.
//
//	go run ./bench/cmd/seed -data /tmp/site -posts 10000 -commits each
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand"
	"path/filepath"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/bench/corpus"
	"github.com/chronicle-cms/chronicle/repo"
)

var words = corpus.Words()

func main() {
	data := flag.String("data", "./data", "data directory")
	posts := flag.Int("posts", 10000, "posts to write")
	cats := flag.Int("categories", 10, "categories")
	commits := flag.String("commits", "single", "single: one commit for everything; each: one commit per post")
	wordsPer := flag.Int("words", 400, "words per post")
	flag.Parse()

	r, err := repo.Open(filepath.Join(*data, "site.git"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	rng := rand.New(rand.NewSource(42))
	head, err := r.Head()
	if err != nil {
		log.Fatal(err)
	}
	var changes []repo.Change
	for c := 0; c < *cats; c++ {
		changes = append(changes, repo.Change{Path: fmt.Sprintf("categories/cat-%d.yaml", c), Data: []byte(fmt.Sprintf("name: Category %d\n", c))})
	}
	changes = append(changes, repo.Change{Path: "site/settings.yaml", Data: []byte("title: Benchmark\nlanguage: en\nposts_per_page: 10\n")})
	commit := func(msg string) {
		h, err := r.Commit(context.Background(), repo.CommitRequest{Parent: head, Changes: changes, Message: msg + "\n",
			Author: repo.Signature{Name: "Seed", Email: "seed@example.org", When: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}})
		if err != nil {
			log.Fatal(err)
		}
		head, changes = h, nil
	}
	if *commits == "each" {
		commit("categories and settings")
	}
	start := time.Now()
	base := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < *posts; i++ {
		at := base.Add(time.Duration(i) * 8 * time.Hour)
		var body strings.Builder
		for w := 0; w < *wordsPer; w++ {
			if w > 0 && w%80 == 0 {
				body.WriteString(".\n\n")
			} else if w > 0 {
				body.WriteByte(' ')
			}
			body.WriteString(words[rng.Intn(len(words))])
		}
		title := fmt.Sprintf("%s %s %d", strings.Title(words[rng.Intn(len(words))]), words[rng.Intn(len(words))], i)
		tags := fmt.Sprintf("[%s, %s]", words[rng.Intn(40)], words[rng.Intn(40)])
		if tags[1:strings.IndexByte(tags, ',')] == tags[strings.IndexByte(tags, ',')+2:len(tags)-1] {
			tags = "[" + tags[1:strings.IndexByte(tags, ',')] + "]"
		}
		slug := fmt.Sprintf("post-%d", i)
		changes = append(changes, repo.Change{Path: fmt.Sprintf("posts/%d/%s.md", at.Year(), slug),
			Data: []byte(fmt.Sprintf("---\nid: seed%06d\ntitle: %s\nslug: %s\nstatus: published\npublished_at: %s\ncreated_at: %s\nupdated_at: %s\ncategories: [cat-%d]\ntags: %s\n---\n%s.\n",
				i, title, slug, at.Format(time.RFC3339), at.Format(time.RFC3339), at.Format(time.RFC3339), i%*cats, tags, body.String()))})
		if *commits == "each" {
			commit("post " + slug)
		}
	}
	if len(changes) > 0 {
		commit(fmt.Sprintf("%d posts", *posts))
	}
	log.Printf("wrote %d posts in %s; head %s", *posts, time.Since(start).Round(time.Millisecond), head)
}
