package webui

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/chronicle-cms/chronicle/events/content"
)

// Problem is an RFC 9457 problem detail. Its Error() is for logs; only
// the JSON fields reach clients.
type Problem struct {
	Type     string               `json:"type"`
	Title    string               `json:"title"`
	Status   int                  `json:"status"`
	Detail   string               `json:"detail,omitempty"`
	Instance string               `json:"instance,omitempty"`
	Errors   []content.FieldError `json:"errors,omitempty"`
	ErrorID  string               `json:"error_id,omitempty"` // ties a 5xx to its log line

	header http.Header
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// problem returns a Problem for status with a detail message.
func problem(status int, detail string, args ...any) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: fmt.Sprintf(detail, args...)}
}

// fieldProblem blames one field.
func fieldProblem(status int, field, detail string, args ...any) *Problem {
	p := problem(status, "%s: %s", field, fmt.Sprintf(detail, args...))
	p.Errors = []content.FieldError{{Field: field, Detail: fmt.Sprintf(detail, args...)}}
	return p
}

func (p *Problem) with(key, value string) *Problem {
	if p.header == nil {
		p.header = http.Header{}
	}
	p.header.Set(key, value)
	return p
}

func writeProblem(w http.ResponseWriter, p *Problem) {
	for k, v := range p.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}
