package gitlog_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/repo"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newGitLog(t *testing.T) *gitlog.GitLog {
	r, err := repo.Open(filepath.Join(t.TempDir(), "site.git"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return gitlog.NewGitLog(r, gitlog.NewDeriver(r, quiet))
}

func TestGitLogContract(t *testing.T) {
	eventstest.Run(t, func(t *testing.T) eventstest.Log { return newGitLog(t) })
}

func TestRecentIsNewestFirst(t *testing.T) {
	l := newGitLog(t)
	parent := ""
	for i, id := range []string{"a", "b", "c", "d"} {
		_, cur, err := l.Append(context.Background(), gitlog.Batch{Parent: parent, Message: "x\n",
			Changes: []repo.Change{{Path: "posts/" + id + ".md", Data: []byte("---\nid: " + id + "\ntitle: T\ncreated_at: 2026-01-01T00:00:00Z\n---\n")}}})
		if err != nil {
			t.Fatal(i, err)
		}
		parent = cur.Commit
	}
	evs, err := l.Recent(3)
	if err != nil || len(evs) != 3 || evs[0].Subject != "post/d" || evs[2].Subject != "post/b" || evs[0].Height != 4 {
		t.Fatalf("recent: %v %v", evs, err)
	}
	if all, _ := l.Recent(100); len(all) != 4 {
		t.Fatalf("recent beyond the start: %d", len(all))
	}
}
