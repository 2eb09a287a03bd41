package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/repo"
)

// TestSeedDerives writes a small history and derives it as a rebuild
// does: every commit gives exactly the event its trailers name, for the
// subject they name, and the hot post has all its revisions.
func TestSeedDerives(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site.git")
	cfg := config{Posts: 60, Commits: 600, HotRevisions: 50, HotWords: 5000, Words: 100, Categories: 3, Seed: 7}
	inf, err := seed(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if inf.Commits != cfg.Commits {
		t.Fatalf("wrote %d commits, want %d", inf.Commits, cfg.Commits)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := repo.Open(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	l := gitlog.NewGitLog(r, gitlog.NewDeriver(r, log))
	head, err := l.Head()
	if err != nil {
		t.Fatal(err)
	}
	if head.Height != int64(cfg.Commits) {
		t.Fatalf("main has %d commits on its first-parent chain, want %d", head.Height, cfg.Commits)
	}
	got := map[events.Type]int{}
	hot := 0
	err = l.Read(context.Background(), events.Cursor{}, func(e events.Event) error {
		got[e.Type]++
		c, err := r.ReadCommit(repo.ParseHash(e.Commit))
		if err != nil {
			return err
		}
		tr := gitlog.Trailers(c.Message)
		if tr[gitlog.TrailerEvent] != string(e.Type) || tr[gitlog.TrailerSubject] != e.Subject {
			t.Errorf("commit %s says %s of %s, derived %s of %s", c.Hash, tr[gitlog.TrailerEvent], tr[gitlog.TrailerSubject], e.Type, e.Subject)
		}
		if e.Subject == "post/"+inf.HotID {
			hot++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for typ, n := range inf.Types {
		if got[typ] != n {
			t.Errorf("%d %s events derived, %d written", got[typ], typ, n)
		}
	}
	total := 0
	for _, n := range got {
		total += n
	}
	if total != cfg.Commits {
		t.Errorf("%d events derived from %d commits, want one each", total, cfg.Commits)
	}
	if len(got) != len(inf.Types) {
		t.Errorf("derived types %v, written %v", got, inf.Types)
	}
	if hot != cfg.HotRevisions {
		t.Errorf("the hot post has %d events, want %d", hot, cfg.HotRevisions)
	}
}
