package daemon

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// The largest post the API accepts, made of the character JSON escapes
// most, is published and visible, and so is every write after it: an
// event too large for a NATS message once wedged publishing for good.
func TestLargestPostIsPublished(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ann@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ann@example.org")

	head, tail := `{"title":"Angle brackets","status":"published","content":"`, `"}`
	body := head + strings.Repeat("<", 1<<20-len(head)-len(tail)) + tail // the API's whole 1 MiB
	// Sent by hand: checking a 6 MB answer against the OpenAPI document
	// would take longer than the rest of the test.
	req, _ := http.NewRequest("POST", s.url+"/api/v1/posts", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Prefer", "wait=30")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("the largest post: %d", resp.StatusCode)
	}
	// Visible within the wait, or (on a slow, busy machine: rendering and
	// indexing a megabyte under the race detector) the whole wait spent;
	// an early answer without Preference-Applied would say publishing is
	// held back.
	if got := resp.Header.Get("Preference-Applied"); got != "wait=30" && time.Since(start) < 29*time.Second {
		t.Fatalf("the largest post is held back (Preference-Applied %q after %s)", got, time.Since(start))
	}
	eventstest.CheckFor(t, 60*time.Second, pollEvery, func() error {
		return wantStatus("/posts/angle-brackets", s.get("/posts/angle-brackets"), 200)
	})
	// A write after it is published too. Not within a Prefer wait: each
	// later write renders the home page and the feeds again, and they
	// carry the megabyte, seconds of work under the race detector and
	// more on a loaded machine.
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("After the big one", "status", "published")), 201)
	eventstest.CheckFor(t, 60*time.Second, pollEvery, func() error {
		return wantStatus("/posts/after-the-big-one", s.get("/posts/after-the-big-one"), 200)
	})
	for path, want := range map[string]string{"/posts/angle-brackets": "&lt;&lt;&lt;&lt;", "/posts/after-the-big-one": "After the big one"} {
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), want) {
			t.Fatalf("%s: %d, %d bytes", path, resp.StatusCode, len(page))
		}
	}
	if r := s.do("GET", "/readyz", "", nil); r.status != 200 {
		t.Fatalf("/readyz: %d %s", r.status, r.body)
	}
}
