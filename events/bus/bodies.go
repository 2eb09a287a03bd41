package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events"
)

// Anything git can hold must be publishable, whatever the server's
// max_payload: an event whose message would not fit is carried by
// reference. Its body goes into a JetStream object store (which chunks
// it) under the event's id, and the stream's message, with the same
// headers and id, holds nothing but the header hdrBody naming the
// object. The object is written before the message, so a consumer that
// sees the message can read the body; writing it again (a republish) is
// harmless, since the same event always has the same body.

// BodiesBucket is the object store of bodies too large for a message.
const BodiesBucket = "CHRONICLE_EVENT_BODIES"

const (
	hdrBody  = "Chronicle-Body"
	byObject = "object"
	// headroom is what a message's subject and headers may take beside
	// its body; they are a few hundred bytes.
	headroom = 16 << 10
)

// Bodies publishes and reads event bodies, inline or by reference.
type Bodies struct {
	obs    jetstream.ObjectStore
	inline int // largest body sent in the message itself
}

// BodiesConfig configures Bodies.
type BodiesConfig struct {
	Replicas int
	// MaxPayload is the server's limit on a message (nats.Conn's
	// MaxPayload); bodies that would not fit beside the headers are
	// carried by reference.
	MaxPayload int64
	// MaxInline, if positive and smaller, lowers the size above which a
	// body is carried by reference (tests use it).
	MaxInline int
	// Existing opens the store as it is and never changes it (a read
	// node), creating it as configured only if it does not exist yet.
	Existing bool
}

// OpenBodies creates or opens the bodies' object store.
func OpenBodies(ctx context.Context, js jetstream.JetStream, cfg BodiesConfig) (*Bodies, error) {
	osc := jetstream.ObjectStoreConfig{
		Bucket:      BodiesBucket,
		Description: "Chronicle events too large for one message of the events stream",
		Storage:     jetstream.FileStorage,
		Replicas:    max(cfg.Replicas, 1),
	}
	var obs jetstream.ObjectStore
	var err error
	if cfg.Existing {
		obs, err = js.ObjectStore(ctx, BodiesBucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
			obs, err = js.CreateObjectStore(ctx, osc)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) || errors.Is(err, jetstream.ErrBucketExists) {
				obs, err = js.ObjectStore(ctx, BodiesBucket) // the writer made it meanwhile
			}
		}
	} else {
		obs, err = js.CreateOrUpdateObjectStore(ctx, osc)
	}
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", BodiesBucket, err)
	}
	inline := int(cfg.MaxPayload) - headroom
	if cfg.MaxPayload <= 0 {
		inline = 1<<20 - headroom // NATS's default max_payload
	}
	if cfg.MaxInline > 0 {
		inline = min(inline, cfg.MaxInline)
	}
	if inline < 1<<10 {
		return nil, fmt.Errorf("the NATS server's max_payload (%d bytes) leaves no room for events", cfg.MaxPayload)
	}
	return &Bodies{obs: obs, inline: inline}, nil
}

// Message turns an event into a stream message, putting its body in the
// object store first if it is too large to go inline.
func (b *Bodies) Message(ctx context.Context, e *events.Event) (*nats.Msg, error) {
	m, err := Message(e)
	if err != nil || len(m.Data) <= b.inline {
		return m, err
	}
	if _, err := b.obs.PutBytes(ctx, e.ID, m.Data); err != nil {
		return nil, fmt.Errorf("store the %d-byte body of event %s: %w", len(m.Data), e.ID, err)
	}
	m.Data = nil
	m.Header.Set(hdrBody, byObject)
	return m, nil
}

// ErrNoBodies is returned for a message carried by reference when no
// object store was given to read it from.
var ErrNoBodies = errors.New("event carried by reference, and no object store to read it from")

// Data returns the body of a message of the stream: its data, or the
// object it refers to. b may be nil when no message is carried by
// reference.
func (b *Bodies) Data(ctx context.Context, h nats.Header, data []byte) ([]byte, error) {
	if h.Get(hdrBody) != byObject {
		return data, nil
	}
	id := h.Get(jetstream.MsgIDHeader)
	if b == nil {
		return nil, fmt.Errorf("event %s: %w", id, ErrNoBodies)
	}
	body, err := b.obs.GetBytes(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read the body of event %s from %s: %w", id, BodiesBucket, err)
	}
	return body, nil
}

// marshal encodes an event without HTML escaping: a post full of "<"
// would otherwise grow sixfold.
func marshal(e *events.Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
