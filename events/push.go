package events

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chronicle-cms/chronicle/repo"
)

// MaxPushedFile is the largest file a push may add.
const MaxPushedFile = 2 << 20

// PushUpdate is one ref update of a push.
type PushUpdate struct {
	Ref      string
	Old, New repo.Hash
}

// PushRequest is what the pre-receive hook hands over.
type PushRequest struct {
	Updates []PushUpdate
	Pusher  string   // the authenticated account
	Admin   bool     // the pusher may change the settings
	Env     []string // the hook's environment: the quarantine's object directories
}

// ValidatePush checks a push as the API would check the same changes: only
// main moves, forward; every file of every commit is in a known place,
// small enough and valid; slugs stay unique and categories exist; only an
// admin changes the settings. It returns the refusals, each naming the
// commit, the file, the line and the reason; none means accepted.
func (w *Writer) ValidatePush(ctx context.Context, req PushRequest) ([]string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.sync(); err != nil {
		return nil, err
	}
	var msgs []string
	for _, u := range req.Updates {
		switch {
		case u.Ref != repo.MainRef:
			msgs = append(msgs, fmt.Sprintf("%s: only %s can be pushed", u.Ref, repo.MainRef))
			continue
		case u.New.IsZero():
			msgs = append(msgs, fmt.Sprintf("%s: deletion refused: the site's branch is never deleted", u.Ref))
			continue
		case !u.Old.IsZero():
			ok, err := repo.IsAncestor(ctx, w.log.Repo().Dir(), req.Env, u.Old, u.New)
			if err != nil {
				return nil, err
			}
			if !ok {
				msgs = append(msgs, fmt.Sprintf("%s: non-fast-forward: history is never rewritten; fetch, rebase on main and push again", u.Ref))
				continue
			}
		}
		commits, err := repo.ReadPush(ctx, w.log.Repo().Dir(), req.Env, u.Old, u.New, MaxPushedFile)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, w.checkCommits(commits, req)...)
		if len(msgs) == 0 {
			if err := w.notePusher(ctx, commits, req.Pusher); err != nil {
				return nil, err
			}
		}
	}
	return msgs, nil
}

// notePusher records who pushed each commit as a git note, before main
// moves. A note of a push that then fails to land names a commit that is
// never on main, and is never read.
func (w *Writer) notePusher(ctx context.Context, commits []repo.PushedCommit, pusher string) error {
	if pusher == "" || len(commits) == 0 {
		return nil
	}
	r := w.log.Repo()
	var changes []repo.Change
	for _, c := range commits {
		changes = append(changes, repo.Change{Path: c.Hash.String(), Data: []byte(TrailerPusher + ": " + pusher + "\n")})
	}
	for attempt := 0; ; attempt++ {
		parent, err := r.Ref(PushNotesRef)
		if err != nil {
			return err
		}
		_, err = r.Commit(ctx, repo.CommitRequest{Ref: PushNotesRef, Parent: parent, Changes: changes,
			Message: "Notes added by Chronicle: pushed by " + pusher + "\n",
			Author:  repo.Signature{Name: "Chronicle", Email: "chronicle@localhost", When: w.now()}})
		if errors.Is(err, repo.ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return fmt.Errorf("note the pusher: %w", err)
		}
		return nil
	}
}

// pushState is the index as the push changes it, commit by commit.
type pushState struct {
	slugs      map[string]string // slug → path
	ids        map[string]string // id → path
	paths      map[string]Post   // path → post, for posts the push touched
	categories map[string]bool
}

