// Command historyload times history lookups on a running daemon against
// git itself on the same repository: a post's revision list against
// `git log --follow`, a revision and a diff against `git show` and
// `git diff`, and time-travel pages (when the daemon has them) against
// reading that commit's tree. Sequential requests (latency, not
// throughput), p50 and p99 of each, side by side; git is timed as a
// command, as a script or a CMS shelling out to it would run it.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path"
	"slices"
	"strings"
	"time"
)

type bench struct {
	base, gitDir string
	browser, api *http.Client
	token        string
}

func main() {
	b := bench{}
	flag.StringVar(&b.base, "url", "http://127.0.0.1:18191", "the daemon")
	flag.StringVar(&b.gitDir, "git-dir", "", "the daemon's repository (site.git), for the git baselines")
	email := flag.String("email", "bench@example.org", "an admin account")
	pw := flag.String("password", "bench password 1234", "its password")
	hotID := flag.String("hot-id", "", "the post with many revisions")
	hotPath := flag.String("hot-path", "", "its file")
	n := flag.Int("n", 200, "requests per case (fewer when a case's budget runs out)")
	ttN := flag.Int("tt-n", 30, "time-travel commits, each a first page and a next page")
	budget := flag.Duration("budget", 40*time.Second, "most time spent on one side of a case")
	seed := flag.Int64("seed", 1, "random seed for the commits visited")
	ttOnly := flag.Bool("tt-only", false, "time only time travel")
	flag.Parse()
	if b.gitDir == "" || *hotID == "" || *hotPath == "" {
		log.Fatal("need -git-dir, -hot-id and -hot-path")
	}

	jar, _ := cookiejar.New(nil)
	b.browser = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	b.api = &http.Client{}
	b.signIn(*email, *pw)

	// The hot post's revisions, newest first, as the API lists them.
	var list struct {
		Items []struct{ Revision string }
		Total int
	}
	revs := []string{}
	for page := 1; page == 1 || len(revs) < list.Total; page++ {
		list.Items = nil
		b.getJSON(fmt.Sprintf("/api/v1/posts/%s/revisions?per_page=100&page=%d", *hotID, page), &list)
		if len(list.Items) == 0 {
			break
		}
		for _, it := range list.Items {
			revs = append(revs, it.Revision)
		}
	}
	if len(revs) < 2 {
		log.Fatalf("the hot post has %d revisions", len(revs))
	}
	const perPage = 20
	deep := len(revs)/perPage - 8 // a page near the end: oldest revisions
	older, newer := revs[len(revs)*9/10], revs[len(revs)/10]
	postURL := "/api/v1/posts/" + *hotID

	type side struct {
		name string
		f    func()
		n    int
	}
	type row struct {
		ours, git side
		goal      string
	}
	rows := []row{
		{side{fmt.Sprintf("revisions, page 1 (%d of %d)", perPage, len(revs)), b.get(b.api, fmt.Sprintf("%s/revisions?per_page=%d", postURL, perPage), true), *n},
			side{fmt.Sprintf("git log --follow -n %d", perPage), b.git("log", "--follow", "--format=%H %an %at %s", "-n", fmt.Sprint(perPage), "main", "--", *hotPath), *n}, "p99 <= 50"},
		{side{fmt.Sprintf("revisions, page %d", deep), b.get(b.api, fmt.Sprintf("%s/revisions?per_page=%d&page=%d", postURL, perPage, deep), true), *n},
			// Not --skip: with --follow it skips commits walked, not
			// commits shown, and lands on the wrong page.
			side{fmt.Sprintf("git log --follow -n %d (the page is its end)", deep*perPage), b.git("log", "--follow", "--format=%H %an %at %s", "-n", fmt.Sprint(deep*perPage), "main", "--", *hotPath), *n}, "p99 <= 50"},
		{side{fmt.Sprintf("revisions, all %d (10 pages of 100)", len(revs)), func() {
			for p := 1; p <= (len(revs)+99)/100; p++ {
				b.get(b.api, fmt.Sprintf("%s/revisions?per_page=100&page=%d", postURL, p), true)()
			}
		}, *n},
			side{"git log --follow (all)", b.git("log", "--follow", "--format=%H %an %at %s", "main", "--", *hotPath), *n}, ""},
		{side{"one revision (the whole post)", b.get(b.api, fmt.Sprintf("%s/revisions/%s", postURL, older), true), *n},
			side{"git show <rev>:<file>", b.git("show", older+":"+*hotPath), *n}, ""},
		{side{fmt.Sprintf("diff of revisions %d apart", len(revs)*8/10), b.get(b.api, fmt.Sprintf("%s/diff?from=%s&to=%s", postURL, older, newer), true), *n},
			side{"git show x2 + git diff", func() {
				b.git("show", older+":"+*hotPath)()
				b.git("show", newer+":"+*hotPath)()
				b.git("diff", older, newer, "--", *hotPath)()
			}, *n}, ""},
	}

	fmt.Printf("%-40s %5s %9s %9s   %-44s %5s %9s %9s   %9s  %s\n", "chronicle", "n", "p50 ms", "p99 ms", "baseline (git, same repository)", "n", "p50 ms", "p99 ms", "git/ours", "goal")
	line := func(name string, n int, p50, p99 float64, bname string, bn int, b50, b99 float64, goal string) {
		ratio := "-"
		if p50 > 0 && b50 > 0 {
			ratio = fmt.Sprintf("%.1fx", b50/p50)
		}
		fmt.Printf("%-40s %5d %9.2f %9.2f   %-44s %5d %9.2f %9.2f   %9s  %s\n", name, n, p50, p99, bname, bn, b50, b99, ratio, goal)
	}
	for _, r := range rows {
		if *ttOnly {
			break
		}
		on, o50, o99 := timeIt(r.ours.f, r.ours.n, *budget)
		gn, g50, g99 := timeIt(r.git.f, r.git.n, *budget)
		line(r.ours.name, on, o50, o99, r.git.name, gn, g50, g99, r.goal)
	}

	// Time travel: a first page at a commit no one visited, then the next
	// page at the same commit; beside them, what git needs to read the
	// same: that commit's whole tree, and the post's file.
	head := strings.TrimSpace(string(b.gitOut("rev-parse", "main")))
	if code := b.status("/admin/at/" + head + "/"); code != http.StatusOK {
		fmt.Printf("\ntime travel: skipped, GET /admin/at/<commit>/ answers %d (not built on this branch yet)\n", code)
		return
	}
	chain := strings.Fields(string(b.gitOut("rev-list", "--first-parent", "main")))
	rng := rand.New(rand.NewSource(*seed))
	var first, next, lsTree, show []float64
	for range *ttN {
		c := chain[rng.Intn(len(chain)*9/10)] // not among the oldest, where the site is nearly empty
		posts := strings.Fields(string(b.gitOut("ls-tree", "-r", "--name-only", c, "--", "posts/")))
		if len(posts) == 0 {
			continue
		}
		file := posts[rng.Intn(len(posts))]
		slug := strings.TrimSuffix(path.Base(file), ".md")
		first = append(first, timeOnce(b.get(b.browser, "/admin/at/"+c+"/", false)))
		next = append(next, timeOnce(b.get(b.browser, "/admin/at/"+c+"/posts/"+slug, false)))
		lsTree = append(lsTree, timeOnce(b.git("ls-tree", "-r", c)))
		show = append(show, timeOnce(b.git("show", c+":"+file)))
	}
	f50, f99 := pct(first)
	n50, n99 := pct(next)
	l50, l99 := pct(lsTree)
	s50, s99 := pct(show)
	line("time travel, first page (home)", len(first), f50, f99, "git ls-tree -r <commit> (the whole site)", len(lsTree), l50, l99, "p99 <= 500")
	line("time travel, next page (a post)", len(next), n50, n99, "git show <commit>:<file>", len(show), s50, s99, "p99 <= 50")
}

