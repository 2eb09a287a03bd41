package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events"
)

// Log is what the outbox reads: the events on main, in order.
type Log interface {
	// Read calls fn for every event after the cursor, in order.
	Read(ctx context.Context, after events.Cursor, fn func(events.Event) error) error
	// Contains reports whether c's commit is on main's first-parent
	// chain at c's height.
	Contains(c events.Cursor) (bool, error)
}

// ErrDiverged is the outbox's error when the stream's last event is not
// on main's history at its position: the stream belongs to another
// repository, or main's history was rewritten. Publishing from there
// would renumber the log under the projections, so it stops instead.
var ErrDiverged = errors.New("the event stream does not follow main's history")

// Outbox publishes every event on main that the stream does not have yet,
// in order. It resumes from the stream's last message, so a crash between
// a commit and its publication, or NATS being down, loses nothing: the next
// pass (on start, on every commit, and every Interval) publishes it. When
// a pass fails, Failure says why until one succeeds, and the failure is
// logged once, not at every retry.
type Outbox struct {
	log      Log
	js       jetstream.JetStream
	stream   jetstream.Stream
	bodies   *Bodies
	before   func(context.Context, events.Event) error
	logger   *slog.Logger
	interval time.Duration
	ackWait  time.Duration
	kick     chan struct{}

	mu        sync.Mutex // one pass at a time
	loaded    bool
	lastID    string                        // message id of the stream's last message, once loaded
	published atomic.Pointer[events.Cursor] // readable during a pass
	failure   atomic.Pointer[error]
}

// OutboxConfig configures an Outbox.
type OutboxConfig struct {
	Interval time.Duration // between passes without commits; default 30s
	// AckWait bounds the wait for the server to acknowledge a
	// publication (default 10s): without it, a pass would wait for ever
	// while NATS is away, and nobody would know events are held back.
	AckWait time.Duration
	// Bodies carries events too large for a message; nil: every event
	// goes inline, and one too large fails to publish.
	Bodies *Bodies
	// BeforePublish, if set, runs before each event is published, so what
	// the event refers to (a media original) is shared before any node
	// sees it; its error fails the pass, which the next one retries.
	BeforePublish func(ctx context.Context, e events.Event) error
}

// NewOutbox returns an outbox from l to the stream.
func NewOutbox(l Log, js jetstream.JetStream, s jetstream.Stream, logger *slog.Logger, cfg OutboxConfig) *Outbox {
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 10 * time.Second
	}
	return &Outbox{log: l, js: js, stream: s, bodies: cfg.Bodies, before: cfg.BeforePublish, logger: logger, interval: cfg.Interval, ackWait: cfg.AckWait,
		kick: make(chan struct{}, 1)}
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

// Failure is the error of the last pass if it failed, nil once a pass
// succeeds: while it is set, events on main may be waiting to be
// published.
func (o *Outbox) Failure() error {
	if p := o.failure.Load(); p != nil {
		return *p
	}
	return nil
}

func (o *Outbox) setPublished(c events.Cursor) { o.published.Store(&c) }

