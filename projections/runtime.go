// Package projections runs read models fed by the event stream. Each
// projection is a durable JetStream consumer named after the projection;
// it stores its checkpoint (the position of the last event applied, and
// that event's stream sequence) atomically with its own state, skips any
// event at or before its checkpoint, and is acknowledged only after its
// state is durable. So redeliveries, a recreated stream or a restart never
// apply an event twice, and deleting a projection's state rebuilds it.
package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/bus"
)

// Checkpoint is where a projection stands.
type Checkpoint struct {
	Cursor events.Cursor `json:"cursor"`
	Seq    uint64        `json:"seq"` // stream sequence of the event at Cursor; 0 if unknown
}

// Projection is a read model built from events.
type Projection interface {
	// Name is stable: it names the durable consumer, so renaming a
	// projection replays everything into it.
	Name() string
	// Checkpoint is the position of the last applied event, as stored.
	Checkpoint() Checkpoint
	// Apply applies events (all after the checkpoint, in order) and stores
	// the new checkpoint in the same atomic write as the state.
	Apply(ctx context.Context, evs []events.Event, cp Checkpoint) error
	// Reset drops all state and the checkpoint.
	Reset() error
}

// Consumer settings. AckWait is well above the time a batch takes; a
// message is tried MaxDeliver times before the server gives up on it.
const (
	AckWait    = 30 * time.Second
	MaxDeliver = 50
	BatchSize  = 256
)

// Runtime runs projections against the events stream.
type Runtime struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	logger  *slog.Logger
	codec   *events.Codec
	runners []*runner
	node    string
	lag     *prometheus.GaugeVec
	applied *prometheus.CounterVec
	wg      sync.WaitGroup
}

type runner struct {
	p Projection

	mu      sync.Mutex
	cp      Checkpoint
	changed chan struct{} // closed and replaced whenever cp advances
}

// RuntimeConfig configures a Runtime.
type RuntimeConfig struct {
	// Node prefixes consumer names, so that several nodes sharing one
	// NATS cluster each get every event. Empty for a single node.
	Node     string
	Registry prometheus.Registerer // may be nil
}

// NewRuntime returns a runtime for ps.
func NewRuntime(js jetstream.JetStream, stream jetstream.Stream, logger *slog.Logger, cfg RuntimeConfig, ps ...Projection) *Runtime {
	reg := cfg.Registry
	rt := &Runtime{js: js, stream: stream, logger: logger, codec: events.NewCodec(), node: cfg.Node,
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chronicle_projection_lag_events",
			Help: "Events in the stream not yet applied by a projection."}, []string{"projection"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chronicle_projection_events_applied_total",
			Help: "Events applied by a projection."}, []string{"projection"})}
	if reg != nil {
		reg.MustRegister(rt.lag, rt.applied)
	}
	for _, p := range ps {
		rt.runners = append(rt.runners, &runner{p: p, cp: p.Checkpoint(), changed: make(chan struct{})})
	}
	return rt
}

// Start launches every projection's consumer; they run until ctx ends.
// Wait blocks until they have stopped.
func (rt *Runtime) Start(ctx context.Context) error {
	for _, r := range rt.runners {
		cons, err := rt.consumer(ctx, r)
		if err != nil {
			return err
		}
		rt.wg.Add(1)
		go func() {
			defer rt.wg.Done()
			rt.run(ctx, r, cons)
		}()
	}
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		rt.measureLag(ctx)
	}()
	return nil
}

// Wait blocks until every consumer stopped.
func (rt *Runtime) Wait() { rt.wg.Wait() }

// consumer (re)creates the projection's durable consumer so that it starts
// just after the projection's own checkpoint. The checkpoint, not the
// server's ack floor, is the truth: the state may have been deleted, or
// the stream recreated from git.
func (rt *Runtime) consumer(ctx context.Context, r *runner) (jetstream.Consumer, error) {
	cp := r.checkpoint()
	start := uint64(1)
	if cp.Seq > 0 {
		if m, err := rt.stream.GetMsg(ctx, cp.Seq); err == nil {
			if c, err := bus.CursorOf(m.Header); err == nil && c == cp.Cursor {
				start = cp.Seq + 1
			}
		}
	}
	name := r.p.Name()
	if rt.node != "" {
		name = rt.node + "_" + name
	}
	if err := rt.stream.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("reset consumer %s: %w", name, err)
	}
	cons, err := rt.stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "Chronicle projection " + name,
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   start,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       AckWait,
		MaxDeliver:    MaxDeliver,
		MaxAckPending: 4 * BatchSize,
	})
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", name, err)
	}
	rt.logger.Info("projection started", "projection", name, "from_seq", start, "checkpoint", cp.Cursor.Height)
	return cons, nil
}

func (rt *Runtime) run(ctx context.Context, r *runner, cons jetstream.Consumer) {
	msgs := make(chan jetstream.Msg, 4*BatchSize)
	cc, err := cons.Consume(func(m jetstream.Msg) { msgs <- m },
		jetstream.PullMaxMessages(2*BatchSize),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if ctx.Err() == nil {
				rt.logger.Debug("consumer", "projection", r.p.Name(), "err", err)
			}
		}))
	if err != nil {
		rt.logger.Error("cannot consume", "projection", r.p.Name(), "err", err)
		return
	}
	defer cc.Stop()
	for {
		var batch []jetstream.Msg
		select {
		case <-ctx.Done():
			return
		case m := <-msgs:
			batch = append(batch, m)
		}
	drain:
		for len(batch) < BatchSize {
			select {
			case m := <-msgs:
				batch = append(batch, m)
			default:
				break drain
			}
		}
		rt.apply(ctx, r, batch)
	}
}