func (b *bench) signIn(email, pw string) {
	req, _ := http.NewRequest("POST", b.base+"/admin/login", strings.NewReader(url.Values{"email": {email}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.browser.Do(req)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		log.Fatalf("sign in: %v %v", err, resp)
	}
	resp.Body.Close()
	body, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	resp, err = b.api.Post(b.base+"/api/v1/auth/token", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		log.Fatalf("token: %v %v", err, resp)
	}
	defer resp.Body.Close()
	var t struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&t)
	b.token = t.Token
}

func (b *bench) request(c *http.Client, p string, auth bool) *http.Response {
	req, _ := http.NewRequest("GET", b.base+p, nil)
	if auth {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	resp, err := c.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	return resp
}

// get is a request that must answer 200, read whole.
func (b *bench) get(c *http.Client, p string, auth bool) func() {
	return func() {
		resp := b.request(c, p, auth)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			log.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
	}
}

func (b *bench) getJSON(p string, v any) {
	resp := b.request(b.api, p, true)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		log.Fatalf("GET %s: %d", p, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		log.Fatalf("GET %s: %v", p, err)
	}
}

func (b *bench) status(p string) int {
	resp := b.request(b.browser, p, false)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// git is a git command on the repository whose output is read whole.
func (b *bench) git(args ...string) func() {
	return func() { b.gitOut(args...) }
}

func (b *bench) gitOut(args ...string) []byte {
	out, err := exec.Command("git", append([]string{"--git-dir", b.gitDir}, args...)...).Output()
	if err != nil {
		log.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func timeOnce(f func()) float64 {
	t := time.Now()
	f()
	return float64(time.Since(t).Microseconds()) / 1000
}

// timeIt runs f n times (or until budget is spent, at least 5 times)
// after a few warm-up runs and returns the runs made, their median and
// 99th percentile in milliseconds.
func timeIt(f func(), n int, budget time.Duration) (int, float64, float64) {
	for range min(n/10, 3) {
		f()
	}
	var d []float64
	for start := time.Now(); len(d) < n && (len(d) < 5 || time.Since(start) < budget); {
		d = append(d, timeOnce(f))
	}
	p50, p99 := pct(d)
	return len(d), p50, p99
}

func pct(d []float64) (p50, p99 float64) {
	if len(d) == 0 {
		return 0, 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2], d[min(len(d)-1, len(d)*99/100)]
}
