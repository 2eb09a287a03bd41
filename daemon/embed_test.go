package daemon

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// A post's embed_url is resolved after the write by the embeds projection,
// recorded as an embed.resolved commit, and rendered from that record.
func TestEmbedsAreResolvedRecordedAndRendered(t *testing.T) {
	t.Parallel()
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/article", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<head><meta property="og:title" content="Tides explained"><meta property="og:description" content="Why the sea moves"><meta property="og:image" content="/tide.jpg"></head>`))
	})
	mux.HandleFunc("/video", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<head><link rel="alternate" type="application/json+oembed" href="%s/oembed"></head>`, srv.URL)
	})
	mux.HandleFunc("/oembed", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"type":"video","title":"Waves","provider_name":"Vimeo","html":"<iframe src=\"https://player.vimeo.com/video/7\"></iframe><script>alert(1)</script>"}`))
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()

	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data, func(c *Config) { c.EmbedsAllowPrivate = true })
	tok := s.token("ed@example.org")
	for slug, u := range map[string]string{"card": srv.URL + "/article", "video": srv.URL + "/video", "slow": srv.URL + "/hang"} {
		mustStatus(t, s.do("POST", "/api/v1/posts", tok, map[string]any{"title": slug, "slug": slug, "status": "published", "embed_url": u}), 201)
	}
	eventstest.CheckFor(t, 20*time.Second, pollEvery, func() error {
		if card := s.get("/posts/card"); !strings.Contains(string(card.body), "Tides explained") {
			return fmt.Errorf("/posts/card: status %d, no \"Tides explained\" yet", card.status)
		}
		if video := s.get("/posts/video"); !strings.Contains(string(video.body), "player.vimeo.com/video/7") {
			return fmt.Errorf("/posts/video: status %d, no player.vimeo.com/video/7 yet", video.status)
		}
		return nil
	})
	card := string(s.get("/posts/card").body)
	if !strings.Contains(card, `<a class="card" href="`+srv.URL+`/article" rel="nofollow noopener"><img src="`+srv.URL+`/tide.jpg" alt="" loading="lazy"><strong>Tides explained</strong><span>Why the sea moves</span></a>`) {
		t.Errorf("card:\n%s", card)
	}
	video := string(s.get("/posts/video").body)
	if !strings.Contains(video, `<iframe src="https://player.vimeo.com/video/7" title="Waves" loading="lazy"`) || strings.Contains(video, "alert(1)") {
		t.Errorf("video:\n%s", video)
	}
	// The hanging provider costs the resolver's timeout and leaves a link.
	eventstest.CheckFor(t, 20*time.Second, pollEvery, func() error {
		if !strings.Contains(git(t, s.repoDir(), "ls-tree", "-r", "--name-only", "main", "embeds/"), "embeds/") {
			return errors.New("no file under embeds/ on main")
		}
		return nil
	})
	// Recorded in history as events.
	var audit struct {
		Items []struct{ Type, Subject string }
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error { // once the audit projection has them
		audit.Items = nil
		s.do("GET", "/api/v1/events?limit=20", tok, nil).json(t, &audit)
		n := 0
		for _, e := range audit.Items {
			if e.Type == "embed.resolved" {
				n++
			}
		}
		if n < 2 {
			return fmt.Errorf("%d embed.resolved events: %+v", n, audit.Items)
		}
		return nil
	})
	if files := git(t, s.repoDir(), "ls-tree", "-r", "--name-only", "main", "embeds/"); strings.Count(files, ".yaml") < 2 {
		t.Errorf("embed records: %s", files)
	}
	// Deleting a post deletes its embed record with it.
	var l struct{ Items []apiPost }
	s.do("GET", "/api/v1/posts?per_page=100", tok, nil).json(t, &l)
	for _, p := range l.Items {
		if p.Slug == "card" {
			mustStatus(t, s.do("DELETE", "/api/v1/posts/"+p.ID, tok, nil, "Prefer", "wait=5"), 204)
			if files := git(t, s.repoDir(), "ls-tree", "-r", "--name-only", "main", "embeds/"); strings.Contains(files, p.ID) {
				t.Errorf("the deleted post's embed record remains: %s", files)
			}
		}
	}
}
