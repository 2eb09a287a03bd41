package events_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/repo"
)

// pushOfPictures makes a repository with one post on main and a commit
// after it (main left before it, as a push's pre-receive sees it) adding
// n pictures by Git LFS pointers, their objects in the LFS store.
func pushOfPictures(t *testing.T, n int) (w *events.Writer, r *repo.Repo, lfsDir string, u events.PushUpdate) {
	t.Helper()
	r, err := repo.Open(filepath.Join(t.TempDir(), "site.git"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ctx := context.Background()
	sig := repo.Signature{Name: "Seed", Email: "seed@example.org"}
	old, err := r.Commit(ctx, repo.CommitRequest{Changes: []repo.Change{{Path: "posts/2026/first.md", Data: []byte("---\ntitle: First\n---\n")}},
		Message: "seed\n", Author: sig})
	if err != nil {
		t.Fatal(err)
	}
	lfsDir = t.TempDir()
	var changes []repo.Change
	for i := 0; i < n; i++ {
		data := []byte(fmt.Sprintf("picture %d %s", i, make([]byte, 1<<16)))
		oid := fmt.Sprintf("%x", sha256.Sum256(data))
		if err := repo.WriteFileDurably(events.LFSObjectPath(lfsDir, oid), data, 0o644); err != nil {
			t.Fatal(err)
		}
		changes = append(changes, repo.Change{Path: fmt.Sprintf("media/p%d.png", i),
			Data: []byte(fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", oid, len(data)))})
	}
	pushed, err := r.Commit(ctx, repo.CommitRequest{Parent: old, Changes: changes, Message: "pictures\n", Author: sig})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "--git-dir", r.Dir(), "update-ref", repo.MainRef, old.String(), pushed.String()).CombinedOutput(); err != nil {
		t.Fatalf("update-ref: %v %s", err, out)
	}
	l := events.NewGitLog(r, events.NewDeriver(r, quiet))
	w = events.NewWriter(l, events.NewDeriver(r, quiet), quiet, events.WriterConfig{LFSDir: lfsDir})
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	return w, r, lfsDir, events.PushUpdate{Ref: repo.MainRef, Old: old, New: pushed}
}

func png(data []byte) (events.ImageInfo, error) {
	return events.ImageInfo{Type: "image/png", Ext: "png", Width: 10, Height: 10}, nil
}

// Reading and inspecting a push's pictures does not hold the writer's
// lock: an API write made while they are inspected lands at once.
func TestPushInspectionDoesNotBlockAPIWrites(t *testing.T) {
	w, _, _, u := pushOfPictures(t, 3)
	started, release := make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	slow := func(data []byte) (events.ImageInfo, error) {
		if once.CompareAndSwap(false, true) {
			close(started)
		}
		<-release // a large picture, a slow disk
		return png(data)
	}
	pushDone := make(chan error, 1)
	go func() {
		refusals, err := w.ValidatePush(context.Background(), events.PushRequest{Updates: []events.PushUpdate{u}, Pusher: "ed@example.org", Image: slow})
		if err == nil && len(refusals) > 0 {
			err = fmt.Errorf("refused: %q", refusals)
		}
		pushDone <- err
	}()
	<-started
	writeDone := make(chan error, 1)
	go func() {
		_, err := w.CreatePost(context.Background(), events.Actor{Email: "api@example.org"}, events.PostInput{Title: "During a push", Status: events.Draft})
		writeDone <- err
	}()
	select {
	case err := <-writeDone:
		if err != nil {
			t.Fatalf("API write: %v", err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("an API write waited for the push's pictures to be inspected")
	}
	close(release)
	if err := <-pushDone; err != nil {
		t.Fatalf("push: %v", err)
	}
}

// A cancelled check (the hook's client gave up) stops reading pictures.
func TestPushCheckStopsWhenCancelled(t *testing.T) {
	w, _, _, u := pushOfPictures(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	inspect := func(data []byte) (events.ImageInfo, error) {
		calls.Add(1)
		cancel()
		return png(data)
	}
	_, err := w.ValidatePush(ctx, events.PushRequest{Updates: []events.PushUpdate{u}, Pusher: "ed@example.org", Image: inspect})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d pictures inspected after the check was cancelled, want 1", n)
	}
}

// What an object is, is read from its bytes once: recorded at upload, or
// the first time it is read, in a sidecar next to it.
func TestPushReadsEachObjectOnce(t *testing.T) {
	w, _, lfsDir, u := pushOfPictures(t, 3)
	var calls atomic.Int32
	count := func(data []byte) (events.ImageInfo, error) { calls.Add(1); return png(data) }
	req := events.PushRequest{Updates: []events.PushUpdate{u}, Pusher: "ed@example.org", Image: count}
	for i := 0; i < 2; i++ {
		if refusals, err := w.ValidatePush(context.Background(), req); err != nil || len(refusals) > 0 {
			t.Fatalf("push %d: %v %q", i, err, refusals)
		}
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d inspections for 3 objects checked twice, want 3", n)
	}
	// An upload records its facts: never inspected again.
	data := []byte("uploaded picture")
	oid := fmt.Sprintf("%x", sha256.Sum256(data))
	if err := repo.WriteFileDurably(events.LFSObjectPath(lfsDir, oid), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := events.RecordLFSFacts(lfsDir, oid, int64(len(data)), events.ImageInfo{Type: "image/png", Ext: "png", Width: 3, Height: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(events.LFSObjectPath(lfsDir, oid) + ".json"); err != nil {
		t.Fatal(err)
	}
}
