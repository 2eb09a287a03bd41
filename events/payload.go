package events

import (
	"encoding/json"
	"fmt"
	"sync"
)

// Payload is an event's Data decoded into the type its Type carries:
// PostData, CategoryData, SettingsData, ProfileData, MediaData, EmbedData
// or RollbackData. The set is sealed (isPayload is unexported) so that a
// consumer's type switch over a Payload sees every kind of change there is.
type Payload interface{ isPayload() }

func (PostData) isPayload()     {}
func (CategoryData) isPayload() {}
func (SettingsData) isPayload() {}
func (ProfileData) isPayload()  {}
func (MediaData) isPayload()    {}
func (EmbedData) isPayload()    {}
func (RollbackData) isPayload() {}

// Payload decodes e's Data into the payload of e's Type, the one place
// where the catalogue's types meet their Go shapes. A type this build does
// not know is an error wrapping ErrUnknownType. Data is expected at the
// current schema, as Codec.Decode leaves it.
func (e *Event) Payload() (Payload, error) {
	if d := e.shared; d != nil {
		d.once.Do(func() { d.p, d.err = e.decode() })
		return d.p, d.err
	}
	return e.decode()
}

// decoded is an event's payload, decoded by the first of its readers.
type decoded struct {
	once sync.Once
	p    Payload
	err  error
}

// ShareDecoding makes the copies of e taken after it decode Data once
// between them (a rebuild hands every event to every projection at
// once). The payload is then shared: its readers must not change it,
// slices and pointers included, as nobody changes an event.
func (e *Event) ShareDecoding() {
	if e.shared == nil {
		e.shared = &decoded{}
	}
}

func (e *Event) decode() (Payload, error) {
	switch e.Type {
	case PostCreated, PostUpdated, PostPublished, PostUnpublished, PostDeleted, PostRestored,
		PostSubmitted, PostChangesRequested, PostScheduled:
		return decodePayload[PostData](e)
	case CategoryCreated, CategoryUpdated, CategoryDeleted, CategoryRestored:
		return decodePayload[CategoryData](e)
	case SettingsChanged, SettingsRestored:
		return decodePayload[SettingsData](e)
	case ProfileChanged, ProfileRestored:
		return decodePayload[ProfileData](e)
	case SiteRolledBack:
		return decodePayload[RollbackData](e)
	case MediaUploaded, MediaUpdated, MediaDeleted, MediaRestored:
		return decodePayload[MediaData](e)
	case EmbedResolved:
		return decodePayload[EmbedData](e)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownType, e.Type)
}

func decodePayload[P Payload](e *Event) (Payload, error) {
	var p P
	if err := json.Unmarshal(e.Data, &p); err != nil {
		return nil, fmt.Errorf("decode %s payload: %w", e.Type, err)
	}
	return p, nil
}
