package command

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

func TestCheckPath(t *testing.T) {
	for _, p := range []string{"posts/2026/hello.md", "media/abc.jpg", "posts/2026/élan-vital.md", "posts/a b/c.md", ".gitattributes", "posts/.github/x.md"} {
		if err := content.CheckPath(p); err != nil {
			t.Errorf("%q refused: %v", p, err)
		}
	}
	for p, want := range map[string]string{
		"posts/../site/settings.yaml":               `".." segment`,
		"posts/./a.md":                              `"." segment`,
		"posts//a.md":                               "empty folder",
		"posts/.git/config.md":                      "git's own folder",
		"posts/.GIT/config.md":                      "git's own folder",
		"posts/.Git./config.md":                     "git's own folder",
		"posts/.git /config.md":                     "git's own folder",
		"posts/GIT~1/config.md":                     "git's own folder",
		"posts/git~2/config.md":                     "git's own folder",
		"posts/.git::$INDEX_ALLOCATION/x.md":        "colon",
		"posts/.g\u200cit/config.md":                "invisible",
		"posts/.git\ufeff/config.md":                "invisible",
		"posts/2026/a\x1b[2Jb.md":                   "control character",
		"posts/2026/a\nb.md":                        "control character",
		"posts/2026/a\u0085b.md":                    "control character",
		"posts/2026/a\\b.md":                        "backslash",
		"posts/2026/evil\u202egpj.md":               "text-reordering",
		"posts/2026/x\u2066y.md":                    "text-reordering",
		"posts/2026./a.md":                          "ends in a dot or space",
		"posts/2026 /a.md":                          "ends in a dot or space",
		"posts/2026/\xff.md":                        "UTF-8",
		"posts/" + strings.Repeat("a", 300) + ".md": "at most 255",
	} {
		err := content.CheckPath(p)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", p, err, want)
		}
	}
	if got := content.ShowPath("posts/a\x1b[2Jb.md"); got != `"posts/a\x1b[2Jb.md"` {
		t.Errorf("ShowPath: %s", got)
	}
}

func TestValidID(t *testing.T) {
	for _, id := range []string{"a", "seed000001", content.NewID(make([]byte, 16)), content.DerivedPostID("posts/x.md"), "Hello_World-2"} {
		if !content.ValidID(id) {
			t.Errorf("%q refused", id)
		}
	}
	for _, id := range []string{"", "a/../b", "x/y", "..", "-a", "a b", "a.b", "ä", strings.Repeat("a", content.MaxID+1)} {
		if content.ValidID(id) {
			t.Errorf("%q accepted", id)
		}
	}
}

// pushFixture is an index of main's head: post hello in category news,
// category news, and the settings.
func pushFixture() *index {
	ix := &index{posts: map[string]indexedPost{}, bySlug: map[string]string{}, byPath: map[string]string{},
		categories: map[string]string{"news": "n", "travel": "t"}, media: map[string]indexedMedia{}}
	ix.add("hello1", indexedPost{path: "posts/2026/hello.md", slug: "hello", categories: []string{"news"}})
	return ix
}

func blob(data string) repo.Hash { return repo.BlobHash([]byte(data)) }

func add(path, data string) repo.PushedFile {
	return repo.PushedFile{Path: path, New: blob(data), Mode: repo.ModeRegular, Size: int64(len(data)), Data: []byte(data)}
}

func del(path string) repo.PushedFile { return repo.PushedFile{Path: path, Old: blob(path)} }

func commit(n int, files ...repo.PushedFile) repo.PushedCommit {
	h := repo.ParseHash(fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(n))))[:40])
	return repo.PushedCommit{Hash: h, Changes: files}
}

