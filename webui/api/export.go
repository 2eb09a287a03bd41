package api

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// listFormat is how a log's list is answered: a JSON page, or an export
// of everything matching (CSV or NDJSON), streamed.
type listFormat string

const (
	asJSON   listFormat = "json"
	asCSV    listFormat = "csv"
	asNDJSON listFormat = "ndjson"
)

func formatOf(r *http.Request) (listFormat, error) {
	switch f := listFormat(r.URL.Query().Get("format")); f {
	case "", asJSON:
		return asJSON, nil
	case asCSV, asNDJSON:
		return f, nil
	default:
		return "", httperr.Field(http.StatusBadRequest, "format", "must be json, csv or ndjson, not %q", params.Clip(string(f)))
	}
}

// timeParam reads an RFC 3339 time (zero when absent).
func timeParam(r *http.Request, name string) (time.Time, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, httperr.Field(http.StatusBadRequest, name, "must be an RFC 3339 date-time such as 2026-01-31T09:00:00Z, not %q", params.Clip(v))
	}
	return t, nil
}

// typesParam reads type filters: repeated, comma-separated, or both.
func typesParam(r *http.Request) ([]string, error) {
	var out []string
	for _, v := range r.URL.Query()["type"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	if len(out) > 20 {
		return nil, httperr.Field(http.StatusBadRequest, "type", "at most 20 types, not %d", len(out))
	}
	return out, nil
}

// orderParam reads order: newest (the default) or oldest first.
func orderParam(r *http.Request) (oldest bool, err error) {
	switch v := r.URL.Query().Get("order"); v {
	case "", "newest":
		return false, nil
	case "oldest":
		return true, nil
	default:
		return false, httperr.Field(http.StatusBadRequest, "order", "must be newest or oldest, not %q", params.Clip(v))
	}
}

// nextLink is the request's URL with its cursor moved on: the next page.
func nextLink(r *http.Request, cursor string) string {
	q := r.URL.Query()
	q.Set("cursor", cursor)
	return (&url.URL{Path: "/api/v1" + strings.TrimPrefix(r.URL.Path, "/api/v1"), RawQuery: q.Encode()}).String()
}

// page answers one page of a list, with the cursor of the next one in
// the body and in a Link header when there is more.
func writePage[T any](w http.ResponseWriter, r *http.Request, items []T, next string) error {
	body := struct {
		Items []T     `json:"items"`
		Next  *string `json:"next"`
	}{Items: items}
	if items == nil {
		body.Items = []T{}
	}
	if next != "" {
		body.Next = &next
		w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", nextLink(r, next)))
	}
	return writeJSON(w, http.StatusOK, body)
}

// exporter streams rows as CSV or NDJSON: a row at a time, flushed to the
// client every flushRows rows, never the whole list in memory. Each flush
// moves the write deadline on, so a long export to a client that keeps
// reading is not cut by the server's write timeout, while one that stops
// reading is.
type exporter struct {
	rc  *http.ResponseController
	csv *csv.Writer
	bw  *bufio.Writer
	enc *json.Encoder
	n   int
}

const (
	flushRows    = 256
	exportStall  = time.Minute // longest a client may take to read flushRows rows
	exportBuffer = 32 << 10
)

// startExport answers 200 with the headers of an export called name
// (a file name without its extension) and, for CSV, the header row.
func startExport(w http.ResponseWriter, f listFormat, name string, header []string) (*exporter, error) {
	file := fmt.Sprintf("%s-%s.%s", name, time.Now().UTC().Format("20060102T150405Z"), f)
	h := w.Header()
	if f == asCSV {
		h.Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/x-ndjson")
	}
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", file))
	h.Set("Cache-Control", "no-store")
	x := &exporter{rc: http.NewResponseController(w)}
	x.rc.SetWriteDeadline(time.Now().Add(exportStall)) // not every writer can; then the server's timeout holds
	w.WriteHeader(http.StatusOK)
	x.bw = bufio.NewWriterSize(w, exportBuffer)
	if f == asCSV {
		x.csv = csv.NewWriter(x.bw)
		x.csv.UseCRLF = true // RFC 4180
		return x, x.csv.Write(header)
	}
	x.enc = json.NewEncoder(x.bw)
	return x, nil
}

// row writes one row: cells for CSV, v for NDJSON.
func (x *exporter) row(v any, cells []string) error {
	var err error
	if x.csv != nil {
		for i, c := range cells {
			cells[i] = csvSafe(c)
		}
		err = x.csv.Write(cells)
	} else {
		err = x.enc.Encode(v)
	}
	if err != nil {
		return err
	}
	if x.n++; x.n%flushRows == 0 {
		return x.flush()
	}
	return nil
}

func (x *exporter) flush() error {
	if x.csv != nil {
		x.csv.Flush()
		if err := x.csv.Error(); err != nil {
			return err
		}
	}
	if err := x.bw.Flush(); err != nil {
		return err
	}
	if err := x.rc.Flush(); err != nil {
		return err
	}
	x.rc.SetWriteDeadline(time.Now().Add(exportStall))
	return nil
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet
// (CSV injection): a cell starting with = + - @, a tab or a carriage
// return gets a leading apostrophe, which spreadsheets show as text.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
