package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events/bus"
	"github.com/chronicle-cms/chronicle/events/eventstest"
)

// BenchmarkReadNode runs a writer and two read nodes (processes) on a
// 3-server JetStream cluster of Debian's nats-server and reports:
//   - write → visible on a read node: from the writer's acknowledgement of
//     a published post to a read node's anonymous API answering it (goal
//     p99 ≤ 100 ms; polled every millisecond), and the CPU time the NATS
//     servers and the three daemons spent per write meanwhile;
//   - a picture uploaded to the writer (from the request's start) → its
//     640-pixel variant served by a read node, p50/p99 of 20 (goal: within
//     a second), beside the upload's own time;
//   - a read node's CPU time per post page request, against the writer's
//     for the same page (a single node serving readers): both processes'
//     user+system time over the same number of requests;
//   - a read node catching up: a third read node started after the
//     writes, from its start to serving the last post (its start-up
//     included); BenchmarkReadNodeCatchUp does it with 10,000 events.
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
	const writes, pages, pictures = 300, 20000, 20
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
		cpuBefore := c.cpu(b)
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
				// Every millisecond: polling without pause took a fair
				// share of the two cores from the read node it measures.
				time.Sleep(time.Millisecond)
			}
			lat = append(lat, time.Since(ack))
		}
		quantiles(b, "write-to-read-node", lat)
		cpuAfter := c.cpu(b)
		b.ReportMetric(float64((cpuAfter[0]-cpuBefore[0]).Microseconds())/1000/writes, "nats-cpu-ms/write")
		b.ReportMetric(float64((cpuAfter[1]-cpuBefore[1]).Microseconds())/1000/writes, "daemons-cpu-ms/write")

		cpuPerPage := func(s *site, pid int) float64 {
			page := s.url + "/posts/" + slug
			// The pages projection may still be applying the last posts
			// (only the catalogue was waited for above).
			for wait := time.Now(); get(page) != 200; time.Sleep(10 * time.Millisecond) {
				if time.Since(wait) > time.Minute {
					b.Fatalf("%s not served a minute after the writes", page)
				}
			}
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

		// Pictures (after the pages: each read node makes their AVIF in
		// the background, CPU the pages' figures must not count): from the start of the upload to the writer (whose 201
		// waits for its own JPEG and WebP) to the read node serving the
		// 640-pixel variant, built there from the original the writer
		// shared; and the upload's own time, for comparison.
		var pics, uploads []time.Duration
		for i := range pictures {
			jpeg := testJPEG(900+i, 600) // each its own original
			ack := time.Now()
			r := c.writer.upload(c.tok, fmt.Sprintf("bench%d.jpg", i), jpeg)
			uploads = append(uploads, time.Since(ack))
			mustStatus(b, r, 201)
			var m struct{ ID string }
			r.json(b, &m)
			for {
				resp, err := client.Get(c.readers[0].url + "/media/" + m.ID + "/w640")
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if w, err := imageWidth(body); resp.StatusCode == 200 && err == nil && w == 640 {
					break
				}
				if time.Since(ack) > 30*time.Second {
					b.Fatalf("picture %s has no 640-pixel variant on the read node 30 s after it was acknowledged", m.ID)
				}
				time.Sleep(5 * time.Millisecond)
			}
			pics = append(pics, time.Since(ack))
		}
		quantiles(b, "picture-to-read-node", pics)
		quantiles(b, "picture-upload", uploads)

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

// cpu is the CPU time so far of the NATS servers and of the daemons
// (writer and read nodes), each summed.
func (c *clusterSite) cpu(b testing.TB) [2]time.Duration {
	var out [2]time.Duration
	for _, p := range c.nats.procs {
		out[0] += cpuTime(b, p.Process.Pid)
	}
	for _, p := range c.procs {
		out[1] += cpuTime(b, p.Process.Pid)
	}
	return out
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

// BenchmarkReadNodeCatchUp measures a read node started after 10,000
// events are in an R3 stream of a 3-server cluster: from its start to
// ready with every projection at lag 0 (--ready-max-lag 0), wall time
// and its CPU time, beside the baseline `chronicle rebuild` of the same
// history (the same projections fed from git in one process, no NATS),
// run in the same benchmark. The history is seedHistory's (posts,
// revisions, deletions, written with git fast-import); the writer opens
// it with its projections rebuilt, and its outbox publishes the backlog.
func BenchmarkReadNodeCatchUp(b *testing.B) {
	if testing.Short() {
		b.Skip("a cluster benchmark of a few minutes: run it without -short")
	}
	const posts = 8770 // with the revisions and deletions: 10,001 events
	nc := startNATSCluster(b, 3)
	wdata := b.TempDir()
	seedHistory(b, wdata, posts)

	start := time.Now()
	rebuild := exec.Command(os.Args[0], "rebuild", "--data", wdata, "--log-level", "error")
	rebuild.Env = append(os.Environ(), "CHRONICLE_TEST_MAIN=1")
	if out, err := rebuild.CombinedOutput(); err != nil {
		b.Fatalf("rebuild: %v: %s", err, out)
	}
	b.ReportMetric(time.Since(start).Seconds(), "rebuild-s")
	b.ReportMetric((rebuild.ProcessState.UserTime() + rebuild.ProcessState.SystemTime()).Seconds(), "rebuild-cpu-s")

	// The writer builds its embeds projection from git (rebuild has no
	// reactors) before it listens: that wait is not bounded by startProcess's.
	w, _ := launchProcess(b, wdata, testWriter{b}, "--nats-url", nc.urls(), "--nats-replicas", "3", "--node", "writer", "--log-level", "error")
	published := func() error { // the whole history is in the stream
		resp, err := http.Get(w.url + "/metrics")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, l := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(l, "chronicle_publish_lag_commits ") {
				if l != "chronicle_publish_lag_commits 0" {
					return fmt.Errorf("publishing: %s", l)
				}
				return nil
			}
		}
		return errors.New("no chronicle_publish_lag_commits in /metrics")
	}
	eventstest.CheckFor(b, 5*time.Minute, 100*time.Millisecond, published)
	events := streamEvents(b, nc)

	for range b.N {
		natsBefore := time.Duration(0)
		for _, p := range nc.procs {
			natsBefore += cpuTime(b, p.Process.Pid)
		}
		start := time.Now()
		r, cmd := launchProcess(b, b.TempDir(), testWriter{b}, "--read-only", "--nats-url", nc.urls(), "--nats-replicas", "3",
			"--node", fmt.Sprintf("late%d", start.UnixNano()), "--writer-url", w.url, "--ready-max-lag", "0", "--log-level", "error")
		for {
			resp, err := http.Get(r.url + "/readyz")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Since(start) > 5*time.Minute {
				b.Fatal("the read node did not catch up in 5 minutes")
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.ReportMetric(time.Since(start).Seconds(), "read-node-ready-s")
		b.ReportMetric(cpuTime(b, cmd.Process.Pid).Seconds(), "read-node-cpu-s")
		natsAfter := time.Duration(0)
		for _, p := range nc.procs {
			natsAfter += cpuTime(b, p.Process.Pid)
		}
		b.ReportMetric((natsAfter - natsBefore).Seconds(), "nats-cpu-s")
	}
	b.ReportMetric(float64(events), "events")
}

// streamEvents is how many events the cluster's stream holds.
func streamEvents(b testing.TB, c *natsCluster) uint64 {
	conn, err := nats.Connect(c.urls())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	js, err := jetstream.New(conn)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, bus.StreamName)
	if err != nil {
		b.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return info.State.Msgs
}
