package daemon

import (
	"encoding/csv"
	"regexp"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// TestAdminAuditAndSecurityLogs reads both logs in the admin without
// JavaScript: filters, each entry linked to its commit, exports of what
// the page shows; the security log is for admins only.
func TestAdminAuditAndSecurityLogs(t *testing.T) {
	t.Parallel()
	s, b := signedIn(t, "ad@example.org", auth.RoleAdmin)
	addAccount(t, s.data, "ed@example.org", auth.RoleEditor)
	tok := s.token("ad@example.org")
	wait := []string{"Prefer", "wait=5"}
	mustStatus(t, s.do("POST", "/api/v1/categories", tok, map[string]string{"name": "Books"}, wait...), 201)
	var p apiPost
	r := s.do("POST", "/api/v1/posts", tok, postBody("Audited post", "status", "published"), wait...)
	r.json(t, &p)

	page := b.get("/admin/audit")
	mustStatus(t, page, 200)
	body := string(page.body)
	for _, want := range []string{"post.created", "Audited post", "category.created", `href="/admin/commits/` + p.Revision + `"`,
		`href="/admin/at/` + p.Revision + `/"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
	// From an entry, the whole site as it was just after it.
	if then := b.get("/admin/at/" + p.Revision + "/"); then.status != 200 || !strings.Contains(string(then.body), "Audited post") {
		t.Errorf("the site after the post's commit: %d", then.status)
	}
	only := string(b.get("/admin/audit?type=category.").body)
	if !strings.Contains(only, "category.created") || strings.Contains(only, "post.created") {
		t.Errorf("filtered to categories, the page shows:\n%s", only)
	}
	if r := b.get("/admin/audit?since=yesterday"); r.status != 200 || !strings.Contains(string(r.body), "Dates are written") {
		t.Errorf("a bad date: %d", r.status)
	}
	// The export link is the page's selection, as CSV.
	link := regexpFind(t, only, `href="(/admin/audit/export\?[^"]+)"`)
	exp := b.get(strings.ReplaceAll(link, "&amp;", "&"))
	mustStatus(t, exp, 200)
	rows, err := csv.NewReader(strings.NewReader(string(exp.body))).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][2] != "category.created" {
		t.Errorf("the export of categories: %v %q", err, exp.body)
	}

	sec := b.get("/admin/security")
	mustStatus(t, sec, 200)
	if !strings.Contains(string(sec.body), "signin.succeeded") {
		t.Errorf("the security log lacks the sign-in:\n%s", sec.body)
	}
	ed := s.browser()
	ed.signIn("ed@example.org", password)
	if r := ed.get("/admin/security"); r.status != 403 {
		t.Errorf("an editor reads the security log: %d", r.status)
	}
	if r := ed.get("/admin/security/export?format=csv"); r.status != 403 {
		t.Errorf("an editor exports the security log: %d", r.status)
	}
	mustStatus(t, ed.get("/admin/audit"), 200)
}

// regexpFind returns the first group of pattern in s, failing t without one.
func regexpFind(t testing.TB, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in:\n%s", pattern, s)
	}
	return m[1]
}
