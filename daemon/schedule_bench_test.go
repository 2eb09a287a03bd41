package daemon

import (
	"fmt"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// BenchmarkSchedulerLateness schedules posts one second apart and
// measures each one's lateness: when an anonymous reader first gets it
// from the API (the scheduler's commit, then the projections) minus its
// scheduled time. The goal is p99 ≤ 1 s; WordPress's WP-Cron publishes
// only when a request comes, so its lateness is unbounded without
// traffic. 100 posts take 100 s: -short schedules 2 (as `make test`
// runs every benchmark), and the figure in the README comes from
// `go test -run '^$' -bench SchedulerLateness -benchtime 1x ./daemon/`.
func BenchmarkSchedulerLateness(b *testing.B) {
	posts := 100
	if testing.Short() {
		posts = 2
	}
	data := b.TempDir()
	addAccount(b, data, "ed@example.org", auth.RoleEditor)
	s := startSite(b, data, func(c *Config) { c.LogLevel = "error" })
	tok := s.token("ed@example.org")
	var late []time.Duration
	for range b.N {
		// Far enough ahead to make them all first (~50 ms each here, more
		// when the machine is busy).
		first := time.Now().Add(3*time.Second + time.Duration(posts)*200*time.Millisecond).Truncate(time.Second)
		type job struct {
			id string
			at time.Time
		}
		var jobs []job
		for i := range posts {
			at := first.Add(time.Duration(i) * time.Second)
			r := s.do("POST", "/api/v1/posts", tok, postBody(fmt.Sprintf("Timed %d at %s", i, at.Format(time.RFC3339Nano)), "status", "scheduled",
				"published_at", at.Format(time.RFC3339)))
			mustStatus(b, r, 201)
			var p apiPost
			r.json(b, &p)
			jobs = append(jobs, job{p.ID, at})
		}
		if time.Now().After(first) {
			b.Fatalf("scheduling %d posts took past the first one's time", posts)
		}
		for _, j := range jobs {
			time.Sleep(time.Until(j.at))
			for s.do("GET", "/api/v1/posts/"+j.id, "", nil).status != 200 {
				if time.Since(j.at) > 10*time.Second {
					b.Fatalf("post %s not published 10 s after its time", j.id)
				}
				time.Sleep(5 * time.Millisecond)
			}
			late = append(late, time.Since(j.at))
		}
	}
	quantiles(b, "late", late)
}
