// Package bus carries events over NATS JetStream. One stream holds every
// event, one message per event, each with the full new state, so consumers
// never need git; a state too large for a message goes in an object store
// and its message refers to it (see Bodies). Messages are deduplicated by
// Nats-Msg-Id, which is the event id (commit hash + index): publishing the
// same commit twice is harmless. The Outbox publishes what git has and the
// stream lacks, in order, and says when it cannot.
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events"
)

// Stream and subject names.
const (
	StreamName    = "CHRONICLE_EVENTS"
	SubjectPrefix = "chronicle.events."

	hdrCommit = "Chronicle-Commit"
	hdrHeight = "Chronicle-Height"
	hdrIndex  = "Chronicle-Index"
	hdrCount  = "Chronicle-Count"
)

// DuplicateWindow is how long the server remembers message ids. The outbox
// resumes from the stream's last message, so a longer window only matters
// for a writer that was cut off mid-commit and comes back much later.
const DuplicateWindow = 24 * time.Hour

// StreamConfig is how the events stream is kept.
type StreamConfig struct {
	// Replicas is how many servers of a JetStream cluster hold the
	// stream (1, 3 or 5); default 1.
	Replicas int
	// MaxAge and MaxBytes bound what the stream keeps (0: no bound);
	// older events are dropped, and a node that needs them bootstraps
	// from the writer's repository instead.
	MaxAge   time.Duration
	MaxBytes int64
}

// EnsureStream creates or updates the events stream. Only the writer
// calls it: a read node opens the stream as it is (OpenStream), so that
// no node but the writer changes how it is kept.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (jetstream.Stream, error) {
	s, err := js.CreateOrUpdateStream(ctx, cfg.stream())
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", StreamName, err)
	}
	return s, nil
}

// OpenStream opens the events stream as it is, creating it as cfg says
// only if it does not exist yet (a read node started before the writer).
func OpenStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, StreamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, cfg.stream())
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = js.Stream(ctx, StreamName) // the writer made it meanwhile
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", StreamName, err)
	}
	return s, nil
}

func (cfg StreamConfig) stream() jetstream.StreamConfig {
	maxBytes := cfg.MaxBytes
	if maxBytes <= 0 {
		maxBytes = -1
	}
	// The server refuses a duplicate window longer than the stream keeps
	// its messages.
	dups := DuplicateWindow
	if cfg.MaxAge > 0 {
		dups = min(dups, cfg.MaxAge)
	}
	return jetstream.StreamConfig{
		Name:        StreamName,
		Description: "Chronicle content events, derived from the git history of main",
		Subjects:    []string{SubjectPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Duplicates:  dups,
		Replicas:    max(cfg.Replicas, 1),
		MaxAge:      cfg.MaxAge,
		MaxBytes:    maxBytes,
	}
}

// Message turns an event into a stream message.
func Message(e *events.Event) (*nats.Msg, error) {
	b, err := marshal(e)
	if err != nil {
		return nil, err
	}
	m := nats.NewMsg(SubjectPrefix + string(e.Type))
	m.Data = b
	m.Header.Set(jetstream.MsgIDHeader, e.ID)
	m.Header.Set(hdrCommit, e.Commit)
	m.Header.Set(hdrHeight, strconv.FormatInt(e.Height, 10))
	m.Header.Set(hdrIndex, strconv.Itoa(e.Index))
	m.Header.Set(hdrCount, strconv.Itoa(e.Count))
	return m, nil
}

// CursorOf reads the position of a stored message from its headers.
func CursorOf(h nats.Header) (events.Cursor, error) {
	height, err1 := strconv.ParseInt(h.Get(hdrHeight), 10, 64)
	index, err2 := strconv.Atoi(h.Get(hdrIndex))
	count, err3 := strconv.Atoi(h.Get(hdrCount))
	if err := errors.Join(err1, err2, err3); err != nil || h.Get(hdrCommit) == "" {
		return events.Cursor{}, fmt.Errorf("message without a position: %v", err)
	}
	return events.Cursor{Commit: h.Get(hdrCommit), Height: height, Index: index, Count: count}, nil
}

// LastPublished returns the position of the stream's last message, or the
// zero cursor for an empty stream.
func LastPublished(ctx context.Context, s jetstream.Stream) (events.Cursor, uint64, error) {
	c, _, seq, err := lastMessage(ctx, s)
	return c, seq, err
}

// lastMessage returns the position, message id and sequence of the
// stream's last message.
func lastMessage(ctx context.Context, s jetstream.Stream) (events.Cursor, string, uint64, error) {
	for try := 0; ; try++ {
		info, err := s.Info(ctx)
		if err != nil {
			return events.Cursor{}, "", 0, fmt.Errorf("stream info: %w", err)
		}
		if info.State.LastSeq == 0 || info.State.Msgs == 0 {
			return events.Cursor{}, "", 0, nil
		}
		m, err := s.GetMsg(ctx, info.State.LastSeq)
		if errors.Is(err, jetstream.ErrMsgNotFound) && try < 3 {
			continue // dropped since (the stream's retention): look again
		}
		if err != nil {
			return events.Cursor{}, "", 0, fmt.Errorf("read last message: %w", err)
		}
		c, err := CursorOf(m.Header)
		return c, m.Header.Get(jetstream.MsgIDHeader), info.State.LastSeq, err
	}
}

// EmbeddedConfig configures the in-process server.
type EmbeddedConfig struct {
	StoreDir string
	Logger   *slog.Logger
}

// StartEmbedded runs a JetStream-enabled nats-server inside the process,
// listening on no port, and returns it with a connection to it.
func StartEmbedded(cfg EmbeddedConfig) (*server.Server, *nats.Conn, error) {
	ns, err := server.NewServer(&server.Options{
		ServerName: "chronicle",
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		DontListen: true,
		NoSigs:     true,
		NoLog:      cfg.Logger == nil,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("create nats server: %w", err)
	}
	if cfg.Logger != nil {
		ns.SetLoggerV2(&natsLogger{cfg.Logger.With("component", "nats")}, false, false, false)
	}
	ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, nil, errors.New("embedded nats server did not start within 30s")
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns), nats.Name("chronicle"))
	if err != nil {
		ns.Shutdown()
		return nil, nil, fmt.Errorf("connect to embedded nats: %w", err)
	}
	return ns, nc, nil
}

// natsLogger adapts slog to nats-server's logger.
type natsLogger struct{ l *slog.Logger }

func (n *natsLogger) Noticef(f string, a ...any) { n.l.Debug(fmt.Sprintf(f, a...)) }
func (n *natsLogger) Warnf(f string, a ...any)   { n.l.Warn(fmt.Sprintf(f, a...)) }
func (n *natsLogger) Fatalf(f string, a ...any)  { n.l.Error(fmt.Sprintf(f, a...)) }
func (n *natsLogger) Errorf(f string, a ...any)  { n.l.Error(fmt.Sprintf(f, a...)) }
func (n *natsLogger) Debugf(f string, a ...any)  { n.l.Debug(fmt.Sprintf(f, a...)) }
func (n *natsLogger) Tracef(f string, a ...any)  {}

// OpenKeyValue opens the key-value bucket cfg names as it is, creating it
// as cfg says only if no node has yet. It never changes an existing
// bucket, so nodes started with other defaults cannot change how the
// site's shared state is kept (its replicas, its TTL).
func OpenKeyValue(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	cfg.Replicas = max(cfg.Replicas, 1)
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, cfg.Bucket) // another node was first
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open the key-value bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}
