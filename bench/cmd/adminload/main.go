// Command adminload times the web admin's pages against the plain API call
// of the same data, on a running daemon: sequential requests (latency, not
// throughput), p50 and p99 of each, side by side.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:18190", "the daemon")
	email := flag.String("email", "bench@example.org", "an admin account")
	pw := flag.String("password", "bench password 1234", "its password")
	n := flag.Int("n", 300, "requests per case")
	words := flag.Int("words", 5000, "words of the previewed post")
	flag.Parse()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	api := &http.Client{}
	login := func(c *http.Client) {
		req, _ := http.NewRequest("POST", *base+"/admin/login", strings.NewReader(url.Values{"email": {*email}, "password": {*pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != http.StatusSeeOther {
			log.Fatalf("sign in: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	login(browser)
	token := func() string {
		body, _ := json.Marshal(map[string]string{"email": *email, "password": *pw})
		resp, err := api.Post(*base+"/api/v1/auth/token", "application/json", bytes.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			log.Fatalf("token: %v %v", err, resp)
		}
		defer resp.Body.Close()
		var t struct{ Token string }
		json.NewDecoder(resp.Body).Decode(&t)
		return t.Token
	}
	tok := token()

	// A long post to preview, and the same post through the API.
	var text strings.Builder
	for i := 0; text.Len() == 0 || strings.Count(text.String(), " ") < *words; i++ {
		fmt.Fprintf(&text, "Paragraph %d has *emphasis*, `code`, a [link](https://example.org/%d) and plain words to fill it out nicely. ", i, i)
		if i%8 == 7 {
			text.WriteString("\n\n## A heading\n\n")
		}
	}
	body, _ := json.Marshal(map[string]any{"title": "A long post", "content": text.String(), "status": "draft"})
	req, _ := http.NewRequest("POST", *base+"/api/v1/posts", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Prefer", "wait=10")
	resp, err := api.Do(req)
	if err != nil || resp.StatusCode != 201 {
		log.Fatalf("create the long post: %v %v", err, resp)
	}
	longPost := resp.Header.Get("Location")
	resp.Body.Close()

	get := func(c *http.Client, path string, auth bool) func() {
		return func() {
			req, _ := http.NewRequest("GET", *base+path, nil)
			if auth {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			do(c, req, 200)
		}
	}
	preview := func() {
		var b bytes.Buffer
		b.WriteString(url.Values{"content": {text.String()}}.Encode())
		req, _ := http.NewRequest("POST", *base+"/admin/preview", &b)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		do(browser, req, 200)
	}
	signInToDashboard := func() {
		j, _ := cookiejar.New(nil)
		c := &http.Client{Jar: j, CheckRedirect: browser.CheckRedirect}
		login(c)
		do(c, mustReq("GET", *base+"/admin/", nil), 200)
	}
	apiToken := func() { token() }

	fmt.Printf("%-44s %10s %10s   %-36s %10s %10s   %s\n", "admin", "p50 ms", "p99 ms", "baseline (API, same data)", "p50 ms", "p99 ms", "ratio p50")
	pairs := []struct {
		name  string
		f     func()
		bname string
		b     func()
		n     int
	}{
		{"post list, page 1 (50 posts)", get(browser, "/admin/posts", false), "GET /api/v1/posts?per_page=50", get(api, "/api/v1/posts?per_page=50&status=published", true), *n},
		{"post list, page 100", get(browser, "/admin/posts?page=100", false), "GET /api/v1/posts page 100", get(api, "/api/v1/posts?per_page=50&page=100&status=published", true), *n},
		{"post list, filtered (category + words)", get(browser, "/admin/posts?category=cat-3&q=post+5", false), "GET /api/v1/posts?category=cat-3", get(api, "/api/v1/posts?per_page=50&category=cat-3&status=published", true), *n},
		{fmt.Sprintf("preview of a %d-word post", *words), preview, "GET the same post (JSON)", get(api, strings.TrimPrefix(longPost, *base), true), *n},
		{"editor of that post", get(browser, strings.Replace(strings.TrimPrefix(longPost, *base), "/api/v1/", "/admin/", 1), false), "GET the same post (JSON)", get(api, strings.TrimPrefix(longPost, *base), true), *n},
		// Sign-ins are rate-limited per address (a burst of 10): 3 of each.
		{"sign in, then the dashboard (3 runs)", signInToDashboard, "POST /api/v1/auth/token (3 runs)", apiToken, 3},
	}
	for _, p := range pairs {
		a50, a99 := timeIt(p.f, p.n)
		b50, b99 := timeIt(p.b, p.n)
		fmt.Printf("%-44s %10.2f %10.2f   %-36s %10.2f %10.2f   %.2f\n", p.name, a50, a99, p.bname, b50, b99, a50/b50)
	}

	// Page weight: what a browser fetches for the editor, compressed.
	ed := fetch(browser, strings.Replace(strings.TrimPrefix(longPost, *base), "/api/v1/", "/admin/", 1))
	css := fetch(browser, assetURL(ed, "admin.css"))
	js := fetch(browser, assetURL(ed, "admin.js"))
	fmt.Printf("\nadmin page weight (gzip -9): CSS %d B + JS %d B = %d B of assets (goal <= 100 KB); dashboard HTML %d B\n",
		gz(css), gz(js), gz(css)+gz(js), gz(fetch(browser, "/admin/")))
}

func mustReq(method, u string, body io.Reader) *http.Request {
	r, err := http.NewRequest(method, u, body)
	if err != nil {
		log.Fatal(err)
	}
	return r
}

func do(c *http.Client, req *http.Request, want int) {
	resp, err := c.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		log.Fatalf("%s %s: %d", req.Method, req.URL, resp.StatusCode)
	}
}

func fetch(c *http.Client, path string) []byte {
	resp, err := c.Get(flag.Lookup("url").Value.String() + path)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

func assetURL(page []byte, name string) string {
	i := bytes.Index(page, []byte("/admin/static/"+name))
	if i < 0 {
		log.Fatalf("no %s on the page", name)
	}
	j := bytes.IndexByte(page[i:], '"')
	return string(page[i : i+j])
}

func gz(b []byte) int {
	var out bytes.Buffer
	w, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return out.Len()
}

// timeIt runs f n times after a few warm-up runs and returns the median
// and 99th percentile in milliseconds.
func timeIt(f func(), n int) (p50, p99 float64) {
	for range min(n/10, 10) {
		f()
	}
	d := make([]float64, n)
	for i := range d {
		t := time.Now()
		f()
		d[i] = float64(time.Since(t).Microseconds()) / 1000
	}
	slices.Sort(d)
	return d[n/2], d[min(n-1, n*99/100)]
}
