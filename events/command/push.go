package command

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

// Limits on one push, all in one place. A push is checked as a whole
// before main moves, and each of its changed files becomes an event that
// every projection applies: these keep one push's cost bounded (the
// checker holds the new content in memory) and its events publishable.
// Files larger than MaxPushedFile are refused unread.
const (
	MaxPushedFile    = 2 << 20  // bytes of one file (posts are at most MaxContent)
	MaxPushedFiles   = 5000     // changed files, summed over the push's commits
	MaxPushedBytes   = 64 << 20 // bytes of new content, summed over the changed files
	MaxPushedCommits = 5000     // commits in one push
)

var pushLimits = repo.PushLimits{File: MaxPushedFile, Commits: MaxPushedCommits, Files: MaxPushedFiles, Bytes: MaxPushedBytes}

// PushUpdate is one ref update of a push.
type PushUpdate struct {
	Ref      string
	Old, New repo.Hash
}

// PushRequest is what the pre-receive hook hands over.
type PushRequest struct {
	Updates []PushUpdate
	Pusher  string      // the authenticated account
	Role    policy.Role // the pusher's: each changed file is judged by it
	Env     []string    // the hook's environment: the quarantine's object directories
	// Image reads what an image is from its bytes, as uploads are read
	// (upload.Inspect, passed in so that this package and its tests do not
	// need libvips). Pushed media must agree with it; nil refuses pushed
	// media.
	Image func(data []byte) (content.ImageInfo, error)
}

