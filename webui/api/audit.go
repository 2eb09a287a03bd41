package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/projections/audit"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
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

// Page sizes of the logs' JSON lists.
const (
	defaultLogPage = 50
	maxLogPage     = 500
)

// logQuery is what both logs' lists read from the query string.
type logQuery struct {
	format       listFormat
	limit        int // 0: no limit (an export)
	actor        string
	types        []string
	since, until time.Time
	oldest       bool
	cursor       string
}

func readLogQuery(r *http.Request) (logQuery, error) {
	var q logQuery
	var err error
	if q.format, err = formatOf(r); err != nil {
		return q, err
	}
	def := defaultLogPage
	if q.format != asJSON {
		def = 0 // an export is everything matching, unless limited
	}
	if r.URL.Query().Get("limit") != "" || q.format == asJSON {
		max := maxLogPage
		if q.format != asJSON {
			max = 1 << 30
		}
		if q.limit, err = params.Int(r, "limit", def, max); err != nil {
			return q, err
		}
	}
	if q.types, err = typesParam(r); err != nil {
		return q, err
	}
	if q.since, err = timeParam(r, "since"); err != nil {
		return q, err
	}
	if q.until, err = timeParam(r, "until"); err != nil {
		return q, err
	}
	if !q.since.IsZero() && !q.until.IsZero() && q.until.Before(q.since) {
		return q, httperr.Field(http.StatusBadRequest, "until", "is before since")
	}
	if q.oldest, err = orderParam(r); err != nil {
		return q, err
	}
	q.actor, q.cursor = strings.TrimSpace(r.URL.Query().Get("actor")), r.URL.Query().Get("cursor")
	for _, p := range []struct{ name, v string }{{"actor", q.actor}, {"cursor", q.cursor}, {"subject", r.URL.Query().Get("subject")}} {
		if len(p.v) > 300 {
			return q, httperr.Field(http.StatusBadRequest, p.name, "at most 300 characters")
		}
	}
	return q, nil
}

// EventsExport is the audit trail's list and exports (GET
// /api/v1/events) as one handler, for the admin's own export links: the
// same answer under the admin's session. cfg needs Audit.
func EventsExport(cfg Config) httperr.HandlerFunc {
	h := &Handler{cfg: cfg, log: cfg.Logger}
	return h.listEvents
}

// SecurityExport is GET /api/v1/security-events likewise; cfg needs
// Security.
func SecurityExport(cfg Config) httperr.HandlerFunc {
	h := &Handler{cfg: cfg, log: cfg.Logger}
	return h.listSecurityEvents
}

var recordHeader = []string{"id", "time", "type", "subject", "actor", "author", "pusher", "commit", "height", "index", "summary"}

func recordCells(e audit.Record) []string {
	return []string{e.ID, e.Time.UTC().Format(time.RFC3339Nano), string(e.Type), e.Subject, e.Actor, e.Author, e.Pusher, e.Commit,
		strconv.FormatInt(e.Height, 10), strconv.Itoa(e.Index), e.Summary}
}

// listEvents is the audit trail: who changed what, newest first (or
// oldest), filtered, a page at a time from a cursor, or exported whole
// as CSV or NDJSON. It reads the audit projection, never git.
func (h *Handler) listEvents(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Audit == nil {
		return httperr.New(http.StatusServiceUnavailable, "the audit log is not available on this node")
	}
	q, err := readLogQuery(r)
	if err != nil {
		return err
	}
	f := audit.Filter{Actor: q.actor, Types: q.types, Subject: r.URL.Query().Get("subject"), Since: q.since, Until: q.until, Oldest: q.oldest}
	if q.cursor != "" {
		p, ok := h.cfg.Audit.Lookup(q.cursor)
		if !ok {
			return httperr.Field(http.StatusBadRequest, "cursor", "is not an event of this log: give the next value of the previous page")
		}
		f.After = &p
	}
	return streamLog(h, w, r, q, "events", recordHeader,
		func(fn func(audit.Record) error) error { return h.cfg.Audit.Query(r.Context(), f, fn) },
		func(e audit.Record) string { return e.ID }, recordCells)
}

var securityHeader = []string{"id", "time", "type", "actor", "account", "method", "via", "client", "detail"}

func securityCells(e seclog.Event) []string {
	return []string{e.ID, e.Time.UTC().Format(time.RFC3339Nano), string(e.Type), e.Actor, e.Account, e.Method, e.Via, e.Client, e.Detail}
}

// listSecurityEvents is the security log (admins only): sign-ins, failed
// ones, account and token changes, newest first (or oldest), with the
// audit trail's filters, pages and exports.
func (h *Handler) listSecurityEvents(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Security == nil {
		return httperr.New(http.StatusServiceUnavailable, "the security log is not available on this node")
	}
	q, err := readLogQuery(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("subject") {
		return httperr.Field(http.StatusBadRequest, "subject", "the security log has no subjects: filter by actor (the account)")
	}
	f := seclog.Filter{Actor: q.actor, Types: q.types, Since: q.since, Until: q.until, Oldest: q.oldest, After: q.cursor}
	err = streamLog(h, w, r, q, "security-events", securityHeader,
		func(fn func(seclog.Event) error) error { return h.cfg.Security.Query(r.Context(), f, fn) },
		func(e seclog.Event) string { return e.ID }, securityCells)
	if errors.Is(err, seclog.ErrBadCursor) {
		return httperr.Field(http.StatusBadRequest, "cursor", "is not an event of this log: give the next value of the previous page")
	}
	return err
}

// errFull ends a query once a page is full.
var errFull = errors.New("page full")

// streamLog answers a log's list: a JSON page of q.limit items (reading
// one more to know whether there is a next page), or an export of every
// item, written as it is read.
func streamLog[T any](h *Handler, w http.ResponseWriter, r *http.Request, q logQuery, name string, header []string,
	query func(fn func(T) error) error, id func(T) string, cells func(T) []string) error {
	if q.format == asJSON {
		items := make([]T, 0, min(q.limit, 64))
		next := ""
		err := query(func(e T) error {
			if len(items) == q.limit {
				next = id(items[len(items)-1])
				return errFull
			}
			items = append(items, e)
			return nil
		})
		if err != nil && !errors.Is(err, errFull) {
			return err
		}
		return writePage(w, r, items, next)
	}
	// The first item is read before the answer starts, so that an error
	// (a bad cursor) is still a problem+json.
	var x *exporter
	n := 0
	err := query(func(e T) error {
		if x == nil {
			var err error
			if x, err = startExport(w, q.format, name, header); err != nil {
				return err
			}
		}
		if q.limit > 0 && n == q.limit {
			return errFull
		}
		n++
		return x.row(e, cells(e))
	})
	if errors.Is(err, errFull) {
		err = nil
	}
	if x == nil && err == nil {
		if x, err = startExport(w, q.format, name, header); err != nil {
			return h.abortExport(r, err)
		}
	}
	if err == nil {
		err = x.flush()
	}
	if err != nil && x != nil {
		return h.abortExport(r, err)
	}
	return err
}

// abortExport ends an export that failed after it started: the client
// must not take a cut file for a whole one, so the connection is reset
// rather than the answer ended. A client that went away is no fault.
func (h *Handler) abortExport(r *http.Request, err error) error {
	if r.Context().Err() == nil {
		h.log.Error("export failed after it started", "path", r.URL.Path, "err", err)
	}
	panic(http.ErrAbortHandler)
}
