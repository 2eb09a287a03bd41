// Package httperr is the one error type of Chronicle's HTTP areas and the
// one adapter that answers it. A handler returns an error; the adapter
// answers an *Error with its status and client-safe message, maps the
// domain's errors (validation, conflict, stale version, not found) to
// theirs, and answers anything else as a 500 whose cause is logged once,
// with an error id that the client sees too. How the answer looks is the
// area's choice of Renderer: problem+json (RFC 9457) for the API, a git
// or Git LFS message for git clients, a themed page for the site. The
// package knows nothing of the domain (an area maps the domain's errors
// with Adapter.Map), so that authentication, which uses it, stays apart
// from the event log and git.
package httperr

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// FieldError blames one field of the request (Line: of a file the
// request carried, when known).
type FieldError struct {
	Field  string `json:"field"`
	Line   int    `json:"line,omitempty"`
	Detail string `json:"detail"`
}

// Error is an HTTP error: a status, a message safe to show the client
// (Detail, Errors) and, when there is one, the internal cause (Unwrap),
// which only the log sees. Its JSON form is an RFC 9457 problem detail.
type Error struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	ErrorID  string       `json:"error_id,omitempty"` // ties an answer to its log line

	header     http.Header
	cause      error
	extensions map[string]any // see Extend
}

// Error is for logs: the status, the message and the cause.
func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Title, e.Detail, e.cause)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Title, e.Detail)
}

// Unwrap returns the internal cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// New returns an Error for status with a client-safe detail message.
func New(status int, detail string, args ...any) *Error {
	return &Error{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: fmt.Sprintf(detail, args...)}
}

// Field returns an Error that blames one field of the request.
func Field(status int, field, detail string, args ...any) *Error {
	e := New(status, "%s: %s", field, fmt.Sprintf(detail, args...))
	e.Errors = []FieldError{{Field: field, Detail: fmt.Sprintf(detail, args...)}}
	return e
}

// Wrap returns an Error for status whose client sees detail and whose
// log sees cause. A 5xx gets an error id when the adapter answers it.
func Wrap(cause error, status int, detail string, args ...any) *Error {
	e := New(status, detail, args...)
	e.cause = cause
	return e
}

// With sets a header of the answer (Allow, Retry-After,
// WWW-Authenticate…) and returns e.
func (e *Error) With(key, value string) *Error {
	if e.header == nil {
		e.header = http.Header{}
	}
	e.header.Set(key, value)
	return e
}

// Header returns the headers set with With.
func (e *Error) Header() http.Header { return e.header }

// Extend adds a member to the problem detail beyond the standard ones
// (RFC 9457 §3.2 extension members, e.g. what a conflict clashed with)
// and returns e. key must not be a standard member's name.
func (e *Error) Extend(key string, value any) *Error {
	if e.extensions == nil {
		e.extensions = map[string]any{}
	}
	e.extensions[key] = value
	return e
}

// MarshalJSON writes the problem detail with its extension members.
func (e Error) MarshalJSON() ([]byte, error) {
	type plain Error // without this method
	b, err := json.Marshal(plain(e))
	if err != nil || len(e.extensions) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range e.extensions {
		if _, standard := m[k]; standard {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		m[k] = raw
	}
	return json.Marshal(m)
}
