package daemon

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// auditItem is an item of GET /api/v1/events.
type auditItem struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Subject string    `json:"subject"`
	Actor   string    `json:"actor"`
	Author  string    `json:"author,omitempty"`
	Pusher  string    `json:"pusher,omitempty"`
	Time    time.Time `json:"time"`
	Commit  string    `json:"commit"`
	Height  int64     `json:"height"`
	Index   int       `json:"index"`
	Summary string    `json:"summary,omitempty"`
}

func (e auditItem) cells() []string {
	return []string{e.ID, e.Time.UTC().Format(time.RFC3339Nano), e.Type, e.Subject, e.Actor, e.Author, e.Pusher, e.Commit,
		strconv.FormatInt(e.Height, 10), strconv.Itoa(e.Index), e.Summary}
}

// securityItem is an item of GET /api/v1/security-events.
type securityItem struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Actor   string    `json:"actor,omitempty"`
	Account string    `json:"account,omitempty"`
	Method  string    `json:"method,omitempty"`
	Via     string    `json:"via,omitempty"`
	Client  string    `json:"client,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

func (e securityItem) cells() []string {
	return []string{e.ID, e.Time.UTC().Format(time.RFC3339Nano), e.Type, e.Actor, e.Account, e.Method, e.Via, e.Client, e.Detail}
}

// logPage is one JSON page of either log.
type logPage[T any] struct {
	Items []T
	Next  *string
}

// allPages follows next from path (which has its filters) with pages of
// limit, checking the Link header says the same as next.
func allPages[T any](t *testing.T, s *site, tok, path string, limit int) []T {
	t.Helper()
	var out []T
	cursor := ""
	for range 1000 {
		q := path + "&limit=" + strconv.Itoa(limit)
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := s.do("GET", q, tok, nil)
		mustStatus(t, r, 200)
		var p logPage[T]
		r.json(t, &p)
		if len(p.Items) > limit {
			t.Fatalf("%s: %d items, more than the limit", q, len(p.Items))
		}
		out = append(out, p.Items...)
		if p.Next == nil {
			if r.header.Get("Link") != "" {
				t.Errorf("the last page has a Link: %s", r.header.Get("Link"))
			}
			return out
		}
		link := r.header.Get("Link")
		if !strings.Contains(link, "cursor="+url.QueryEscape(*p.Next)) || !strings.HasSuffix(link, `; rel="next"`) {
			t.Errorf("Link %q does not point at the next page (cursor %s)", link, *p.Next)
		}
		cursor = *p.Next
	}
	t.Fatal("pages never end")
	return nil
}

// exports fetches path as CSV and as NDJSON and checks both hold exactly
// want (the JSON list's items), as attachments.
func checkExports[T any](t *testing.T, s *site, tok, path, name string, want []T, cells func(T) []string) {
	t.Helper()
	r := s.do("GET", path+"&format=csv", tok, nil)
	mustStatus(t, r, 200)
	if ct, cd := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(cd, `attachment; filename="`+name+"-") || !strings.HasSuffix(cd, `.csv"`) {
		t.Errorf("CSV export: %q, %q", ct, cd)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV export: %v\n%s", err, r.body)
	}
	var wantRows [][]string
	for _, e := range want {
		c := cells(e)
		for i, v := range c {
			if v != "" && strings.ContainsRune("=+-@", rune(v[0])) {
				c[i] = "'" + v // as the export neutralises formulas
			}
		}
		wantRows = append(wantRows, c)
	}
	if len(rows) == 0 || !slices.EqualFunc(rows[1:], wantRows, slices.Equal) {
		t.Errorf("CSV export of %s: %d rows\n%q\nwant %d\n%q", path, len(rows)-1, rows, len(wantRows), wantRows)
	}

	r = s.do("GET", path+"&format=ndjson", tok, nil)
	mustStatus(t, r, 200)
	if ct, cd := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"); ct != "application/x-ndjson" || !strings.HasSuffix(cd, `.ndjson"`) {
		t.Errorf("NDJSON export: %q, %q", ct, cd)
	}
	var got []T
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	for sc.Scan() {
		var e T
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("NDJSON line %q: %v", sc.Text(), err)
		}
		got = append(got, e)
	}
	if !slices.EqualFunc(got, want, func(a, b T) bool { return slices.Equal(cells(a), cells(b)) }) {
		t.Errorf("NDJSON export of %s:\n%+v\nwant\n%+v", path, got, want)
	}
}

