// Command editvisible measures edit-to-visible latency against a running
// daemon: it edits one post N times through the API, each time giving it
// a new unique word, and after each acknowledgement polls the search API
// and the post's category page until both show the edit.
//
//	go run ./bench/cmd/editvisible -url http://127.0.0.1:8080 -email a@b.c -password … -post seed000123 -category cat-3
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"sort"
	"strings"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "daemon address")
	email := flag.String("email", "", "account email")
	password := flag.String("password", "", "account password")
	id := flag.String("post", "", "id of the post to edit (must be first on its category page: the newest)")
	category := flag.String("category", "", "the post's category")
	edits := flag.Int("edits", 200, "edits to make")
	flag.Parse()
	c := &http.Client{Timeout: 10 * time.Second}

	body, _ := json.Marshal(map[string]string{"email": *email, "password": *password})
	resp, err := c.Post(*base+"/api/v1/auth/token", "application/json", bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if tok.Token == "" {
		log.Fatalf("no token: %s", resp.Status)
	}
	get := func(path string) string {
		resp, err := c.Get(*base + path)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var ack, visible, inSearch []time.Duration
	for i := 0; i < *edits; i++ {
		word := fmt.Sprintf("zq%dx%d", time.Now().UnixNano()%1e6, i)
		in, _ := json.Marshal(map[string]any{"title": "Edited " + word, "content": "Body mentioning " + word + ".\n",
			"status": "published", "categories": []string{*category}})
		req, _ := http.NewRequest("PUT", *base+"/api/v1/posts/"+*id, bytes.NewReader(in))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			log.Fatalf("edit %d: %s", i, resp.Status)
		}
		acked := time.Now()
		for !strings.Contains(get("/api/v1/search?q="+word), word) {
		}
		inSearch = append(inSearch, time.Since(acked))
		for !strings.Contains(get("/category/"+*category), word) {
		}
		ack = append(ack, acked.Sub(start))
		visible = append(visible, time.Since(acked))
	}
	report := func(name string, d []time.Duration) {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		fmt.Printf("%-28s p50 %7.1f ms   p99 %7.1f ms   (n=%d)\n", name, ms(d[len(d)/2]), ms(d[len(d)*99/100]), len(d))
	}
	report("write acknowledged", ack)
	report("ack → search", inSearch)
	report("ack → search + category page", visible)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
