package daemon

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/repo/lfs/objectstore"
)

// shareOriginals is the outbox's step before publishing an event: a media
// event's original goes into the Object Store first, so a read node that
// sees the event can fetch it. An original this node does not have
// (history from before uploads were checked) is logged and skipped, not
// allowed to hold back every event after it.
func shareOriginals(store *objectstore.Store, lfsDir string, log *slog.Logger) func(context.Context, events.Event) error {
	return func(ctx context.Context, e events.Event) error {
		if e.Type != events.MediaUploaded && e.Type != events.MediaUpdated {
			return nil
		}
		pl, err := e.Payload()
		if err != nil {
			log.Warn("media event unreadable; its original is not shared", "event", e.ID, "err", err)
			return nil
		}
		d, ok := pl.(events.MediaData)
		if !ok || d.Media.SHA256 == "" {
			return nil
		}
		err = store.Put(ctx, lfsDir, d.Media.SHA256)
		if errors.Is(err, fs.ErrNotExist) {
			log.Warn("original missing from the LFS store; not shared", "event", e.ID, "sha256", d.Media.SHA256)
			return nil
		}
		return err
	}
}

// backfillOriginals shares the originals stored before this writer
// shared them (or while NATS was away), in the background.
func backfillOriginals(ctx context.Context, store *objectstore.Store, lfsDir string, log *slog.Logger) {
	n, err := store.Backfill(ctx, lfsDir)
	if err != nil && ctx.Err() == nil {
		log.Error("sharing the LFS store's originals stopped; the outbox still shares each one it publishes", "err", err)
		return
	}
	log.Info("originals shared in the object store", "bucket", objectstore.Bucket, "objects", n)
}

func (c *Config) mediaCacheDir() string { return filepath.Join(c.DataDir, "media-cache") }
