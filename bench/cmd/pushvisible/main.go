// Command pushvisible measures push-to-visible latency against a running
// daemon: in a clone, it changes one post's title, commits, pushes, and
// polls the post's public page until the new title shows; N times.
//
//	go run ./bench/cmd/pushvisible -clone /tmp/clone -file posts/2016/post-0.md -url http://127.0.0.1:8080/posts/post-0
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

func main() {
	clone := flag.String("clone", "", "a clone of the site with push access")
	file := flag.String("file", "", "the post file to edit, relative to the clone")
	url := flag.String("url", "", "the post's public page")
	n := flag.Int("pushes", 100, "pushes to make")
	flag.Parse()
	path := filepath.Join(*clone, *file)
	title := regexp.MustCompile(`(?m)^title: .*$`)
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = *clone
		if out, err := cmd.CombinedOutput(); err != nil {
			log.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	var push, visible []time.Duration
	for i := 0; i < *n; i++ {
		b, err := os.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		word := fmt.Sprintf("pushed%dx%d", time.Now().UnixNano()%1e6, i)
		os.WriteFile(path, title.ReplaceAll(b, []byte("title: Title "+word)), 0o644)
		git("commit", "-q", "-am", word)
		start := time.Now()
		git("push", "-q", "origin", "HEAD:main")
		pushed := time.Now()
		for {
			resp, err := http.Get(*url)
			if err != nil {
				log.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), word) {
				break
			}
		}
		push = append(push, pushed.Sub(start))
		visible = append(visible, time.Since(start))
	}
	report := func(name string, d []time.Duration) {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		fmt.Printf("%-34s p50 %7.1f ms   p99 %7.1f ms   (n=%d)\n", name, ms(d[len(d)/2]), ms(d[len(d)*99/100]), len(d))
	}
	report("git push (returns)", push)
	report("git push start → page shows it", visible)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
