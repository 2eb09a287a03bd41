package daemon

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/webui"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/gorilla/mux"
)

// The role × action table: every route of the API and the admin, and
// every kind of push, tried by each of the four roles and by an
// anonymous caller. Expectations are written out here, one letter per
// caller (anonymous, contributor, author, editor, admin):
//
//	y  allowed (2xx, or a redirect after an admin form)
//	n  refused (401, 403, or the admin's sign-in page)
//	h  hidden (404: a post the caller may not read does not exist for it)
//
// Every route the router has must have at least one row, so a route
// added without deciding who may use it fails here.

// who is one caller of the table.
type who int

const (
	asAnon who = iota
	asContributor
	asAuthor
	asEditor
	asAdmin
)

var (
	callers      = []who{asAnon, asContributor, asAuthor, asEditor, asAdmin}
	callerEmails = []string{"", "co@example.org", "au@example.org", "ed@example.org", "ad@example.org"}
	callerRoles  = []auth.Role{"", auth.RoleContributor, auth.RoleAuthor, auth.RoleEditor, auth.RoleAdmin}
)

func (w who) String() string {
	return [...]string{"anonymous", "contributor", "author", "editor", "admin"}[w]
}

// matrix is the site the table runs on, with a token for each caller.
type matrix struct {
	t   *testing.T
	s   *site
	tok [5]string
	n   int
}

func newMatrix(t *testing.T) *matrix {
	data := t.TempDir()
	for _, w := range callers[1:] {
		addAccount(t, data, callerEmails[w], callerRoles[w])
	}
	// Each caller signs in from an address of its own (named by a proxy
	// the site trusts), so that the table's many sign-ins stay within
	// each address's budget.
	m := &matrix{t: t, s: startSite(t, data, func(c *Config) { c.TrustedProxies = []string{"127.0.0.1/32"} })}
	for _, w := range callers[1:] {
		m.tok[w] = m.s.token(callerEmails[w])
	}
	if r := m.s.do("POST", "/api/v1/categories", m.tok[asAdmin], map[string]any{"slug": "news", "name": "News"}, "Prefer", "wait=5"); r.status != 201 {
		t.Fatalf("category: %d %s", r.status, r.body)
	}
	return m
}

func (m *matrix) next() int { m.n++; return m.n }

// post makes a post of owner's with status (an admin writes it), and
// returns its id and ETag.
func (m *matrix) post(owner who, status string) (string, string) {
	m.t.Helper()
	body := map[string]any{"title": fmt.Sprintf("Post %d", m.next()), "content": "Some words.", "status": status, "author": callerEmails[owner]}
	r := m.s.do("POST", "/api/v1/posts", m.tok[asAdmin], body, "Prefer", "wait=5")
	if r.status != 201 {
		m.t.Fatalf("make a %s post of %s: %d %s", status, owner, r.status, r.body)
	}
	var p struct{ ID string }
	r.json(m.t, &p)
	return p.ID, r.header.Get("ETag")
}

// media uploads a picture as owner (an author or above), and returns its
// id and ETag.
func (m *matrix) media(owner who) (string, string) {
	m.t.Helper()
	r := m.s.upload(m.tok[owner], fmt.Sprintf("p%d.jpg", m.next()), testJPEG(16+m.n, 12))
	if r.status != 201 {
		m.t.Fatalf("upload as %s: %d %s", owner, r.status, r.body)
	}
	var p struct{ ID string }
	r.json(m.t, &p)
	return p.ID, r.header.Get("ETag")
}

// category makes a category no post uses, and returns its slug and ETag.
func (m *matrix) category() (string, string) {
	m.t.Helper()
	slug := fmt.Sprintf("topic-%d", m.next())
	r := m.s.do("POST", "/api/v1/categories", m.tok[asAdmin], map[string]any{"slug": slug, "name": "Topic"}, "Prefer", "wait=5")
	if r.status != 201 {
		m.t.Fatalf("category: %d %s", r.status, r.body)
	}
	return slug, r.header.Get("ETag")
}

// firstRevision is the oldest revision of a subject's history.
func (m *matrix) firstRevision(path string) string {
	m.t.Helper()
	r := m.s.do("GET", path+"/revisions?order=oldest&per_page=100", m.tok[asAdmin], nil)
	var list struct{ Items []struct{ Revision string } }
	r.json(m.t, &list)
	if len(list.Items) == 0 {
		m.t.Fatalf("%s has no revisions: %s", path, r.body)
	}
	return list.Items[len(list.Items)-1].Revision
}

// outcome reads an answer as the table's letter.
func outcome(status int) byte {
	switch {
	case status >= 200 && status < 400:
		return 'y'
	case status == 401 || status == 403:
		return 'n'
	case status == 404:
		return 'h'
	}
	return '?'
}

// apiRequest is one request of a row, for one caller.
type apiRequest struct {
	path    string
	body    any
	headers []string
}

type apiRow struct {
	method, route string // the route as routed
	name          string // what the row tries
	want          string // a letter per caller: anonymous, contributor, author, editor, admin
	// req builds the caller's request, making what it needs afresh:
	// a write allowed to one caller must not spoil the next one's.
	req func(m *matrix, w who) apiRequest
}

func path(p string, hs ...string) func(*matrix, who) apiRequest {
	return func(*matrix, who) apiRequest { return apiRequest{path: p, headers: hs} }
}