// The audit log through the API: each filter narrows to exactly the
// events it names, pages from a cursor cover every event once in either
// order, and the CSV and NDJSON exports hold the same records as the
// JSON list.
func TestAuditLogFiltersPagesAndExports(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	admin, ed := s.token("admin@example.org"), s.token("ed@example.org")
	wait := []string{"Prefer", "wait=5"}

	mustStatus(t, s.do("POST", "/api/v1/categories", admin, map[string]any{"slug": "news", "name": "News"}, wait...), 201)
	var ids []string
	for _, title := range []string{"First", "=HYPERLINK(\"http://evil.example\")", "Third"} {
		r := s.do("POST", "/api/v1/posts", admin, postBody(title, "status", "published"), wait...)
		mustStatus(t, r, 201)
		var p apiPost
		r.json(t, &p)
		ids = append(ids, p.ID)
	}
	time.Sleep(1100 * time.Millisecond) // commit times have whole seconds: the editor's come later
	mustStatus(t, s.do("PATCH", "/api/v1/posts/"+ids[0], ed, map[string]any{"title": "First, renamed"}, append(wait, "Content-Type", "application/merge-patch+json")...), 200)
	mustStatus(t, s.do("DELETE", "/api/v1/posts/"+ids[2], ed, nil, wait...), 204)
	mustStatus(t, s.do("PATCH", "/api/v1/settings", admin, map[string]any{"tagline": "Audited"}, append(wait, "Content-Type", "application/merge-patch+json")...), 200)

	var all logPage[auditItem]
	s.do("GET", "/api/v1/events?limit=500", ed, nil).json(t, &all)
	if all.Next != nil || len(all.Items) < 7 {
		t.Fatalf("the whole log: %d events, next %v", len(all.Items), all.Next)
	}
	for i := 1; i < len(all.Items); i++ {
		if a, b := all.Items[i-1], all.Items[i]; a.Height < b.Height || (a.Height == b.Height && a.Index <= b.Index) {
			t.Fatalf("not newest first at %d: %+v then %+v", i, a, b)
		}
	}
	summaries := map[string]string{}
	for _, e := range all.Items {
		summaries[e.Type+" "+e.Subject] = e.Summary
	}
	if got := summaries["post.updated post/"+ids[0]]; got != "First → First, renamed" {
		t.Errorf("summary of the rename: %q (all: %v)", got, summaries)
	}
	edTime := all.Items[0].Time // the settings change, after the editor's
	var edFirst time.Time
	for _, e := range all.Items {
		if e.Actor == "ed@example.org" {
			edFirst = e.Time
		}
	}

	for _, tc := range []struct {
		query string
		keep  func(e auditItem) bool
	}{
		{"actor=ED@example.org", func(e auditItem) bool { return e.Actor == "ed@example.org" }},
		{"type=post.created", func(e auditItem) bool { return e.Type == "post.created" }},
		{"type=post.", func(e auditItem) bool { return strings.HasPrefix(e.Type, "post.") }},
		{"type=category.created,post.deleted", func(e auditItem) bool { return e.Type == "category.created" || e.Type == "post.deleted" }},
		{"type=category.created&type=settings.changed", func(e auditItem) bool { return e.Type == "category.created" || e.Type == "settings.changed" }},
		{"subject=post/" + ids[0], func(e auditItem) bool { return e.Subject == "post/"+ids[0] }},
		{"since=" + edFirst.Format(time.RFC3339), func(e auditItem) bool { return !e.Time.Before(edFirst) }},
		{"until=" + edFirst.Add(-time.Second).Format(time.RFC3339), func(e auditItem) bool { return e.Time.Before(edFirst) }},
		{"since=" + edFirst.Format(time.RFC3339) + "&until=" + edTime.Format(time.RFC3339) + "&actor=admin@example.org",
			func(e auditItem) bool { return !e.Time.Before(edFirst) && e.Actor == "admin@example.org" }},
		{"actor=nobody@example.org", func(auditItem) bool { return false }},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var want []auditItem
			for _, e := range all.Items {
				if tc.keep(e) {
					want = append(want, e)
				}
			}
			if len(want) == len(all.Items) {
				t.Fatalf("the filter keeps everything: it shows nothing")
			}
			path := "/api/v1/events?" + tc.query
			var got logPage[auditItem]
			s.do("GET", path, ed, nil).json(t, &got)
			if !slices.Equal(got.Items, want) {
				t.Errorf("%s:\n%+v\nwant\n%+v", tc.query, got.Items, want)
			}
			if paged := allPages[auditItem](t, s, ed, path, 2); !slices.Equal(paged, want) {
				t.Errorf("%s in pages of 2:\n%+v\nwant\n%+v", tc.query, paged, want)
			}
			oldest := slices.Clone(want)
			slices.Reverse(oldest)
			if paged := allPages[auditItem](t, s, ed, path+"&order=oldest", 3); !slices.Equal(paged, oldest) {
				t.Errorf("%s oldest first in pages of 3:\n%+v\nwant\n%+v", tc.query, paged, oldest)
			}
			checkExports(t, s, ed, path, "events", want, auditItem.cells)
		})
	}

	// Pages of one cover the whole log once; so do the exports.
	if paged := allPages[auditItem](t, s, ed, "/api/v1/events?", 1); !slices.Equal(paged, all.Items) {
		t.Errorf("pages of one:\n%+v\nwant\n%+v", paged, all.Items)
	}
	checkExports(t, s, ed, "/api/v1/events?", "events", all.Items, auditItem.cells)

	// The title made to be a formula is text in the CSV.
	csvBody := string(s.do("GET", "/api/v1/events?type=post.created&format=csv", ed, nil).body)
	if !strings.Contains(csvBody, `"'=HYPERLINK(""http://evil.example"")"`) {
		t.Errorf("a formula in the CSV export:\n%s", csvBody)
	}

	// Bad parameters are named.
	for _, tc := range []struct{ query, field string }{
		{"since=yesterday", "since"},
		{"until=2026-13-01T00:00:00Z", "until"},
		{"since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "until"},
		{"cursor=nope", "cursor"},
		{"cursor=" + strings.Repeat("0", 40) + "-0", "cursor"},
		{"format=xml", "format"},
		{"limit=0", "limit"},
		{"limit=501", "limit"},
		{"order=random", "order"},
	} {
		r := s.do("GET", "/api/v1/events?"+tc.query, ed, nil)
		if _, fields := r.problem(t); r.status != 400 || !slices.Equal(fields, []string{tc.field}) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.query, r.status, r.body, tc.field)
		}
	}
	mustStatus(t, s.do("GET", "/api/v1/events", "", nil), 401)
	mustStatus(t, s.do("GET", "/api/v1/events?format=csv", "", nil), 401)
}

