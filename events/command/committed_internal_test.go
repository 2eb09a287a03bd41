package command

import (
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

// A push is a new write: it is held to today's rules, whatever the
// history it lands on was allowed (see committedRules).
func TestPushFollowsTheStricterRules(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	for name, f := range map[string]struct{ path, data, want string }{
		"id with a dot":         {"posts/2026/x.md", "---\nid: hello.world\ntitle: X\n---\n", `id: "hello.world" is not an id`},
		"id over 64 bytes":      {"posts/2026/x.md", "---\nid: " + strings.Repeat("x", 70) + "\ntitle: X\n---\n", "is not an id"},
		"tag with a tab":        {"posts/2026/x.md", "---\ntitle: X\ntags: [\"Go\\tlang\"]\n---\n", "is not a tag"},
		"category with no word": {"categories/misc.yaml", "name: \"---\"\n", "needs at least one letter or digit"},
		"media id with a dot": {"media/a.b.yaml", "id: a.b\nsha256: " + sha + "\ntype: image/png\next: png\nwidth: 1\nheight: 1\nbytes: 5\n",
			`"a.b" is not an id`},
	} {
		got := checkPushAll(pushFixture(), t.TempDir(), []repo.PushedCommit{commit(1, add(f.path, f.data))}, PushRequest{Pusher: "ed@example.org", Role: policy.Editor}, nil)
		if !strings.Contains(strings.Join(got, "\n"), f.want) {
			t.Errorf("%s: refusals %q lack %q", name, got, f.want)
		}
	}
}