func TestRoleActionTableAPI(t *testing.T) {
	t.Parallel()
	m := newMatrix(t)
	edPub, _ := m.post(asEditor, "published")
	edDraft, _ := m.post(asEditor, "draft")
	coDraft, _ := m.post(asContributor, "draft")
	edPic, edPicTag := m.media(asEditor)
	// A second revision of each subject whose diff the table asks for.
	mustStatus(t, m.s.do("PATCH", "/api/v1/posts/"+edDraft, m.tok[asAdmin], map[string]any{"content": "Other words."},
		"Content-Type", "application/merge-patch+json", "Prefer", "wait=5"), 200)
	mustStatus(t, m.s.do("PATCH", "/api/v1/categories/news", m.tok[asAdmin], map[string]any{"description": "What happens."},
		"Content-Type", "application/merge-patch+json", "Prefer", "wait=5"), 200)
	mustStatus(t, m.s.do("PATCH", "/api/v1/media/"+edPic, m.tok[asAdmin], map[string]any{"alt": "A picture"},
		"If-Match", edPicTag, "Content-Type", "application/merge-patch+json", "Prefer", "wait=5"), 200)
	// own makes a post of the caller's (a contributor's for anonymous).
	own := func(m *matrix, w who, status string) (string, string) {
		if w == asAnon {
			w = asContributor
		}
		return m.post(w, status)
	}
	rows := []apiRow{
		{"POST", "/api/v1/auth/token", "sign in", "yyyyy", func(m *matrix, w who) apiRequest {
			if w == asAnon {
				return apiRequest{path: "/api/v1/auth/token", body: map[string]string{"email": callerEmails[asEditor], "password": password}}
			}
			return apiRequest{path: "/api/v1/auth/token", body: map[string]string{"email": callerEmails[w], "password": password}}
		}},
		{"GET", "/api/v1/openapi.json", "the API's description", "yyyyy", path("/api/v1/openapi.json")},
		{"GET", "/api/v1/posts", "list posts", "yyyyy", path("/api/v1/posts")},
		{"GET", "/api/v1/posts/{id}", "a published post", "yyyyy", path("/api/v1/posts/" + edPub)},
		{"GET", "/api/v1/posts/{id}", "an editor's draft", "hhhyy", path("/api/v1/posts/" + edDraft)},
		{"GET", "/api/v1/posts/{id}", "a contributor's draft", "hyhyy", path("/api/v1/posts/" + coDraft)},
		{"POST", "/api/v1/posts", "a draft", "nyyyy", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/posts", body: map[string]any{"title": "Mine", "status": "draft"}}
		}},
		{"POST", "/api/v1/posts", "a published post", "nnyyy", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/posts", body: map[string]any{"title": "Mine", "status": "published"}}
		}},
		{"POST", "/api/v1/posts", "a post of another account", "nnnyy", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/posts", body: map[string]any{"title": "Yours", "status": "draft", "author": callerEmails[asEditor]}}
		}},
		{"PUT", "/api/v1/posts/{id}", "own draft", "nyyyy", func(m *matrix, w who) apiRequest {
			id, etag := own(m, w, "draft")
			return apiRequest{path: "/api/v1/posts/" + id, body: map[string]any{"title": "Changed", "status": "draft"}, headers: []string{"If-Match", etag}}
		}},
		{"PUT", "/api/v1/posts/{id}", "an editor's published post", "nnnyy", func(m *matrix, w who) apiRequest {
			id, etag := m.post(asEditor, "published")
			return apiRequest{path: "/api/v1/posts/" + id, body: map[string]any{"title": "Changed", "status": "published"}, headers: []string{"If-Match", etag}}
		}},
		{"PATCH", "/api/v1/posts/{id}", "publish own draft", "nnyyy", func(m *matrix, w who) apiRequest {
			id, etag := own(m, w, "draft")
			return apiRequest{path: "/api/v1/posts/" + id, body: map[string]any{"status": "published"}, headers: []string{"If-Match", etag, "Content-Type", "application/merge-patch+json"}}
		}},
		{"PATCH", "/api/v1/posts/{id}", "an editor's draft", "nhhyy", func(m *matrix, w who) apiRequest {
			id, etag := m.post(asEditor, "draft")
			return apiRequest{path: "/api/v1/posts/" + id, body: map[string]any{"title": "Changed"}, headers: []string{"If-Match", etag, "Content-Type", "application/merge-patch+json"}}
		}},
		{"PATCH", "/api/v1/posts/{id}", "give own post to another", "nnnyy", func(m *matrix, w who) apiRequest {
			id, etag := own(m, w, "draft")
			return apiRequest{path: "/api/v1/posts/" + id, body: map[string]any{"author": callerEmails[asAdmin]}, headers: []string{"If-Match", etag, "Content-Type", "application/merge-patch+json"}}
		}},
		{"DELETE", "/api/v1/posts/{id}", "own draft", "nyyyy", func(m *matrix, w who) apiRequest {
			id, etag := own(m, w, "draft")
			return apiRequest{path: "/api/v1/posts/" + id, headers: []string{"If-Match", etag}}
		}},
		{"DELETE", "/api/v1/posts/{id}", "own published post", "nnyyy", func(m *matrix, w who) apiRequest {
			id, etag := own(m, w, "published")
			return apiRequest{path: "/api/v1/posts/" + id, headers: []string{"If-Match", etag}}
		}},
		{"DELETE", "/api/v1/posts/{id}", "an editor's published post", "nnnyy", func(m *matrix, w who) apiRequest {
			id, etag := m.post(asEditor, "published")
			return apiRequest{path: "/api/v1/posts/" + id, headers: []string{"If-Match", etag}}
		}},
		{"POST", "/api/v1/posts/{id}/submit", "submit own draft", "nyyyy", func(m *matrix, w who) apiRequest {
			id, etag := own(m, w, "draft")
			return apiRequest{path: "/api/v1/posts/" + id + "/submit", headers: []string{"If-Match", etag}}
		}},
		{"POST", "/api/v1/posts/{id}/request-changes", "a contributor's submitted post", "nnnyy", func(m *matrix, w who) apiRequest {
			id, etag := m.post(asContributor, "pending")
			return apiRequest{path: "/api/v1/posts/" + id + "/request-changes", body: map[string]string{"note": "Shorter, please."}, headers: []string{"If-Match", etag}}
		}},
		{"POST", "/api/v1/posts/{id}/approve", "a contributor's submitted post", "nnnyy", func(m *matrix, w who) apiRequest {
			id, etag := m.post(asContributor, "pending")
			return apiRequest{path: "/api/v1/posts/" + id + "/approve", body: map[string]string{}, headers: []string{"If-Match", etag}}
		}},
		{"GET", "/api/v1/posts/{id}/revisions", "own draft's", "nyyyy", func(m *matrix, w who) apiRequest {
			id, _ := own(m, w, "draft")
			return apiRequest{path: "/api/v1/posts/" + id + "/revisions"}
		}},
		{"GET", "/api/v1/posts/{id}/revisions", "an editor's draft's", "nhhyy", path("/api/v1/posts/" + edDraft + "/revisions")},
		{"GET", "/api/v1/posts/{id}/revisions", "an editor's published post's", "nnnyy", path("/api/v1/posts/" + edPub + "/revisions")},
		{"GET", "/api/v1/posts/{id}/revisions/{revision}", "an editor's draft's first", "nhhyy", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/posts/" + edDraft + "/revisions/" + m.firstRevision("/api/v1/posts/"+edDraft)}
		}},
		{"GET", "/api/v1/posts/{id}/diff", "an editor's draft's", "nhhyy", path("/api/v1/posts/" + edDraft + "/diff")},
		{"POST", "/api/v1/posts/{id}/restore", "own draft", "nyyyy", func(m *matrix, w who) apiRequest {
			id, etag := own(m, w, "draft")
			first := m.firstRevision("/api/v1/posts/" + id)
			r := m.s.do("PATCH", "/api/v1/posts/"+id, m.tok[asAdmin], map[string]any{"title": "Changed"}, "If-Match", etag, "Content-Type", "application/merge-patch+json", "Prefer", "wait=5")
			return apiRequest{path: "/api/v1/posts/" + id + "/restore", body: map[string]string{"revision": first}, headers: []string{"If-Match", r.header.Get("ETag")}}
		}},
		{"GET", "/api/v1/categories", "list", "yyyyy", path("/api/v1/categories")},
		{"GET", "/api/v1/categories/{slug}", "one", "yyyyy", path("/api/v1/categories/news")},
		{"POST", "/api/v1/categories", "create", "nnnyy", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/categories", body: map[string]string{"slug": fmt.Sprintf("new-%d", m.next()), "name": "New"}}
		}},
		{"PUT", "/api/v1/categories/{slug}", "replace", "nnnyy", func(m *matrix, w who) apiRequest {
			slug, etag := m.category()
			return apiRequest{path: "/api/v1/categories/" + slug, body: map[string]string{"name": "Renamed"}, headers: []string{"If-Match", etag}}
		}},
		{"PATCH", "/api/v1/categories/{slug}", "rename", "nnnyy", func(m *matrix, w who) apiRequest {
			slug, etag := m.category()
			return apiRequest{path: "/api/v1/categories/" + slug, body: map[string]string{"name": "Renamed"}, headers: []string{"If-Match", etag, "Content-Type", "application/merge-patch+json"}}
		}},
		{"DELETE", "/api/v1/categories/{slug}", "delete", "nnnyy", func(m *matrix, w who) apiRequest {
			slug, etag := m.category()
			return apiRequest{path: "/api/v1/categories/" + slug, headers: []string{"If-Match", etag}}
		}},
		{"GET", "/api/v1/categories/{slug}/revisions", "list", "nnnyy", path("/api/v1/categories/news/revisions")},
		{"GET", "/api/v1/categories/{slug}/revisions/{revision}", "the first", "nnnyy", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/categories/news/revisions/" + m.firstRevision("/api/v1/categories/news")}
		}},
		{"GET", "/api/v1/categories/{slug}/diff", "diff", "nnnyy", path("/api/v1/categories/news/diff")},
		{"POST", "/api/v1/categories/{slug}/restore", "restore", "nnnyy", func(m *matrix, w who) apiRequest {
			slug, etag := m.category()
			first := m.firstRevision("/api/v1/categories/" + slug)
			r := m.s.do("PATCH", "/api/v1/categories/"+slug, m.tok[asAdmin], map[string]any{"name": "Renamed"}, "If-Match", etag, "Content-Type", "application/merge-patch+json", "Prefer", "wait=5")
			return apiRequest{path: "/api/v1/categories/" + slug + "/restore", body: map[string]string{"revision": first}, headers: []string{"If-Match", r.header.Get("ETag")}}
		}},
		{"GET", "/api/v1/tags", "list", "yyyyy", path("/api/v1/tags")},
		{"GET", "/api/v1/search", "search", "yyyyy", path("/api/v1/search?q=words")},
		{"GET", "/api/v1/settings", "read", "nnnny", path("/api/v1/settings")},
		{"PUT", "/api/v1/settings", "replace", "nnnny", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/settings", body: map[string]any{"title": fmt.Sprintf("Site %d", m.next()), "language": "en", "posts_per_page": 10}}
		}},
		{"PATCH", "/api/v1/settings", "change the title", "nnnny", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/settings", body: map[string]any{"title": fmt.Sprintf("Site %d", m.next())}, headers: []string{"Content-Type", "application/merge-patch+json"}}
		}},
		{"GET", "/api/v1/settings/revisions", "list", "nnnny", path("/api/v1/settings/revisions")},
		{"GET", "/api/v1/settings/revisions/{revision}", "the first", "nnnny", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/settings/revisions/" + m.firstRevision("/api/v1/settings")}
		}},
		{"GET", "/api/v1/settings/diff", "diff", "nnnny", path("/api/v1/settings/diff")},
		{"POST", "/api/v1/settings/restore", "restore", "nnnny", func(m *matrix, w who) apiRequest {
			r := m.s.do("PATCH", "/api/v1/settings", m.tok[asAdmin], map[string]any{"title": fmt.Sprintf("Site %d", m.next())}, "Content-Type", "application/merge-patch+json", "Prefer", "wait=5")
			return apiRequest{path: "/api/v1/settings/restore", body: map[string]string{"revision": m.firstRevision("/api/v1/settings")}, headers: []string{"If-Match", r.header.Get("ETag")}}
		}},
		{"GET", "/api/v1/profile", "read", "yyyyy", path("/api/v1/profile")},
		{"PUT", "/api/v1/profile", "replace", "nnnyy", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/profile", body: map[string]any{"name": fmt.Sprintf("Ada %d", m.next())}}
		}},
		{"PATCH", "/api/v1/profile", "rename", "nnnyy", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/profile", body: map[string]any{"name": fmt.Sprintf("Ada %d", m.next())}, headers: []string{"Content-Type", "application/merge-patch+json"}}
		}},
		{"GET", "/api/v1/profile/revisions", "list", "nnnyy", path("/api/v1/profile/revisions")},
		{"GET", "/api/v1/profile/revisions/{revision}", "the first", "nnnyy", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/profile/revisions/" + m.firstRevision("/api/v1/profile")}
		}},
		{"GET", "/api/v1/profile/diff", "diff", "nnnyy", path("/api/v1/profile/diff")},
		{"POST", "/api/v1/profile/restore", "restore", "nnnyy", func(m *matrix, w who) apiRequest {
			r := m.s.do("PATCH", "/api/v1/profile", m.tok[asAdmin], map[string]any{"name": fmt.Sprintf("Ada %d", m.next())}, "Content-Type", "application/merge-patch+json", "Prefer", "wait=5")
			return apiRequest{path: "/api/v1/profile/restore", body: map[string]string{"revision": m.firstRevision("/api/v1/profile")}, headers: []string{"If-Match", r.header.Get("ETag")}}
		}},
		{"GET", "/api/v1/media", "list", "nyyyy", path("/api/v1/media")},
		{"GET", "/api/v1/media/{id}", "one", "yyyyy", path("/api/v1/media/" + edPic)},
		{"POST", "/api/v1/media", "upload", "nnyyy", func(m *matrix, w who) apiRequest {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			fw, _ := mw.CreateFormFile("file", "up.jpg")
			fw.Write(testJPEG(20+m.next(), 10))
			mw.Close()
			return apiRequest{path: "/api/v1/media", body: b.Bytes(), headers: []string{"Content-Type", mw.FormDataContentType()}}
		}},
		{"PUT", "/api/v1/media/{id}", "own upload", "nnyyy", func(m *matrix, w who) apiRequest {
			id, etag := m.media(max(w, asAuthor))
			return apiRequest{path: "/api/v1/media/" + id, body: map[string]string{"alt": "A picture"}, headers: []string{"If-Match", etag}}
		}},
		{"PATCH", "/api/v1/media/{id}", "an editor's upload", "nnnyy", func(m *matrix, w who) apiRequest {
			id, etag := m.media(asEditor)
			return apiRequest{path: "/api/v1/media/" + id, body: map[string]string{"alt": "A picture"}, headers: []string{"If-Match", etag, "Content-Type", "application/merge-patch+json"}}
		}},
		{"DELETE", "/api/v1/media/{id}", "own upload", "nnyyy", func(m *matrix, w who) apiRequest {
			id, etag := m.media(max(w, asAuthor))
			return apiRequest{path: "/api/v1/media/" + id, headers: []string{"If-Match", etag}}
		}},
		{"DELETE", "/api/v1/media/{id}", "an editor's upload", "nnnyy", func(m *matrix, w who) apiRequest {
			id, etag := m.media(asEditor)
			return apiRequest{path: "/api/v1/media/" + id, headers: []string{"If-Match", etag}}
		}},
		{"GET", "/api/v1/media/{id}/revisions", "list", "nnnyy", path("/api/v1/media/" + edPic + "/revisions")},
		{"GET", "/api/v1/media/{id}/revisions/{revision}", "the first", "nnnyy", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/media/" + edPic + "/revisions/" + m.firstRevision("/api/v1/media/"+edPic)}
		}},
		{"GET", "/api/v1/media/{id}/diff", "diff", "nnnyy", path("/api/v1/media/" + edPic + "/diff")},
		{"POST", "/api/v1/media/{id}/restore", "own upload", "nnyyy", func(m *matrix, w who) apiRequest {
			id, etag := m.media(max(w, asAuthor))
			first := m.firstRevision("/api/v1/media/" + id)
			r := m.s.do("PATCH", "/api/v1/media/"+id, m.tok[asAdmin], map[string]any{"alt": "Changed"}, "If-Match", etag, "Content-Type", "application/merge-patch+json", "Prefer", "wait=5")
			return apiRequest{path: "/api/v1/media/" + id + "/restore", body: map[string]string{"revision": first}, headers: []string{"If-Match", r.header.Get("ETag")}}
		}},
		{"GET", "/api/v1/events", "the audit log", "nnnyy", path("/api/v1/events")},
		{"GET", "/api/v1/security-events", "the security log", "nnnny", path("/api/v1/security-events")},
		{"GET", "/api/v1/commits/{hash}", "a commit", "nnnyy", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/commits/" + m.firstRevision("/api/v1/posts/"+edPub)}
		}},
		{"POST", "/api/v1/commits/{hash}/revert", "revert a change", "nnnyy", func(m *matrix, w who) apiRequest {
			id, etag := m.post(asEditor, "draft")
			r := m.s.do("PATCH", "/api/v1/posts/"+id, m.tok[asAdmin], map[string]any{"title": "Changed"}, "If-Match", etag, "Content-Type", "application/merge-patch+json", "Prefer", "wait=5")
			var p struct{ Revision string }
			r.json(m.t, &p)
			return apiRequest{path: "/api/v1/commits/" + p.Revision + "/revert"}
		}},
		{"POST", "/api/v1/site/rollback", "a dry run", "nnnny", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/site/rollback", body: map[string]any{"to": m.firstRevision("/api/v1/posts/" + edPub), "dry_run": true}}
		}},
		{"GET", "/api/v1/tokens", "own tokens", "nyyyy", path("/api/v1/tokens")},
		{"POST", "/api/v1/tokens", "a personal access token", "nyyyy", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/tokens", body: map[string]string{"name": "laptop"}}
		}},
		{"DELETE", "/api/v1/tokens/{id}", "own token", "nyyyy", func(m *matrix, w who) apiRequest {
			tw := max(w, asContributor)
			r := m.s.do("POST", "/api/v1/tokens", m.tok[tw], map[string]string{"name": "spare"})
			var tk struct{ ID string }
			r.json(m.t, &tk)
			return apiRequest{path: "/api/v1/tokens/" + tk.ID}
		}},
		{"GET", "/api/v1/accounts", "list", "nnnny", path("/api/v1/accounts")},
		{"POST", "/api/v1/accounts", "add", "nnnny", func(m *matrix, w who) apiRequest {
			return apiRequest{path: "/api/v1/accounts", body: map[string]string{"email": fmt.Sprintf("new%d@example.org", m.next()), "role": "author", "password": "a long enough passphrase"}}
		}},
		{"GET", "/api/v1/accounts/{email}", "one", "nnnny", path("/api/v1/accounts/" + callerEmails[asAuthor])},
		{"PATCH", "/api/v1/accounts/{email}", "change a role", "nnnny", func(m *matrix, w who) apiRequest {
			email := fmt.Sprintf("new%d@example.org", m.next())
			addAccount(m.t, m.s.data, email, auth.RoleContributor)
			return apiRequest{path: "/api/v1/accounts/" + email, body: map[string]string{"role": "author"}, headers: []string{"Content-Type", "application/merge-patch+json"}}
		}},
		{"GET", "/api/v1/accounts/{email}/tokens", "an author's tokens", "nnnny", path("/api/v1/accounts/" + callerEmails[asAuthor] + "/tokens")},
		{"DELETE", "/api/v1/accounts/{email}/tokens/{id}", "an author's token", "nnnny", func(m *matrix, w who) apiRequest {
			r := m.s.do("POST", "/api/v1/tokens", m.tok[asAuthor], map[string]string{"name": "lost laptop"})
			var tk struct{ ID string }
			r.json(m.t, &tk)
			return apiRequest{path: "/api/v1/accounts/" + callerEmails[asAuthor] + "/tokens/" + tk.ID}
		}},
		{"DELETE", "/api/v1/accounts/{email}", "remove", "nnnny", func(m *matrix, w who) apiRequest {
			email := fmt.Sprintf("new%d@example.org", m.next())
			addAccount(m.t, m.s.data, email, auth.RoleContributor)
			return apiRequest{path: "/api/v1/accounts/" + email}
		}},
	}
	covered := map[string]bool{}
	for _, row := range rows {
		covered[row.method+" "+row.route] = true
		var got []byte
		for _, w := range callers {
			rq := row.req(m, w)
			r := m.s.do(row.method, rq.path, m.tok[w], rq.body, append(rq.headers, "Prefer", "wait=5")...)
			o := outcome(r.status)
			got = append(got, o)
			if o != row.want[w] {
				t.Errorf("%s %s (%s) as %s: %d %s, want %c", row.method, row.route, row.name, w, r.status, clip(r.body), row.want[w])
			}
		}
		t.Logf("%-7s %-45s %-32s %s", row.method, row.route, row.name, got)
	}
	var missing []string
	for _, ep := range routedEndpoints(t, "/api/v1/") {
		if !covered[ep] {
			missing = append(missing, ep)
		}
	}
	if len(missing) > 0 {
		t.Errorf("routes with no row in the table (decide who may use them): %s", strings.Join(missing, ", "))
	}
}

