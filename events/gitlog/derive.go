package gitlog

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/repo"
)

// Trailers written by the API into commit messages. A commit without them
// gets its actor from the commit's author; a pushed commit's actor is its
// pusher, whatever its trailers say (see Derive).
const (
	TrailerEvent   = "Chronicle-Event"
	TrailerSubject = "Chronicle-Subject"
	TrailerActor   = "Chronicle-Actor"
	TrailerPusher  = "Chronicle-Pusher"
	// TrailerRestoredFrom names the revision a restore brought back, as
	// "<commit>" plus, for a file that moved since, " <path>" (its path
	// then). Trusted on pushed commits too: a file is derived as restored
	// only when it equals that revision's file.
	TrailerRestoredFrom = "Chronicle-Restored-From"
	// TrailerRolledBackTo names the commit a site rollback brought back;
	// the commit derives site.rolled_back only when its tree equals that
	// commit's.
	TrailerRolledBackTo = "Chronicle-Rolled-Back-To"
)

// PushNotesRef holds, as git notes, the account that pushed each commit
// that arrived over git (written before main moves, so deriving a commit
// always sees its note). Only the daemon writes it: pushes to any ref but
// main are refused.
const PushNotesRef = "refs/notes/chronicle/pushes"

// Deriver computes the events of commits from the repository (and, for
// pictures added with git, from the content-addressed LFS store).
type Deriver struct {
	repo  *repo.Repo
	codec *events.Codec
	log   *slog.Logger

	lfsDir string
	image  func([]byte) (content.ImageInfo, error)
	mu     sync.Mutex
	seen   map[string]content.ImageInfo // by oid/size: objects never change
	// rollbacks caches whether a commit's rollback trailer names one of
	// its first-parent ancestors (commits never change): by commit.
	rollbacks map[repo.Hash]bool
	posts     *postCache // nil: none (WithPostCache)
}

// DeriverOption configures a Deriver.
type DeriverOption func(*Deriver)

// WithPictures lets the deriver read pictures added with git (a Git LFS
// pointer and no full metadata) from the LFS store, image telling what
// their bytes are. Without it such pictures are not media.
func WithPictures(lfsDir string, image func([]byte) (content.ImageInfo, error)) DeriverOption {
	return func(d *Deriver) { d.lfsDir, d.image = lfsDir, image }
}

// NewDeriver returns a deriver reading r.
func NewDeriver(r *repo.Repo, log *slog.Logger, opts ...DeriverOption) *Deriver {
	d := &Deriver{repo: r, codec: events.NewCodec(), log: log, seen: map[string]content.ImageInfo{}, rollbacks: map[repo.Hash]bool{}}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Trailers parses the "Key: value" lines of a message's last paragraph.
func Trailers(msg string) map[string]string {
	paras := strings.Split(strings.TrimSpace(msg), "\n\n")
	if len(paras) < 2 {
		return nil
	}
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(paras[len(paras)-1]))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ": ")
		if !ok || strings.ContainsAny(k, " \t") {
			return nil
		}
		out[k] = strings.TrimSpace(v)
	}
	return out
}

// CommitActor is who a commit says made it: its Chronicle-Actor trailer,
// else its author. Trusted only for commits that were not pushed.
func CommitActor(c repo.Commit) string {
	if a := Trailers(c.Message)[TrailerActor]; a != "" {
		return a
	}
	if c.Author.Email != "" {
		return c.Author.Email
	}
	return c.Author.Name
}

// Who tells who made a commit: the actor is the pusher of a pushed
// commit, else what the commit says (CommitActor); author is what a
// pushed commit claims when that is someone else.
func (d *Deriver) Who(c repo.Commit) (actor, author, pusher string, err error) {
	actor = CommitActor(c)
	if note, ok, err := d.repo.ReadTreeFile(PushNotesRef, c.Hash.String()); err != nil {
		return "", "", "", err
	} else if ok {
		pusher = Trailers("push\n\n" + string(note))[TrailerPusher]
	}
	if pusher != "" {
		// A pushed commit's author line and Chronicle-* trailers are the
		// pusher's claims (anyone can write them); the note is the daemon's
		// own record of the authenticated account, in the repository, so
		// derivation stays a function of it.
		if actor != pusher {
			author = actor
		}
		actor = pusher
	}
	return actor, author, pusher, nil
}

// Derive returns the events of commit h at height on the first-parent chain.
func (d *Deriver) Derive(h repo.Hash, height int64) ([]events.Event, error) {
	return d.deriveCommit(h, height, nil, nil)
}

