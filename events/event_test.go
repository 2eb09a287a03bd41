package events

import (
	"encoding/json"
	"testing"
)

func TestCodecUpcastsOldSchemas(t *testing.T) {
	c := &Codec{current: map[Type]int{}, upcast: map[Type][]upcaster{}}
	// Pretend post.created once carried "name" where it now carries "title".
	c.register(PostCreated, 2, func(d json.RawMessage) (json.RawMessage, error) {
		var m map[string]any
		if err := json.Unmarshal(d, &m); err != nil {
			return nil, err
		}
		m["title"] = m["name"]
		delete(m, "name")
		return json.Marshal(m)
	})
	e, err := c.Decode([]byte(`{"id":"x-0","type":"post.created","schema":1,"data":{"name":"Old"}}`))
	if err != nil || e.Schema != 2 || string(e.Data) != `{"title":"Old"}` {
		t.Fatalf("upcast: %+v %v", e, err)
	}
	if _, err := c.Decode([]byte(`{"type":"post.created","schema":3,"data":{}}`)); err == nil {
		t.Fatal("a newer schema must not decode silently")
	}
	if _, err := NewCodec().Decode([]byte(`{"type":"media.exploded","schema":1}`)); err == nil {
		t.Fatal("unknown type decoded")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a type twice must panic")
		}
	}()
	c.register(PostCreated, 1)
}