// Account events are recorded in the security log outside the content
// repository, from the API, git, the admin and the command line; only
// admins read it, with the audit log's filters, pages and exports.
func TestSecurityLog(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)

	// The API: a wrong password and an unknown email, from an address of
	// their own; then right ones.
	mustStatus(t, s.from("127.0.0.7", "POST", "/api/v1/auth/token", "", map[string]string{"email": "Admin@Example.org", "password": "wrong password"}), 401)
	mustStatus(t, s.from("127.0.0.8", "POST", "/api/v1/auth/token", "", map[string]string{"email": "nobody@example.org", "password": "wrong password"}), 401)
	admin, ed := s.token("admin@example.org"), s.token("ed@example.org")

	// Only admins read it.
	mustStatus(t, s.do("GET", "/api/v1/security-events", ed, nil), 403)
	mustStatus(t, s.do("GET", "/api/v1/security-events?format=csv", ed, nil), 403)
	mustStatus(t, s.do("GET", "/api/v1/security-events", "", nil), 401)

	// Tokens, through the API.
	r := s.do("POST", "/api/v1/tokens", ed, map[string]string{"name": "cron"})
	mustStatus(t, r, 201)
	var pat struct{ ID, Token string }
	r.json(t, &pat)
	mustStatus(t, s.do("DELETE", "/api/v1/tokens/"+pat.ID, ed, nil), 204)

	// Git: a wrong password.
	mustStatus(t, s.from("127.0.0.9", "GET", "/git/site.git/info/refs?service=git-upload-pack", basic("ed@example.org", "not the password"), nil), 401)

	// The command line, while the daemon runs.
	var out, errOut bytes.Buffer
	if code := Main([]string{"user", "add", "--data", data, "--email", "cli@example.org", "--role", "editor", "--password-stdin"},
		"test", strings.NewReader("a long enough password\n"), &out, &errOut); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut.String())
	}
	if code := Main([]string{"user", "role", "--data", data, "--email", "cli@example.org", "--role", "admin"}, "test", nil, &out, &errOut); code != 0 {
		t.Fatalf("user role: %d %s", code, errOut.String())
	}

	// The admin's pages: sign in, add, change a role, reset a password,
	// remove an account, sign out.
	b := s.browser()
	b.signIn("admin@example.org", password)
	mustStatus(t, b.post("/admin/accounts", url.Values{"email": {"new@example.org"}, "role": {"editor"}, "password": {"new's long password"}}), 303)
	version := func(email string) string { return inputValue(t, b.get(accountPath(email)).body, "version") }
	mustStatus(t, b.post("/admin/accounts/role", url.Values{"email": {"new@example.org"}, "role": {"admin"}, "version": {version("new@example.org")}}), 303)
	mustStatus(t, b.post("/admin/accounts/password", url.Values{"email": {"new@example.org"}, "password": {"another long password"}, "version": {version("new@example.org")}}), 303)
	mustStatus(t, b.post("/admin/accounts/remove", url.Values{"email": {"ed@example.org"}, "version": {version("ed@example.org")}, "confirm": {"yes"}}), 303)
	mustStatus(t, b.post("/admin/logout", url.Values{}), 303)

	var all logPage[securityItem]
	s.do("GET", "/api/v1/security-events?limit=500", admin, nil).json(t, &all)
	if all.Next != nil {
		t.Fatal("more than 500 security events")
	}
	find := func(want securityItem) *securityItem {
		for i := range all.Items {
			e := all.Items[i]
			if e.Type == want.Type && e.Account == want.Account && (want.Actor == "" || e.Actor == want.Actor) &&
				(want.Via == "" || e.Via == want.Via) && (want.Client == "" || e.Client == want.Client) &&
				(want.Method == "" || e.Method == want.Method) && (want.Detail == "" || strings.Contains(e.Detail, want.Detail)) {
				return &all.Items[i]
			}
		}
		return nil
	}
	for _, want := range []securityItem{
		{Type: "signin.failed", Account: "admin@example.org", Via: "api", Client: "127.0.0.7", Method: "password"},
		{Type: "signin.failed", Account: "nobody@example.org", Via: "api", Client: "127.0.0.8"},
		{Type: "signin.failed", Account: "ed@example.org", Via: "git", Client: "127.0.0.9"},
		{Type: "signin.succeeded", Account: "admin@example.org", Actor: "admin@example.org", Via: "api", Method: "password"},
		{Type: "signin.succeeded", Account: "ed@example.org", Via: "api"},
		{Type: "signin.succeeded", Account: "admin@example.org", Via: "admin"},
		{Type: "token.created", Account: "ed@example.org", Actor: "ed@example.org", Via: "api", Detail: pat.ID + " cron"},
		{Type: "token.revoked", Account: "ed@example.org", Actor: "ed@example.org", Via: "api", Detail: pat.ID},
		{Type: "account.created", Account: "cli@example.org", Via: "cli", Detail: "editor"},
		{Type: "account.role_changed", Account: "cli@example.org", Via: "cli", Detail: "editor → admin"},
		{Type: "account.created", Account: "new@example.org", Actor: "admin@example.org", Via: "admin"},
		{Type: "account.role_changed", Account: "new@example.org", Actor: "admin@example.org", Via: "admin", Detail: "editor → admin"},
		{Type: "account.password_changed", Account: "new@example.org", Actor: "admin@example.org", Via: "admin"},
		{Type: "account.removed", Account: "ed@example.org", Actor: "admin@example.org", Via: "admin"},
		{Type: "session.ended", Account: "admin@example.org", Actor: "admin@example.org", Via: "admin"},
	} {
		if find(want) == nil {
			t.Errorf("no %+v in the security log", want)
		}
	}
	if t.Failed() {
		t.Fatalf("the security log:\n%+v", all.Items)
	}

	// Filters narrow as the audit log's do; pages and exports hold the
	// same events.
	mid := find(securityItem{Type: "token.revoked", Account: "ed@example.org"}).Time
	for _, tc := range []struct {
		query string
		keep  func(e securityItem) bool
	}{
		{"actor=ED@example.org", func(e securityItem) bool { return e.Actor == "ed@example.org" || e.Account == "ed@example.org" }},
		{"type=signin.failed", func(e securityItem) bool { return e.Type == "signin.failed" }},
		{"type=account.,token.created", func(e securityItem) bool {
			return strings.HasPrefix(e.Type, "account.") || e.Type == "token.created"
		}},
		{"since=" + mid.Format(time.RFC3339Nano), func(e securityItem) bool { return !e.Time.Before(mid) }},
		{"until=" + mid.Format(time.RFC3339Nano), func(e securityItem) bool { return !e.Time.After(mid) }},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var want []securityItem
			for _, e := range all.Items {
				if tc.keep(e) {
					want = append(want, e)
				}
			}
			if len(want) == 0 || len(want) == len(all.Items) {
				t.Fatalf("the filter keeps %d of %d: it shows nothing", len(want), len(all.Items))
			}
			path := "/api/v1/security-events?" + tc.query
			var got logPage[securityItem]
			s.do("GET", path, admin, nil).json(t, &got)
			if !slices.Equal(got.Items, want) {
				t.Errorf("%s:\n%+v\nwant\n%+v", tc.query, got.Items, want)
			}
			if paged := allPages[securityItem](t, s, admin, path, 2); !slices.Equal(paged, want) {
				t.Errorf("%s in pages of 2:\n%+v\nwant\n%+v", tc.query, paged, want)
			}
			oldest := slices.Clone(want)
			slices.Reverse(oldest)
			if paged := allPages[securityItem](t, s, admin, path+"&order=oldest", 3); !slices.Equal(paged, oldest) {
				t.Errorf("%s oldest first in pages of 3:\n%+v\nwant\n%+v", tc.query, paged, oldest)
			}
			checkExports(t, s, admin, path, "security-events", want, securityItem.cells)
		})
	}
	for _, tc := range []struct{ query, field string }{
		{"since=2026-01-01", "since"},
		{"cursor=1", "cursor"},
		{"cursor=x", "cursor"},
		{"subject=post/x", "subject"},
		{"format=xlsx", "format"},
	} {
		r := s.do("GET", "/api/v1/security-events?"+tc.query, admin, nil)
		if _, fields := r.problem(t); r.status != 400 || !slices.Equal(fields, []string{tc.field}) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.query, r.status, r.body, tc.field)
		}
	}

	// The log is a private file outside the repository, one JSON line
	// per event.
	path := filepath.Join(data, "secrets", "security.log")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v", path, st.Mode(), err)
	}
	raw, _ := os.ReadFile(path)
	if n := bytes.Count(raw, []byte("\n")); n != len(all.Items) {
		t.Errorf("%d lines in the file, %d events listed", n, len(all.Items))
	}
	if strings.Contains(git(t, s.repoDir(), "log", "--all", "-p", "--format=%B"), "nobody@example.org") {
		t.Error("the email tried is in the content repository")
	}
}