// deriveChanged is Derive given the commit's changes against its first
// parent, read already (repo.Diffs).
// pre holds post files read already (repo.BlobStream), by blob.
func (d *Deriver) deriveChanged(h repo.Hash, height int64, changes []repo.FileChange, pre map[repo.Hash][]byte) ([]events.Event, error) {
	if changes == nil {
		changes = []repo.FileChange{} // none, and known to be none
	}
	return d.deriveCommit(h, height, changes, pre)
}

// deriveCommit reads commit h and derives its events against its first
// parent; nil changes are read from the trees.
func (d *Deriver) deriveCommit(h repo.Hash, height int64, changes []repo.FileChange, pre map[repo.Hash][]byte) ([]events.Event, error) {
	c, err := d.repo.ReadCommit(h)
	if err != nil {
		return nil, err
	}
	var parent repo.Hash
	if len(c.Parents) > 0 {
		parent = c.Parents[0]
	}
	return d.derive(c, parent, height, changes, pre)
}

// derive returns the events of commit c over the tree of parent (zero:
// the empty tree); changes, if not nil, are the difference between the
// two, else it is read. pre holds post files read already, by blob.
func (d *Deriver) derive(c repo.Commit, parent repo.Hash, height int64, changes []repo.FileChange, pre map[repo.Hash][]byte) ([]events.Event, error) {
	h := c.Hash
	var err error
	if changes == nil {
		if changes, err = d.repo.Diff(parent, h); err != nil {
			return nil, fmt.Errorf("diff %s: %w", h, err)
		}
	}
	base := events.Event{Time: c.Author.When.UTC(), Commit: h.String(), Height: height}
	if base.Actor, base.Author, base.Pusher, err = d.Who(c); err != nil {
		return nil, err
	}

	type pair struct {
		old, new *content.Post
		order    string
	}
	posts := map[string]*pair{}
	mediaDone := map[string]bool{}
	var out []events.Event
	for _, ch := range changes {
		switch {
		case content.IsPostPath(ch.Path):
			oldP, err := d.readPost(ch.Path, ch.Old, parent, pre)
			if err != nil {
				return nil, err
			}
			newP, err := d.readPost(ch.Path, ch.New, h, pre)
			if err != nil {
				return nil, err
			}
			if newP != nil {
				newP.Revision = h.String()
				if newP.UpdatedAt.IsZero() {
					newP.UpdatedAt = base.Time
				}
			}
			for _, p := range []*content.Post{oldP, newP} {
				if p == nil {
					continue
				}
				pr := posts[p.ID]
				if pr == nil {
					pr = &pair{order: ch.Path}
					posts[p.ID] = pr
				}
				if p == newP {
					if pr.new != nil {
						d.log.Warn("two post files share an id; keeping the first", "commit", h, "id", p.ID, "path", p.Path)
						continue
					}
					pr.new, pr.order = p, ch.Path
				} else if pr.old == nil {
					pr.old = p
				}
			}
		case content.IsCategoryPath(ch.Path):
			oldC, err := d.readCategory(ch.Path, ch.Old)
			if err != nil {
				return nil, err
			}
			newC, err := d.readCategory(ch.Path, ch.New)
			if err != nil {
				return nil, err
			}
			e := base
			e.Subject = "category/" + content.CategorySlug(ch.Path)
			switch {
			case oldC == nil && newC == nil:
				continue
			case oldC == nil:
				e.Type = events.CategoryCreated
				e, err = events.Encode(e, events.CategoryData{Category: *newC})
			case newC == nil:
				e.Type = events.CategoryDeleted
				e, err = events.Encode(e, events.CategoryData{Category: *oldC})
			default:
				e.Type = events.CategoryUpdated
				e, err = events.Encode(e, events.CategoryData{Category: *newC, Previous: oldC})
			}
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		case content.IsEmbedPath(ch.Path):
			if ch.New.IsZero() {
				continue
			}
			b, err := d.repo.ReadBlob(ch.New)
			if err != nil {
				return nil, err
			}
			emb, err := content.ParseEmbed(ch.Path, b)
			if err != nil {
				d.log.Warn("ignoring invalid embed file", "err", err)
				continue
			}
			e := base
			e.Type, e.Subject = events.EmbedResolved, "post/"+content.EmbedPostID(ch.Path)
			if e, err = events.Encode(e, events.EmbedData{PostID: content.EmbedPostID(ch.Path), Embed: emb}); err != nil {
				return nil, err
			}
			out = append(out, e)
		case strings.HasPrefix(ch.Path, content.MediaDir):
			// A media item is its metadata and its picture: one event
			// for both, at the first of its files in the diff.
			id, ok := content.MediaItemOf(ch.Path)
			if !ok || mediaDone[id] {
				continue
			}
			mediaDone[id] = true
			oldM, err := d.readMedia(parent, id)
			if err != nil {
				return nil, err
			}
			newM, err := d.readMedia(h, id)
			if err != nil {
				return nil, err
			}
			e := base
			e.Subject = "media/" + id
			switch {
			case oldM == nil && newM == nil:
				continue
			case oldM == nil:
				e.Type = events.MediaUploaded
				e, err = events.Encode(e, events.MediaData{Media: *newM})
			case newM == nil:
				e.Type = events.MediaDeleted
				e, err = events.Encode(e, events.MediaData{Media: *oldM})
			case reflect.DeepEqual(oldM, newM):
				continue // e.g. an upload's pointer rewritten alone
			default:
				e.Type = events.MediaUpdated
				e, err = events.Encode(e, events.MediaData{Media: *newM})
			}
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		case ch.Path == content.SettingsPath:
			s := content.DefaultSettings()
			if !ch.New.IsZero() {
				b, err := d.repo.ReadBlob(ch.New)
				if err != nil {
					return nil, err
				}
				if s, err = content.ParseSettings(b); err != nil {
					d.log.Warn("invalid settings file; using defaults", "commit", h, "err", err)
					s = content.DefaultSettings()
				}
			}
			e := base
			e.Type, e.Subject = events.SettingsChanged, "site/settings"
			if e, err = events.Encode(e, events.SettingsData{Settings: s}); err != nil {
				return nil, err
			}
			out = append(out, e)
		case ch.Path == content.ProfilePath:
			var p content.Profile
			if !ch.New.IsZero() {
				b, err := d.repo.ReadBlob(ch.New)
				if err != nil {
					return nil, err
				}
				if p, err = content.ParseProfile(b); err != nil {
					d.log.Warn("invalid profile file; using an empty profile", "commit", h, "err", err)
					p = content.Profile{}
				}
			}
			e := base
			e.Type, e.Subject = events.ProfileChanged, "site/profile"
			if e, err = events.Encode(e, events.ProfileData{Profile: p}); err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	ids := make([]string, 0, len(posts))
	for id := range posts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := posts[ids[i]], posts[ids[j]]
		if a.order != b.order {
			return a.order < b.order
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids {
		pr := posts[id]
		e := base
		e.Subject = "post/" + id
		var data events.PostData
		switch {
		case pr.old == nil:
			e.Type, data.Post = events.PostCreated, *pr.new
		case pr.new == nil:
			e.Type, data.Post = events.PostDeleted, *pr.old
		default:
			if SamePost(pr.old, pr.new) {
				continue
			}
			prev := *pr.old
			prev.Content = ""
			data.Post, data.Previous = *pr.new, &prev
			e.Type = PostChange(pr.old, pr.new)
		}
		if e, err = events.Encode(e, data); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := d.markRestored(c, out); err != nil {
		return nil, fmt.Errorf("restore in %s: %w", h, err)
	}
	rb, err := d.rollback(c, base, len(changes))
	if err != nil {
		return nil, err
	}
	if rb != nil {
		out = append([]events.Event{*rb}, out...)
	}
	for i := range out {
		out[i].Index, out[i].Count = i, len(out)
		out[i].ID = fmt.Sprintf("%s-%d", out[i].Commit, i)
		out[i].Schema = d.codec.Schema(out[i].Type)
	}
	return out, nil
}

// PostChange is the event of a change of a post from old to new (both
// there): a change of status names the step it is, anything else is an
// update. The writer declares the same type for the commits it makes.
func PostChange(old, new *content.Post) events.Type {
	switch {
	case old.Status != content.Published && new.Status == content.Published:
		return events.PostPublished
	case old.Status == content.Published && new.Status != content.Published:
		return events.PostUnpublished
	case old.Status != content.Scheduled && new.Status == content.Scheduled:
		return events.PostScheduled
	case old.Status != content.Pending && new.Status == content.Pending:
		return events.PostSubmitted
	case old.Status == content.Pending && new.Status == content.Draft && new.ReviewNote != "":
		return events.PostChangesRequested
	}
	return events.PostUpdated
}

// SamePost reports whether a post's file changed in nothing but bytes that
// do not matter (e.g. it moved without a change, keeping its id).
func SamePost(a, b *content.Post) bool {
	x, y := *a, *b
	x.Revision, y.Revision, x.Blob, y.Blob, x.UpdatedAt, y.UpdatedAt = "", "", "", "", time.Time{}, time.Time{}
	return reflect.DeepEqual(x, y)
}

// ReadPost parses a post blob as it stood at commit at; an invalid file
// counts as absent (and is logged), so history always derives the same.
func (d *Deriver) ReadPost(path string, blob, at repo.Hash) (*content.Post, error) {
	return d.readPost(path, blob, at, nil)
}

// readPost is ReadPost with the blob's bytes taken from pre if there.
func (d *Deriver) readPost(path string, blob, at repo.Hash, pre map[repo.Hash][]byte) (*content.Post, error) {
	if blob.IsZero() {
		return nil, nil
	}
	if p, ok := d.posts.get(path, blob); ok {
		return p, nil
	}
	b, ok := pre[blob]
	if !ok {
		var err error
		if b, err = d.repo.ReadBlob(blob); err != nil {
			return nil, err
		}
	}
	defaults := content.FileDefaults{Path: path}
	if lacks(b, "created_at") {
		added, err := d.added(at, path)
		if err != nil {
			return nil, err
		}
		defaults.Created = added.Author.When
	}
	if c, err := d.repo.ReadCommit(at); err == nil {
		if lacks(b, "updated_at") {
			if c, err = d.changedAt(c, path); err != nil {
				return nil, err
			}
		}
		defaults.Updated = c.Author.When
	}
	p, err := content.ParseCommittedPost(b, defaults)
	if err != nil {
		var ve *content.ValidationError
		if errors.As(err, &ve) {
			d.log.Warn("ignoring invalid post file", "commit", at, "err", err)
			return nil, nil
		}
		return nil, err
	}
	p.Blob = blob.String()
	if d.posts != nil && !lacks(b, "created_at") && !lacks(b, "updated_at") {
		d.posts.put(path, blob, p) // dated by itself: the same at any commit
	}
	return &p, nil
}

// lacks reports whether a post file leaves out a date whose default
// comes from history: created_at (the time its path was added) or
// updated_at (the time of the commit that changed it).
func lacks(b []byte, key string) bool {
	fm, _, err := content.SplitFrontMatter(b)
	return err == nil && !strings.Contains("\n"+string(fm), "\n"+key+":")
}

// changedAt is the commit whose change gave path its content at commit
// at, which changed it: at itself, unless at is a site rollback, whose
// files come back with their history from the revision it names, so the
// change is the last one there.
func (d *Deriver) changedAt(at repo.Commit, path string) (repo.Commit, error) {
	cur := at
	for {
		to, ok, err := d.rolledBackTo(cur)
		if err != nil || !ok {
			return cur, err
		}
		cur = to
		for len(cur.Parents) > 0 {
			here, err := d.repo.Stat(cur.Hash, path)
			if err != nil {
				return repo.Commit{}, err
			}
			before, err := d.repo.Stat(cur.Parents[0], path)
			if err != nil {
				return repo.Commit{}, err
			}
			if here != before {
				break
			}
			if cur, err = d.repo.ReadCommit(cur.Parents[0]); err != nil {
				return repo.Commit{}, err
			}
		}
	}
}

// added finds the commit on the first-parent chain from at that added path
// (the latest addition, if it was deleted and added again). A site
// rollback that brought the file back does not count as adding it: its
// history goes on at the revision it came back from, so a rollback, and
// the rollback of that rollback, leave the dates derived from it as they
// were.
func (d *Deriver) added(at repo.Hash, path string) (repo.Commit, error) {
	cur, err := d.repo.ReadCommit(at)
	if err != nil {
		return repo.Commit{}, err
	}
	for len(cur.Parents) > 0 {
		h, err := d.repo.Stat(cur.Parents[0], path)
		if err != nil {
			return repo.Commit{}, err
		}
		next := cur.Parents[0]
		if h.IsZero() {
			to, ok, err := d.rolledBackTo(cur)
			if err != nil {
				return repo.Commit{}, err
			}
			if !ok {
				break
			}
			next = to.Hash // the file is there: cur's tree is to's
		}
		if cur, err = d.repo.ReadCommit(next); err != nil {
			return repo.Commit{}, err
		}
	}
	return cur, nil
}

func (d *Deriver) readCategory(path string, blob repo.Hash) (*content.Category, error) {
	if blob.IsZero() {
		return nil, nil
	}
	b, err := d.repo.ReadBlob(blob)
	if err != nil {
		return nil, err
	}
	c, err := content.ParseCommittedCategory(path, b)
	if err != nil {
		d.log.Warn("ignoring invalid category file", "err", err)
		return nil, nil
	}
	return &c, nil
}

// readMedia is media item id as it stands at commit at, or nil: its
// metadata file if that is whole (as uploads write it), else its picture
// read from the LFS store with the metadata file's description, if any.
// An invalid item counts as absent (and is logged), as invalid posts do.
func (d *Deriver) readMedia(at repo.Hash, id string) (*content.Media, error) {
	m, _, err := d.ReadMediaItem(at, id, true)
	return m, err
}

// readMediaItem is readMedia; described reports whether the item's facts
// come from its picture (no metadata file, or one giving only a
// description). Without uploaded, a picture's uploaded_at is left as its
// description gives it (finding the commit that added it walks history).
func (d *Deriver) ReadMediaItem(at repo.Hash, id string, uploaded bool) (m *content.Media, described bool, err error) {
	if at.IsZero() {
		return nil, false, nil
	}
	desc := content.Media{ID: id}
	meta, err := d.repo.Stat(at, content.MediaMetaPath(id))
	if err != nil {
		return nil, false, err
	}
	if !meta.IsZero() {
		b, err := d.repo.ReadBlob(meta)
		if err != nil {
			return nil, false, err
		}
		m, err := content.ParseCommittedMediaMeta(content.MediaMetaPath(id), b)
		if err != nil {
			d.log.Warn("ignoring invalid media file", "commit", at, "err", err)
			return nil, false, nil
		}
		m.Blob = meta.String()
		if !m.DescribedOnly() {
			return &m, false, nil
		}
		desc = m
	}
	if !content.ValidID(id) {
		return nil, false, nil
	}
	var file, ext string
	var blob repo.Hash
	for _, x := range content.PictureExts {
		h, err := d.repo.Stat(at, content.MediaFilePath(id, x))
		if err != nil {
			return nil, false, err
		}
		if h.IsZero() {
			continue
		}
		if file != "" {
			d.log.Warn("two pictures share a media id; keeping the first", "commit", at, "id", id, "path", content.MediaFilePath(id, x))
			break
		}
		file, ext, blob = content.MediaFilePath(id, x), x, h
	}
	if file == "" {
		if !meta.IsZero() {
			d.log.Warn("ignoring media metadata without a picture", "commit", at, "path", content.MediaMetaPath(id))
		}
		return nil, false, nil
	}
	b, err := d.repo.ReadBlob(blob)
	if err != nil {
		return nil, false, err
	}
	ptr, ok := content.ParseLFSPointer(b)
	if !ok {
		d.log.Warn("ignoring a picture that is not a Git LFS pointer", "commit", at, "path", file)
		return nil, false, nil
	}
	info, problem, err := d.picture(ptr)
	if err != nil {
		// Not a fact of the repository: derive nothing rather than
		// something else than the next replay would.
		return nil, false, fmt.Errorf("picture %s at %s: %w", file, at, err)
	}
	if problem != "" {
		d.log.Warn("ignoring a picture", "commit", at, "path", file, "reason", problem)
		return nil, false, nil
	}
	pm, err := content.PictureMedia(desc, id, ext, ptr, info)
	if err != nil {
		d.log.Warn("ignoring a picture", "commit", at, "path", file, "reason", err)
		return nil, false, nil
	}
	if pm.UploadedAt.IsZero() && uploaded {
		added, err := d.added(at, file)
		if err != nil {
			return nil, false, err
		}
		pm.UploadedAt = added.Author.When.UTC()
	}
	if meta.IsZero() {
		pm.Blob = blob.String()
	}
	return &pm, true, nil
}

// picture tells what an LFS object is, or why it cannot be media; an
// error is this machine's failure (see Picture.Transient).
func (d *Deriver) picture(ptr content.LFSPointer) (content.ImageInfo, string, error) {
	if d.image == nil {
		return content.ImageInfo{}, "this deriver does not read the LFS store", nil
	}
	key := fmt.Sprintf("%s/%d", ptr.OID, ptr.Size)
	d.mu.Lock()
	info, ok := d.seen[key]
	d.mu.Unlock()
	if ok {
		return info, "", nil
	}
	mo := ReadPicture(d.lfsDir, d.image, ptr.OID, ptr.Size)
	if mo.Transient != nil {
		return content.ImageInfo{}, "", mo.Transient
	}
	if mo.RecordErr != nil {
		d.log.Warn("the facts of an LFS object could not be recorded; it will be read again", "oid", ptr.OID, "err", mo.RecordErr)
	}
	if mo.Problem != "" {
		return content.ImageInfo{}, mo.Problem, nil
	}
	d.mu.Lock()
	d.seen[key] = mo.Info
	d.mu.Unlock()
	return mo.Info, "", nil
}
