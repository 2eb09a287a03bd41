package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/repo"
)

// Outbox publishes every event on main that the stream does not have yet,
// in order. It resumes from the stream's last message, so a crash between
// a commit and its publication, or NATS being down, loses nothing: the next
// pass (on start, on every commit, and every Interval) publishes it.
type Outbox struct {
	log      *events.GitLog
	js       jetstream.JetStream
	stream   jetstream.Stream
	logger   *slog.Logger
	interval time.Duration
	kick     chan struct{}

	mu        sync.Mutex // one pass at a time
	loaded    bool
	published atomic.Pointer[events.Cursor] // readable during a pass
}

// OutboxConfig configures an Outbox.
type OutboxConfig struct {
	Interval time.Duration // between passes without commits; default 30s
}

// NewOutbox returns an outbox from l to the stream.
func NewOutbox(l *events.GitLog, js jetstream.JetStream, s jetstream.Stream, logger *slog.Logger, cfg OutboxConfig) *Outbox {
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	return &Outbox{log: l, js: js, stream: s, logger: logger, interval: cfg.Interval, kick: make(chan struct{}, 1)}
}

// Kick asks for a pass soon; it never blocks.
func (o *Outbox) Kick() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// Published is the position of the last event known to be in the stream.
func (o *Outbox) Published() events.Cursor {
	if c := o.published.Load(); c != nil {
		return *c
	}
	return events.Cursor{}
}

func (o *Outbox) setPublished(c events.Cursor) { o.published.Store(&c) }

// Run publishes until ctx ends.
func (o *Outbox) Run(ctx context.Context) {
	t := time.NewTicker(o.interval)
	defer t.Stop()
	for {
		if err := o.Reconcile(ctx); err != nil && ctx.Err() == nil {
			o.logger.Warn("outbox pass failed; will retry", "err", err)
			o.mu.Lock()
			o.loaded = false // re-read the stream's position next time
			o.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-o.kick:
		case <-t.C:
		}
	}
}

// window is how many publications may await their acknowledgement at once.
const window = 256

// Reconcile publishes everything after the last published event.
func (o *Outbox) Reconcile(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.loaded {
		c, _, err := LastPublished(ctx, o.stream)
		if err != nil {
			return err
		}
		o.setPublished(c)
		o.loaded = true
	}
	from := o.Published()
	err := o.publishAfter(ctx, from)
	if errors.Is(err, repo.ErrNotFound) {
		// The stream's last event is not on main's history (the stream
		// belongs to another repository, or was restored from elsewhere):
		// publish from the start; event ids make the repeats harmless.
		o.logger.Warn("stream position is not in the repository's history; republishing from the start", "commit", from.Commit)
		o.setPublished(events.Cursor{})
		err = o.publishAfter(ctx, events.Cursor{})
	}
	return err
}

// publishAfter publishes the events after c in windows: each window's
// messages are sent without waiting, then all their acknowledgements are
// awaited before the published position moves past them. Order is kept:
// one connection delivers in order. Callers hold mu.
func (o *Outbox) publishAfter(ctx context.Context, c events.Cursor) error {
	var pending []jetstream.PubAckFuture
	var last events.Cursor
	flush := func() error {
		for _, f := range pending {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				return fmt.Errorf("publish %s: %w", f.Msg().Header.Get(jetstream.MsgIDHeader), err)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if len(pending) > 0 {
			o.setPublished(last)
		}
		pending = pending[:0]
		return nil
	}
	err := o.log.Read(ctx, c, func(e events.Event) error {
		m, err := Message(&e)
		if err != nil {
			return err
		}
		f, err := o.js.PublishMsgAsync(m)
		if err != nil {
			return fmt.Errorf("publish %s: %w", e.ID, err)
		}
		pending, last = append(pending, f), e.Cursor()
		if len(pending) == window {
			return flush()
		}
		return nil
	})
	if ferr := flush(); err == nil {
		err = ferr
	}
	return err
}

func jsonMarshal(e *events.Event) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return b, nil
}
