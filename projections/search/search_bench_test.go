package search

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/chronicle-cms/chronicle/bench/corpus"
	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/projections/render"
)

var (
	benchOnce   sync.Once
	benchIx     *Index
	benchDir    string
	benchPhrase string // two words of middling frequency, side by side in a post
)

// vocabulary is 5,000 made-up words whose use follows Zipf's law, as
// words in real text do: a few are in nearly every post, most in few.
var vocabulary = func() []string {
	syl := strings.Fields("ka lo mi ter san vel dor pha ri ne tu bra cor lin mes ga vo sti ren pul")
	seen := map[string]bool{}
	var out []string
	rng := rand.New(rand.NewSource(1))
	for len(out) < 5000 {
		w := ""
		for n := 2 + rng.Intn(2); n > 0; n-- {
			w += syl[rng.Intn(len(syl))]
		}
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}()

// benchIndex indexes n posts of 400 words through Apply, once.
func benchIndex(b *testing.B) *Index {
	benchOnce.Do(func() {
		n := 10000
		if testing.Short() {
			n = 200
		}
		benchDir, _ = os.MkdirTemp("", "search-bench")
		ix, err := Open(benchDir+"/idx", render.New())
		if err != nil {
			panic(err)
		}
		rng := rand.New(rand.NewSource(7))
		zipf := rand.NewZipf(rng, 1.07, 2, uint64(len(vocabulary)-1))
		var evs []events.Event
		start := time.Now()
		for i := 0; i < n; i++ {
			var body strings.Builder
			prev := uint64(0)
			for w := 0; w < 400; w++ {
				r := zipf.Uint64()
				if benchPhrase == "" && prev >= 100 && prev < 1000 && r >= 100 && r < 1000 {
					benchPhrase = vocabulary[prev] + " " + vocabulary[r]
				}
				prev = r
				body.WriteString(vocabulary[r])
				body.WriteByte(' ')
			}
			at := time.Date(2016+i%10, time.Month(1+i%12), 1, 0, 0, 0, 0, time.UTC)
			d, _ := json.Marshal(events.PostData{Post: content.Post{ID: fmt.Sprintf("p%05d", i), Slug: fmt.Sprintf("p-%d", i),
				Title: vocabulary[zipf.Uint64()] + " " + vocabulary[zipf.Uint64()], Content: body.String(),
				Status: content.Published, PublishedAt: &at, CreatedAt: at, Categories: []string{fmt.Sprintf("c%d", i%10)},
				Tags: []string{vocabulary[rng.Intn(40)]}}})
			evs = append(evs, events.Event{ID: fmt.Sprint(i), Type: events.PostCreated, Height: int64(i + 1), Count: 1, Schema: 1, Data: d})
			if len(evs) == 500 || i == n-1 {
				if err := ix.Apply(context.Background(), evs, projections.Checkpoint{Cursor: evs[len(evs)-1].Cursor()}); err != nil {
					panic(err)
				}
				evs = evs[:0]
			}
		}
		fmt.Fprintf(os.Stderr, "indexed %d posts in %s\n", n, time.Since(start).Round(time.Millisecond))
		benchIx = ix
	})
	return benchIx
}

func reportLatency(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkSearch runs reader queries at 10,000 posts (goal p99 ≤ 10 ms),
// next to the baseline of a bare bleve match query on the same index.
// Run with -benchtime=500x.
func BenchmarkSearch(b *testing.B) {
	ix := benchIndex(b)
	// Words by rank: rank 3 is in nearly every post (the worst case),
	// rank 150 in a few hundred, rank 1500 in a few dozen. The worst-case
	// phrase is two words of the ten most frequent: every post has both,
	// so every post's positions are read.
	rank := func(r int) string { // ranks shrink with the small -short corpus
		if testing.Short() {
			r = max(4, r/50)
		}
		return vocabulary[r]
	}
	common, mid, rare, rare2 := vocabulary[3], rank(150), rank(1500), rank(1501)
	typo := []rune(mid)
	typo[len(typo)-2] = 'x'
	for _, tc := range []struct{ name, q string }{
		{"word", mid},
		{"two-words", mid + " " + rare},
		{"phrase", `"` + benchPhrase + `"`},
		{"fuzzy", string(typo)},
		{"prefix-typing", mid[:len(mid)-2]},
		{"faceted", mid + " category:c3"},
		{"rare-words", rare + " " + rare2},
		{"worst-case-common-word", common},
		{"worst-case-common-phrase", `"` + vocabulary[8] + " " + vocabulary[9] + `"`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				start := time.Now()
				r, err := ix.Search(Query{Q: tc.q, Page: 1 + i%3})
				if err != nil || r.Total == 0 {
					b.Fatalf("%q: %v, %d hits", tc.q, err, r.Total)
				}
				lat = append(lat, time.Since(start))
			}
			reportLatency(b, lat)
		})
	}
	b.Run("baseline-bleve-match", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			start := time.Now()
			q := bleve.NewMatchQuery(vocabulary[150])
			q.SetField("body")
			ix.mu.RLock()
			_, err := ix.idx.Search(bleve.NewSearchRequest(q))
			ix.mu.RUnlock()
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		reportLatency(b, lat)
	})
}

