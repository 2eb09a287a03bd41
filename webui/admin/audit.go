package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/projections/audit"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/seclog"
)

// Audit is the audit log's read model (projections/audit).
type Audit interface {
	Query(ctx context.Context, f audit.Filter, fn func(audit.Record) error) error
	Lookup(id string) (audit.Pos, bool)
}

// SecurityEvents reads the security log (webui/seclog).
type SecurityEvents interface {
	Query(ctx context.Context, f seclog.Filter, fn func(seclog.Event) error) error
}

// auditPage is how many entries a page of either log shows.
const auditPage = 50

// logFilter is what the log pages read from their query string: the
// same parameters as the API's, so an export link is the page's own
// query with a format.
type logFilter struct {
	Actor, Type, Subject, Since, Until string
	after                              string
	since, until                       time.Time
}

func readLogFilter(r *http.Request) (logFilter, string) {
	v := r.URL.Query()
	f := logFilter{Actor: strings.TrimSpace(v.Get("actor")), Type: v.Get("type"), Subject: strings.TrimSpace(v.Get("subject")),
		Since: v.Get("since"), Until: v.Get("until"), after: v.Get("cursor")}
	var problem string
	for _, d := range []struct {
		v   string
		to  *time.Time
		end bool
	}{{f.Since, &f.since, false}, {f.Until, &f.until, true}} {
		if d.v == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", d.v, time.UTC)
		if err != nil {
			problem = "Dates are written 2026-11-30."
			continue
		}
		if d.end {
			t = t.Add(24*time.Hour - time.Nanosecond) // the whole day
		}
		*d.to = t
	}
	return f, problem
}

// query is the filter as the API's parameters, for links.
func (f logFilter) query(extra ...string) string {
	v := url.Values{}
	for k, x := range map[string]string{"actor": f.Actor, "type": f.Type, "subject": f.Subject} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if !f.since.IsZero() {
		v.Set("since", f.since.Format(time.RFC3339))
	}
	if !f.until.IsZero() {
		v.Set("until", f.until.Format(time.RFC3339Nano))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v.Encode()
}

// pageQuery is the filter as this page's own parameters.
func (f logFilter) pageQuery(cursor string) string {
	v := url.Values{}
	for k, x := range map[string]string{"actor": f.Actor, "type": f.Type, "subject": f.Subject, "since": f.Since, "until": f.Until, "cursor": cursor} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v.Encode()
}

func (f logFilter) types() []string {
	if f.Type == "" {
		return nil
	}
	return []string{f.Type}
}

// auditLog is the audit trail: who changed what, newest first, filtered,
// a page at a time, each entry linked to its commit, and the same
// selection exported as CSV or NDJSON.
func (h *handler) auditLog(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Audit == nil {
		return httperr.New(http.StatusServiceUnavailable, "the audit log is not kept on this node")
	}
	f, problem := readLogFilter(r)
	q := audit.Filter{Actor: f.Actor, Types: f.types(), Subject: f.Subject, Since: f.since, Until: f.until}
	if f.after != "" {
		p, ok := h.cfg.Audit.Lookup(f.after)
		if !ok {
			return httperr.New(http.StatusBadRequest, "that page of the log does not exist: start again from the first page")
		}
		q.After = &p
	}
	var items []audit.Record
	next := ""
	err := h.cfg.Audit.Query(r.Context(), q, func(rec audit.Record) error {
		if len(items) == auditPage {
			next = items[len(items)-1].ID
			return audit.ErrStop
		}
		items = append(items, rec)
		return nil
	})
	if err != nil && !errors.Is(err, audit.ErrStop) {
		return err
	}
	data := map[string]any{"Filter": f, "Items": items, "Problem": problem, "TimeTravel": h.cfg.TimeTravel != nil,
		"Types": []string{"post.", "category.", "media.", "settings.", "profile.", "site.", "embed."},
		"CSV":   "/admin/audit/export?" + f.query("format", "csv"), "NDJSON": "/admin/audit/export?" + f.query("format", "ndjson")}
	if next != "" {
		data["Next"] = "/admin/audit?" + f.pageQuery(next)
	}
	return h.render(w, r, http.StatusOK, "audit", page{Title: "Audit log", Section: "audit", Data: data})
}

// securityLog is the security log (admins): sign-ins, failed ones,
// account, role, password and token changes.
func (h *handler) securityLog(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Security == nil {
		return httperr.New(http.StatusServiceUnavailable, "the security log is not kept on this node")
	}
	f, problem := readLogFilter(r)
	q := seclog.Filter{Actor: f.Actor, Types: f.types(), Since: f.since, Until: f.until, After: f.after}
	var items []seclog.Event
	next := ""
	err := h.cfg.Security.Query(r.Context(), q, func(e seclog.Event) error {
		if len(items) == auditPage {
			next = items[len(items)-1].ID
			return errPageFull
		}
		items = append(items, e)
		return nil
	})
	if errors.Is(err, seclog.ErrBadCursor) {
		return httperr.New(http.StatusBadRequest, "that page of the log does not exist: start again from the first page")
	}
	if err != nil && !errors.Is(err, errPageFull) {
		return err
	}
	data := map[string]any{"Filter": f, "Items": items, "Problem": problem,
		"CSV": "/admin/security/export?" + f.query("format", "csv"), "NDJSON": "/admin/security/export?" + f.query("format", "ndjson")}
	if next != "" {
		data["Next"] = "/admin/security?" + f.pageQuery(next)
	}
	return h.render(w, r, http.StatusOK, "security", page{Title: "Security log", Section: "security", Data: data})
}

var errPageFull = errors.New("page full")

// export answers an export link of a log page with the API's own export
// (the same columns and formats), under the admin's session.
func export(fn httperr.HandlerFunc) httperr.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if fn == nil {
			return httperr.New(http.StatusServiceUnavailable, "exports are not available on this node")
		}
		if f := r.URL.Query().Get("format"); f != "csv" && f != "ndjson" {
			return httperr.New(http.StatusBadRequest, "format must be csv or ndjson")
		}
		return fn(w, r)
	}
}
