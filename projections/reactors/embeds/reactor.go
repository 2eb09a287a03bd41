// Package embeds is a reactor (a process manager), not a read model: it
// consumes post events and, for each embed_url not yet resolved, resolves
// it and issues a command to the writer that records the result as an
// embed.resolved commit, so replays render what was resolved then. Its only
// state is its checkpoint; the projections runtime drives it like a
// projection, on the writer node only.
package embeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/repo/atomicfile"
)

// Name is the reactor's stable name, its durable consumer's name: renaming
// it would replay, and so resolve, everything again.
const Name = "embeds"

// Recorder writes resolutions into the repository (the writer).
type Recorder interface {
	RecordEmbed(ctx context.Context, postID string, e content.Embed) error
	EmbedRecorded(postID, url string) (bool, error)
}

// Reactor resolves a post's embed_url after the write and records the
// result through the Recorder. A URL already recorded is not fetched
// again, so replays and rebuilds fetch nothing.
type Reactor struct {
	resolver *Resolver
	rec      Recorder
	file     string // checkpoint
	log      *slog.Logger
	cp       projections.Checkpoint
}

var _ projections.Projection = (*Reactor)(nil)

// New returns the reactor, its checkpoint in file.
func New(file string, r *Resolver, rec Recorder, log *slog.Logger) (*Reactor, error) {
	re := &Reactor{resolver: r, rec: rec, file: file, log: log}
	b, err := os.ReadFile(file)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, &re.cp); err != nil {
			return nil, fmt.Errorf("embeds checkpoint: %w", err)
		}
	}
	return re, nil
}

// Name implements projections.Projection.
func (r *Reactor) Name() string { return Name }

// Checkpoint implements projections.Projection.
func (r *Reactor) Checkpoint() projections.Checkpoint { return r.cp }

// Reset implements projections.Projection.
func (r *Reactor) Reset() error {
	r.cp = projections.Checkpoint{}
	if err := os.Remove(r.file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Apply implements projections.Projection.
func (r *Reactor) Apply(ctx context.Context, evs []events.Event, cp projections.Checkpoint) error {
	want := map[string]string{} // post id → its embed URL, last state in the batch
	for _, e := range evs {
		pl, err := e.Payload()
		if errors.Is(err, events.ErrUnknownType) {
			continue
		}
		if err != nil {
			if e.Type == events.PostDeleted {
				continue // nothing to resolve for it either way
			}
			return fmt.Errorf("event %s: %w", e.ID, err)
		}
		if d, ok := pl.(events.PostData); ok {
			if e.Type == events.PostDeleted {
				delete(want, d.Post.ID)
			} else {
				want[d.Post.ID] = d.Post.EmbedURL
			}
		}
	}
	// Resolve in parallel (a slow provider costs its timeout once, not
	// once per post after it), then record one by one.
	type job struct {
		id, url string
		embed   content.Embed
	}
	var jobs []*job
	for id, url := range want {
		if url == "" {
			continue
		}
		done, err := r.rec.EmbedRecorded(id, url)
		if err != nil {
			return err
		}
		if !done {
			jobs = append(jobs, &job{id: id, url: url})
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var err error
			if j.embed, err = r.resolver.Resolve(ctx, j.url); err != nil {
				r.log.Info("embed resolved to a plain link", "post", j.id, "url", j.url, "reason", err)
			}
		}()
	}
	wg.Wait()
	for _, j := range jobs {
		if err := r.rec.RecordEmbed(ctx, j.id, j.embed); err != nil {
			return fmt.Errorf("record embed of %s: %w", j.id, err)
		}
	}
	b, _ := json.Marshal(cp)
	if err := atomicfile.Write(r.file, b, 0o644); err != nil {
		return err
	}
	r.cp = cp
	return nil
}
