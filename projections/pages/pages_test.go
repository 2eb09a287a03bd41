package pages

import (
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/content"
)

// sortedPosts keeps the order a full sort gives while posts come, change
// date and go.
func TestSortedPostsMatchesAFullSort(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	p := &Pages{posts: map[string]*post{}}
	newPost := func(id string) *post {
		at := time.Date(2020, 1, 1+rng.Intn(30), 0, 0, 0, 0, time.UTC) // many equal dates: ties go by id
		return (&post{Post: content.Post{ID: id, PublishedAt: &at}}).derive()
	}
	for round := range 200 {
		for range 1 + rng.Intn(5) {
			id := fmt.Sprint("p", rng.Intn(60))
			switch rng.Intn(3) {
			case 0:
				delete(p.posts, id)
			default:
				p.posts[id] = newPost(id)
			}
		}
		p.reindex()
		want := make([]*post, 0, len(p.posts))
		for _, ps := range p.posts {
			want = append(want, ps)
		}
		sort.Slice(want, func(i, j int) bool { return newer(want[i], want[j]) })
		if !slices.Equal(p.ix.all, want) {
			t.Fatalf("round %d: order differs from a full sort", round)
		}
	}
}

func TestServes(t *testing.T) {
	for path, want := range map[string]bool{
		"/": true, "/about": true, "/posts/x": true, "/category/a/page/2": true, "/tag/t/feed.xml": true, "/archive/2026/05": true,
		"/sitemap.xml": true, "/sitemap-2.xml": true, "/robots.txt": true, "/page/3": true, "/feed.json": true,
		"/api/v1/posts": false, "/git/site.git/info/refs": false, "/media/x/w640": false, "/static/style.css": false,
		"/search": false, "/healthz": false, "/posts/x?utm=1": false, "/posts/%78": false, "/admin/": false,
	} {
		if Serves(path) != want {
			t.Errorf("Serves(%q) = %v", path, !want)
		}
	}
}
