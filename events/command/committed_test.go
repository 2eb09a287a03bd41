package command_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

// oldHistory commits, as an editor's pushes did before the id and name
// rules were made stricter, files those rules now refuse: post ids with a
// dot or longer than 64 bytes, tags with a control character or without
// one letter of NameProblem's, a category whose name has no letter or has
// a tab, media metadata whose id has a dot. It returns what derivation
// makes of that history, one line per event.
func oldHistory(t *testing.T) (*gitlog.GitLog, []string) {
	t.Helper()
	r, err := repo.Open(filepath.Join(t.TempDir(), "site.git"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	l := gitlog.NewGitLog(r, gitlog.NewDeriver(r, quiet))
	longID := strings.Repeat("x", 70)
	sha := strings.Repeat("ab", 32)
	when := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	parent := ""
	for i, changes := range [][]repo.Change{
		{
			{Path: "categories/misc.yaml", Data: []byte("name: \"---\"\n")},
			{Path: "categories/old.yaml", Data: []byte("name: \"Old\\tNews\"\n")},
		},
		{
			{Path: "posts/2024/hello-world.md", Data: []byte("---\nid: hello.world\ntitle: Hello\nstatus: published\n" +
				"categories: [old, misc]\ntags: [\"Go\\tlang\", \"C++ & more\"]\n---\nHi.\n")},
			{Path: "posts/2024/long.md", Data: []byte("---\nid: " + longID + "\ntitle: Long\n---\nLong id.\n")},
		},
		{
			{Path: "media/a.b.yaml", Data: []byte("id: a.b\nsha256: " + sha + "\ntype: image/png\next: png\nwidth: 2\nheight: 3\nbytes: 40\nuploaded_at: 2024-05-03T09:00:00Z\n")},
			{Path: "media/a.b.png", Data: []byte("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha + "\nsize 40\n")},
		},
		{
			{Path: "posts/2024/hello-world.md", Data: []byte("---\nid: hello.world\ntitle: Hello again\nstatus: published\n" +
				"categories: [old, misc]\ntags: [\"Go\\tlang\", \"C++ & more\"]\n---\nHi.\n")},
			{Path: "posts/2024/long.md", Delete: true},
		},
	} {
		sig := repo.Signature{Name: "Ed", Email: "ed@example.org", When: when.Add(time.Duration(i) * 24 * time.Hour)}
		_, cur, err := l.Append(context.Background(), gitlog.Batch{Parent: parent, Changes: changes, Message: fmt.Sprintf("old commit %d\n", i+1), Author: sig})
		if err != nil {
			t.Fatal(i, err)
		}
		parent = cur.Commit
	}
	var got []string
	if err := l.Read(context.Background(), events.Cursor{}, func(e events.Event) error {
		got = append(got, fmt.Sprintf("%d.%d/%d %s %s %s %s", e.Height, e.Index, e.Count, e.Type, e.Subject, e.Actor, e.Data))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return l, got
}

// canonical rewrites each event line's JSON so that lines compare by
// value, not by the encoder's choice of escapes or field order.
func canonical(t *testing.T, lines []string) string {
	var out []string
	for _, l := range lines {
		i := strings.Index(l, " {")
		var v any
		if err := json.Unmarshal([]byte(l[i+1:]), &v); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l[:i+1]+string(b))
	}
	return strings.Join(out, "\n")
}

// What Chronicle derived from oldHistory before the stricter rules (at
// f1ffa3e): replaying it must give these events forever.
var oldHistoryEvents = []string{
	`1.0/2 category.created category/misc ed@example.org {"category":{"slug":"misc","name":"---","description":""}}`,
	`1.1/2 category.created category/old ed@example.org {"category":{"slug":"old","name":"Old\tNews","description":""}}`,
	`2.0/2 post.created post/hello.world ed@example.org {"post":{"id":"hello.world","slug":"hello-world","title":"Hello","content":"Hi.\n","excerpt":"","status":"published","published_at":"2024-05-02T09:00:00Z","created_at":"2024-05-02T09:00:00Z","updated_at":"2024-05-02T09:00:00Z","categories":["old","misc"],"tags":["Go\tlang","C++ \u0026 more"],"feature_image":"","gallery":null,"embed_url":"","meta":{"description":"","image":""},"version":0,"revision":"ddb8a08710a370683a80f120c0066e847fb3b965","path":"posts/2024/hello-world.md","blob":"344162128f08fbb1ee68bd1dc174631ca22027f5"}}`,
	`2.1/2 post.created post/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx ed@example.org {"post":{"id":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","slug":"long","title":"Long","content":"Long id.\n","excerpt":"","status":"draft","published_at":null,"created_at":"2024-05-02T09:00:00Z","updated_at":"2024-05-02T09:00:00Z","categories":null,"tags":null,"feature_image":"","gallery":null,"embed_url":"","meta":{"description":"","image":""},"version":0,"revision":"ddb8a08710a370683a80f120c0066e847fb3b965","path":"posts/2024/long.md","blob":"c7348445a9d3381d7ed1ed864a19f24e1deedda2"}}`,
	`3.0/1 media.uploaded media/a.b ed@example.org {"media":{"id":"a.b","sha256":"abababababababababababababababababababababababababababababababab","type":"image/png","ext":"png","width":2,"height":3,"bytes":40,"alt":"","caption":"","original_name":"","uploaded_at":"2024-05-03T09:00:00Z","blob":"4f038132114b60f8b85f3ca225b19248c3619539"}}`,
	`4.0/2 post.updated post/hello.world ed@example.org {"post":{"id":"hello.world","slug":"hello-world","title":"Hello again","content":"Hi.\n","excerpt":"","status":"published","published_at":"2024-05-02T09:00:00Z","created_at":"2024-05-02T09:00:00Z","updated_at":"2024-05-04T09:00:00Z","categories":["old","misc"],"tags":["Go\tlang","C++ \u0026 more"],"feature_image":"","gallery":null,"embed_url":"","meta":{"description":"","image":""},"version":0,"revision":"d1ba8ea6e0008aeec3ba84deb1d80deeedcfc239","path":"posts/2024/hello-world.md","blob":"78b5c26cf72bbf62c6283662ed54f78f6fabb03c"},"previous":{"id":"hello.world","slug":"hello-world","title":"Hello","content":"","excerpt":"","status":"published","published_at":"2024-05-02T09:00:00Z","created_at":"2024-05-02T09:00:00Z","updated_at":"2024-05-03T09:00:00Z","categories":["old","misc"],"tags":["Go\tlang","C++ \u0026 more"],"feature_image":"","gallery":null,"embed_url":"","meta":{"description":"","image":""},"version":0,"revision":"","path":"posts/2024/hello-world.md","blob":"344162128f08fbb1ee68bd1dc174631ca22027f5"}}`,
	`4.1/2 post.deleted post/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx ed@example.org {"post":{"id":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","slug":"long","title":"Long","content":"Long id.\n","excerpt":"","status":"draft","published_at":null,"created_at":"2024-05-02T09:00:00Z","updated_at":"2024-05-03T09:00:00Z","categories":null,"tags":null,"feature_image":"","gallery":null,"embed_url":"","meta":{"description":"","image":""},"version":0,"revision":"","path":"posts/2024/long.md","blob":"c7348445a9d3381d7ed1ed864a19f24e1deedda2"}}`,
}

func TestOldHistoryDerivesAsBefore(t *testing.T) {
	_, got := oldHistory(t)
	if canonical(t, got) != canonical(t, oldHistoryEvents) {
		t.Fatalf("derived:\n%s\n\nwant (as before the stricter rules):\n%s", strings.Join(got, "\n"), strings.Join(oldHistoryEvents, "\n"))
	}
}

// The stricter rules hold for new writes through the API; what is in git
// already can still be edited (a post keeps its id) and is found.
func TestNewWritesFollowTheStricterRules(t *testing.T) {
	l, _ := oldHistory(t)
	w := command.NewWriter(l, gitlog.NewDeriver(l.Repo(), quiet), quiet, command.WriterConfig{})
	ctx := context.Background()
	ed := command.Actor{Name: "Ed", Email: "ed@example.org", Role: policy.Admin}
	var ve *content.ValidationError

	for _, tags := range [][]string{{"Go\tlang"}, {"---"}} {
		if _, err := w.CreatePost(ctx, ed, command.PostInput{Title: "New", Tags: tags}); !errors.As(err, &ve) {
			t.Errorf("new post with tags %q: %v, want a validation error", tags, err)
		}
	}
	for _, name := range []string{"---", "Old\tNews"} {
		if _, _, err := w.PutCategory(ctx, ed, content.Category{Slug: "fresh", Name: name}, ""); !errors.As(err, &ve) {
			t.Errorf("new category named %q: %v, want a validation error", name, err)
		}
	}

	p, err := w.Post("hello.world")
	if err != nil {
		t.Fatalf("the old post is not found by the writer: %v", err)
	}
	if _, err := w.UpdatePost(ctx, ed, "hello.world", p.Blob, command.PostInput{Title: "Hello, edited", Content: p.Content,
		Status: p.Status, Categories: p.Categories, Tags: []string{"Go"}}); err != nil {
		t.Fatalf("editing the old post: %v", err)
	}
	if c, _, err := w.Category("misc"); err != nil || c.Name != "---" {
		t.Fatalf("old category: %+v %v", c, err)
	}
	if _, _, err := w.EditCategory(ctx, ed, "misc", "", func(c content.Category, _ bool) (content.Category, error) {
		c.Description = "keeps its old name"
		return c, nil
	}); !errors.As(err, &ve) {
		t.Errorf("an edit of a category must give it a name of today's rule: %v", err)
	}
	if _, _, err := w.UpdateMedia(ctx, ed, "a.b", "", "Alt text", ""); err != nil {
		t.Fatalf("describing the old media item: %v", err)
	}
}

var quiet = slog.New(slog.DiscardHandler)
