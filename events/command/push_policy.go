package command

import (
	"fmt"
	"slices"
	"strings"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

// pushJudge judges each commit of a push by the pusher's role, as the
// API judges the same change (policy): whose posts and media it changes,
// and which site files. It follows the push commit by commit, so a post
// given away in one commit is not the pusher's in the next.
type pushJudge struct {
	idx   *index
	actor policy.Actor
	posts map[string]*content.Post // by id, as the push left it so far; nil: deleted
	media map[string]mediaOwner    // by id, as the push left it so far
}

type mediaOwner struct {
	exists bool
	by     string
}

func newPushJudge(idx *index, a policy.Actor) *pushJudge {
	return &pushJudge{idx: idx, actor: a, posts: map[string]*content.Post{}, media: map[string]mediaOwner{}}
}

// post is post id before the commit being judged: only what the policy
// reads (author, status, review note). nil: none.
func (j *pushJudge) post(id string) *content.Post {
	if p, ok := j.posts[id]; ok {
		return p
	}
	ip, ok := j.idx.posts[id]
	if !ok {
		return nil
	}
	return &content.Post{ID: id, Author: ip.author, Status: ip.status, ReviewNote: ip.reviewNote}
}

// idAt is the id of the post file path held before the commit being
// judged: as an earlier commit of the push left it, else as on main.
func (j *pushJudge) idAt(path string, pushed map[string]content.Post) string {
	if p, ok := pushed[path]; ok {
		return p.ID
	}
	return j.idx.byPath[path]
}

func (j *pushJudge) owner(id string) mediaOwner {
	if m, ok := j.media[id]; ok {
		return m
	}
	m, ok := j.idx.media[id]
	return mediaOwner{exists: ok, by: m.uploadedBy}
}

// commit judges one commit's files; pushed holds the posts earlier
// commits of the push left at each path. It returns the refusals, each
// naming its file.
func (j *pushJudge) commit(c repo.PushedCommit, pushed map[string]content.Post) []string {
	var out []string
	say := func(file string, err error) {
		if err != nil {
			out = append(out, file+": "+err.Error())
		}
	}
	a := j.actor
	mediaNew := map[string]*string{} // media id → uploaded_by its yaml says after the commit (nil: yaml deleted)
	mediaFiles := map[string][]repo.PushedFile{}
	for _, f := range deletionsFirst(c.Changes) {
		switch {
		case content.IsPostPath(f.Path):
			held := j.idAt(f.Path, pushed) // the post the file was before this commit
			if f.New.IsZero() {
				if cur := j.post(held); cur != nil {
					say(f.Path, a.Post(cur, nil))
					j.posts[held] = nil
				}
				continue
			}
			p, err := content.ParseCommittedPost(f.Data, content.FileDefaults{Path: f.Path})
			if err != nil {
				continue // refused as invalid by the checks that follow
			}
			if held != "" && held != p.ID {
				// A file rewritten under another id ends the post it was:
				// judged as that post's deletion, or anyone could replace
				// another's post by changing the id in its file.
				if old := j.post(held); old != nil {
					say(f.Path, a.Post(old, nil))
					j.posts[held] = nil
				}
			}
			cur := j.post(p.ID)
			if p.Author == "" && !a.Role.Can(policy.EditAllPosts) && (cur == nil || cur.Author == a.Email) {
				out = append(out, fmt.Sprintf("%s: author: add \"author: %s\" to its front matter: a post you push must name you as its author", f.Path, a.Email))
			} else {
				say(f.Path, a.Post(cur, &p))
			}
			j.posts[p.ID] = &content.Post{ID: p.ID, Author: p.Author, Status: p.Status, ReviewNote: p.ReviewNote}
		case content.IsCategoryPath(f.Path):
			say(f.Path, a.Check(policy.EditCategories))
		case f.Path == content.SettingsPath:
			say(f.Path, a.Check(policy.EditSettings))
		case f.Path == content.ProfilePath:
			say(f.Path, a.Check(policy.EditProfile))
		case f.Path == content.GitAttributesPath:
			say(f.Path, a.Check(policy.UploadMedia))
		case content.IsEmbedPath(f.Path):
			// A post's resolved embed goes with the post: whoever may
			// change the post (or has just deleted it) may change it.
			id := strings.TrimSuffix(strings.TrimPrefix(f.Path, content.EmbedsDir), ".yaml")
			if cur := j.post(id); cur != nil {
				say(f.Path, a.Post(cur, cur))
			} else if _, deleted := j.posts[id]; !deleted {
				say(f.Path, a.Check(policy.EditAllPosts))
			}
		default:
			id, ok := content.MediaItemOf(f.Path)
			if !ok {
				continue // refused as out of place by the checks that follow
			}
			mediaFiles[id] = append(mediaFiles[id], f)
			if content.IsMediaMetaPath(f.Path) {
				if f.New.IsZero() {
					mediaNew[id] = nil
				} else if m, err := content.ParseMediaMeta(f.Path, f.Data); err == nil {
					mediaNew[id] = &m.UploadedBy
				}
			}
		}
	}
	ids := make([]string, 0, len(mediaFiles))
	for id := range mediaFiles {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		files := mediaFiles[id]
		before := j.owner(id)
		deleted := !slices.ContainsFunc(files, func(f repo.PushedFile) bool { return !f.New.IsZero() })
		after := mediaOwner{exists: !deleted, by: before.by}
		if by, ok := mediaNew[id]; ok {
			after.by = ""
			if by != nil {
				after.by = *by
			}
		}
		var cur, next *content.Media
		if before.exists {
			cur = &content.Media{ID: id, UploadedBy: before.by}
		}
		if !deleted {
			next = &content.Media{ID: id, UploadedBy: after.by}
		}
		err := a.Media(cur, next)
		if err != nil && next != nil && next.UploadedBy == "" && a.Role.Can(policy.UploadMedia) && (cur == nil || cur.UploadedBy == a.Email) {
			err = fmt.Errorf("add %s with \"uploaded_by: %s\": a picture you push must name you as its uploader", content.MediaMetaPath(id), a.Email)
		}
		say(files[0].Path, err)
		j.media[id] = after
	}
	return out
}
