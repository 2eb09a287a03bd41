package command

import (
	"context"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/repo"
)

// RecordEmbed commits what a post's embed URL resolved to.
func (w *Writer) RecordEmbed(ctx context.Context, postID string, e content.Embed) error {
	_, err := w.command(ctx, func(head repo.Hash) (*gitlog.Batch, error) {
		if _, ok := w.idx.posts[postID]; !ok {
			return nil, nil // deleted meanwhile: nothing to record
		}
		data, err := content.MarshalYAML(&e)
		if err != nil {
			return nil, err
		}
		return w.batch(Actor{Name: "Chronicle", Email: "chronicle@localhost"}, "post/"+postID, string(events.EmbedResolved),
			"Resolve embed "+quote(e.URL), repo.Change{Path: content.EmbedPath(postID), Data: data}), nil
	})
	return err
}

// EmbedRecorded reports whether the head holds a resolution of url for
// the post.
func (w *Writer) EmbedRecorded(postID, url string) (bool, error) {
	r := w.log.Repo()
	head, err := r.Head()
	if err != nil || head.IsZero() {
		return false, err
	}
	b, ok, err := r.ReadTreeFile(repo.MainRef, content.EmbedPath(postID))
	if err != nil || !ok {
		return false, err
	}
	e, err := content.ParseEmbed(content.EmbedPath(postID), b)
	return err == nil && e.URL == url, nil
}

// Embed returns what a post's embed URL resolved to, as recorded on main;
// ok is false when nothing is recorded (not resolved yet, or no embed).
func (w *Writer) Embed(postID string) (e content.Embed, ok bool, err error) {
	b, ok, err := w.log.Repo().ReadTreeFile(repo.MainRef, content.EmbedPath(postID))
	if err != nil || !ok {
		return content.Embed{}, false, err
	}
	e, err = content.ParseEmbed(content.EmbedPath(postID), b)
	if err != nil {
		return content.Embed{}, false, nil // an invalid file counts as none, as in derivation
	}
	return e, true, nil
}