// ValidatePush checks a push as the API would check the same changes: only
// main moves, forward along its first-parent chain (the event log); every
// file of every commit has a safe name, is a regular file in a known place,
// small enough and valid; slugs stay unique and categories exist and are
// not deleted while used; only an admin changes or deletes the settings;
// media metadata matches the stored bytes; the push is within the limits.
// It returns the refusals, each naming the commit, the file and the
// reason; none means accepted.
func (w *Writer) ValidatePush(ctx context.Context, req PushRequest) ([]string, error) {
	if req.Pusher == "" {
		// Pushed commits are attributed to the pusher (the note written
		// below); without one their claims would be believed.
		return nil, errors.New("a push without an authenticated pusher")
	}
	if err := (policy.Actor{Email: req.Pusher, Role: req.Role}).Check(policy.UseGit); err != nil {
		return []string{err.Error()}, nil
	}
	// Everything read from git and the LFS store is read before the
	// writer's lock, which API writes wait for: only the checks against
	// the index (slugs, ids, categories) hold it.
	dir := w.log.Repo().Dir()
	var msgs []string
	type pushed struct {
		u       PushUpdate
		commits []repo.PushedCommit
	}
	var todo []pushed
	for _, u := range req.Updates {
		switch {
		case u.Ref != repo.MainRef:
			msgs = append(msgs, fmt.Sprintf("%s: only %s can be pushed", u.Ref, repo.MainRef))
			continue
		case u.New.IsZero():
			msgs = append(msgs, fmt.Sprintf("%s: deletion refused: the site's branch is never deleted", u.Ref))
			continue
		case !u.Old.IsZero():
			ok, err := repo.IsAncestor(ctx, dir, req.Env, u.Old, u.New)
			if err != nil {
				return nil, err
			}
			if !ok {
				msgs = append(msgs, fmt.Sprintf("%s: non-fast-forward: history is never rewritten; fetch, rebase on main and push again", u.Ref))
				continue
			}
		}
		commits, err := repo.ReadPush(ctx, dir, req.Env, u.Old, u.New, pushLimits)
		var le *repo.LimitError
		if errors.As(err, &le) {
			msgs = append(msgs, limitRefusal(le))
			continue
		}
		if err != nil {
			return nil, err
		}
		if m := checkFirstParent(u, commits); m != "" {
			msgs = append(msgs, m)
			continue
		}
		todo = append(todo, pushed{u, commits})
	}
	objects := newLFSObjects(w.lfsDir, req.Image)
	for _, p := range todo {
		if err := objects.prefetch(ctx, p.commits, w.logger); err != nil {
			return nil, err
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	head, err := w.sync()
	if err != nil {
		return nil, err
	}
	r := w.log.Repo()
	for _, p := range todo {
		if m := w.landable(p.u, head, p.commits, req.Pusher); m != "" {
			msgs = append(msgs, m)
			continue
		}
		base := func(path string) ([]byte, bool, error) {
			h, err := r.Stat(p.u.Old, path)
			if err != nil || h.IsZero() {
				return nil, false, err
			}
			b, err := r.ReadBlob(h)
			return b, err == nil, err
		}
		m, err := checkPush(ctx, w.idx, objects, p.commits, req, base)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m...)
		if len(msgs) == 0 {
			if err := w.notePusher(ctx, p.commits, req.Pusher); err != nil {
				return nil, err
			}
			w.holdPush(p.u, p.commits, req.Pusher)
		}
	}
	return msgs, nil
}

// Who pushed a commit is a note written before main moves (derivation
// reads it, so it must be there first). Two pushes of the same commits
// by different accounts would both write it, and if the second then
// failed to move main, the commit that landed would be attributed to the
// wrong account. So a push is accepted only if it can land (main is at
// its old head: git's ref update would refuse it otherwise), and while an
// accepted push of the same commits by another account may still land
// (main is still at that push's old head, for at most PushHold), a
// second one is refused. Once main moves, every push from the old head
// can no longer land, and its hold ends.

// PushHold bounds how long an accepted push's commits are held for it:
// git moves main right after the pre-receive hook, so a push not landed
// by then failed, and another account may push the same commits.
const PushHold = 10 * time.Minute

type pushInFlight struct {
	pusher string
	old    repo.Hash // main's head the push moves from
	until  time.Time
}

// landable refuses a push that cannot land, or whose commits an accepted
// push by another account may still land. Callers hold mu.
func (w *Writer) landable(u PushUpdate, head repo.Hash, commits []repo.PushedCommit, pusher string) string {
	if u.Old != head {
		return fmt.Sprintf("%s: main moved since you fetched (it is at %s now): fetch, rebase on main and push again", u.Ref, shortOrNone(head))
	}
	now := w.now()
	for h, f := range w.inFlight {
		if f.old != head || now.After(f.until) {
			delete(w.inFlight, h) // landed, or can no longer land
		}
	}
	for _, c := range commits {
		if f, ok := w.inFlight[c.Hash]; ok && f.pusher != pusher {
			return fmt.Sprintf("commit %s: another account's push of this commit is being applied: fetch in a moment; push again only if it is not on main", short(c.Hash))
		}
	}
	return ""
}

// holdPush records an accepted push's commits. Callers hold mu.
func (w *Writer) holdPush(u PushUpdate, commits []repo.PushedCommit, pusher string) {
	until := w.now().Add(PushHold)
	for _, c := range commits {
		w.inFlight[c.Hash] = pushInFlight{pusher: pusher, old: u.Old, until: until}
	}
}

func shortOrNone(h repo.Hash) string {
	if h.IsZero() {
		return "no commit"
	}
	return short(h)
}

// lfsObjects tells what the LFS objects a push points to are, each read
// once (from its sidecar, or its bytes the first time).
type lfsObjects struct {
	dir   string
	image func([]byte) (content.ImageInfo, error)
	seen  map[string]gitlog.Picture // by oid/size
}

func newLFSObjects(dir string, image func([]byte) (content.ImageInfo, error)) *lfsObjects {
	return &lfsObjects{dir: dir, image: image, seen: map[string]gitlog.Picture{}}
}

func (o *lfsObjects) get(oid string, size int64) gitlog.Picture {
	key := fmt.Sprintf("%s/%d", oid, size)
	if m, ok := o.seen[key]; ok {
		return m
	}
	m := gitlog.ReadPicture(o.dir, o.image, oid, size)
	if m.Transient != nil {
		// Refused for now, not for good: the pusher tries again.
		m.Problem = fmt.Sprintf("LFS object sha256:%s could not be checked on the server just now; nothing was changed: push again", oid[:12])
		return m
	}
	o.seen[key] = m
	return m
}

// prefetch reads every object the commits' media files point to,
// stopping when ctx ends (the hook's client gave up).
func (o *lfsObjects) prefetch(ctx context.Context, commits []repo.PushedCommit, log *slog.Logger) error {
	for _, c := range commits {
		for _, f := range c.Changes {
			if f.New.IsZero() || f.Data == nil {
				continue
			}
			var oid string
			var size int64
			if _, _, ok := content.MediaPicture(f.Path); ok {
				ptr, ok := content.ParseLFSPointer(f.Data)
				if !ok {
					continue
				}
				oid, size = ptr.OID, ptr.Size
			} else if content.IsMediaMetaPath(f.Path) {
				m, err := content.ParseMediaMeta(f.Path, f.Data)
				if err != nil || m.DescribedOnly() {
					continue
				}
				oid, size = m.SHA256, m.Bytes
			} else {
				continue
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("check the push's media: %w", err)
			}
			if m := o.get(oid, size); m.RecordErr != nil && log != nil {
				log.Warn("the facts of an LFS object could not be recorded; it will be read again", "oid", oid, "err", m.RecordErr)
			}
		}
	}
	return nil
}

// checkFirstParent refuses an update unless the old head is on the new
// head's first-parent chain. The event log is that chain: a merge whose
// first parent is a new root (or a branch made before the old head) has
// the old head as an ancestor, yet would renumber or drop the log's
// events. commits are all those of old..new, so the chain from new stays
// among them until it reaches old's history.
func checkFirstParent(u PushUpdate, commits []repo.PushedCommit) string {
	if u.Old.IsZero() {
		return ""
	}
	parent := make(map[repo.Hash]repo.Hash, len(commits))
	for _, c := range commits {
		parent[c.Hash] = c.Parent
	}
	cur := u.New
	for {
		p, ok := parent[cur]
		if !ok {
			break
		}
		cur = p
	}
	if cur == u.Old {
		return ""
	}
	return fmt.Sprintf("%s: %s is not on the first-parent chain of %s: the site's history is main's first parents, and a push may only add to it; "+
		"rebase on main (git pull --rebase) instead of merging main into your work, then push again", u.Ref, short(u.Old), short(u.New))
}

func limitRefusal(e *repo.LimitError) string {
	switch e.What {
	case "files":
		return fmt.Sprintf("commit %s: %s: the push changes more than %d files; push them in several smaller pushes", short(e.Commit), content.ShowPath(e.Path), e.Limit)
	case "bytes":
		return fmt.Sprintf("commit %s: %s: the push adds more than %s of content; push it in several smaller pushes", short(e.Commit), content.ShowPath(e.Path), mib(e.Limit))
	default:
		return fmt.Sprintf("commit %s: the push has more than %d commits; push them in several smaller pushes", short(e.Commit), e.Limit)
	}
}

func short(h repo.Hash) string { return h.String()[:7] }

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
		changes = append(changes, repo.Change{Path: c.Hash.String(), Data: []byte(gitlog.TrailerPusher + ": " + pusher + "\n")})
	}
	for attempt := 0; ; attempt++ {
		parent, err := r.Ref(gitlog.PushNotesRef)
		if err != nil {
			return err
		}
		_, err = r.Commit(ctx, repo.CommitRequest{Ref: gitlog.PushNotesRef, Parent: parent, Changes: changes,
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
	slugs      map[string]string       // slug → path
	ids        map[string]string       // id → path
	paths      map[string]content.Post // path → post, for posts the push touched
	categories map[string]bool
}

// checkPush checks the commits of a push against idx, the index of main's
// head (a pure function of its arguments and the LFS store, so it is
// tested on its own). Every commit is checked, not only those on the
// first-parent chain: all of them end up in every clone.
//
// base reads a file as it stands on main before the push (nil: nothing
// there), for media whose picture or description the push leaves alone.
func checkPush(ctx context.Context, idx *index, objects *lfsObjects, commits []repo.PushedCommit, req PushRequest, base func(path string) ([]byte, bool, error)) ([]string, error) {
	st := pushState{slugs: map[string]string{}, ids: map[string]string{}, paths: map[string]content.Post{}, categories: map[string]bool{}}
	for id, p := range idx.posts {
		st.slugs[p.slug], st.ids[id] = p.path, p.path
	}
	for c := range idx.categories {
		st.categories[c] = true
	}
	media := mediaCheck{objects: objects, base: base, final: map[string][]byte{}, touched: map[string]string{}}
	judge := newPushJudge(idx, policy.Actor{Email: req.Pusher, Role: req.Role})
	var msgs []string
	touched := map[string]string{}     // post path → commit that last changed it
	deletedCats := map[string]string{} // category slug → commit that deleted it
	for _, c := range commits {
		refuse := func(format string, args ...any) {
			msgs = append(msgs, fmt.Sprintf("commit %s: ", short(c.Hash))+fmt.Sprintf(format, args...))
		}
		for _, m := range judge.commit(c, st.paths) {
			refuse("%s", m)
		}
		for _, f := range deletionsFirst(c.Changes) {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("check the push: %w", err)
			}
			// Whatever the file was, it no longer claims its slug or id.
			if old, ok := st.paths[f.Path]; ok {
				delete(st.slugs, old.Slug)
				delete(st.ids, old.ID)
				delete(st.paths, f.Path)
			} else if id, ok := idx.byPath[f.Path]; ok && st.ids[id] == f.Path {
				delete(st.slugs, idx.posts[id].slug)
				delete(st.ids, id)
			}
			if content.IsCategoryPath(f.Path) {
				slug := content.CategorySlug(f.Path)
				if st.categories[slug] && f.New.IsZero() {
					deletedCats[slug] = short(c.Hash)
				}
				delete(st.categories, slug)
			}
			if id, ok := content.MediaItemOf(f.Path); ok {
				media.change(id, f.Path, f.Data, f.New.IsZero(), short(c.Hash))
			}
			if f.New.IsZero() {
				// A deletion is a change like any other: the settings are
				// the admin's (deleting them resets the site's). Categories
				// still in use are checked once the whole push is in.
				continue
			}
			if err := content.CheckPath(f.Path); err != nil {
				refuse("%s: %v", content.ShowPath(f.Path), err)
				continue
			}
			switch f.Mode {
			case repo.ModeRegular:
			case repo.ModeSymlink:
				refuse("%s: is a symbolic link: content is regular files only (a link would make every clone read or write outside itself)", f.Path)
				continue
			case repo.ModeExecutable:
				refuse("%s: is executable: content is regular files only; run `git update-index --chmod=-x %s` and commit again", f.Path, f.Path)
				continue
			case repo.ModeSubmodule:
				refuse("%s: is a submodule (gitlink): content is regular files only", f.Path)
				continue
			default:
				refuse("%s: has mode %s: content is regular files only", f.Path, f.Mode)
				continue
			}
			if f.Data == nil && f.Size > MaxPushedFile {
				refuse("%s: is %s, at most %s allowed", f.Path, mib(f.Size), mib(MaxPushedFile))
				continue
			}
			switch {
			case content.IsPostPath(f.Path):
				p, err := parsePushedPost(idx, f.Data, f.Path)
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
				touched[f.Path] = short(c.Hash)
			case content.IsCategoryPath(f.Path):
				if _, err := content.ParseCategory(f.Path, f.Data); err != nil {
					msgs = append(msgs, lines(c, err)...)
					continue
				}
				st.categories[content.CategorySlug(f.Path)] = true
			case f.Path == content.SettingsPath:
				if _, err := content.ParseSettings(f.Data); err != nil {
					msgs = append(msgs, lines(c, err)...)
				}
			case f.Path == content.ProfilePath:
				if _, err := content.ParseProfile(f.Data); err != nil {
					msgs = append(msgs, lines(c, err)...)
				}
			case content.IsEmbedPath(f.Path):
				if _, err := content.ParseEmbed(f.Path, f.Data); err != nil {
					msgs = append(msgs, lines(c, err)...)
				}
			case f.Path == content.GitAttributesPath:
				// Editors may refine attributes; LFS for media/ is checked by
				// the pointer rule below whatever this file says.
			case content.IsMediaMetaPath(f.Path):
				m, err := content.ParseMediaMeta(f.Path, f.Data)
				if err != nil {
					msgs = append(msgs, lines(c, err)...)
					continue
				}
				if m.DescribedOnly() {
					continue // its picture is checked once the whole push is in
				}
				for _, p := range media.metadata(m) {
					refuse("%s: %s", f.Path, p)
				}
			case strings.HasPrefix(f.Path, content.MediaDir):
				id, ext, ok := content.MediaPicture(f.Path)
				if !ok {
					refuse("%s: not a media file: media/ holds pictures named <id>.%s (with Git LFS) and, optionally, <id>.yaml with their alt text and caption",
						f.Path, strings.Join(content.PictureExts, ", ."))
					continue
				}
				if !content.ValidID(id) {
					refuse("%s: %q is not a media id: letters, digits, - and _, at most %d characters, starting with a letter or digit", f.Path, content.Clip(id), content.MaxID)
					continue
				}
				ptr, ok := content.ParseLFSPointer(f.Data)
				if !ok {
					refuse("%s: media are stored with Git LFS: run `git lfs track 'media/**'`, then add the file again", f.Path)
					continue
				}
				o := media.object(ptr.OID, ptr.Size)
				if o.Problem != "" {
					refuse("%s: %s", f.Path, o.Problem)
					continue
				}
				if _, err := content.PictureMedia(content.Media{}, id, ext, ptr, o.Info); err != nil {
					refuse("%s: %v", f.Path, err)
				}
			default:
				refuse("%s: not a place for content: posts go under posts/ (as .md), categories in categories/<slug>.yaml, media under media/ (Git LFS), and site/ holds settings.yaml and profile.yaml", f.Path)
			}
		}
	}
	// Categories must exist once the whole push is in, and a category may
	// not go while posts still use it (the API answers 409 for the same).
	var tail []string
	for path, p := range st.paths {
		for _, cat := range p.Categories {
			if !st.categories[cat] {
				tail = append(tail, fmt.Sprintf("commit %s: %s: categories: no category %q: add categories/%s.yaml", touched[path], path, cat, cat))
			}
		}
	}
	for slug, commit := range deletedCats {
		if st.categories[slug] {
			continue // added again
		}
		n := 0
		for id, path := range st.ids {
			if _, ok := st.paths[path]; ok {
				continue // touched by the push: checked above
			}
			if slices.Contains(idx.posts[id].categories, slug) {
				n++
			}
		}
		if n > 0 {
			tail = append(tail, fmt.Sprintf("commit %s: %s: category %q is used by %s: remove it from them first", commit, content.CategoryPath(slug), slug, plural(n, "post")))
		}
	}
	tail = append(tail, media.items()...)
	slices.Sort(tail) // maps: the same push, the same answer
	return append(msgs, tail...), nil
}

// deletionsFirst orders a commit's changes with its deletions first.
// git diff-tree lists them by path, so a post moved between year folders
// (posts/2026/x.md → posts/2025/x.md) would otherwise be added while its
// old file still held its slug and id.
func deletionsFirst(changes []repo.PushedFile) []repo.PushedFile {
	out := make([]repo.PushedFile, 0, len(changes))
	for _, f := range changes {
		if f.New.IsZero() {
			out = append(out, f)
		}
	}
	for _, f := range changes {
		if !f.New.IsZero() {
			out = append(out, f)
		}
	}
	return out
}

// parsePushedPost reads a pushed post as a new write, except that a post
// already on main keeps its id, chosen perhaps under older rules (as an
// API edit keeps it): only new posts are held to today's id rule.
func parsePushedPost(idx *index, data []byte, path string) (content.Post, error) {
	d := content.FileDefaults{Path: path}
	p, err := content.ParsePost(data, d)
	if err == nil {
		return p, nil
	}
	old, lerr := content.ParseCommittedPost(data, d)
	if lerr != nil || content.ValidID(old.ID) {
		return p, err
	}
	if _, exists := idx.posts[old.ID]; !exists {
		return p, err
	}
	return content.ParsePostKeepingID(data, d, old.ID)
}

// mediaCheck compares pushed media with the objects in the LFS store, each
// object read and inspected once per push, and follows the media files
// the push changes to check each item as the push leaves it.
type mediaCheck struct {
	objects *lfsObjects

	base    func(path string) ([]byte, bool, error)
	final   map[string][]byte // media file → its content once the push is in (nil: deleted)
	touched map[string]string // media id → the last commit changing it
}

// change records a media file as a commit of the push leaves it.
func (mc *mediaCheck) change(id, path string, data []byte, deleted bool, commit string) {
	if deleted {
		data = nil
	} else if data == nil {
		data = []byte{} // too large to read: refused on its own
	}
	mc.final[path], mc.touched[id] = data, commit
}

// file is a media file as the push leaves it.
func (mc *mediaCheck) file(path string) ([]byte, bool, error) {
	if b, ok := mc.final[path]; ok {
		return b, b != nil, nil
	}
	if mc.base == nil {
		return nil, false, nil
	}
	return mc.base(path)
}

// items checks every media item the push changed as the push leaves it:
// at most one picture, and a description only next to a picture.
func (mc *mediaCheck) items() []string {
	var out []string
	for id, commit := range mc.touched {
		var pics []string
		for _, ext := range content.PictureExts {
			_, ok, err := mc.file(content.MediaFilePath(id, ext))
			if err != nil {
				return []string{fmt.Sprintf("commit %s: media/%s: the server could not read main to check it; nothing was changed: try again", commit, id)}
			}
			if ok {
				pics = append(pics, content.MediaFilePath(id, ext))
			}
		}
		if len(pics) > 1 {
			out = append(out, fmt.Sprintf("commit %s: %s: one media id, one picture: rename or remove all but one", commit, strings.Join(pics, " and ")))
		}
		b, ok, err := mc.file(content.MediaMetaPath(id))
		if err != nil {
			return []string{fmt.Sprintf("commit %s: media/%s: the server could not read main to check it; nothing was changed: try again", commit, id)}
		}
		if !ok || len(pics) > 0 {
			continue
		}
		if m, err := content.ParseMediaMeta(content.MediaMetaPath(id), b); err == nil && m.DescribedOnly() {
			out = append(out, fmt.Sprintf("commit %s: %s: describes a picture that is not there: add it as %s (or another of .%s) with Git LFS",
				commit, content.MediaMetaPath(id), content.MediaFilePath(id, "jpg"), strings.Join(content.PictureExts[1:], ", .")))
		}
	}
	return out
}

// object finds the stored object and reads what image it is.
func (mc *mediaCheck) object(oid string, size int64) gitlog.Picture { return mc.objects.get(oid, size) }

// metadata lists where media/<id>.yaml disagrees with its object: the
// site serves the bytes with the type written here, so it must be the
// bytes' own.
func (mc *mediaCheck) metadata(m content.Media) []string {
	o := mc.object(m.SHA256, m.Bytes)
	if o.Problem != "" {
		return []string{"sha256: " + o.Problem}
	}
	var out []string
	for _, d := range []struct {
		field     string
		got, want any
	}{{"type", m.Type, o.Info.Type}, {"ext", m.Ext, o.Info.Ext}, {"width", m.Width, o.Info.Width}, {"height", m.Height, o.Info.Height}} {
		if d.got != d.want {
			out = append(out, fmt.Sprintf("%s: %q does not match the stored picture, which has %q", d.field, fmt.Sprint(d.got), fmt.Sprint(d.want)))
		}
	}
	return out
}

// lines turns a validation error into refusals prefixed with the commit.
func lines(c repo.PushedCommit, err error) []string {
	var ve *content.ValidationError
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
