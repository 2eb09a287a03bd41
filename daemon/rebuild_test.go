package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// catalogueView is everything the API shows, for comparing two runs.
type catalogueView struct {
	Posts      []json.RawMessage
	Categories json.RawMessage
	Tags       json.RawMessage
	Settings   json.RawMessage
	Profile    json.RawMessage
}

func (s *site) view(tok string) catalogueView {
	s.t.Helper()
	var v catalogueView
	for _, status := range []string{"draft", "published"} {
		for page := 1; ; page++ {
			var l struct {
				Items      []json.RawMessage
				TotalPages int `json:"total_pages"`
			}
			r := s.do("GET", fmt.Sprintf("/api/v1/posts?status=%s&per_page=100&page=%d", status, page), tok, nil)
			mustStatus(s.t, r, 200)
			r.json(s.t, &l)
			v.Posts = append(v.Posts, l.Items...)
			if page >= l.TotalPages {
				break
			}
		}
	}
	get := func(path string) json.RawMessage {
		r := s.do("GET", path, tok, nil)
		mustStatus(s.t, r, 200)
		return bytes.TrimSpace(r.body)
	}
	v.Categories, v.Tags, v.Settings, v.Profile = get("/api/v1/categories"), get("/api/v1/tags"), get("/api/v1/settings"), get("/api/v1/profile")
	return v
}

// writeHistory makes a varied history through the API.
func writeHistory(t *testing.T, s *site, tok string) {
	t.Helper()
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "News", "description": "What happened"}), 201)
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "Gone"}), 201)
	mustStatus(t, s.do("DELETE", "/api/v1/categories/gone", tok, nil), 204)
	var ids []string
	for i := 0; i < 25; i++ {
		r := s.do("POST", "/api/v1/posts", tok, postBody(fmt.Sprintf("Post %d", i), "tags", []string{"t" + fmt.Sprint(i%3), "All"},
			"categories", []string{"news"}, "status", []string{"draft", "published"}[i%2]))
		mustStatus(t, r, 201)
		var p apiPost
		r.json(t, &p)
		ids = append(ids, p.ID)
	}
	for i, id := range ids[:10] {
		mustStatus(t, s.do("PUT", "/api/v1/posts/"+id, tok, postBody(fmt.Sprintf("Post %d, revised", i), "status", "published", "slug", fmt.Sprintf("revised-%d", i))), 200)
	}
	for _, id := range ids[10:13] {
		mustStatus(t, s.do("DELETE", "/api/v1/posts/"+id, tok, nil), 204)
	}
	mustStatus(t, s.do("PUT", "/api/v1/categories/news", tok, map[string]string{"name": "World news"}), 200)
	mustStatus(t, s.do("PUT", "/api/v1/settings", tok, map[string]any{"title": "My blog", "posts_per_page": 5, "language": "en"}), 200)
	mustStatus(t, s.do("PUT", "/api/v1/profile", tok, map[string]any{"name": "Ann", "bio": "Writes.", "links": []map[string]string{{"name": "Mastodon", "url": "https://social.example/@ann"}}}, "Prefer", "wait=5"), 200)
}

func TestRebuildFromGitAlone(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	tok := s.token("admin@example.org")
	writeHistory(t, s, tok)
	want := s.view(tok)
	s.stop()

	// Projection state and the NATS store gone: the outbox republishes
	// from git, the catalogue is rebuilt from the new stream.
	for _, dir := range []string{"projections", "nats"} {
		if err := os.RemoveAll(filepath.Join(data, dir)); err != nil {
			t.Fatal(err)
		}
	}
	s = startSite(t, data)
	if diff := cmp.Diff(want, s.view(tok)); diff != "" {
		t.Fatalf("catalogue after deleting its state and the NATS store differs (-before +after):\n%s", diff)
	}
	s.stop()

	// Only the projection state gone: the stream is intact, the catalogue
	// replays it from the start.
	os.RemoveAll(filepath.Join(data, "projections"))
	s = startSite(t, data)
	if diff := cmp.Diff(want, s.view(tok)); diff != "" {
		t.Fatalf("catalogue rebuilt from the stream differs:\n%s", diff)
	}
	s.stop()

	// `chronicle rebuild` from git alone, then a start that resumes by position.
	var progress bytes.Buffer
	cfg := testConfig(data)
	if err := rebuildProjection(context.Background(), cfg, "catalogue", slog.New(slog.NewTextHandler(io.Discard, nil)), &progress); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(progress.Bytes(), []byte("100%")) || !bytes.Contains(progress.Bytes(), []byte("catalogue rebuilt from")) {
		t.Fatalf("progress output: %q", progress.String())
	}
	s = startSite(t, data)
	if diff := cmp.Diff(want, s.view(tok)); diff != "" {
		t.Fatalf("catalogue after `chronicle rebuild` differs:\n%s", diff)
	}
}
