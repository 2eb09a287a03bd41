package daemon

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// TestScheduledPostPublishesOnTime schedules a post two seconds ahead:
// nothing about it is public before, and within a second of its time it
// is on every public page with no request made in between; the commit
// is the scheduler's, naming who scheduled it.
func TestScheduledPostPublishesOnTime(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	wait := []string{"Prefer", "wait=5"}
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "News"}, wait...), 201)
	// A published post, so that the pages exist before.
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("Already out", "status", "published", "categories", []string{"news"},
		"tags", []string{"later"}), wait...), 201)

	// Without a time it is refused; with one two seconds ahead it waits.
	r := s.do("POST", "/api/v1/posts", tok, postBody("Timed post", "status", "scheduled"))
	mustStatus(t, r, 422)
	at := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	r = s.do("POST", "/api/v1/posts", tok, postBody("Timed post", "content", "About clockwork.\n", "status", "scheduled",
		"published_at", at.Format(time.RFC3339), "categories", []string{"news"}, "tags", []string{"later"}), wait...)
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)
	paths := publicPaths("news", "later", at.Year())
	s.everywhere(t, paths, "/posts/timed-post", "clockwork", false)
	mustStatus(t, s.get("/posts/timed-post"), 404)
	mustStatus(t, s.do("GET", "/api/v1/posts/"+p.ID, "", nil), 404)
	mustStatus(t, s.do("GET", "/api/v1/posts?status=scheduled", "", nil), 401)
	var queue struct{ Items []apiPost }
	s.do("GET", "/api/v1/posts?status=scheduled", tok, nil).json(t, &queue)
	if len(queue.Items) != 1 || queue.Items[0].ID != p.ID {
		t.Errorf("the scheduled queue: %+v", queue.Items)
	}

	// No request until a second after its time.
	time.Sleep(time.Until(at.Add(time.Second)))
	s.everywhere(t, paths, "/posts/timed-post", "clockwork", true)
	mustStatus(t, s.get("/posts/timed-post"), 200)
	var got apiPost
	s.do("GET", "/api/v1/posts/"+p.ID, "", nil).json(t, &got)
	if got.Status != "published" {
		t.Errorf("status %q", got.Status)
	}
	msg := git(t, s.repoDir(), "log", "-1", "--format=%an <%ae>%n%B", "main")
	for _, want := range []string{"Scheduler <scheduler>", "Chronicle-Event: post.published", "Chronicle-Actor: scheduler",
		"Chronicle-Scheduled-By: ed@example.org"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the publishing commit lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "Chronicle-Late") {
		t.Errorf("published on time, but the commit says it was late:\n%s", msg)
	}
}

// TestScheduledPostDueDuringDowntime stops the daemon across a post's
// time: it is published when the daemon starts again, and the commit
// says how late.
func TestScheduledPostDueDuringDowntime(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	at := time.Now().Add(2 * time.Second).Truncate(time.Second)
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("While away", "status", "scheduled", "published_at", at.Format(time.RFC3339)),
		"Prefer", "wait=5"), 201)
	s.stop()
	time.Sleep(time.Until(at.Add(2 * time.Second)))
	s = startSite(t, data)
	eventstest.CheckFor(t, 5*time.Second, pollEvery, func() error {
		return wantStatus("/posts/while-away", s.get("/posts/while-away"), 200)
	})
	msg := git(t, s.repoDir(), "log", "-1", "--format=%B", "main")
	if !strings.Contains(msg, "Chronicle-Late: ") {
		t.Errorf("the commit does not say how late it was:\n%s", msg)
	}
	if n := strings.Count(git(t, s.repoDir(), "log", "--format=%s", "main"), "Publish scheduled post"); n != 1 {
		t.Errorf("published %d times", n)
	}
}

// TestAdminSchedulesAPost schedules a post from the admin's editor
// (without JavaScript) and finds it in the dashboard's queue.
func TestAdminSchedulesAPost(t *testing.T) {
	t.Parallel()
	s, b := signedIn(t, "ed@example.org", auth.RoleEditor)
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	r := b.post("/admin/posts", url.Values{"title": {"Next week's news"}, "content": {"Soon."}, "status": {"scheduled"},
		"published_at": {at.Format(time.RFC3339)}, "action": {"save"}})
	if r.status != 303 {
		t.Fatalf("schedule: %d %s", r.status, r.body)
	}
	ed := b.follow(r)
	if !strings.Contains(string(ed.body), `<option value="scheduled" selected>`) {
		t.Errorf("the editor does not show the post as scheduled")
	}
	dash := b.get("/admin/")
	if !strings.Contains(string(dash.body), "Next week&#39;s news") || !strings.Contains(string(dash.body), at.Format("2006-01-02 15:04")+" UTC") {
		t.Errorf("the dashboard's queue lacks the post:\n%s", dash.body)
	}
	mustStatus(t, s.get("/posts/next-weeks-news"), 404)
	// Without a date, the form says what is missing beside the field.
	r = b.post("/admin/posts", url.Values{"title": {"No date"}, "content": {"x"}, "status": {"scheduled"}, "action": {"save"}})
	if r.status != 422 || !strings.Contains(fieldError(t, r.body, "published_at"), "required for a scheduled post") {
		t.Errorf("scheduled without a date: %d %s", r.status, r.body)
	}
}
