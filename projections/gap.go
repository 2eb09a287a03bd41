package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/chronicle-cms/chronicle/events/bus"
)

// ErrGap is a projection's error when the events just after its
// checkpoint are no longer in the stream (its retention, by age or size,
// dropped them): applying what the stream still holds would skip them.
// Such a projection is built again from the repository instead.
var ErrGap = errors.New("the event stream no longer holds the events after this projection's checkpoint: it must be built again from the repository")

// Missing is nil when the stream holds every event after cp (or cp is
// past all it ever held), else an error wrapping ErrGap that says where
// each stands. The stream's sequences are contiguous, so the event
// before its first message is the one at FirstSeq-1: cp must be that
// event, or that message itself or later. A checkpoint with a position
// but no sequence (built from git) is taken as current when the stream
// holds no message to compare it with.
func Missing(ctx context.Context, stream jetstream.Stream, cp Checkpoint) error {
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	st := info.State
	if st.FirstSeq <= 1 || st.LastSeq == 0 {
		return nil // nothing was ever dropped
	}
	if cp.Seq+1 == st.FirstSeq {
		return nil // the last event it applied is the one before the first held
	}
	if st.Msgs == 0 {
		// All dropped: it needs none of them if it applied the last.
		if cp.Seq >= st.LastSeq || (cp.Seq == 0 && cp.Cursor.Height > 0) {
			return nil
		}
		return fmt.Errorf("%w: it dropped every event up to sequence %d, and the projection is at height %d (sequence %d)",
			ErrGap, st.LastSeq, cp.Cursor.Height, cp.Seq)
	}
	m, err := stream.GetMsg(ctx, st.FirstSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Missing(ctx, stream, cp) // dropped meanwhile: look again
	}
	if err != nil {
		return fmt.Errorf("read the stream's first message: %w", err)
	}
	first, err := bus.CursorOf(m.Header)
	if err != nil {
		return err
	}
	if !cp.Cursor.Before(first) {
		return nil // it has the first event held, so all before it too
	}
	if first.Height == 1 && first.Index == 0 {
		return nil // the log's first event: a stream purged and published again
	}
	if cp.Cursor.Commit == first.Commit && cp.Cursor.Index+1 == first.Index {
		return nil // the event just before, of the same commit
	}
	return fmt.Errorf("%w: it starts at height %d (sequence %d), and the projection is at height %d (sequence %d)",
		ErrGap, first.Height, st.FirstSeq, cp.Cursor.Height, cp.Seq)
}
