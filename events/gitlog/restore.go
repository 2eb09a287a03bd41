package gitlog

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/repo"
)

// restoredTypes is what an event becomes when its subject was brought
// back to an earlier revision; deletions are never restores.
var restoredTypes = map[events.Type]events.Type{
	events.PostCreated: events.PostRestored, events.PostUpdated: events.PostRestored,
	events.PostPublished: events.PostRestored, events.PostUnpublished: events.PostRestored,
	events.PostSubmitted: events.PostRestored, events.PostChangesRequested: events.PostRestored, events.PostScheduled: events.PostRestored,
	events.CategoryCreated: events.CategoryRestored, events.CategoryUpdated: events.CategoryRestored,
	events.SettingsChanged: events.SettingsRestored, events.ProfileChanged: events.ProfileRestored,
	events.MediaUploaded: events.MediaRestored, events.MediaUpdated: events.MediaRestored,
}

// markRestored turns the events of a restore into *.restored ones. A
// commit is a restore when its message names a revision (the
// Chronicle-Restored-From trailer: "<commit>", or "<commit> <path>" for a
// post file that moved since) on its own first-parent chain, and an
// event's new state equals its subject's state at that revision. The
// trailer is a claim anyone can push; the comparison makes it a fact, so
// a hand-made restore pushed with the trailer derives what the API's
// does, and a false claim derives ordinary events.
func (d *Deriver) markRestored(c repo.Commit, out []events.Event) error {
	v := Trailers(c.Message)[TrailerRestoredFrom]
	if v == "" || len(c.Parents) == 0 {
		return nil
	}
	revText, oldPath, _ := strings.Cut(v, " ")
	rev := repo.ParseHash(revText)
	if rev.IsZero() || rev.String() != strings.ToLower(revText) {
		return nil
	}
	if rev != c.Parents[0] {
		if _, err := d.repo.FirstParents(c.Parents[0], rev); errors.Is(err, repo.ErrNotFound) {
			return nil // not an earlier revision of this history
		} else if err != nil {
			return fmt.Errorf("restored revision %s: %w", rev, err)
		}
	}
	for i := range out {
		e := &out[i]
		typ, ok := restoredTypes[e.Type]
		if !ok {
			continue
		}
		pl, err := e.Payload()
		if err != nil {
			return err
		}
		var same bool
		var data events.Payload
		switch p := pl.(type) {
		case events.PostData:
			at := oldPath
			if at == "" {
				at = p.Post.Path
			}
			blob, err := d.repo.Stat(rev, at)
			if err != nil {
				return err
			}
			old, err := d.ReadPost(at, blob, rev)
			if err != nil {
				return err
			}
			if old != nil && old.ID == p.Post.ID {
				x, y := *old, p.Post
				x.Path, y.Path = "", ""
				same = SamePost(&x, &y)
			}
			p.RestoredFrom = rev.String()
			data = p
		case events.CategoryData:
			at := content.CategoryPath(p.Category.Slug)
			blob, err := d.repo.Stat(rev, at)
			if err != nil {
				return err
			}
			old, err := d.readCategory(at, blob)
			if err != nil {
				return err
			}
			same = old != nil && reflect.DeepEqual(*old, p.Category)
			p.RestoredFrom = rev.String()
			data = p
		case events.SettingsData:
			b, _, err := d.repo.ReadFile(rev, content.SettingsPath)
			if err != nil && !errors.Is(err, repo.ErrNotFound) {
				return err
			}
			old, err := content.ParseSettings(b)
			same = err == nil && b != nil && reflect.DeepEqual(old, p.Settings)
			p.RestoredFrom = rev.String()
			data = p
		case events.ProfileData:
			b, _, err := d.repo.ReadFile(rev, content.ProfilePath)
			if err != nil && !errors.Is(err, repo.ErrNotFound) {
				return err
			}
			old, err := content.ParseProfile(b)
			same = err == nil && b != nil && reflect.DeepEqual(old, p.Profile)
			p.RestoredFrom = rev.String()
			data = p
		case events.MediaData:
			old, err := d.readMedia(rev, p.Media.ID)
			if err != nil {
				return err
			}
			same = old != nil && reflect.DeepEqual(*old, p.Media)
			p.RestoredFrom = rev.String()
			data = p
		}
		if !same {
			continue
		}
		e.Type = typ
		if *e, err = events.Encode(*e, data); err != nil {
			return err
		}
	}
	return nil
}
