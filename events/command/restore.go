package command

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

// ErrNeedsVersion refuses a restore over a subject that exists without
// the version it replaces: a restore overwrites every field, so it must
// not silently undo a change its caller never saw.
var ErrNeedsVersion = errors.New("restoring over a live version needs If-Match with its current version")

// ErrNothingToRestore: the subject already is as it was at that revision.
var ErrNothingToRestore = errors.New("it already is as it was at that revision: nothing to restore")

// RestorePost brings post id back to old, its state at revision rev
// (undeleting it if it was deleted), in one commit whose message names
// rev: derivation makes that post.restored. A live post needs ifMatch.
// The post keeps its file when its slug is unchanged; a deleted one
// returns to its old file unless another post took it.
func (w *Writer) RestorePost(ctx context.Context, actor Actor, id, ifMatch, rev string, old content.Post) (Written, error) {
	res, err := w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		var cur *content.Post
		if _, live := w.idx.posts[id]; live {
			if ifMatch == "" {
				return nil, fmt.Errorf("post %s: %w", id, ErrNeedsVersion)
			}
			c, err := w.currentFor(actor, head, id, ifMatch)
			if err != nil {
				return nil, err
			}
			cur = c
		}
		p := old
		p.ID, p.Version, p.Revision, p.Blob = id, 0, "", ""
		// Judged before anything is checked against the site, so a
		// refused caller learns nothing from the checks' answers.
		if err := actor.policy().Post(cur, &p); err != nil {
			return nil, err
		}
		if other, taken := w.idx.bySlug[p.Slug]; taken && other != id {
			return nil, &ConflictError{Field: "slug", Detail: fmt.Sprintf("%q is now used by post %s: change that post's slug first", p.Slug, other)}
		}
		// References are checked as for an edit of the post as it is now
		// (or, deleted, as if new but keeping its id): a picture deleted
		// since the revision is not brought back as a dangling one.
		base := cur
		if base == nil {
			base = &content.Post{ID: id}
		}
		if err := w.validate(&p, base); err != nil {
			return nil, err
		}
		switch {
		case cur != nil && cur.Slug == p.Slug:
			p.Path = cur.Path
		case cur != nil:
			p.Path = w.freePath(path.Join(path.Dir(cur.Path), p.Slug+".md"))
		default:
			p.Path = w.freePath(old.Path)
		}
		p.UpdatedAt = w.now().UTC().Truncate(time.Second)
		data, err := content.MarshalPost(&p)
		if err != nil {
			return nil, err
		}
		// Compared as derivation will read the file back: a restore that
		// changes nothing a reader sees would commit and derive no event.
		if back, err := content.ParseCommittedPost(data, content.FileDefaults{Path: p.Path}); err == nil && cur != nil &&
			cur.Path == p.Path && gitlog.SamePost(cur, &back) {
			return nil, fmt.Errorf("post %s: %w", id, ErrNothingToRestore)
		}
		changes := []repo.Change{{Path: p.Path, Data: data}}
		if cur != nil && cur.Path != p.Path {
			changes = append(changes, repo.Change{Path: cur.Path, Delete: true})
		}
		b := w.batch(actor, "post/"+id, string(events.PostRestored), fmt.Sprintf("Restore post %s as of %s", quote(p.Title), short(repo.ParseHash(rev))), changes...)
		b.Message += fmt.Sprintf("%s: %s %s\n", gitlog.TrailerRestoredFrom, rev, old.Path)
		return b, nil
	})
	if err != nil {
		return res, err
	}
	return w.withPost(res, id)
}

// RestoreFiles brings subject's files back to what they were at revision
// rev (deleting those it did not have), in one commit naming rev: a
// category, the settings, the profile or a media item's description.
// files[0] is the file whose blob is the subject's version (its ETag),
// which ifMatch must give when that file exists.
func (w *Writer) RestoreFiles(ctx context.Context, actor Actor, subject, ifMatch, rev string, typ events.Type, summary string, files ...string) (Written, error) {
	at := repo.ParseHash(rev)
	version := ""
	res, err := w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		if err := w.mayRestore(actor, subject); err != nil {
			return nil, err
		}
		_, blob, err := w.siteFile(head, files[0])
		if err != nil {
			return nil, err
		}
		if blob != "" {
			if ifMatch == "" {
				return nil, fmt.Errorf("%s: %w", subject, ErrNeedsVersion)
			}
			if !matches(ifMatch, blob) {
				return nil, fmt.Errorf("%s: %w", subject, ErrStale)
			}
		}
		var changes []repo.Change
		for i, f := range files {
			data, _, err := w.log.Repo().ReadFile(at, f)
			if errors.Is(err, repo.ErrNotFound) {
				if now, err := w.log.Repo().Stat(head, f); err != nil {
					return nil, err
				} else if !now.IsZero() {
					changes = append(changes, repo.Change{Path: f, Delete: true})
				}
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("read %s at %s: %w", f, short(at), err)
			}
			if i == 0 {
				version = BlobVersion(data)
			}
			if now, err := w.log.Repo().Stat(head, f); err != nil {
				return nil, err
			} else if now.String() != BlobVersion(data) {
				changes = append(changes, repo.Change{Path: f, Data: data})
			}
		}
		if len(changes) == 0 {
			return nil, fmt.Errorf("%s: %w", subject, ErrNothingToRestore)
		}
		b := w.batch(actor, subject, string(typ), fmt.Sprintf("%s as of %s", summary, short(at)), changes...)
		b.Message += fmt.Sprintf("%s: %s\n", gitlog.TrailerRestoredFrom, rev)
		return b, nil
	})
	res.Version = version
	return res, err
}

// mayRestore judges a restore of subject (not a post) by actor: the
// capability changing it takes; for a media item, that it is the
// actor's (a deleted one is for editors and admins). Callers hold mu.
func (w *Writer) mayRestore(actor Actor, subject string) error {
	a := actor.policy()
	switch kind, id, _ := strings.Cut(subject, "/"); {
	case kind == "category":
		return a.Check(policy.EditCategories)
	case subject == "site/settings":
		return a.Check(policy.EditSettings)
	case subject == "site/profile":
		return a.Check(policy.EditProfile)
	case kind == "media":
		if e, live := w.idx.media[id]; live {
			return a.Media(&content.Media{ID: id, UploadedBy: e.uploadedBy}, nil)
		}
		return a.Check(policy.EditAllMedia)
	}
	return fmt.Errorf("restore %s: not a subject files are restored for", subject)
}

// MediaFiles lists the files of media item id at revision rev: its
// description first, then its picture's pointer.
func (w *Writer) MediaFiles(rev, id string) ([]string, error) {
	files := []string{content.MediaMetaPath(id)}
	err := w.log.Repo().Walk(repo.ParseHash(rev), content.MediaDir, func(p string, _ repo.Hash) error {
		if strings.HasPrefix(p, content.MediaDir+id+".") && p != files[0] {
			files = append(files, p)
		}
		return nil
	})
	return files, err
}