// clip is the gist of an answer's body for a failure's message: an HTML
// page's text without its head and tags.
func clip(b []byte) string {
	s := string(b)
	if i := strings.Index(s, "</head>"); i >= 0 {
		s = strings.Join(strings.Fields(htmlTag.ReplaceAllString(s[i:], " ")), " ")
	}
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return s
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

var routeVar = regexp.MustCompile(`\{[^}:]+:[^}]*\}`)

// routedEndpoints lists "METHOD /path/{var}" for every route of the
// daemon's router under prefix, read from the router itself.
func routedEndpoints(t *testing.T, prefix string) []string {
	t.Helper()
	var out []string
	for _, ep := range daemonEndpoints(t) {
		if strings.HasPrefix(ep.path, prefix) && ep.method != "HEAD" {
			out = append(out, ep.method+" "+ep.path)
		}
	}
	sort.Strings(out)
	return out
}

// git over HTTP, as each caller: clone, push what each role may and may
// not, and Git LFS.
func TestRoleActionTableGit(t *testing.T) {
	t.Parallel()
	m := newMatrix(t)
	edPub, _ := m.post(asEditor, "published")
	_ = edPub
	secrets := [5]string{"", password, password, password, password}
	clones := [5]string{}
	var cloneGot []byte
	for _, w := range callers {
		dir := filepath.Join(t.TempDir(), "site")
		remote := m.s.url + "/git/site.git"
		if w != asAnon {
			remote = m.s.remote(callerEmails[w], secrets[w])
		}
		out, err := gitTry(t, filepath.Dir(dir), "clone", "-q", remote, dir)
		o := byte('y')
		if err != nil {
			o = 'n'
			if w != asAnon && w != asContributor {
				t.Errorf("clone as %s: %v\n%s", w, err, out)
			}
		} else {
			clones[w] = dir
		}
		cloneGot = append(cloneGot, o)
	}
	if string(cloneGot) != "nnyyy" {
		t.Errorf("clone: %s, want nnyyy", cloneGot)
	}
	if !strings.Contains(mustFail(t, clones, m, asContributor), "contributor") {
		t.Error("a contributor's refused clone does not say why")
	}
	type pushCase struct {
		name   string
		change func(dir string, w who) string // edits the clone; returns the file that a refusal names
		want   string                         // author, editor, admin: y or n
	}
	postFile := func(dir, id string) string {
		var found string
		filepath.WalkDir(filepath.Join(dir, "posts"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(p); bytes.Contains(b, []byte("id: "+id+"\n")) {
					found = p
				}
			}
			return nil
		})
		if found == "" {
			t.Fatalf("no file of post %s in %s", id, dir)
		}
		return found
	}
	rel := func(dir, p string) string { r, _ := filepath.Rel(dir, p); return filepath.ToSlash(r) }
	cases := []pushCase{
		{"a new post of one's own", func(dir string, w who) string {
			p := filepath.Join(dir, "posts", "2026", fmt.Sprintf("mine-%d.md", m.next()))
			write(t, p, "---\ntitle: Mine\nstatus: published\nauthor: "+callerEmails[w]+"\n---\nHello.\n")
			return rel(dir, p)
		}, "yyy"},
		{"a new post naming nobody", func(dir string, w who) string {
			p := filepath.Join(dir, "posts", "2026", fmt.Sprintf("nobody-%d.md", m.next()))
			write(t, p, "---\ntitle: Nobody's\n---\nHello.\n")
			return rel(dir, p)
		}, "nyy"},
		{"an editor's post changed", func(dir string, w who) string {
			p := postFile(dir, edPub)
			b, _ := os.ReadFile(p)
			write(t, p, string(b)+fmt.Sprintf("\nMore words %d.\n", m.next()))
			return rel(dir, p)
		}, "nyy"},
		{"a category", func(dir string, w who) string {
			p := filepath.Join(dir, "categories", fmt.Sprintf("pushed-%d.yaml", m.next()))
			write(t, p, "name: Pushed\n")
			return rel(dir, p)
		}, "nyy"},
		{"the profile", func(dir string, w who) string {
			p := filepath.Join(dir, "site", "profile.yaml")
			write(t, p, fmt.Sprintf("name: Pushed %d\n", m.next()))
			return rel(dir, p)
		}, "nyy"},
		{"the settings", func(dir string, w who) string {
			p := filepath.Join(dir, "site", "settings.yaml")
			write(t, p, fmt.Sprintf("title: Pushed %d\nlanguage: en\nposts_per_page: 10\n", m.next()))
			return rel(dir, p)
		}, "nny"},
	}
	// Every push starts from one clone, with the pusher's credentials:
	// after an accepted push the clone is main already, and after a
	// refused one it goes back a commit, so no push waits for a pull. (A
	// push on anything but main's head would be refused as not a fast
	// forward, and its message would name no file.)
	dir := clones[asAdmin]
	for _, pc := range cases {
		var got []byte
		for i, w := range []who{asAuthor, asEditor, asAdmin} {
			file := pc.change(dir, w)
			git(t, dir, "add", "-A")
			git(t, dir, "commit", "-qm", pc.name)
			out, err := gitTry(t, dir, "push", "-q", m.s.remote(callerEmails[w], secrets[w]), "HEAD:main")
			o := byte('y')
			if err != nil {
				o = 'n'
				if !strings.Contains(out, "remote:") || !strings.Contains(out, file) {
					t.Errorf("push of %s as %s refused without a remote: line naming %s:\n%s", pc.name, w, file, out)
				}
				git(t, dir, "reset", "-q", "--hard", "HEAD~1")
			}
			got = append(got, o)
			if o != pc.want[i] {
				t.Errorf("push of %s as %s: %c, want %c\n%s", pc.name, w, o, pc.want[i], out)
			}
		}
		t.Logf("push %-28s %s", pc.name, got)
	}
	// Git LFS: the batch endpoint, asked to upload, as each caller.
	var lfsGot []byte
	for _, w := range callers {
		req, _ := http.NewRequest("POST", m.s.url+"/git/site.git/info/lfs/objects/batch",
			strings.NewReader(`{"operation":"upload","transfers":["basic"],"objects":[{"oid":"`+strings.Repeat("ab", 32)+`","size":10}]}`))
		req.Header.Set("Accept", "application/vnd.git-lfs+json")
		req.Header.Set("Content-Type", "application/vnd.git-lfs+json")
		if w != asAnon {
			req.SetBasicAuth(callerEmails[w], password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		lfsGot = append(lfsGot, outcome(resp.StatusCode))
	}
	if string(lfsGot) != "nnyyy" {
		t.Errorf("LFS upload batch: %s, want nnyyy", lfsGot)
	}
}

// mustFail is what git says to w's refused clone.
func mustFail(t *testing.T, clones [5]string, m *matrix, w who) string {
	out, err := gitTry(t, t.TempDir(), "clone", "-q", m.s.remote(callerEmails[w], password), "x")
	if err == nil {
		t.Errorf("%s cloned", w)
	}
	return out
}

type endpoint struct{ method, path string }

// daemonEndpoints are the routes of the web layer with every area on, as
// serve mounts them, read by walking the router.
func daemonEndpoints(t *testing.T) []endpoint {
	t.Helper()
	dir := t.TempDir()
	tokens, err := auth.LoadTokens(filepath.Join(dir, "token.key"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var w *command.Writer // never called: the router is only walked
	h := webui.New(webui.Config{Writer: w, Git: &webui.GitConfig{Root: dir}, Media: &webui.MediaConfig{Store: dir},
		Accounts: auth.NewStore(filepath.Join(dir, "accounts"), cheapHash), Tokens: tokens,
		Admin: &webui.AdminConfig{Writer: w, Sessions: scs.New()}})
	var out []endpoint
	err = h.(*webui.Router).Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err1 := route.GetPathTemplate()
		methods, err2 := route.GetMethods()
		if err1 != nil || err2 != nil {
			return nil // a subrouter's prefix, not an endpoint
		}
		for _, m := range methods {
			out = append(out, endpoint{m, tmpl})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// adminRow is one admin route tried by every caller, in a browser
// signed in as that caller (none for anonymous).
type adminRow struct {
	method, route string
	name          string
	want          string
	// req sends the caller's request with its browser, making what it
	// needs afresh.
	req func(m *matrix, w who, b *browser) response
}

// browsers are the callers' signed-in browsers, made when first asked.
type browsers struct {
	m  *matrix
	bs [5]*browser
}

func (bs *browsers) of(w who) *browser {
	if bs.bs[w] == nil {
		bs.bs[w] = bs.m.browser(w)
		if w != asAnon {
			bs.bs[w].signIn(callerEmails[w], password)
		}
	}
	return bs.bs[w]
}

// browser is a new browser of w's, coming from w's own address.
func (m *matrix) browser(w who) *browser {
	b := m.s.browser()
	b.client.Transport = forwardedFor{addr: fmt.Sprintf("192.0.2.%d", 10+w)}
	return b
}

// forwardedFor sends requests as a trusted proxy would for a client at addr.
type forwardedFor struct{ addr string }

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return http.DefaultTransport.RoundTrip(r)
}

// adminOutcome reads an admin answer as the table's letter: the sign-in
// page (or a redirect to it) is a refusal.
func adminOutcome(r response) byte {
	loc := r.header.Get("Location")
	if r.status == http.StatusSeeOther && strings.HasPrefix(loc, "/admin/login") && !strings.HasPrefix(loc, "/admin/login?out=1") { // (signed out: done)
		return 'n'
	}
	return outcome(r.status)
}

// blob is a post's version as the admin's forms carry it.
func (m *matrix) blob(id string) string {
	m.t.Helper()
	r := m.s.do("GET", "/api/v1/posts/"+id, m.tok[asAdmin], nil)
	var p struct{ Blob string }
	r.json(m.t, &p)
	return p.Blob
}

func get(p string) func(*matrix, who, *browser) response {
	return func(_ *matrix, _ who, b *browser) response { return b.get(p) }
}

func TestRoleActionTableAdmin(t *testing.T) {
	t.Parallel()
	m := newMatrix(t)
	bs := &browsers{m: m}
	edPub, _ := m.post(asEditor, "published")
	edDraft, _ := m.post(asEditor, "draft")
	edPic, _ := m.media(asEditor)
	edDraftFirst := m.firstRevision("/api/v1/posts/" + edDraft)
	own := func(w who, status string) string {
		id, _ := m.post(max(w, asContributor), status)
		return id
	}
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	// newAccount makes a contributor's account and returns its email and
	// version, as the admin's account forms carry it.
	newAccount := func() (string, string) {
		email := fmt.Sprintf("new%d@example.org", m.next())
		addAccount(t, m.s.data, email, auth.RoleContributor)
		return email, inputValue(t, bs.of(asAdmin).get("/admin/accounts/edit?email="+url.QueryEscape(email)).body, "version")
	}
	rows := []adminRow{
		{"GET", "/admin", "the way to /admin/", "yyyyy", get("/admin")},
		{"GET", "/admin/login", "the sign-in page", "yyyyy", get("/admin/login")},
		{"POST", "/admin/login", "sign in", "yyyyy", func(m *matrix, w who, _ *browser) response {
			return m.browser(w).post("/admin/login", form("email", callerEmails[max(w, asContributor)], "password", password))
		}},
		{"GET", "/admin/login/oidc", "no provider configured", "hhhhh", get("/admin/login/oidc")},
		{"GET", "/admin/login/oidc/callback", "no provider configured", "hhhhh", get("/admin/login/oidc/callback?state=x&code=y")},
		{"GET", "/admin/static/{name}", "the style sheet", "yyyyy", get("/admin/static/admin.css")},
		{"GET", "/admin/", "the dashboard", "nyyyy", get("/admin/")},
		{"GET", "/admin/posts", "the posts", "nyyyy", get("/admin/posts")},
		{"GET", "/admin/posts/new", "a new post's form", "nyyyy", get("/admin/posts/new")},
		{"POST", "/admin/posts", "a draft", "nyyyy", func(m *matrix, w who, b *browser) response {
			return b.post("/admin/posts", form("title", "Mine", "content", "Words.", "status", "draft"))
		}},
		{"POST", "/admin/posts", "a published post", "nnyyy", func(m *matrix, w who, b *browser) response {
			return b.post("/admin/posts", form("title", "Mine", "content", "Words.", "status", "published"))
		}},
		{"GET", "/admin/posts/{id}", "an editor's published post", "nyyyy", get("/admin/posts/" + edPub)},
		{"GET", "/admin/posts/{id}", "an editor's draft", "nhhyy", get("/admin/posts/" + edDraft)},
		{"POST", "/admin/posts/{id}", "own draft", "nyyyy", func(m *matrix, w who, b *browser) response {
			id := own(w, "draft")
			return b.post("/admin/posts/"+id, form("title", "Changed", "content", "Words.", "status", "draft", "version", m.blob(id), "author", callerEmails[max(w, asContributor)]))
		}},
		{"POST", "/admin/posts/{id}", "an editor's published post", "nnnyy", func(m *matrix, w who, b *browser) response {
			id, _ := m.post(asEditor, "published")
			return b.post("/admin/posts/"+id, form("title", "Changed", "content", "Words.", "status", "published", "version", m.blob(id), "author", callerEmails[asEditor]))
		}},
		{"POST", "/admin/posts/{id}/delete", "own draft", "nyyyy", func(m *matrix, w who, b *browser) response {
			id := own(w, "draft")
			return b.post("/admin/posts/"+id+"/delete", form("version", m.blob(id), "confirm", "yes"))
		}},
		{"POST", "/admin/posts/{id}/delete", "an editor's published post", "nnnyy", func(m *matrix, w who, b *browser) response {
			id, _ := m.post(asEditor, "published")
			return b.post("/admin/posts/"+id+"/delete", form("version", m.blob(id), "confirm", "yes"))
		}},
		{"POST", "/admin/posts/{id}/review", "request changes", "nnnyy", func(m *matrix, w who, b *browser) response {
			id, _ := m.post(asContributor, "pending")
			return b.post("/admin/posts/"+id+"/review", form("decision", "changes", "review_note", "Shorter, please.", "version", m.blob(id)))
		}},
		{"GET", "/admin/review", "the review queue", "nnnyy", get("/admin/review")},
		{"GET", "/admin/posts/{id}/history", "an editor's draft's", "nhhyy", get("/admin/posts/" + edDraft + "/history")},
		{"GET", "/admin/posts/{id}/history", "an editor's published post's", "nnnyy", get("/admin/posts/" + edPub + "/history")},
		{"GET", "/admin/posts/{id}/history", "own draft's", "nyyyy", func(m *matrix, w who, b *browser) response {
			return b.get("/admin/posts/" + own(w, "draft") + "/history")
		}},
		{"GET", "/admin/posts/{id}/history/compare", "an editor's draft's", "nhhyy", get("/admin/posts/" + edDraft + "/history/compare?from=" + edDraftFirst + "&to=" + edDraftFirst)},
		{"GET", "/admin/posts/{id}/history/{revision}", "an editor's draft's", "nhhyy", get("/admin/posts/" + edDraft + "/history/" + edDraftFirst)},
		{"GET", "/admin/posts/{id}/history/{revision}/restore", "an editor's draft's", "nhhyy", get("/admin/posts/" + edDraft + "/history/" + edDraftFirst + "/restore")},
		{"POST", "/admin/posts/{id}/history/{revision}/restore", "own draft", "nyyyy", func(m *matrix, w who, b *browser) response {
			id, etag := own2(m, w)
			first := m.firstRevision("/api/v1/posts/" + id)
			m.s.do("PATCH", "/api/v1/posts/"+id, m.tok[asAdmin], map[string]any{"title": "Changed"}, "If-Match", etag, "Content-Type", "application/merge-patch+json", "Prefer", "wait=5")
			return b.post("/admin/posts/"+id+"/history/"+first+"/restore", form("version", m.blob(id)))
		}},
		{"POST", "/admin/preview", "a preview", "nyyyy", func(m *matrix, w who, b *browser) response {
			return b.post("/admin/preview", form("content", "*Hi*"))
		}},
		{"POST", "/admin/autosave", "a new post's draft", "nyyyy", func(m *matrix, w who, b *browser) response {
			return b.post("/admin/autosave", form("draft_key", fmt.Sprintf("new-%d", m.next()), "title", "Unsaved", "content", "x"))
		}},
		{"POST", "/admin/posts/{id}/presence", "on an editor's draft", "nhhyy", func(m *matrix, w who, b *browser) response {
			return b.post("/admin/posts/"+edDraft+"/presence", nil)
		}},
		{"POST", "/admin/drafts/{key}/discard", "own unsaved draft", "nyyyy", func(m *matrix, w who, b *browser) response {
			key := fmt.Sprintf("new-%d", m.next())
			if w != asAnon {
				mustStatus(t, b.post("/admin/autosave", form("draft_key", key, "title", "Unsaved", "content", "x")), 200)
			}
			return b.post("/admin/drafts/"+key+"/discard", nil)
		}},
		{"GET", "/admin/media", "the library", "nyyyy", get("/admin/media")},
		{"POST", "/admin/media", "an upload", "nnyyy", func(m *matrix, w who, b *browser) response {
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			fw, _ := mw.CreateFormFile("file", "up.jpg")
			fw.Write(testJPEG(30+m.next(), 10))
			mw.Close()
			req, _ := http.NewRequest("POST", m.s.url+"/admin/media", &body)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			req.Header.Set("Origin", m.s.url)
			return b.send(req)
		}},
		{"GET", "/admin/media/{id}", "an editor's upload", "nyyyy", get("/admin/media/" + edPic)},
		{"POST", "/admin/media/{id}", "own upload", "nnyyy", func(m *matrix, w who, b *browser) response {
			id, etag := m.media(max(w, asAuthor))
			return b.post("/admin/media/"+id, form("alt", "A picture", "version", strings.Trim(etag, `"`)))
		}},
		{"POST", "/admin/media/{id}", "an editor's upload", "nnnyy", func(m *matrix, w who, b *browser) response {
			id, etag := m.media(asEditor)
			return b.post("/admin/media/"+id, form("alt", "A picture", "version", strings.Trim(etag, `"`)))
		}},
		{"POST", "/admin/media/{id}/delete", "an editor's upload", "nnnyy", func(m *matrix, w who, b *browser) response {
			id, etag := m.media(asEditor)
			return b.post("/admin/media/"+id+"/delete", form("version", strings.Trim(etag, `"`), "confirm", "yes"))
		}},
		{"GET", "/admin/password", "own password's form", "nyyyy", get("/admin/password")},
		{"GET", "/admin/tokens", "own tokens", "nyyyy", get("/admin/tokens")},
		{"POST", "/admin/tokens", "a token", "nyyyy", func(m *matrix, w who, b *browser) response {
			return b.post("/admin/tokens", form("name", "laptop"))
		}},
		{"POST", "/admin/tokens/{id}/revoke", "own token", "nyyyy", func(m *matrix, w who, b *browser) response {
			r := m.s.do("POST", "/api/v1/tokens", m.tok[max(w, asContributor)], map[string]string{"name": "spare"})
			var tk struct{ ID string }
			r.json(m.t, &tk)
			return b.post("/admin/tokens/"+tk.ID+"/revoke", form("confirm", "yes"))
		}},
		{"GET", "/admin/accounts", "the accounts", "nnnny", get("/admin/accounts")},
		{"POST", "/admin/accounts", "add one", "nnnny", func(m *matrix, w who, b *browser) response {
			return b.post("/admin/accounts", form("email", fmt.Sprintf("new%d@example.org", m.next()), "role", "author", "password", "a long enough passphrase"))
		}},
		{"GET", "/admin/accounts/edit", "one", "nnnny", func(m *matrix, w who, b *browser) response {
			return b.get("/admin/accounts/edit?email=" + url.QueryEscape(callerEmails[asAuthor]))
		}},
		{"POST", "/admin/accounts/role", "change a role", "nnnny", func(m *matrix, w who, b *browser) response {
			email, version := newAccount()
			return b.post("/admin/accounts/role", form("email", email, "role", "author", "version", version))
		}},
		{"POST", "/admin/accounts/password", "reset a password", "nnnny", func(m *matrix, w who, b *browser) response {
			email, version := newAccount()
			return b.post("/admin/accounts/password", form("email", email, "password", "another long passphrase", "version", version))
		}},
		{"POST", "/admin/accounts/remove", "remove one", "nnnny", func(m *matrix, w who, b *browser) response {
			email, version := newAccount()
			return b.post("/admin/accounts/remove", form("email", email, "confirm", "yes", "version", version))
		}},
		{"POST", "/admin/accounts/disable", "disable one", "nnnny", func(m *matrix, w who, b *browser) response {
			email, version := newAccount()
			return b.post("/admin/accounts/disable", form("email", email, "action", "disable", "version", version))
		}},
		{"POST", "/admin/accounts/tokens/revoke", "an author's token", "nnnny", func(m *matrix, w who, b *browser) response {
			r := m.s.do("POST", "/api/v1/tokens", m.tok[asAuthor], map[string]string{"name": "lost laptop"})
			var tk struct{ ID string }
			r.json(m.t, &tk)
			return b.post("/admin/accounts/tokens/revoke", form("email", callerEmails[asAuthor], "id", tk.ID, "confirm", "yes"))
		}},
		{"GET", "/admin/categories", "the categories", "nnnyy", get("/admin/categories")},
		{"POST", "/admin/categories", "add one", "nnnyy", func(m *matrix, w who, b *browser) response {
			return b.post("/admin/categories", form("name", "Added", "slug", fmt.Sprintf("added-%d", m.next())))
		}},
		{"GET", "/admin/categories/{slug}", "one", "nnnyy", get("/admin/categories/news")},
		{"POST", "/admin/categories/{slug}", "rename one", "nnnyy", func(m *matrix, w who, b *browser) response {
			slug, etag := m.category()
			return b.post("/admin/categories/"+slug, form("name", "Renamed", "version", strings.Trim(etag, `"`)))
		}},
		{"POST", "/admin/categories/{slug}/delete", "delete one", "nnnyy", func(m *matrix, w who, b *browser) response {
			slug, etag := m.category()
			return b.post("/admin/categories/"+slug+"/delete", form("version", strings.Trim(etag, `"`), "confirm", "yes"))
		}},
		{"GET", "/admin/settings", "the settings", "nnnny", get("/admin/settings")},
		{"POST", "/admin/settings", "save them", "nnnny", func(m *matrix, w who, b *browser) response {
			return b.post("/admin/settings", form("title", fmt.Sprintf("Site %d", m.next()), "language", "en", "posts_per_page", "10"))
		}},
		{"GET", "/admin/profile", "the profile", "nnnyy", get("/admin/profile")},
		{"POST", "/admin/profile", "save it", "nnnyy", func(m *matrix, w who, b *browser) response {
			version := strings.Trim(m.s.do("GET", "/api/v1/profile", "", nil).header.Get("ETag"), `"`)
			return b.post("/admin/profile", form("name", fmt.Sprintf("Ada %d", m.next()), "version", version))
		}},
		{"GET", "/admin/audit", "the audit log", "nnnyy", get("/admin/audit")},
		{"GET", "/admin/audit/export", "its export", "nnnyy", get("/admin/audit/export?format=csv")},
		{"GET", "/admin/security", "the security log", "nnnny", get("/admin/security")},
		{"GET", "/admin/security/export", "its export", "nnnny", get("/admin/security/export?format=csv")},
		{"GET", "/admin/commits/{hash}", "a commit", "nnnyy", get("/admin/commits/" + edDraftFirst)},
		{"GET", "/admin/commits/{hash}/revert", "its confirmation", "nnnyy", get("/admin/commits/" + edDraftFirst + "/revert")},
		{"POST", "/admin/commits/{hash}/revert", "revert a change", "nnnyy", func(m *matrix, w who, b *browser) response {
			id, etag := m.post(asEditor, "draft")
			r := m.s.do("PATCH", "/api/v1/posts/"+id, m.tok[asAdmin], map[string]any{"title": "Changed"}, "If-Match", etag, "Content-Type", "application/merge-patch+json", "Prefer", "wait=5")
			var p struct{ Revision string }
			r.json(m.t, &p)
			return b.post("/admin/commits/"+p.Revision+"/revert", nil)
		}},
		{"GET", "/admin/rollback", "its form", "nnnny", get("/admin/rollback?to=" + edDraftFirst)},
		{"POST", "/admin/rollback", "roll back", "nnnny", func(m *matrix, w who, b *browser) response {
			return b.post("/admin/rollback", form("to", edDraftFirst))
		}},
		{"GET", "/admin/at/{rev}", "the site as it was", "nnnyy", get("/admin/at/" + edDraftFirst)},
		{"GET", "/admin/at/{rev}/{path:.*}", "a page as it was", "nnnyy", get("/admin/at/" + edDraftFirst + "/feed.xml")},
		// Last: these end the browser's session or change its password.
		{"POST", "/admin/password", "change own password", "nyyyy", func(m *matrix, w who, b *browser) response {
			return b.post("/admin/password", form("current_password", password, "new_password", "my new long passphrase", "new_password_again", "my new long passphrase"))
		}},
		{"POST", "/admin/logout", "sign out", "nyyyy", func(m *matrix, w who, b *browser) response {
			return b.post("/admin/logout", nil) // the session goes on after a change of its own password
		}},
	}
	covered := map[string]bool{}
	for _, row := range rows {
		covered[row.method+" "+row.route] = true
		var got []byte
		for _, w := range callers {
			r := row.req(m, w, bs.of(w))
			o := adminOutcome(r)
			got = append(got, o)
			if o != row.want[w] {
				t.Errorf("%s %s (%s) as %s: %d %s %s, want %c", row.method, row.route, row.name, w, r.status, r.header.Get("Location"), clip(r.body), row.want[w])
			}
		}
		t.Logf("%-5s %-45s %-30s %s", row.method, row.route, row.name, got)
	}
	var missing []string
	for _, ep := range routedEndpoints(t, "/admin") {
		if !covered[ep] {
			missing = append(missing, ep)
		}
	}
	if len(missing) > 0 {
		t.Errorf("admin routes with no row in the table (decide who may use them): %s", strings.Join(missing, ", "))
	}
}

// own2 makes a draft of w's (a contributor's for anonymous) and returns
// its id and ETag.
func own2(m *matrix, w who) (string, string) { return m.post(max(w, asContributor), "draft") }

// An admin revokes another account's personal access token (a lost
// laptop): through the API and the admin, refused from the next request.
func TestAdminRevokesAnotherAccountsToken(t *testing.T) {
	t.Parallel()
	m := newMatrix(t)
	pat := func() (id, secret string) {
		r := m.s.do("POST", "/api/v1/tokens", m.tok[asAuthor], map[string]string{"name": "laptop"})
		var tk struct{ ID, Token string }
		r.json(t, &tk)
		mustStatus(t, m.s.do("GET", "/api/v1/tokens", tk.Token, nil), 200)
		return tk.ID, tk.Token
	}
	id, secret := pat()
	r := m.s.do("GET", "/api/v1/accounts/"+callerEmails[asAuthor]+"/tokens", m.tok[asAdmin], nil)
	if r.status != 200 || !strings.Contains(string(r.body), id) || strings.Contains(string(r.body), secret) {
		t.Fatalf("an admin's list of the author's tokens: %d %s", r.status, r.body)
	}
	mustStatus(t, m.s.do("DELETE", "/api/v1/accounts/"+callerEmails[asAuthor]+"/tokens/"+id, m.tok[asAdmin], nil), 204)
	mustStatus(t, m.s.do("GET", "/api/v1/tokens", secret, nil), 401)
	mustStatus(t, m.s.do("DELETE", "/api/v1/accounts/"+callerEmails[asAuthor]+"/tokens/"+id, m.tok[asAdmin], nil), 404)

	id, secret = pat()
	b := m.browser(asAdmin)
	b.signIn(callerEmails[asAdmin], password)
	page := b.get("/admin/accounts/edit?email=" + url.QueryEscape(callerEmails[asAuthor]))
	if !strings.Contains(string(page.body), `name="id" value="`+id+`"`) {
		t.Fatalf("the account's page does not list its token %s", id)
	}
	confirm := b.post("/admin/accounts/tokens/revoke", url.Values{"email": {callerEmails[asAuthor]}, "id": {id}})
	mustStatus(t, m.s.do("GET", "/api/v1/tokens", secret, nil), 200) // not before it is confirmed
	if confirm.status != 200 || !strings.Contains(string(confirm.body), "Revoke the token") {
		t.Fatalf("no confirmation: %d %s", confirm.status, clip(confirm.body))
	}
	done := b.post("/admin/accounts/tokens/revoke", url.Values{"email": {callerEmails[asAuthor]}, "id": {id}, "confirm": {"yes"}})
	if done.status != 303 {
		t.Fatalf("revoke: %d %s", done.status, clip(done.body))
	}
	mustStatus(t, m.s.do("GET", "/api/v1/tokens", secret, nil), 401)
}

// What an account may not read leaks through nothing else: tags of
// others' drafts, a slug's owner, an uploader's email, a deleted post's
// revisions.
func TestNothingOfOthersDraftsLeaks(t *testing.T) {
	t.Parallel()
	m := newMatrix(t)
	r := m.s.do("POST", "/api/v1/posts", m.tok[asEditor], map[string]any{"title": "Acquisition", "slug": "acquisition-acme",
		"tags": []string{"acquisition-acme"}, "status": "draft"}, "Prefer", "wait=5")
	mustStatus(t, r, 201)
	var draft struct{ ID string }
	r.json(t, &draft)
	tags := func(who who) string { return string(m.s.do("GET", "/api/v1/tags", m.tok[who], nil).body) }
	if strings.Contains(tags(asContributor), "acquisition") || strings.Contains(tags(asAuthor), "acquisition") || strings.Contains(tags(asAnon), "acquisition") {
		t.Error("a tag only an editor's draft carries is listed to those who may not read the draft")
	}
	if !strings.Contains(tags(asEditor), "acquisition") {
		t.Error("the editor's own tag is not listed to editors")
	}
	b := m.browser(asContributor)
	b.signIn(callerEmails[asContributor], password)
	if strings.Contains(string(b.get("/admin/posts").body), "acquisition") {
		t.Error("the admin's posts page offers a contributor a tag of an editor's draft")
	}
	// A slug taken by a draft the caller may not read: taken, but whose is not said.
	r = m.s.do("POST", "/api/v1/posts", m.tok[asContributor], map[string]any{"title": "Mine", "slug": "acquisition-acme"})
	if r.status != 409 || strings.Contains(string(r.body), draft.ID) {
		t.Errorf("a contributor's taken slug: %d %s", r.status, r.body)
	}
	if r := m.s.do("POST", "/api/v1/posts", m.tok[asAdmin], map[string]any{"title": "Mine", "slug": "acquisition-acme"}); r.status != 409 || !strings.Contains(string(r.body), draft.ID) {
		t.Errorf("an admin's taken slug does not name the post: %d %s", r.status, r.body)
	}
	// An uploader's email is for signed-in callers.
	pic, _ := m.media(asAuthor)
	if body := string(m.s.do("GET", "/api/v1/media/"+pic, "", nil).body); strings.Contains(body, callerEmails[asAuthor]) {
		t.Errorf("an anonymous caller reads the uploader: %s", body)
	}
	if body := string(m.s.do("GET", "/api/v1/media/"+pic, m.tok[asContributor], nil).body); !strings.Contains(body, callerEmails[asAuthor]) {
		t.Errorf("a signed-in caller does not read the uploader: %s", body)
	}
	// A deleted draft of the editor's: its restore says nothing to a contributor.
	first := m.firstRevision("/api/v1/posts/" + draft.ID)
	etag := m.s.do("GET", "/api/v1/posts/"+draft.ID, m.tok[asEditor], nil).header.Get("ETag")
	mustStatus(t, m.s.do("DELETE", "/api/v1/posts/"+draft.ID, m.tok[asEditor], nil, "If-Match", etag, "Prefer", "wait=5"), 204)
	r = m.s.do("POST", "/api/v1/posts/"+draft.ID+"/restore", m.tok[asContributor], map[string]string{"revision": first})
	if r.status != 404 || strings.Contains(string(r.body), "acquisition") {
		t.Errorf("a contributor's restore of an editor's deleted draft: %d %s", r.status, r.body)
	}
}
