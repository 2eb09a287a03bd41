// Package projections runs read models fed by the event stream. Each
// projection is a durable JetStream consumer named after the projection;
// it stores its checkpoint (the position of the last event applied, and
// that event's stream sequence) atomically with its own state, skips any
// event at or before its checkpoint, and is acknowledged only after its
// state is durable. Events are applied strictly in order and none is ever
// skipped: any failure ends the consumer, and a new one resumes just after
// the checkpoint, after a backoff; an event that keeps failing halts its
// projection there (Health says so) until the cause is gone. So
// redeliveries, a recreated stream or a restart never apply an event
// twice, and deleting a projection's state rebuilds it.
package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
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
	// the new checkpoint in the same atomic write as the state. On an
	// error nothing of the batch may be stored: the same events come
	// again.
	Apply(ctx context.Context, evs []events.Event, cp Checkpoint) error
	// Reset drops all state and the checkpoint.
	Reset() error
}

// Consumer settings. AckWait is well above the time a batch takes; a
// redelivery after it is recognised and dropped. There is no MaxDeliver:
// the server never gives up on an event, and the runtime never skips one.
// Heartbeat is how often an idle consumer hears from its server: two
// missed, and the consumer is taken for lost and made again.
const (
	AckWait   = 30 * time.Second
	BatchSize = 256
	Heartbeat = 2 * time.Second
)

// ErrDiverged is a projection's error when the stream's events do not
// follow the history its checkpoint was made from (main was rewritten,
// or the stream belongs to another repository). It halts the projection
// rather than skip events as "applied before", unless the runtime may
// recover it (RuntimeConfig.RecoverDiverged).
var ErrDiverged = errors.New("the event stream does not follow the history this projection was built from")

// DivergedError is ErrDiverged with the stream's event that showed it:
// at the projection's height, of another commit.
type DivergedError struct {
	Seq    uint64        // the event's stream sequence
	Event  events.Cursor // the event's position
	Commit string        // the projection's commit at that height
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("%v: the event at stream sequence %d is of commit %s, at the height of commit %s", ErrDiverged, e.Seq, e.Event.Commit, e.Commit)
}

func (e *DivergedError) Unwrap() error { return ErrDiverged }

// Runtime runs projections against the events stream.
type Runtime struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	bodies  *bus.Bodies
	logger  *slog.Logger
	codec   *events.Codec
	runners []*runner
	node    string
	backoff [2]time.Duration // first and longest wait before resuming after a failure
	lag     *prometheus.GaugeVec
	applied *prometheus.CounterVec
	wg      sync.WaitGroup

	recovery *recovery // nil: a projection with a gap halts there
	diverged bool      // a diverged projection goes to the recovery too
}

type runner struct {
	p Projection

	mu      sync.Mutex
	cp      Checkpoint
	seen    uint64        // stream sequence of the last event applied or found applied
	changed chan struct{} // closed and replaced whenever cp advances
	halted  error         // why the projection stopped, until it applies again
	since   time.Time     // when it stopped
	behind  uint64        // events in the stream after it, at the last measurement

	consumer string // the consumer's name last made (only the runner's goroutine touches it)
}

// RuntimeConfig configures a Runtime.
type RuntimeConfig struct {
	// Node prefixes consumer names, so that several nodes sharing one
	// NATS cluster each get every event. Empty for a single node.
	Node     string
	Registry prometheus.Registerer // may be nil
	// Bodies reads events carried by reference; nil if none are.
	Bodies *bus.Bodies
	// Backoff is the first wait before a projection resumes after a
	// failure (default 500ms); it doubles at each failure in a row up to
	// MaxBackoff (default 30s).
	Backoff, MaxBackoff time.Duration
	// Recover, if set, brings projections past a gap in the stream (see
	// RecoverFunc): retried with the same backoff until it succeeds,
	// while Recovery says how it goes. Without it such a projection
	// halts, with ErrGap, until restarted.
	Recover RecoverFunc
	// RecoverDiverged hands Recover the projections that find the stream
	// off their history (ErrDiverged) too: a read node, whose writer's
	// repository says which of the two is off. Without it they halt
	// (the writer: its repository is the truth, and a stream that
	// does not follow it is for an operator to sort out).
	RecoverDiverged bool
}

