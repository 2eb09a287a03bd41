package command

import (
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

// A push is judged file by file by the pusher's role, as the API judges
// the same changes; each refusal names the file.
func TestPushJudgedByRole(t *testing.T) {
	const au, ed = "au@example.org", "ed@example.org"
	fixture := func() *index {
		ix := &index{posts: map[string]indexedPost{}, bySlug: map[string]string{}, byPath: map[string]string{},
			categories: map[string]string{"news": "n"}, media: map[string]indexedMedia{}}
		ix.add("mine1", indexedPost{path: "posts/2026/mine.md", slug: "mine", author: au, status: "draft"})
		ix.add("theirs1", indexedPost{path: "posts/2026/theirs.md", slug: "theirs", author: ed, status: "published"})
		ix.add("legacy1", indexedPost{path: "posts/2026/legacy.md", slug: "legacy", status: "published"})
		ix.media["pic1"] = indexedMedia{ext: "png", meta: true, uploadedBy: au}
		ix.media["pic2"] = indexedMedia{ext: "png", meta: true, uploadedBy: ed}
		return ix
	}
	post := func(id, slug, author, status string) string {
		s := "---\nid: " + id + "\ntitle: T\nslug: " + slug + "\nstatus: " + status + "\n"
		if status == "published" || status == "scheduled" {
			s += "published_at: 2026-01-01T00:00:00Z\n"
		}
		if author != "" {
			s += "author: " + author + "\n"
		}
		return s + "---\nBody\n"
	}
	media := func(id, by string) string {
		s := "id: " + id + "\nalt: A picture\n"
		if by != "" {
			s += "uploaded_by: " + by + "\n"
		}
		return s
	}
	type role = policy.Role
	all := []role{policy.Contributor, policy.Author, policy.Editor, policy.Admin}
	for _, tc := range []struct {
		name    string
		commits []repo.PushedCommit
		refused map[role]string // role → a part of its refusal; absent: accepted
	}{
		{"edit own draft", []repo.PushedCommit{commit(1, add("posts/2026/mine.md", post("mine1", "mine", au, "draft")))}, nil},
		{"publish own draft", []repo.PushedCommit{commit(1, add("posts/2026/mine.md", post("mine1", "mine", au, "published")))},
			map[role]string{policy.Contributor: "posts/2026/mine.md: status: a contributor saves drafts"}},
		{"edit another's post", []repo.PushedCommit{commit(1, add("posts/2026/theirs.md", post("theirs1", "theirs", ed, "published")))},
			map[role]string{policy.Contributor: "posts/2026/theirs.md: this post is ed@example.org's", policy.Author: "posts/2026/theirs.md: this post is ed@example.org's"}},
		{"take another's post", []repo.PushedCommit{commit(1, add("posts/2026/theirs.md", post("theirs1", "theirs", au, "published")))},
			map[role]string{policy.Contributor: "this post is ed@example.org's", policy.Author: "posts/2026/theirs.md: this post is ed@example.org's"}},
		{"delete another's post", []repo.PushedCommit{commit(1, del("posts/2026/theirs.md"))},
			map[role]string{policy.Contributor: "posts/2026/theirs.md: this post is", policy.Author: "posts/2026/theirs.md: this post is"}},
		{"edit a post without author", []repo.PushedCommit{commit(1, add("posts/2026/legacy.md", post("legacy1", "legacy", "", "published")))},
			map[role]string{policy.Contributor: "posts/2026/legacy.md: this post has no author", policy.Author: "posts/2026/legacy.md: this post has no author"}},
		{"new post naming the pusher", []repo.PushedCommit{commit(1, add("posts/2026/new.md", post("new1", "new", au, "published")))},
			map[role]string{policy.Contributor: "status"}},
		{"new post naming nobody", []repo.PushedCommit{commit(1, add("posts/2026/new.md", post("new1", "new", "", "draft")))},
			map[role]string{policy.Contributor: `posts/2026/new.md: author: add "author: au@example.org"`, policy.Author: `posts/2026/new.md: author: add "author: au@example.org"`}},
		{"new post naming another", []repo.PushedCommit{commit(1, add("posts/2026/new.md", post("new1", "new", ed, "draft")))},
			map[role]string{policy.Contributor: "posts/2026/new.md: author: must be you", policy.Author: "posts/2026/new.md: author: must be you"}},
		{"another's post rewritten under a new id", []repo.PushedCommit{commit(1, add("posts/2026/theirs.md", post("hijack1", "theirs", au, "draft")))},
			map[role]string{policy.Contributor: "posts/2026/theirs.md: this post is ed@example.org's", policy.Author: "posts/2026/theirs.md: this post is ed@example.org's"}},
		{"own id moved into another's file", []repo.PushedCommit{commit(1, del("posts/2026/mine.md"), add("posts/2026/theirs.md", post("mine1", "theirs", au, "draft")))},
			map[role]string{policy.Contributor: "posts/2026/theirs.md: this post is ed@example.org's", policy.Author: "posts/2026/theirs.md: this post is ed@example.org's"}},
		{"own post rewritten under a new id", []repo.PushedCommit{commit(1, add("posts/2026/mine.md", post("renewed1", "mine", au, "draft")))}, nil},
		{"own post moved", []repo.PushedCommit{commit(1, del("posts/2026/mine.md"), add("posts/2025/mine.md", post("mine1", "mine", au, "draft")))}, nil},
		{"given away, then changed", []repo.PushedCommit{
			commit(1, add("posts/2026/mine.md", post("mine1", "mine", ed, "draft"))),
			commit(2, add("posts/2026/mine.md", post("mine1", "mine", ed, "published")))},
			map[role]string{policy.Contributor: "must be you", policy.Author: "posts/2026/mine.md: this post is ed@example.org's"}},
		{"a category", []repo.PushedCommit{commit(1, add("categories/travel.yaml", "name: Travel\n"))},
			map[role]string{policy.Contributor: "categories/travel.yaml: your role, contributor, may not change categories", policy.Author: "categories/travel.yaml: your role, author, may not change categories"}},
		{"the profile", []repo.PushedCommit{commit(1, add("site/profile.yaml", "name: Ada\n"))},
			map[role]string{policy.Contributor: "site/profile.yaml: your role", policy.Author: "site/profile.yaml: your role, author, may not change the profile"}},
		{"the settings", []repo.PushedCommit{commit(1, del("site/settings.yaml"))},
			map[role]string{policy.Contributor: "site/settings.yaml", policy.Author: "site/settings.yaml", policy.Editor: "site/settings.yaml: your role, editor, may not change the site's settings"}},
		{"describe own picture", []repo.PushedCommit{commit(1, add("media/pic1.yaml", media("pic1", au)))},
			map[role]string{policy.Contributor: "media/pic1.yaml: your role, contributor, may not upload media"}},
		{"describe another's picture", []repo.PushedCommit{commit(1, add("media/pic2.yaml", media("pic2", ed)))},
			map[role]string{policy.Contributor: "may not upload media", policy.Author: "media/pic2.yaml: media pic2 was uploaded by ed@example.org"}},
		{"delete another's picture", []repo.PushedCommit{commit(1, del("media/pic2.png"), del("media/pic2.yaml"))},
			map[role]string{policy.Contributor: "may not upload media", policy.Author: "media/pic2.png: media pic2 was uploaded by ed@example.org"}},
		{"new picture without uploader", []repo.PushedCommit{commit(1, add("media/pic3.png", "pointer"))},
			map[role]string{policy.Contributor: "may not upload media", policy.Author: `media/pic3.png: add media/pic3.yaml with "uploaded_by: au@example.org"`}},
		{"new picture with uploader", []repo.PushedCommit{commit(1, add("media/pic3.png", "pointer"), add("media/pic3.yaml", media("pic3", au)))},
			map[role]string{policy.Contributor: "may not upload media"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range all {
				j := newPushJudge(fixture(), policy.Actor{Email: au, Role: r})
				var got []string
				pushed := map[string]content.Post{}
				for _, c := range tc.commits {
					for _, m := range j.commit(c, pushed) {
						got = append(got, "commit "+short(c.Hash)+": "+m)
					}
				}
				want, refused := tc.refused[r]
				switch all := strings.Join(got, "\n"); {
				case !refused && len(got) > 0:
					t.Errorf("as %s: refused: %s", r, all)
				case refused && !strings.Contains(all, want):
					t.Errorf("as %s: refusals %q lack %q", r, got, want)
				}
			}
		})
	}
	// The judge is part of the push's check.
	msgs := checkPushAll(fixture(), t.TempDir(), []repo.PushedCommit{commit(1, add("posts/2026/theirs.md", post("theirs1", "theirs", ed, "draft")))},
		PushRequest{Pusher: au, Role: policy.Author}, nil)
	if len(msgs) != 1 || !strings.Contains(msgs[0], "posts/2026/theirs.md: this post is ed@example.org's") {
		t.Errorf("checkPush as an author: %q", msgs)
	}
}
