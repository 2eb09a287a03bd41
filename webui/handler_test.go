package webui

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
)

// An error after the response started is logged, not written into it; a
// client gone away is not an error at all.
func TestErrorsAfterTheResponseStarted(t *testing.T) {
	var logged bytes.Buffer
	h := &Handler{log: slog.New(slog.NewTextHandler(&logged, nil))}
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
		h.api(func(w http.ResponseWriter, r *http.Request) error {
			w.Write([]byte(`{"items":[`))
			return tc.err
		}).ServeHTTP(sw, httptest.NewRequest("GET", "/api/v1/posts", nil))
		if rec.Code != 200 || rec.Body.String() != `{"items":[` || strings.Contains(logged.String(), "request failed after") != tc.logs {
			t.Errorf("%v: %d %q, log %q", tc.err, rec.Code, rec.Body.String(), logged.String())
		}
	}
}