// NewRuntime returns a runtime for ps.
func NewRuntime(js jetstream.JetStream, stream jetstream.Stream, logger *slog.Logger, cfg RuntimeConfig, ps ...Projection) *Runtime {
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.Backoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.Backoff)
	}
	reg := cfg.Registry
	// On a cluster each node's series say which node they are, so that
	// a dashboard fed by all of them shows each node's lag.
	var node prometheus.Labels
	if cfg.Node != "" {
		node = prometheus.Labels{"node": cfg.Node}
	}
	rt := &Runtime{js: js, stream: stream, bodies: cfg.Bodies, logger: logger, codec: events.NewCodec(), node: cfg.Node,
		diverged: cfg.RecoverDiverged && cfg.Recover != nil,
		backoff:  [2]time.Duration{cfg.Backoff, cfg.MaxBackoff},
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chronicle_projection_lag_events", ConstLabels: node,
			Help: "Events in the stream not yet applied by a projection."}, []string{"projection"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chronicle_projection_events_applied_total", ConstLabels: node,
			Help: "Events applied by a projection."}, []string{"projection"})}
	if reg != nil {
		reg.MustRegister(rt.lag, rt.applied)
	}
	if cfg.Recover != nil {
		rt.recovery = &recovery{rt: rt, fn: cfg.Recover, reqs: make(chan recoverReq),
			attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chronicle_projection_recoveries_total", ConstLabels: node,
				Help: "Attempts to bring projections past a gap in the event stream, or onto its history (a read node's bootstrap), by result: ok, failed."}, []string{"result"})}
		if reg != nil {
			reg.MustRegister(rt.recovery.attempts)
		}
	}
	for _, p := range ps {
		cp := p.Checkpoint()
		rt.runners = append(rt.runners, &runner{p: p, cp: cp, seen: cp.Seq, changed: make(chan struct{})})
	}
	return rt
}

// Start launches every projection's consumer; they run until ctx ends.
// Wait blocks until they have stopped.
func (rt *Runtime) Start(ctx context.Context) error {
	for _, r := range rt.runners {
		cons, start, err := rt.consumer(ctx, r)
		if err != nil && !errors.Is(err, ErrGap) {
			return err
		}
		// A gap is the node's state, not a failure to start: the
		// projection is recovered past it (or halts there, saying why),
		// and is halted from now on.
		if err != nil {
			r.halt(err)
		}
		rt.wg.Add(1)
		go func() {
			defer rt.wg.Done()
			rt.run(ctx, r, cons, start, err)
		}()
	}
	rt.wg.Add(1)
	go func() {
		defer rt.wg.Done()
		rt.measureLag(ctx)
	}()
	if rt.recovery != nil {
		rt.wg.Add(1)
		go func() {
			defer rt.wg.Done()
			rt.recovery.run(ctx)
		}()
	}
	return nil
}

// Wait blocks until every consumer stopped.
func (rt *Runtime) Wait() { rt.wg.Wait() }

func (rt *Runtime) consumerName(r *runner) string {
	if rt.node != "" {
		return rt.node + "_" + r.p.Name()
	}
	return r.p.Name()
}

