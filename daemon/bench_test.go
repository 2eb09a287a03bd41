package daemon

import (
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

func quantiles(b *testing.B, name string, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), name+"-p50-ms")
	b.ReportMetric(q(0.99), name+"-p99-ms")
}

// BenchmarkWriteToCatalogue: an API write is acknowledged (201), then the
// catalogue serves it. It reports the acknowledgement latency, the time
// from acknowledgement to visibility (goal p99 ≤ 50 ms), and as the floor
// it is compared against, the latency of a plain GET of an existing post
// (the polling granularity). Run with -benchtime=200x.
func BenchmarkWriteToCatalogue(b *testing.B) {
	data := b.TempDir()
	addAccount(b, data, "ann@example.org", auth.RoleEditor)
	s := startSite(b, data, func(c *Config) { c.LogLevel = "error" })
	tok := s.token("ann@example.org")
	mustStatus(b, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "News"}), 201)
	client := &http.Client{}
	get := func(id string) int {
		req, _ := http.NewRequest("GET", s.url+"/api/v1/posts/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var ack, visible, floor []time.Duration
	var lastID string
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		r := s.do("POST", "/api/v1/posts", tok, postBody(fmt.Sprintf("Bench %d", i), "categories", []string{"news"}, "status", "published"))
		acked := time.Now()
		mustStatus(b, r, 201)
		var p apiPost
		r.json(b, &p)
		for get(p.ID) != 200 {
		}
		ack = append(ack, acked.Sub(start))
		visible = append(visible, time.Since(acked))
		if lastID != "" {
			t0 := time.Now()
			get(lastID)
			floor = append(floor, time.Since(t0))
		}
		lastID = p.ID
	}
	b.StopTimer()
	quantiles(b, "ack", ack)
	quantiles(b, "visible", visible)
	if len(floor) > 1 {
		quantiles(b, "get", floor)
	}
}
