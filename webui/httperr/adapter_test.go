package httperr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
)

// statusWriter records whether the answer started, as the router's
// observing writer does.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) Status() int { return s.status }

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// An error after the response started is logged, not written into it; a
// client gone away is not an error at all.
func TestErrorsAfterTheResponseStarted(t *testing.T) {
	var logged bytes.Buffer
	a := Adapter{Log: slog.New(slog.NewTextHandler(&logged, nil))}
	for _, tc := range []struct {
		err  error
		logs bool
	}{
		{errors.New("the list could not be read to the end"), true},
		{fmt.Errorf("write response: %w", syscall.EPIPE), false},
	} {
		logged.Reset()
		rec := httptest.NewRecorder()
		sw := &statusWriter{ResponseWriter: rec}
		a.Handle(func(w http.ResponseWriter, r *http.Request) error {
			w.Write([]byte(`{"items":[`))
			return tc.err
		}).ServeHTTP(sw, httptest.NewRequest("GET", "/api/v1/posts", nil))
		if rec.Code != 200 || rec.Body.String() != `{"items":[` || strings.Contains(logged.String(), "request failed after") != tc.logs {
			t.Errorf("%v: %d %q, log %q", tc.err, rec.Code, rec.Body.String(), logged.String())
		}
	}
}

// A cause reaches the log once, under the id the client is given; never
// the client.
func TestCauseIsLoggedOnceUnderTheClientsID(t *testing.T) {
	for _, err := range []error{
		errors.New("open /srv/data/secret.db: permission denied"),
		Wrap(errors.New("open /srv/data/secret.db: permission denied"), http.StatusRequestEntityTooLarge, "too large"),
	} {
		var logged bytes.Buffer
		a := Adapter{Log: slog.New(slog.NewTextHandler(&logged, nil))}
		rec := httptest.NewRecorder()
		a.Handle(func(w http.ResponseWriter, r *http.Request) error { return err }).ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
		var p Error
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(rec.Body.String(), "secret") || p.ErrorID == "" || !strings.Contains(p.Detail, p.ErrorID) {
			t.Errorf("%v: answered %s", err, rec.Body)
		}
		if strings.Count(logged.String(), "error_id="+p.ErrorID) != 1 || !strings.Contains(logged.String(), "secret.db") {
			t.Errorf("%v: logged %s", err, logged.String())
		}
		if rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%v: %s", err, rec.Header())
		}
	}
}

// Extension members (RFC 9457 §3.2) are written beside the standard
// ones, and cannot replace them.
func TestProblemExtensions(t *testing.T) {
	rec := httptest.NewRecorder()
	a := Adapter{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	a.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return New(http.StatusConflict, "clash").Extend("commits", []string{"abc"}).Extend("status", 200)
	}).ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil))
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["status"] != float64(409) || got["detail"] != "clash" || fmt.Sprint(got["commits"]) != "[abc]" || got["title"] != "Conflict" {
		t.Errorf("problem %s", rec.Body)
	}
}