// consumer (re)creates the projection's durable consumer so that it starts
// just after the projection's own checkpoint, and returns it with the
// stream sequence it starts at. The checkpoint, not the server's ack
// floor, is the truth: the state may have been deleted, the stream
// recreated from git, or the last batch failed.
func (rt *Runtime) consumer(ctx context.Context, r *runner) (jetstream.Consumer, uint64, error) {
	cp := r.checkpoint()
	// Events dropped by the stream's retention would be skipped.
	if err := Missing(ctx, rt.stream, cp); err != nil {
		return nil, 0, err
	}
	info, err := rt.stream.Info(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("stream info: %w", err)
	}
	// Without a usable checkpoint, from the stream's first message, which
	// need not be 1 (a purged or limited stream).
	start := max(info.State.FirstSeq, 1)
	found := false
	if cp.Seq > 0 {
		if m, err := rt.stream.GetMsg(ctx, cp.Seq); err == nil {
			if c, err := bus.CursorOf(m.Header); err == nil && c == cp.Cursor {
				start, found = cp.Seq+1, true
			}
		}
	}
	if !found && cp.Cursor.Height > 0 && info.State.Msgs > 0 {
		// A position without its sequence (built from git: CatchUp, or a
		// read node's bootstrap), or whose message the stream dropped:
		// start after the messages it covers, found by position, rather
		// than read and skip all before.
		start = rt.seqAfter(ctx, cp.Cursor, start, info.State.LastSeq)
	}
	// Everything before start is applied or not needed: not lag.
	r.mu.Lock()
	r.seen = max(r.seen, start-1)
	r.mu.Unlock()
	name := r.consumer
	if name == "" {
		name = rt.consumerName(r)
	}
	if err := rt.stream.DeleteConsumer(ctx, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		// The server that keeps it does not answer (killed, in a
		// cluster, and not yet known to be gone, so a consumer may even
		// have been placed there): that name is stuck until it returns.
		// The projection goes on under a new one; the old expires
		// (InactiveThreshold).
		rt.logger.Warn("projection's consumer cannot be removed; a new one is made", "projection", r.p.Name(), "consumer", name, "err", err)
		name = fmt.Sprintf("%s_%x", rt.consumerName(r), time.Now().UnixNano())
	}
	r.consumer = name
	cons, err := rt.stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "Chronicle projection " + name,
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   start,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 4 * BatchSize,
		// The consumer's state is disposable (the checkpoint is the
		// truth, and the consumer is made afresh at every start), so it
		// is kept by one server, in memory, whatever the stream's
		// replicas. Replicated (R3), every delivery and acknowledgement
		// of every projection of every node went through Raft: the NATS
		// servers spent 3.4–4 times the CPU per write (BenchmarkReadNode),
		// and a consumer took half a second to make. If its server goes,
		// the consumer is made again on another (see consume).
		Replicas:      1,
		MemoryStorage: true,
		// One left behind (a node gone for good, a name given up above)
		// is removed by the servers once nothing has pulled from it for
		// this long; a consumer in use pulls all the time.
		InactiveThreshold: time.Hour,
	})
	if err != nil {
		return nil, 0, fmt.Errorf("create consumer %s: %w", name, err)
	}
	rt.logger.Debug("projection consuming", "projection", name, "from_seq", start, "checkpoint", cp.Cursor.Height)
	return cons, start, nil
}

// seqAfter returns the sequence of the first message in [first, last]
// whose event is after c, or last+1 if none is: positions grow with the
// sequence, so a binary search over a few messages finds it. Only if the
// message just before is c's own event (or the answer is first) are the
// ones before skipped; otherwise first, and apply sorts out what was
// applied before (or halts on a diverged stream).
func (rt *Runtime) seqAfter(ctx context.Context, c events.Cursor, first, last uint64) uint64 {
	at := func(seq uint64) (events.Cursor, bool) {
		m, err := rt.stream.GetMsg(ctx, seq)
		if err != nil {
			return events.Cursor{}, false
		}
		mc, err := bus.CursorOf(m.Header)
		return mc, err == nil
	}
	lo, hi := first, last+1 // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		mc, ok := at(mid)
		if !ok {
			return first
		}
		if c.Before(mc) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == first {
		return first
	}
	if prev, ok := at(lo - 1); !ok || prev != c {
		return first
	}
	return lo
}

