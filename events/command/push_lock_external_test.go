package command_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/repo/atomicfile"
	"github.com/chronicle-cms/chronicle/repo/lfs"
)

// pushOfPictures makes a repository with one post on main and a commit
// after it (main left before it, as a push's pre-receive sees it) adding
// n pictures by Git LFS pointers, their objects in the LFS store.
func pushOfPictures(t *testing.T, n int) (w *command.Writer, r *repo.Repo, lfsDir string, u command.PushUpdate) {
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
		if err := atomicfile.Write(lfs.ObjectPath(lfsDir, oid), data, 0o644); err != nil {
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
	l := gitlog.NewGitLog(r, gitlog.NewDeriver(r, quiet))
	w = command.NewWriter(l, gitlog.NewDeriver(r, quiet), quiet, command.WriterConfig{LFSDir: lfsDir})
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	return w, r, lfsDir, command.PushUpdate{Ref: repo.MainRef, Old: old, New: pushed}
}

func png(data []byte) (content.ImageInfo, error) {
	return content.ImageInfo{Type: "image/png", Ext: "png", Width: 10, Height: 10}, nil
}

// Reading and inspecting a push's pictures does not hold the writer's
// lock: an API write made while they are inspected lands at once.
func TestPushInspectionDoesNotBlockAPIWrites(t *testing.T) {
	w, _, _, u := pushOfPictures(t, 3)
	started, release := make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	slow := func(data []byte) (content.ImageInfo, error) {
		if once.CompareAndSwap(false, true) {
			close(started)
		}
		<-release // a large picture, a slow disk
		return png(data)
	}
	pushDone := make(chan error, 1)
	go func() {
		refusals, err := w.ValidatePush(context.Background(), command.PushRequest{Updates: []command.PushUpdate{u}, Pusher: "ed@example.org", Role: policy.Editor, Image: slow})
		// The API write moved main: the push cannot land any more, and
		// says so (git's ref update would refuse it anyway).
		if err == nil && (len(refusals) != 1 || !strings.Contains(refusals[0], "main moved since you fetched")) {
			err = fmt.Errorf("refusals: %q", refusals)
		}
		pushDone <- err
	}()
	<-started
	writeDone := make(chan error, 1)
	go func() {
		_, err := w.CreatePost(context.Background(), command.Actor{Email: "api@example.org", Role: policy.Editor}, command.PostInput{Title: "During a push", Status: content.Draft})
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
	inspect := func(data []byte) (content.ImageInfo, error) {
		calls.Add(1)
		cancel()
		return png(data)
	}
	_, err := w.ValidatePush(ctx, command.PushRequest{Updates: []command.PushUpdate{u}, Pusher: "ed@example.org", Role: policy.Editor, Image: inspect})
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
	count := func(data []byte) (content.ImageInfo, error) { calls.Add(1); return png(data) }
	req := command.PushRequest{Updates: []command.PushUpdate{u}, Pusher: "ed@example.org", Role: policy.Editor, Image: count}
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
	if err := atomicfile.Write(lfs.ObjectPath(lfsDir, oid), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := lfs.Record(lfsDir, oid, lfs.Facts{Size: int64(len(data)), Type: "image/png", Ext: "png", Width: 3, Height: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lfs.ObjectPath(lfsDir, oid) + ".json"); err != nil {
		t.Fatal(err)
	}
}

// Two accounts push the same commit at once: the note naming the pusher
// is written before main moves, so only one of them may write it — the
// one whose push can land — or the commit would be attributed to an
// account whose push failed.
func TestConcurrentPushesOfOneCommitKeepItsPusher(t *testing.T) {
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	w, r, lfsDir, u := pushOfPictures(t, 1)
	w = command.NewWriter(gitlog.NewGitLog(r, gitlog.NewDeriver(r, quiet)), gitlog.NewDeriver(r, quiet), quiet,
		command.WriterConfig{LFSDir: lfsDir, Now: func() time.Time { return now }})
	push := func(pusher string, u command.PushUpdate) []string {
		t.Helper()
		refusals, err := w.ValidatePush(context.Background(), command.PushRequest{Updates: []command.PushUpdate{u}, Pusher: pusher, Role: policy.Editor, Image: png})
		if err != nil {
			t.Fatal(err)
		}
		return refusals
	}
	noted := func() string {
		t.Helper()
		notes, err := r.Ref(gitlog.PushNotesRef)
		if err != nil {
			t.Fatal(err)
		}
		h, err := r.Stat(notes, u.New.String())
		if err != nil || h.IsZero() {
			t.Fatalf("no note: %v", err)
		}
		b, err := r.ReadBlob(h)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := push("ann@example.org", u); len(got) > 0 {
		t.Fatalf("first push refused: %q", got)
	}
	if got := push("ann@example.org", u); len(got) > 0 {
		t.Fatalf("the same account again: %q", got)
	}
	// Bob's push of the same commit, while Ann's may still land.
	if got := push("bob@example.org", u); len(got) != 1 || !strings.Contains(got[0], "another account's push of this commit") {
		t.Fatalf("second account: %q", got)
	}
	if n := noted(); !strings.Contains(n, "ann@example.org") {
		t.Fatalf("note %q, want Ann", n)
	}
	// Ann's push lands; Bob's, from the old head, could not: refused, the
	// note unchanged.
	if out, err := exec.Command("git", "--git-dir", r.Dir(), "update-ref", repo.MainRef, u.New.String(), u.Old.String()).CombinedOutput(); err != nil {
		t.Fatalf("update-ref: %v %s", err, out)
	}
	if got := push("bob@example.org", u); len(got) != 1 || !strings.Contains(got[0], "main moved since you fetched") {
		t.Fatalf("a push from a stale head: %q", got)
	}
	if n := noted(); !strings.Contains(n, "ann@example.org") {
		t.Fatalf("note %q, want Ann", n)
	}
}

// A push accepted but never landed holds its commits for PushHold only.
func TestAPushThatNeverLandedIsReleased(t *testing.T) {
	now := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	_, r, lfsDir, u := pushOfPictures(t, 1)
	w := command.NewWriter(gitlog.NewGitLog(r, gitlog.NewDeriver(r, quiet)), gitlog.NewDeriver(r, quiet), quiet,
		command.WriterConfig{LFSDir: lfsDir, Now: func() time.Time { return now }})
	req := func(pusher string) command.PushRequest {
		return command.PushRequest{Updates: []command.PushUpdate{u}, Pusher: pusher, Role: policy.Editor, Image: png}
	}
	if got, err := w.ValidatePush(context.Background(), req("ann@example.org")); err != nil || len(got) > 0 {
		t.Fatalf("first push: %v %q", err, got)
	}
	now = now.Add(command.PushHold + time.Second)
	if got, err := w.ValidatePush(context.Background(), req("bob@example.org")); err != nil || len(got) > 0 {
		t.Fatalf("after the hold: %v %q", err, got)
	}
}