// Run publishes until ctx ends. After a failed pass it tries again
// sooner than Interval, backing off from a second.
func (o *Outbox) Run(ctx context.Context) {
	retry := time.Duration(0)
	for {
		err := o.Reconcile(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := o.interval
		if err != nil {
			retry = min(max(2*retry, time.Second), o.interval)
			wait = retry
		} else {
			retry = 0
		}
		o.report(err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-o.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// report records a pass's outcome, logging a failure when it starts or
// changes and once more when publishing resumes.
func (o *Outbox) report(err error) {
	prev := o.Failure()
	if err == nil {
		if prev != nil {
			o.failure.Store(nil)
			o.logger.Info("publishing resumed", "published", o.Published().Commit)
		}
		return
	}
	o.failure.Store(&err)
	if prev == nil || prev.Error() != err.Error() {
		o.logger.Error("publishing events failed; later events wait behind it", "after", o.Published().Commit, "err", err)
	}
	if !errors.Is(err, ErrDiverged) {
		o.mu.Lock()
		o.loaded = false // re-read the stream's position next time
		o.mu.Unlock()
	}
}

// window is how many publications may await their acknowledgement at once.
const window = 256

// Reconcile publishes everything after the last published event.
func (o *Outbox) Reconcile(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.loaded {
		c, id, _, err := lastMessage(ctx, o.stream)
		if err != nil {
			return err
		}
		if c.Commit != "" {
			ok, err := o.log.Contains(c)
			if err != nil {
				return fmt.Errorf("find the stream's last event (commit %s) in the repository: %w", c.Commit, err)
			}
			if !ok {
				return fmt.Errorf("%w: its last event is commit %s at height %d, which is not on main there; "+
					"if the repository is the right one, delete the stream (or the data directory's nats folder) to publish again from git",
					ErrDiverged, c.Commit, c.Height)
			}
		}
		o.setPublished(c)
		o.lastID = id
		o.loaded = true
	}
	err := o.publishAfter(ctx, o.Published())
	if errors.Is(err, events.ErrNotInLog) {
		// Known a moment ago, gone now: main was rewritten under us.
		o.loaded = false
		return fmt.Errorf("%w: commit %s is no longer on main: %w", ErrDiverged, o.Published().Commit, err)
	}
	return err
}

// publishAfter publishes the events after c in windows: each window's
// messages are sent without waiting, then all their acknowledgements are
// awaited before the published position moves past them. Order is kept:
// one connection delivers in order, and each message names the id of the
// one before it (Nats-Expected-Last-Msg-Id), so that if the server drops
// one, it refuses those after it instead of leaving a hole in the log.
// Callers hold mu.
func (o *Outbox) publishAfter(ctx context.Context, c events.Cursor) error {
	var pending []jetstream.PubAckFuture
	var last events.Cursor
	var sent time.Time // when the window's first message went
	lastID := o.lastID
	pass := time.Now()
	flush := func() error {
		timeout := time.NewTimer(o.ackWait)
		defer timeout.Stop()
		for _, f := range pending {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				return fmt.Errorf("publish event %s: %w", f.Msg().Header.Get(jetstream.MsgIDHeader), err)
			case <-timeout.C:
				return fmt.Errorf("publish event %s: no acknowledgement from NATS within %s", f.Msg().Header.Get(jetstream.MsgIDHeader), o.ackWait)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if len(pending) > 0 {
			o.setPublished(last)
			o.lastID = lastID
			// Where a write's way to the readers spends its time: reading
			// the log, and the stream's (quorum) acknowledgement.
			o.logger.Debug("published", "events", len(pending), "through", last.Commit, "height", last.Height,
				"read", sent.Sub(pass), "acked_in", time.Since(sent))
			pass = time.Now()
		}
		pending = pending[:0]
		return nil
	}
	return errors.Join(o.log.Read(ctx, c, func(e events.Event) error {
		if o.before != nil {
			if err := o.before(ctx, e); err != nil {
				return fmt.Errorf("before publishing event %s: %w", e.ID, err)
			}
		}
		m, err := o.message(ctx, &e)
		if err != nil {
			return err
		}
		var opts []jetstream.PublishOpt
		if lastID != "" {
			opts = append(opts, jetstream.WithExpectLastMsgID(lastID))
		}
		f, err := o.js.PublishMsgAsync(m, opts...)
		if err != nil {
			return fmt.Errorf("publish event %s: %w", e.ID, err)
		}
		if len(pending) == 0 {
			sent = time.Now()
		}
		pending, last, lastID = append(pending, f), e.Cursor(), e.ID
		if len(pending) == window {
			return flush()
		}
		return nil
	}), flush())
}

func (o *Outbox) message(ctx context.Context, e *events.Event) (*nats.Msg, error) {
	if o.bodies != nil {
		return o.bodies.Message(ctx, e)
	}
	return Message(e)
}
