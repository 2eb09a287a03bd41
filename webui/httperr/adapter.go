package httperr

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"syscall"
)

// HandlerFunc is a handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Renderer writes e as an area's clients read errors. e's headers are set
// already; e.ErrorID is set for a server fault.
type Renderer func(w http.ResponseWriter, r *http.Request, e *Error)

// Adapter turns the errors of an area's handlers into answers: the one
// place that decides what a client is told and what is logged.
type Adapter struct {
	Log    *slog.Logger
	Render Renderer               // nil: problem+json
	Map    func(err error) *Error // the domain's errors as the client reads them; nil for others
}

// Handle adapts fn to http.Handler.
func (a Adapter) Handle(fn HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			a.Write(w, r, err)
		}
	})
}

// Write answers err: an *Error as itself, a domain error as Map reads
// it, anything else as a 500 whose cause is logged once under an id the
// client sees. A client gone away is not answered; an error after the
// answer started is only logged.
func (a Adapter) Write(w http.ResponseWriter, r *http.Request, err error) {
	e := a.classify(err)
	switch {
	case e == nil:
		return
	case Started(w):
		// The answer is under way: too late to say anything more.
		a.Log.Error("request failed after its response started", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	if e.cause != nil && e.ErrorID == "" {
		// Logged here and nowhere else: the client quotes the id.
		e.ErrorID = NewID()
		a.Log.Error("request failed", "error_id", e.ErrorID, "method", r.Method, "path", r.URL.Path, "status", e.Status, "err", err)
	}
	if e.Instance == "" {
		e.Instance = r.URL.Path
	}
	for k, v := range e.header {
		w.Header()[k] = v
	}
	render := a.Render
	if render == nil {
		render = WriteProblem
	}
	render(w, r, e)
}

// classify maps err to the Error its client is told; nil when there is
// no one to tell.
func (a Adapter) classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if a.Map != nil {
		if e := a.Map(err); e != nil {
			return e
		}
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET):
		return nil // the client went away
	}
	return Internal(err)
}

// Internal is the answer to a server fault: 500, the cause for the log
// only.
func Internal(cause error) *Error {
	return Wrap(cause, http.StatusInternalServerError, "the server failed to handle this request")
}

// WriteProblem writes e as application/problem+json. When e has an
// error id, its detail asks the client to quote it.
func WriteProblem(w http.ResponseWriter, r *http.Request, e *Error) {
	out := *e
	if out.ErrorID != "" {
		out.Detail = fmt.Sprintf("%s; quote error id %s when reporting it", out.Detail, out.ErrorID)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(&out)
}

// Started reports whether w's answer has begun, as told by a writer that
// records it (the router's observing middleware wraps every request in
// one).
func Started(w http.ResponseWriter) bool {
	sw, ok := w.(interface{ Status() int })
	return ok && sw.Status() != 0
}

// NewID returns a fresh error id.
func NewID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}