func TestCheckPushRefuses(t *testing.T) {
	post := "---\ntitle: Fine\n---\nBody\n"
	withMode := func(f repo.PushedFile, m repo.FileMode) repo.PushedFile { f.Mode = m; return f }
	editor := PushRequest{Pusher: "ed@example.org", Role: policy.Editor}
	admin := PushRequest{Pusher: "admin@example.org", Role: policy.Admin}
	for _, tc := range []struct {
		name    string
		req     PushRequest
		commits []repo.PushedCommit
		want    string // "" means accepted
	}{
		{"a plain post", editor, []repo.PushedCommit{commit(1, add("posts/2026/fine.md", post))}, ""},
		{"control character", editor, []repo.PushedCommit{commit(1, add("posts/2026/a\x1b]0;x\x07.md", post))},
			`: "posts/2026/a\x1b]0;x\a.md": the name holds a control character (U+001B)`},
		{"backslash", editor, []repo.PushedCommit{commit(1, add(`posts/2026/..\..\x.md`, post))}, "backslash"},
		{"bidi override", editor, []repo.PushedCommit{commit(1, add("posts/2026/a\u202eb.md", post))}, "text-reordering character (U+202E)"},
		{".git in another case", editor, []repo.PushedCommit{commit(1, add("posts/.GiT/hooks.md", post))}, "git's own folder"},
		{"GIT~1", editor, []repo.PushedCommit{commit(1, add("posts/GIT~1/hooks.md", post))}, "git's own folder"},
		{"trailing dot", editor, []repo.PushedCommit{commit(1, add("posts/2026./x.md", post))}, "ends in a dot or space"},
		{"dot dot", editor, []repo.PushedCommit{commit(1, add("posts/../x.md", post))}, `".." segment`},
		{"symlink", editor, []repo.PushedCommit{commit(1, withMode(add("posts/2026/link.md", post), repo.ModeSymlink))},
			"posts/2026/link.md: is a symbolic link"},
		{"executable", editor, []repo.PushedCommit{commit(1, withMode(add("posts/2026/run.md", post), repo.ModeExecutable))},
			"posts/2026/run.md: is executable"},
		{"gitlink", editor, []repo.PushedCommit{commit(1, repo.PushedFile{Path: "posts/2026/sub.md", New: blob("c"), Mode: repo.ModeSubmodule})},
			"posts/2026/sub.md: is a submodule"},
		{"editor deletes the settings", editor, []repo.PushedCommit{commit(1, del(content.SettingsPath))},
			"site/settings.yaml: your role, editor, may not change the site's settings"},
		{"admin deletes the settings", admin, []repo.PushedCommit{commit(1, del(content.SettingsPath))}, ""},
		{"category still used", editor, []repo.PushedCommit{commit(1, del("categories/news.yaml"))},
			`categories/news.yaml: category "news" is used by 1 post: remove it from them first`},
		{"category used, deleted in a later commit", editor, []repo.PushedCommit{commit(1, add("posts/2026/b.md", "---\ntitle: B\ncategories: [travel]\n---\n")),
			commit(2, del("categories/travel.yaml"))}, `posts/2026/b.md: categories: no category "travel"`},
		{"category no longer used", editor, []repo.PushedCommit{commit(1, add("posts/2026/hello.md", "---\nid: hello1\ntitle: Hello\n---\n")),
			commit(2, del("categories/news.yaml"))}, ""},
		{"category deleted with its posts", editor, []repo.PushedCommit{commit(1, del("posts/2026/hello.md"), del("categories/news.yaml"))}, ""},
		{"category deleted and added again", editor, []repo.PushedCommit{commit(1, del("categories/news.yaml")), commit(2, add("categories/news.yaml", "name: News\n"))}, ""},
		{"unused category", editor, []repo.PushedCommit{commit(1, del("categories/travel.yaml"))}, ""},
		{"id with dot dot", editor, []repo.PushedCommit{commit(1, add("posts/2026/x.md", "---\nid: a/../b\ntitle: X\n---\n"))},
			`posts/2026/x.md:2: id: "a/../b" is not an id`},
		{"id with a slash", editor, []repo.PushedCommit{commit(1, add("posts/2026/x.md", "---\nid: x/y\ntitle: X\n---\n"))}, `id: "x/y" is not an id`},
		{"media metadata, no image reader", editor, []repo.PushedCommit{commit(1, add("media/m1.yaml",
			"id: m1\nsha256: "+strings.Repeat("ab", 32)+"\ntype: text/html\next: html\nwidth: 1\nheight: 1\nbytes: 5\n"))},
			"media/m1.yaml: sha256: LFS object sha256:abababababab (5 bytes) was never uploaded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := checkPushAll(pushFixture(), t.TempDir(), tc.commits, tc.req, nil)
			switch {
			case tc.want == "" && len(got) > 0:
				t.Fatalf("refused: %q", got)
			case tc.want != "" && len(got) == 0:
				t.Fatalf("accepted, want %q", tc.want)
			case tc.want != "" && !strings.Contains(strings.Join(got, "\n"), tc.want):
				t.Fatalf("refusals %q lack %q", got, tc.want)
			}
			for _, m := range got {
				if !strings.HasPrefix(m, "commit "+short(tc.commits[0].Hash)) && !strings.HasPrefix(m, "commit "+short(tc.commits[len(tc.commits)-1].Hash)) {
					t.Errorf("refusal does not name the commit: %q", m)
				}
			}
		})
	}
}

func TestCheckFirstParent(t *testing.T) {
	old := blob("old head")
	a, b, root, m := commit(1), commit(2), commit(3), commit(4)
	a.Parent = old
	b.Parent = a.Hash
	m.Parent = root.Hash // a merge of old whose first parent is a new root
	for _, tc := range []struct {
		name    string
		new     repo.Hash
		commits []repo.PushedCommit
		ok      bool
	}{
		{"fast-forward", b.Hash, []repo.PushedCommit{a, b}, true},
		{"merge with a new root first", m.Hash, []repo.PushedCommit{root, m}, false},
		{"merge with an older commit first", m.Hash, []repo.PushedCommit{{Hash: m.Hash, Parent: blob("older")}}, false},
	} {
		msg := checkFirstParent(PushUpdate{Ref: repo.MainRef, Old: old, New: tc.new}, tc.commits)
		if (msg == "") != tc.ok {
			t.Errorf("%s: %q", tc.name, msg)
		}
		if !tc.ok && !strings.Contains(msg, "is not on the first-parent chain") {
			t.Errorf("%s: unclear refusal %q", tc.name, msg)
		}
	}
}