// run feeds r from cons until ctx ends. Whatever goes wrong ends that
// consumer; after a backoff (doubling while failures follow each other,
// reset once events apply) a new one starts after the checkpoint. Each
// failure is logged once, with the wait before the next try.
func (rt *Runtime) run(ctx context.Context, r *runner, cons jetstream.Consumer, start uint64, err error) {
	wait := time.Duration(0)
	for {
		if cons != nil {
			before := r.checkpoint()
			err = rt.consume(ctx, r, cons, start)
			if r.checkpoint() != before {
				wait = 0 // it went forward before failing: a new failure
			}
		}
		if ctx.Err() != nil {
			return
		}
		if rt.recovery != nil && (errors.Is(err, ErrGap) || rt.diverged && errors.Is(err, ErrDiverged)) {
			// Held (serving what it has) while it is brought past the
			// gap, or onto the stream's history; the recovery logs and
			// retries.
			if !rt.recoverGap(ctx, r, err) {
				return
			}
			wait = 0
			cons, start, err = rt.consumer(ctx, r)
			rt.nothingPending(ctx, r, start, err)
			continue
		}
		wait = min(max(2*wait, rt.backoff[0]), rt.backoff[1])
		r.halt(err)
		rt.logger.Error("projection stopped; it resumes from its checkpoint", "projection", r.p.Name(),
			"checkpoint", r.checkpoint().Cursor.Commit, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		cons, start, err = rt.consumer(ctx, r) // on an error, the next round waits longer
		rt.nothingPending(ctx, r, start, err)
	}
}

// nothingPending marks r running again if its new consumer (made
// without err) has nothing to apply: nothing is held back.
func (rt *Runtime) nothingPending(ctx context.Context, r *runner, start uint64, err error) {
	if err == nil {
		if info, ierr := rt.stream.Info(ctx); ierr == nil && info.State.LastSeq < start {
			r.advance(r.checkpoint(), 0)
		}
	}
}

// consume applies what cons delivers, batch by batch, until ctx ends (nil)
// or something fails (the error).
func (rt *Runtime) consume(ctx context.Context, r *runner, cons jetstream.Consumer, start uint64) error {
	msgs := make(chan jetstream.Msg, 4*BatchSize)
	lost := make(chan error, 1)
	stop := make(chan struct{})
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case msgs <- m:
		case <-stop:
		}
	},
		jetstream.PullMaxMessages(2*BatchSize),
		jetstream.PullExpiry(5*Heartbeat), jetstream.PullHeartbeat(Heartbeat),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			// Deleted, or its server is gone (no heartbeat, or nobody
			// answers the next pull): made again, after the checkpoint.
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
				errors.Is(err, jetstream.ErrNoHeartbeat) || errors.Is(err, nats.ErrNoResponders) {
				select {
				case lost <- err:
				default:
				}
			}
			if ctx.Err() == nil {
				rt.logger.Debug("consumer", "projection", r.p.Name(), "err", err)
			}
		}))
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	defer func() {
		close(stop)
		cc.Stop()
	}()
	next := start // the stream sequence due next
	for {
		var batch []jetstream.Msg
		select {
		case <-ctx.Done():
			return nil
		case err := <-lost:
			return fmt.Errorf("consumer lost: %w", err)
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
		if err := rt.apply(ctx, r, batch, &next); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// apply applies a batch: each message must be the next of the stream
// (one seen before is a redelivery, and dropped). Events at or before
// the checkpoint were applied before; the others go to the projection in
// one Apply, and only then is the batch acknowledged. If that Apply
// fails, the events are applied one at a time up to the one that fails,
// so a projection halts exactly before its poison event, with everything
// before it applied, however the stream happened to batch them.
func (rt *Runtime) apply(ctx context.Context, r *runner, batch []jetstream.Msg, next *uint64) error {
	began := time.Now()
	var stored time.Time // when the stream stored the batch's first event
	cp := r.checkpoint()
	to := cp
	seen := uint64(0)
	var evs []events.Event
	var cps []Checkpoint // after each of evs
	var ack []jetstream.Msg
	for _, m := range batch {
		meta, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("message without metadata: %w", err)
		}
		seq := meta.Sequence.Stream
		if stored.IsZero() {
			stored = meta.Timestamp
		}
		if seq < *next {
			m.Ack() // delivered again after AckWait: applied already
			continue
		}
		if seq > *next {
			return fmt.Errorf("stream sequence %d arrived where %d was due", seq, *next)
		}
		*next = seq + 1
		ack, seen = append(ack, m), seq
		// Applied before (a republished commit, or a backlog the
		// projection was built past from git): known from the headers,
		// without fetching or decoding the event.
		if hc, err := bus.CursorOf(m.Headers()); err == nil && !to.Cursor.Before(hc) {
			if hc.Height == to.Cursor.Height && hc.Commit != to.Cursor.Commit {
				return &DivergedError{Seq: seq, Event: hc, Commit: to.Cursor.Commit}
			}
			continue
		}
		data, err := rt.bodies.Data(ctx, m.Headers(), m.Data())
		if err != nil {
			return fmt.Errorf("stream sequence %d: %w", seq, err)
		}
		e, err := rt.codec.Decode(data)
		if errors.Is(err, events.ErrUnknownType) {
			// A newer build's event: this build has nothing to apply.
			rt.logger.Warn("event of an unknown type passed over", "projection", r.p.Name(), "event", e.ID, "err", err)
			if to.Cursor.After(&e) {
				to = Checkpoint{Cursor: e.Cursor(), Seq: seq}
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("stream sequence %d: %w", seq, err)
		}
		if !to.Cursor.After(&e) {
			if e.Height == to.Cursor.Height && e.Commit != to.Cursor.Commit {
				return &DivergedError{Seq: seq, Event: e.Cursor(), Commit: to.Cursor.Commit}
			}
			continue // applied before: a republished commit
		}
		evs = append(evs, e)
		to = Checkpoint{Cursor: e.Cursor(), Seq: seq}
		cps = append(cps, to)
	}
	if len(evs) > 0 {
		if err := r.p.Apply(ctx, evs, to); err != nil {
			if len(evs) == 1 {
				return fmt.Errorf("apply event %s: %w", evs[0].ID, err)
			}
			if err := rt.applyEach(ctx, r, evs, cps, ack); err != nil {
				return err
			}
		} else {
			rt.applied.WithLabelValues(r.p.Name()).Add(float64(len(evs)))
		}
	}
	r.advance(to, seen)
	for _, m := range ack {
		if err := m.Ack(); err != nil && ctx.Err() == nil {
			rt.logger.Debug("ack failed; the event will be redelivered and dropped", "err", err)
		}
	}
	// Where an event's way from the stream to the readers spends its
	// time: delivery and the queue before the batch, then applying it.
	rt.logger.Debug("applied", "projection", r.p.Name(), "events", len(evs), "seq", seen,
		"waited", began.Sub(stored), "apply", time.Since(began))
	return nil
}

// applyEach applies evs one at a time after a batch of them failed,
// advancing and acknowledging as it goes, and returns the error of the
// first that fails (the rest wait for the resumed consumer); nil if the
// failure has passed. Apply is atomic with its checkpoint, so the failed
// batch left nothing behind.
func (rt *Runtime) applyEach(ctx context.Context, r *runner, evs []events.Event, cps []Checkpoint, msgs []jetstream.Msg) error {
	for i, e := range evs {
		if err := r.p.Apply(ctx, evs[i:i+1], cps[i]); err != nil {
			return fmt.Errorf("apply event %s: %w", e.ID, err)
		}
		rt.applied.WithLabelValues(r.p.Name()).Inc()
		r.advance(cps[i], cps[i].Seq)
		for len(msgs) > 0 {
			meta, err := msgs[0].Metadata()
			if err != nil || meta.Sequence.Stream > cps[i].Seq {
				break
			}
			if err := msgs[0].Ack(); err != nil && ctx.Err() == nil {
				rt.logger.Debug("ack failed; the event will be redelivered and dropped", "err", err)
			}
			msgs = msgs[1:]
		}
	}
	return nil
}

func (r *runner) checkpoint() Checkpoint {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cp
}

// advance records what a batch reached, and that the projection runs.
func (r *runner) advance(cp Checkpoint, seen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = max(r.seen, seen)
	r.halted = nil
	if cp != r.cp {
		r.cp = cp
		close(r.changed)
		r.changed = make(chan struct{})
	}
}

// rewind is advance to a checkpoint that may be behind the last, and
// from another stream history: what was seen of the stream is forgotten
// with it (the consumer made next says where it starts).
func (r *runner) rewind(cp Checkpoint) {
	r.mu.Lock()
	r.seen = cp.Seq
	r.mu.Unlock()
	r.advance(cp, 0)
}

func (r *runner) halt(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.halted == nil {
		r.since = time.Now()
	}
	r.halted = err
}

// Halt describes a projection that stopped on an error.
type Halt struct {
	Projection string
	Since      time.Time
	Err        error
}

// Halted lists the projections stopped on an error now, with the error
// and since when. Each retries after its backoff; an empty list means
// all run.
func (rt *Runtime) Halted() []Halt {
	var out []Halt
	for _, r := range rt.runners {
		r.mu.Lock()
		if r.halted != nil {
			out = append(out, Halt{Projection: r.p.Name(), Since: r.since, Err: r.halted})
		}
		r.mu.Unlock()
	}
	return out
}

// Health is nil while every projection runs, else an error naming each
// stopped one with its error.
func (rt *Runtime) Health() error {
	hs := rt.Halted()
	if len(hs) == 0 {
		return nil
	}
	var b strings.Builder
	for i, h := range hs {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "projection %s stopped since %s: %v", h.Projection, h.Since.UTC().Format(time.RFC3339), h.Err)
	}
	return errors.New(b.String())
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

// Status is a projection's state as people read it: how many events it
// was behind at the last measurement (every 2 s), and why it stopped, if
// it did.
type Status struct {
	Projection string
	Behind     uint64
	Halted     error
	Since      time.Time
}

// Statuses lists every projection's Status.
func (rt *Runtime) Statuses() []Status {
	out := make([]Status, 0, len(rt.runners))
	for _, r := range rt.runners {
		r.mu.Lock()
		out = append(out, Status{Projection: r.p.Name(), Behind: r.behind, Halted: r.halted, Since: r.since})
		r.mu.Unlock()
	}
	return out
}

// Positions reports each projection's checkpoint.
func (rt *Runtime) Positions() map[string]Checkpoint {
	out := map[string]Checkpoint{}
	for _, r := range rt.runners {
		out[r.p.Name()] = r.checkpoint()
	}
	return out
}

// Lag measures now how many events of the stream each projection has
// not applied (its gauge is updated too).
func (rt *Runtime) Lag(ctx context.Context) (map[string]uint64, error) {
	info, err := rt.stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream info: %w", err)
	}
	out := make(map[string]uint64, len(rt.runners))
	for _, r := range rt.runners {
		r.mu.Lock()
		at := max(r.cp.Seq, r.seen)
		r.behind = 0
		if info.State.LastSeq > at {
			r.behind = info.State.LastSeq - at
		}
		out[r.p.Name()] = r.behind
		r.mu.Unlock()
		rt.lag.WithLabelValues(r.p.Name()).Set(float64(out[r.p.Name()]))
	}
	return out, nil
}

func (rt *Runtime) measureLag(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		rt.Lag(ctx) // a failure shows as the last measure kept
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Rebuild drops the state of ps and replays the whole log into them from
// git (CatchUp from nothing). The checkpoints it leaves have no stream
// sequence, so the next start resumes by position.
func Rebuild(ctx context.Context, ps []Projection, log events.Log, progress func(applied int, at events.Cursor)) error {
	for _, p := range ps {
		if err := p.Reset(); err != nil {
			return fmt.Errorf("reset %s: %w", p.Name(), err)
		}
	}
	_, err := CatchUp(ctx, ps, log, progress)
	return err
}

// CatchUp feeds ps straight from the log, from the earliest of their
// checkpoints to the log's end, without the stream. The log is derived
// once; each batch goes to every projection, which apply in parallel
// what is after their own checkpoint while the next batch is derived.
// progress gets the events applied so far (by all) and the position
// reached. It returns the position every projection reached (the zero
// cursor if the log had nothing after them). The checkpoints it leaves
// have no stream sequence: the runtime finds where to resume in the
// stream by position (see consumer).
func CatchUp(ctx context.Context, ps []Projection, log events.Log, progress func(applied int, at events.Cursor)) (events.Cursor, error) {
	cps := make([]Checkpoint, len(ps))
	var from events.Cursor
	for i, p := range ps {
		cps[i] = p.Checkpoint()
		if i == 0 || cps[i].Cursor.Before(from) {
			from = cps[i].Cursor
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
				// Only what is after this projection's own checkpoint:
				// others may have started further back.
				evs := batch
				for len(evs) > 0 && !cps[i].Cursor.After(&evs[0]) {
					evs = evs[1:]
				}
				if len(evs) > 0 {
					if err := p.Apply(ctx, evs, Checkpoint{Cursor: at}); err != nil {
						done <- result{err: fmt.Errorf("apply to %s: %w", p.Name(), err)}
						cancel()
						for range inputs[i] {
						}
						return
					}
				}
				done <- result{n: len(batch), at: at}
			}
		}()
	}
	// Progress: a batch counts once every projection applied it.
	var firstErr error
	var reached events.Cursor
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
				reached = r.at
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
	err := log.Read(ctx, from, func(e events.Event) error {
		e.ShareDecoding() // every projection gets this very event
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
		return events.Cursor{}, firstErr
	}
	if err != nil {
		return events.Cursor{}, err
	}
	return reached, nil
}