// seedWords are the words bench/cmd/seed writes posts with: the fast
// start benchmark (bench/start) indexes such posts.
var seedWords = corpus.Words()

// indexEvents are n PostCreated events in batches of 500, as CatchUp
// hands them to Apply: "seed" posts as bench/cmd/seed writes them (200
// English words drawn evenly), "zipf" posts of the made-up vocabulary
// drawn as words in real text are.
func indexEvents(corpus string, n int) [][]events.Event {
	rng := rand.New(rand.NewSource(42))
	zipf := rand.NewZipf(rng, 1.07, 2, uint64(len(vocabulary)-1))
	word := func() string {
		if corpus == "seed" {
			return seedWords[rng.Intn(len(seedWords))]
		}
		return vocabulary[zipf.Uint64()]
	}
	var out [][]events.Event
	var evs []events.Event
	base := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		var body strings.Builder
		for w := 0; w < 400; w++ {
			if w > 0 && w%80 == 0 {
				body.WriteString(".\n\n")
			} else if w > 0 {
				body.WriteByte(' ')
			}
			body.WriteString(word())
		}
		at := base.Add(time.Duration(i) * 8 * time.Hour)
		d, _ := json.Marshal(events.PostData{Post: content.Post{ID: fmt.Sprintf("seed%06d", i), Slug: fmt.Sprintf("post-%d", i),
			Title: fmt.Sprintf("%s %s %d", word(), word(), i), Content: body.String() + ".\n",
			Status: content.Published, PublishedAt: &at, CreatedAt: at, Categories: []string{fmt.Sprintf("cat-%d", i%10)},
			Tags: []string{word(), word()}}})
		evs = append(evs, events.Event{ID: fmt.Sprint(i), Type: events.PostCreated, Height: int64(i + 1), Count: 1, Schema: 1, Data: d})
		if len(evs) == 500 || i == n-1 {
			out = append(out, evs)
			evs = nil
		}
	}
	return out
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIndex indexes 10,000 posts into an empty index, as a fast
// start does, and closes it (so the merges and the writes to disk that
// indexing left behind are counted): cpu-s is the CPU time of the whole
// process, every goroutine of bleve's included. Run with -benchtime=1x.
func BenchmarkIndex(b *testing.B) {
	n := 10000
	if testing.Short() {
		n = 200
	}
	for _, corpus := range []string{"seed", "zipf"} {
		b.Run(corpus, func(b *testing.B) {
			batches := indexEvents(corpus, n)
			b.ResetTimer()
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				ix, err := Open(filepath.Join(b.TempDir(), "idx"), render.New())
				if err != nil {
					b.Fatal(err)
				}
				c0 := cpuTime()
				for _, evs := range batches {
					for j := range evs {
						evs[j] = events.Event{ID: evs[j].ID, Type: evs[j].Type, Height: evs[j].Height, Count: 1, Schema: 1, Data: evs[j].Data}
					}
					if err := ix.Apply(context.Background(), evs, projections.Checkpoint{Cursor: evs[len(evs)-1].Cursor()}); err != nil {
						b.Fatal(err)
					}
				}
				if err := ix.Close(); err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - c0
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkAnalyze analyses the text of 1,000 seed-like posts with the
// English analyzer and with its memoising twin that indexing uses.
func BenchmarkAnalyze(b *testing.B) {
	n := 1000
	if testing.Short() {
		n = 20
	}
	var bodies [][]byte
	for _, evs := range indexEvents("seed", n) {
		for _, e := range evs {
			pl, _ := e.Payload()
			p := pl.(events.PostData).Post
			bodies = append(bodies, []byte(p.Title+"\n\n"+p.Content))
		}
	}
	im := bleve.NewIndexMapping()
	for _, name := range []string{"en", analyzerOf("en")} {
		a := im.AnalyzerNamed(name)
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			for i := 0; i < b.N; i++ {
				for _, body := range bodies {
					buf = append(buf[:0], body...) // the lower-case filter writes in place
					a.Analyze(buf)
				}
			}
		})
	}
}