func (w *Writer) checkCommits(commits []repo.PushedCommit, req PushRequest) []string {
	st := pushState{slugs: map[string]string{}, ids: map[string]string{}, paths: map[string]Post{}, categories: map[string]bool{}}
	for id, p := range w.idx.posts {
		st.slugs[p.slug], st.ids[id] = p.path, p.path
	}
	for c := range w.idx.categories {
		st.categories[c] = true
	}
	var msgs []string
	touched := map[string]string{} // post path → commit that last changed it
	for _, c := range commits {
		refuse := func(format string, args ...any) {
			msgs = append(msgs, fmt.Sprintf("commit %s: ", c.Hash.String()[:7])+fmt.Sprintf(format, args...))
		}
		for _, f := range c.Changes {
			// Whatever the file was, it no longer claims its slug or id.
			if old, ok := st.paths[f.Path]; ok {
				delete(st.slugs, old.Slug)
				delete(st.ids, old.ID)
				delete(st.paths, f.Path)
			} else if id, ok := w.idx.byPath[f.Path]; ok && st.ids[id] == f.Path {
				delete(st.slugs, w.idx.posts[id].slug)
				delete(st.ids, id)
			}
			if IsCategoryPath(f.Path) {
				delete(st.categories, CategorySlug(f.Path))
			}
			if f.New.IsZero() {
				continue // deletions are always allowed
			}
			if f.Data == nil && f.Size > MaxPushedFile {
				refuse("%s: is %s, at most %s allowed", f.Path, mib(f.Size), mib(MaxPushedFile))
				continue
			}
			switch {
			case IsPostPath(f.Path):
				p, err := parsePost(f.Data, fileDefaults{path: f.Path})
				if err != nil {
					msgs = append(msgs, lines(c, err)...)
					continue
				}
				if other, taken := st.slugs[p.Slug]; taken && other != f.Path {
					refuse("%s: slug: %q is already used by %s", f.Path, p.Slug, other)
					continue
				}
				if other, taken := st.ids[p.ID]; taken && other != f.Path {
					refuse("%s: id: %q is already used by %s", f.Path, p.ID, other)
					continue
				}
				st.slugs[p.Slug], st.ids[p.ID], st.paths[f.Path] = f.Path, f.Path, p
				touched[f.Path] = c.Hash.String()[:7]
			case IsCategoryPath(f.Path):
				if _, err := ParseCategory(f.Path, f.Data); err != nil {
					msgs = append(msgs, lines(c, err)...)
					continue
				}
				st.categories[CategorySlug(f.Path)] = true
			case f.Path == SettingsPath:
				if !req.Admin {
					refuse("%s: only an admin may change the settings; %s is not one", f.Path, req.Pusher)
					continue
				}
				if _, err := ParseSettings(f.Data); err != nil {
					msgs = append(msgs, lines(c, err)...)
				}
			case f.Path == ProfilePath:
				if _, err := ParseProfile(f.Data); err != nil {
					msgs = append(msgs, lines(c, err)...)
				}
			case IsEmbedPath(f.Path):
				if _, err := ParseEmbed(f.Path, f.Data); err != nil {
					msgs = append(msgs, lines(c, err)...)
				}
			case f.Path == GitAttributesPath:
				// Editors may refine attributes; LFS for media/ is checked by
				// the pointer rule below whatever this file says.
			case IsMediaMetaPath(f.Path):
				if _, err := ParseMedia(f.Path, f.Data); err != nil {
					msgs = append(msgs, lines(c, err)...)
				}
			case strings.HasPrefix(f.Path, MediaDir):
				ptr, ok := ParseLFSPointer(f.Data)
				switch {
				case !ok:
					refuse("%s: media are stored with Git LFS: run `git lfs track 'media/**'`, then add the file again", f.Path)
				case !lfsObjectExists(w.lfsDir, ptr):
					refuse("%s: LFS object sha256:%s (%d bytes) was never uploaded: push it with git lfs first", f.Path, ptr.OID[:12], ptr.Size)
				}
			default:
				refuse("%s: not a place for content: posts go under posts/ (as .md), categories in categories/<slug>.yaml, media under media/ (Git LFS), and site/ holds settings.yaml and profile.yaml", f.Path)
			}
		}
	}
	// Categories must exist once the whole push is in.
	for path, p := range st.paths {
		for _, cat := range p.Categories {
			if !st.categories[cat] {
				msgs = append(msgs, fmt.Sprintf("commit %s: %s: categories: no category %q: add categories/%s.yaml", touched[path], path, cat, cat))
			}
		}
	}
	return msgs
}

// lines turns a validation error into refusals prefixed with the commit.
func lines(c repo.PushedCommit, err error) []string {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return []string{fmt.Sprintf("commit %s: %v", c.Hash.String()[:7], err)}
	}
	var out []string
	for _, l := range strings.Split(ve.Error(), "\n") {
		out = append(out, fmt.Sprintf("commit %s: %s", c.Hash.String()[:7], l))
	}
	return out
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
