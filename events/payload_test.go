package events

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/content"
)

func TestPayload(t *testing.T) {
	post := `{"post":{"id":"p1","slug":"hello","title":"Hello","status":"published"}}`
	postWant := PostData{Post: content.Post{ID: "p1", Slug: "hello", Title: "Hello", Status: content.Published}}
	cat := `{"category":{"slug":"books","name":"Books"},"previous":{"slug":"books","name":"Old"}}`
	catWant := CategoryData{Category: content.Category{Slug: "books", Name: "Books"}, Previous: &content.Category{Slug: "books", Name: "Old"}}
	media := `{"media":{"id":"m1","sha256":"ab","type":"image/png","width":2,"height":3}}`
	mediaWant := MediaData{Media: content.Media{ID: "m1", SHA256: "ab", Type: "image/png", Width: 2, Height: 3}}
	tests := []struct {
		typ  Type
		data string
		want Payload
	}{
		{PostCreated, post, postWant},
		{PostUpdated, `{"post":{"id":"p1"},"previous":{"id":"p1","slug":"old"}}`,
			PostData{Post: content.Post{ID: "p1"}, Previous: &content.Post{ID: "p1", Slug: "old"}}},
		{PostPublished, post, postWant},
		{PostUnpublished, post, postWant},
		{PostDeleted, post, postWant},
		{PostSubmitted, post, postWant},
		{PostScheduled, post, postWant},
		{PostChangesRequested, `{"post":{"id":"p1","status":"draft","review_note":"Shorter, please."},"previous":{"id":"p1","status":"pending"}}`,
			PostData{Post: content.Post{ID: "p1", Status: content.Draft, ReviewNote: "Shorter, please."}, Previous: &content.Post{ID: "p1", Status: content.Pending}}},
		{CategoryCreated, cat, catWant},
		{CategoryUpdated, cat, catWant},
		{CategoryDeleted, cat, catWant},
		{SettingsChanged, `{"settings":{"title":"Site","language":"fr"}}`, SettingsData{Settings: content.Settings{Title: "Site", Language: "fr"}}},
		{ProfileChanged, `{"profile":{"name":"Ada","bio":"*hi*"}}`, ProfileData{Profile: content.Profile{Name: "Ada", Bio: "*hi*"}}},
		{MediaUploaded, media, mediaWant},
		{MediaUpdated, media, mediaWant},
		{MediaDeleted, media, mediaWant},
		{EmbedResolved, `{"post_id":"p1","embed":{"url":"https://e.org","kind":"link"}}`,
			EmbedData{PostID: "p1", Embed: content.Embed{URL: "https://e.org", Kind: "link"}}},
		{PostRestored, `{"post":{"id":"p1"},"restored_from":"abc"}`, PostData{Post: content.Post{ID: "p1"}, RestoredFrom: "abc"}},
		{CategoryRestored, `{"category":{"slug":"books"},"restored_from":"abc"}`,
			CategoryData{Category: content.Category{Slug: "books"}, RestoredFrom: "abc"}},
		{SettingsRestored, `{"settings":{"title":"Site"},"restored_from":"abc"}`,
			SettingsData{Settings: content.Settings{Title: "Site"}, RestoredFrom: "abc"}},
		{ProfileRestored, `{"profile":{"name":"Ada"},"restored_from":"abc"}`, ProfileData{Profile: content.Profile{Name: "Ada"}, RestoredFrom: "abc"}},
		{MediaRestored, `{"media":{"id":"m1"},"restored_from":"abc"}`, MediaData{Media: content.Media{ID: "m1"}, RestoredFrom: "abc"}},
		{SiteRolledBack, `{"to":"abc","to_time":"2026-11-30T10:00:00Z","files":3}`,
			RollbackData{To: "abc", ToTime: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC), Files: 3}},
	}
	covered := map[Type]bool{}
	for _, tt := range tests {
		covered[tt.typ] = true
		e := Event{ID: "c-0", Type: tt.typ, Data: json.RawMessage(tt.data)}
		got, err := e.Payload()
		if err != nil {
			t.Errorf("%s: %v", tt.typ, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.typ, got, tt.want)
		}
	}
	// A type added to the catalogue needs a payload, and a row here.
	for typ := range NewCodec().current {
		if !covered[typ] {
			t.Errorf("no test of the payload of %s", typ)
		}
	}
}

func TestPayloadErrors(t *testing.T) {
	tests := []struct {
		name    string
		e       Event
		unknown bool
	}{
		{"unknown type", Event{Type: "post.liked", Data: json.RawMessage(`{}`)}, true},
		{"empty type", Event{Data: json.RawMessage(`{}`)}, true},
		{"wrong shape", Event{Type: PostCreated, Data: json.RawMessage(`{"post":"p1"}`)}, false},
		{"no data", Event{Type: SettingsChanged}, false},
	}
	for _, tt := range tests {
		p, err := tt.e.Payload()
		if err == nil {
			t.Errorf("%s: got %#v, want an error", tt.name, p)
			continue
		}
		if errors.Is(err, ErrUnknownType) != tt.unknown {
			t.Errorf("%s: errors.Is(%v, ErrUnknownType) = %v", tt.name, err, !tt.unknown)
		}
	}
}

// Copies of an event shared with ShareDecoding decode it once between
// them; events not shared decode on every call.
func TestShareDecoding(t *testing.T) {
	e := Event{Type: PostCreated, Data: json.RawMessage(`{"post":{"id":"p1","tags":["a","b"]}}`)}
	tags := func(e Event) *string {
		p, err := e.Payload()
		if err != nil {
			t.Fatal(err)
		}
		return &p.(PostData).Post.Tags[0]
	}
	if tags(e) == tags(e) {
		t.Fatal("an event not shared returned one payload twice")
	}
	e.ShareDecoding()
	a, b := e, e
	if tags(a) != tags(b) {
		t.Fatal("copies of a shared event decoded it twice")
	}
}
