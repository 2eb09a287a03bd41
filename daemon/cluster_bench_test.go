package daemon

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkReadNode runs a writer and two read nodes (processes) on a
// 3-server JetStream cluster of Debian's nats-server and reports:
//   - write → visible on a read node: from the writer's acknowledgement of
//     a published post to a read node's anonymous API answering it (goal
//     p99 ≤ 100 ms);
//   - a read node's CPU time per post page request, against the writer's
//     for the same page (a single node serving readers): both processes'
//     user+system time over the same number of requests;
//   - a read node catching up: a third read node started after the
//     writes, from its start to serving the last post (its start-up
//     included).
//
// -short (as `make test` runs benchmarks) does a few of each; the README's
// figures come from `go test -run '^$' -bench ReadNode -benchtime 1x ./daemon/`.
func BenchmarkReadNode(b *testing.B) {
	if testing.Short() {
		// Three NATS servers and four daemons take half a minute to start,
		// too long for `make test`; TestClusterWriterAndReadNodes and
		// TestClusterLosesNoWriteWhenANATSServerDies run the same cluster.
		b.Skip("a cluster benchmark: run it without -short")
	}
	const writes, pages = 300, 20000
	c := startClusterSite(b, "--log-level", "error")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	get := func(url string) int {
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for n := range b.N {
		var lat []time.Duration
		var slug string
		for i := range writes {
			r := c.writer.do("POST", "/api/v1/posts", c.tok, postBody(fmt.Sprintf("Bench %d", i), "status", "published"))
			ack := time.Now()
			mustStatus(b, r, 201)
			var p apiPost
			r.json(b, &p)
			slug = p.Slug
			for get(c.readers[0].url+"/api/v1/posts/"+p.ID) != 200 {
				if time.Since(ack) > 10*time.Second {
					b.Fatalf("post %s not on the read node 10 s after it was acknowledged", p.ID)
				}
				time.Sleep(200 * time.Microsecond)
			}
			lat = append(lat, time.Since(ack))
		}
		quantiles(b, "write-to-read-node", lat)

		cpuPerPage := func(s *site, pid int) float64 {
			page := s.url + "/posts/" + slug
			get(page)
			before := cpuTime(b, pid)
			var wg sync.WaitGroup
			per := pages / 8
			for range 8 {
				wg.Go(func() {
					for range per {
						if st := get(page); st != 200 {
							b.Errorf("GET %s: %d", page, st)
							return
						}
					}
				})
			}
			wg.Wait()
			return float64((cpuTime(b, pid) - before).Microseconds()) / float64(per*8)
		}
		reader := cpuPerPage(c.readers[0], c.procs[1].Process.Pid)
		single := cpuPerPage(c.writer, c.procs[0].Process.Pid)
		b.ReportMetric(reader, "read-node-cpu-us/page")
		b.ReportMetric(single, "single-node-cpu-us/page")

		if n > 0 {
			continue // one late node is enough
		}
		// A read node started now catches up on every event so far.
		start := time.Now()
		late, _ := startProcess(b, b.TempDir(), "--read-only", "--nats-url", c.nats.urls(), "--nats-replicas", "3",
			"--node", "late", "--writer-url", c.writer.url, "--log-level", "error")
		for get(late.url+"/posts/"+slug) != 200 {
			if time.Since(start) > 5*time.Minute {
				b.Fatal("the late read node did not catch up in 5 minutes")
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.ReportMetric(time.Since(start).Seconds(), "late-node-ready-s")
		b.ReportMetric(float64(writes), "events-to-catch-up")
	}
}

// cpuTime is a process's user and system CPU time so far
// (/proc/<pid>/stat, in clock ticks of 10 ms).
func cpuTime(b testing.TB, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name (field 2) may hold spaces: count from after it.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
