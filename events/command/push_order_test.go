package command

import (
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

// A post moved between year folders in one commit: git diff-tree lists
// posts/2025/… (added) before posts/2026/… (deleted).
func TestPushMovesAPostBetweenFolders(t *testing.T) {
	moved := "---\nid: hello1\ntitle: Hello\ncategories: [news]\n---\nBody\n"
	got := checkPushAll(pushFixture(), t.TempDir(),
		[]repo.PushedCommit{commit(1, add("posts/2025/hello.md", moved), del("posts/2026/hello.md"))}, PushRequest{Pusher: "ed@example.org", Role: policy.Editor}, nil)
	if len(got) > 0 {
		t.Fatalf("refused: %q", got)
	}
}

// A post whose id was valid before today's rules keeps it when pushed
// again; a new post may not take such an id.
func TestPushKeepsAnOldPostsID(t *testing.T) {
	ix := pushFixture()
	ix.add("hello.world", indexedPost{path: "posts/2025/old.md", slug: "old"})
	editor := PushRequest{Pusher: "ed@example.org", Role: policy.Editor}
	edit := "---\nid: hello.world\ntitle: Old, edited\n---\nBody\n"
	if got := checkPushAll(ix, t.TempDir(), []repo.PushedCommit{commit(1, add("posts/2025/old.md", edit))}, editor, nil); len(got) > 0 {
		t.Fatalf("edit refused: %q", got)
	}
	moved := []repo.PushedCommit{commit(1, add("posts/2024/old.md", edit), del("posts/2025/old.md"))}
	if got := checkPushAll(ix, t.TempDir(), moved, editor, nil); len(got) > 0 {
		t.Fatalf("move refused: %q", got)
	}
	fresh := "---\nid: new.one\ntitle: New\n---\nBody\n"
	got := checkPushAll(ix, t.TempDir(), []repo.PushedCommit{commit(1, add("posts/2026/new.md", fresh))}, editor, nil)
	if !strings.Contains(strings.Join(got, "\n"), `id: "new.one" is not an id`) {
		t.Fatalf("a new post with an old-style id: %q", got)
	}
}