func (rt *Runtime) apply(ctx context.Context, r *runner, batch []jetstream.Msg) {
	cp := r.checkpoint()
	var evs []events.Event
	next := cp
	for _, m := range batch {
		e, err := rt.codec.Decode(m.Data())
		if err != nil {
			rt.logger.Warn("skipping event", "projection", r.p.Name(), "err", err)
			continue
		}
		if !next.Cursor.After(&e) {
			continue // applied before: a redelivery or a republished commit
		}
		evs = append(evs, e)
		meta, err := m.Metadata()
		if err != nil {
			rt.logger.Error("message without metadata", "err", err)
			return
		}
		next = Checkpoint{Cursor: e.Cursor(), Seq: meta.Sequence.Stream}
	}
	if len(evs) > 0 {
		if err := r.p.Apply(ctx, evs, next); err != nil {
			rt.logger.Error("projection failed to apply events; they will be redelivered", "projection", r.p.Name(), "from", evs[0].ID, "err", err)
			for _, m := range batch {
				m.NakWithDelay(time.Second)
			}
			return
		}
		rt.applied.WithLabelValues(r.p.Name()).Add(float64(len(evs)))
		r.advance(next)
	}
	for _, m := range batch {
		if err := m.Ack(); err != nil && ctx.Err() == nil {
			rt.logger.Debug("ack failed; the event will be redelivered and skipped", "err", err)
		}
	}
}

func (r *runner) checkpoint() Checkpoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cp
}

func (r *runner) advance(cp Checkpoint) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cp = cp
	close(r.changed)
	r.changed = make(chan struct{})
}

// WaitFor blocks until every projection applied the events up to c.
func (rt *Runtime) WaitFor(ctx context.Context, c events.Cursor) error {
	if c.Count == 0 {
		return nil // a commit without events: nothing to wait for
	}
	for _, r := range rt.runners {
		for {
			r.mu.Lock()
			done, ch := !r.cp.Cursor.Before(c), r.changed
			r.mu.Unlock()
			if done {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-ch:
			}
		}
	}
	return nil
}

// Reached reports whether every projection applied the events up to c.
func (rt *Runtime) Reached(c events.Cursor) bool {
	for _, r := range rt.runners {
		if r.checkpoint().Cursor.Before(c) {
			return false
		}
	}
	return true
}

// Positions reports each projection's checkpoint.
func (rt *Runtime) Positions() map[string]Checkpoint {
	out := map[string]Checkpoint{}
	for _, r := range rt.runners {
		out[r.p.Name()] = r.checkpoint()
	}
	return out
}

func (rt *Runtime) measureLag(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		if info, err := rt.stream.Info(ctx); err == nil {
			for _, r := range rt.runners {
				cp := r.checkpoint()
				lag := float64(0)
				if info.State.LastSeq > cp.Seq {
					lag = float64(info.State.LastSeq - cp.Seq)
				}
				rt.lag.WithLabelValues(r.p.Name()).Set(lag)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Rebuild drops the state of ps and replays the whole log into them from
// git. The log is derived once; each batch goes to every projection, which
// apply it in parallel while the next batch is derived. progress gets the
// events applied so far (by all) and the position reached. The checkpoints
// it leaves have no stream sequence, so the next start resumes by position.
func Rebuild(ctx context.Context, ps []Projection, log events.Log, progress func(applied int, at events.Cursor)) error {
	for _, p := range ps {
		if err := p.Reset(); err != nil {
			return fmt.Errorf("reset %s: %w", p.Name(), err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		n   int
		at  events.Cursor
		err error
	}
	inputs := make([]chan []events.Event, len(ps))
	done := make(chan result, len(ps)*4)
	var wg sync.WaitGroup
	for i, p := range ps {
		inputs[i] = make(chan []events.Event, 2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range inputs[i] {
				at := batch[len(batch)-1].Cursor()
				if err := p.Apply(ctx, batch, Checkpoint{Cursor: at}); err != nil {
					done <- result{err: fmt.Errorf("apply to %s: %w", p.Name(), err)}
					cancel()
					for range inputs[i] {
					}
					return
				}
				done <- result{n: len(batch), at: at}
			}
		}()
	}
	// Progress: a batch counts once every projection applied it.
	var firstErr error
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		applied := map[events.Cursor]int{}
		total := 0
		for r := range done {
			if r.err != nil {
				if firstErr == nil {
					firstErr = r.err
				}
				continue
			}
			if applied[r.at]++; applied[r.at] == len(ps) {
				delete(applied, r.at)
				total += r.n
				if progress != nil {
					progress(total, r.at)
				}
			}
		}
	}()
	var batch []events.Event
	send := func() {
		for _, in := range inputs {
			select {
			case in <- batch:
			case <-ctx.Done():
			}
		}
		batch = nil
	}
	err := log.Read(ctx, events.Cursor{}, func(e events.Event) error {
		batch = append(batch, e)
		if len(batch) == 500 {
			send()
		}
		return ctx.Err()
	})
	if len(batch) > 0 && err == nil {
		send()
	}
	for _, in := range inputs {
		close(in)
	}
	wg.Wait()
	close(done)
	<-reported
	if firstErr != nil {
		return firstErr
	}
	return err
}
