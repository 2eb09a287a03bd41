package command_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/repo/lfs"
)

// Unit tests of the writer's commands on a real repository: each checks
// what the command committed (its message and Chronicle-* trailers) and
// the types of the events derived from it, or that a refused command
// committed nothing.

var (
	ed    = command.Actor{Name: "Ed", Email: "ed@example.org", Role: policy.Admin}
	clock = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ctx   = context.Background()
	// stale is a version no file has.
	stale = "0000000000000000000000000000000000000000"
)

// site is a writer over a fresh repository, its clock stopped at clock,
// its deriver reading pictures from an LFS store with png.
type site struct {
	t      *testing.T
	w      *command.Writer
	r      *repo.Repo
	lfsDir string
}

func newSite(t *testing.T) *site {
	t.Helper()
	r, err := repo.Open(filepath.Join(t.TempDir(), "site.git"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	lfsDir := t.TempDir()
	d := gitlog.NewDeriver(r, quiet, gitlog.WithPictures(lfsDir, png))
	w := command.NewWriter(gitlog.NewGitLog(r, d), d, quiet, command.WriterConfig{Now: func() time.Time { return clock }, LFSDir: lfsDir})
	return &site{t: t, w: w, r: r, lfsDir: lfsDir}
}

// in is the site as seen from subtest t.
func (s *site) in(t *testing.T) *site {
	c := *s
	c.t = t
	return &c
}

func (s *site) head() repo.Hash {
	s.t.Helper()
	h, err := s.r.Head()
	if err != nil {
		s.t.Fatal(err)
	}
	return h
}

// exists reports whether a file is in main's tree.
func (s *site) exists(path string) bool {
	s.t.Helper()
	h, err := s.r.Stat(s.head(), path)
	if err != nil {
		s.t.Fatal(err)
	}
	return !h.IsZero()
}

// post creates a post for a test's setup.
func (s *site) post(in command.PostInput) *content.Post {
	s.t.Helper()
	res, err := s.w.CreatePost(ctx, ed, in)
	if err != nil {
		s.t.Fatalf("setup: create post %q: %v", in.Title, err)
	}
	return res.Post
}

// category creates a category for a test's setup.
func (s *site) category(slug, name string) string {
	s.t.Helper()
	res, _, err := s.w.PutCategory(ctx, ed, content.Category{Slug: slug, Name: name}, "")
	if err != nil {
		s.t.Fatalf("setup: category %s: %v", slug, err)
	}
	return res.Version
}

// committed checks that res is main's head commit, made by ed at clock,
// whose message is summary with the trailers of event on subject, and
// whose events are of types want.
func (s *site) committed(res command.Written, summary string, event events.Type, subject string, want ...events.Type) {
	s.t.Helper()
	head := s.head()
	if res.Cursor.Commit != head.String() {
		s.t.Fatalf("the write's cursor is at %q, main at %s", res.Cursor.Commit, head)
	}
	c, err := s.r.ReadCommit(head)
	if err != nil {
		s.t.Fatal(err)
	}
	if first, _, _ := strings.Cut(c.Message, "\n"); first != summary {
		s.t.Errorf("commit summary %q, want %q", first, summary)
	}
	tr := gitlog.Trailers(c.Message)
	if tr[gitlog.TrailerEvent] != string(event) || tr[gitlog.TrailerSubject] != subject || tr[gitlog.TrailerActor] != ed.Email {
		s.t.Errorf("trailers %v, want event %s, subject %s, actor %s", tr, event, subject, ed.Email)
	}
	if c.Author.Name != ed.Name || c.Author.Email != ed.Email || !c.Author.When.Equal(clock) {
		s.t.Errorf("author %+v, want %s <%s> at %s", c.Author, ed.Name, ed.Email, clock)
	}
	var got []events.Type
	for _, e := range res.Events {
		got = append(got, e.Type)
		if e.Actor != ed.Email || e.Commit != head.String() {
			s.t.Errorf("event %s: actor %q commit %s", e.Type, e.Actor, e.Commit)
		}
	}
	if !slices.Equal(got, want) {
		s.t.Errorf("events %v, want %v", got, want)
	}
}

// unchanged checks that a write committed nothing: main is still at
// before and the write has no events.
func (s *site) unchanged(before repo.Hash, res command.Written) {
	s.t.Helper()
	if h := s.head(); h != before || len(res.Events) > 0 {
		s.t.Errorf("committed %s with %d events, want nothing", h, len(res.Events))
	}
}

// wantErr is the error a command should give: nil, one that errors.Is
// a sentinel, a *command.ConflictError on a field, or a
// *content.ValidationError naming a field.
type wantErr struct {
	is       error
	conflict string
	invalid  string
}

func (w wantErr) none() bool { return w.is == nil && w.conflict == "" && w.invalid == "" }

func (w wantErr) check(t *testing.T, err error) {
	t.Helper()
	var ce *command.ConflictError
	var ve *content.ValidationError
	switch {
	case w.none():
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	case w.is != nil:
		if !errors.Is(err, w.is) {
			t.Fatalf("error %v, want %v", err, w.is)
		}
	case w.conflict != "":
		if !errors.As(err, &ce) || ce.Field != w.conflict {
			t.Fatalf("error %v, want a conflict on %s", err, w.conflict)
		}
	case w.invalid != "":
		if !errors.As(err, &ve) || !slices.ContainsFunc(ve.Errors, func(f content.FieldError) bool { return f.Field == w.invalid }) {
			t.Fatalf("error %v, want a validation error naming %s", err, w.invalid)
		}
	}
}

func TestCreatePost(t *testing.T) {
	for _, tc := range []struct {
		name       string
		in         command.PostInput
		err        wantErr
		slug, path string
		categories []string
	}{
		{name: "slug from the title", in: command.PostInput{Title: "Hello, World!"}, slug: "hello-world", path: "posts/2026/hello-world.md"},
		{name: "slug transliterated", in: command.PostInput{Title: "Ça va, Zoë?"}, slug: "ca-va-zoe", path: "posts/2026/ca-va-zoe.md"},
		{name: "slug from the title taken", in: command.PostInput{Title: "Taken"}, slug: "taken-2", path: "posts/2026/taken-2.md"},
		{name: "slug given", in: command.PostInput{Title: "Anything", Slug: "my-own"}, slug: "my-own", path: "posts/2026/my-own.md"},
		{name: "category by name", in: command.PostInput{Title: "Filed", Categories: []string{"News"}}, slug: "filed", path: "posts/2026/filed.md",
			categories: []string{"news"}},
		{name: "slug given taken", in: command.PostInput{Title: "Anything", Slug: "taken"}, err: wantErr{conflict: "slug"}},
		{name: "unknown category", in: command.PostInput{Title: "Lost", Categories: []string{"nowhere"}}, err: wantErr{invalid: "categories"}},
		{name: "no title", in: command.PostInput{Content: "Body only"}, err: wantErr{invalid: "title"}},
		{name: "invalid slug", in: command.PostInput{Title: "X", Slug: "Not A Slug"}, err: wantErr{invalid: "slug"}},
		{name: "picture never uploaded", in: command.PostInput{Title: "X", FeatureImage: "media:nothing"}, err: wantErr{invalid: "feature_image"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t)
			s.category("news", "News")
			s.post(command.PostInput{Title: "Taken"})
			before := s.head()
			res, err := s.w.CreatePost(ctx, ed, tc.in)
			tc.err.check(t, err)
			if err != nil {
				s.unchanged(before, res)
				return
			}
			p := res.Post
			s.committed(res, "Create post “"+tc.in.Title+"”", events.PostCreated, "post/"+p.ID, events.PostCreated)
			if p.Slug != tc.slug || p.Path != tc.path || !s.exists(tc.path) {
				t.Errorf("slug %q at %s, want %q at %s", p.Slug, p.Path, tc.slug, tc.path)
			}
			if !content.ValidID(p.ID) || p.Status != content.Draft || !p.CreatedAt.Equal(clock) || !slices.Equal(p.Categories, tc.categories) {
				t.Errorf("created %+v", p)
			}
		})
	}
}

func TestUpdatePost(t *testing.T) {
	for _, tc := range []struct {
		name    string
		id      string // "" for the post under test
		ifMatch string // "stale" and "current" stand for its first and current versions
		edit    func(*command.PostInput)
		err     wantErr
		event   events.Type // "" when nothing is committed
		path    string
	}{
		{name: "no condition", edit: func(in *command.PostInput) { in.Content = "New body" }, event: events.PostUpdated, path: "posts/2026/draft.md"},
		{name: "current version", ifMatch: "current", edit: func(in *command.PostInput) { in.Content = "New body" }, event: events.PostUpdated,
			path: "posts/2026/draft.md"},
		{name: "any version", ifMatch: "*", edit: func(in *command.PostInput) { in.Title = "Renamed" }, event: events.PostUpdated, path: "posts/2026/draft.md"},
		{name: "stale version", ifMatch: "stale", edit: func(in *command.PostInput) { in.Content = "New body" }, err: wantErr{is: command.ErrStale}},
		{name: "publish", edit: func(in *command.PostInput) { in.Status = content.Published }, event: events.PostPublished, path: "posts/2026/draft.md"},
		{name: "new slug moves the file", edit: func(in *command.PostInput) { in.Slug = "moved" }, event: events.PostUpdated, path: "posts/2026/moved.md"},
		{name: "slug of another post", edit: func(in *command.PostInput) { in.Slug = "other" }, err: wantErr{conflict: "slug"}},
		{name: "unknown category", edit: func(in *command.PostInput) { in.Categories = []string{"nowhere"} }, err: wantErr{invalid: "categories"}},
		{name: "nothing changes", edit: func(*command.PostInput) {}},
		{name: "unknown post", id: "nope", edit: func(*command.PostInput) {}, err: wantErr{is: command.ErrNotFound}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t)
			s.post(command.PostInput{Title: "Other"})
			first := s.post(command.PostInput{Title: "Draft", Content: "Body"})
			in := command.PostInput{Title: "Draft", Content: "Body, edited\n"} // as the file keeps it
			res, err := s.w.UpdatePost(ctx, ed, first.ID, first.Blob, in)
			if err != nil {
				t.Fatal(err)
			}
			cur := res.Post
			id := cmpOr(tc.id, cur.ID)
			ifMatch := map[string]string{"stale": first.Blob, "current": cur.Blob}[tc.ifMatch]
			ifMatch = cmpOr(ifMatch, tc.ifMatch)
			tc.edit(&in)
			before := s.head()
			res, err = s.w.UpdatePost(ctx, ed, id, ifMatch, in)
			tc.err.check(t, err)
			if tc.event == "" {
				s.unchanged(before, res)
				if err == nil && (res.Post == nil || res.Post.Blob != cur.Blob) {
					t.Errorf("an unchanged post's state: %+v", res.Post)
				}
				return
			}
			s.committed(res, "Update post “"+in.Title+"”", tc.event, "post/"+id, tc.event)
			if res.Post.Path != tc.path || !s.exists(tc.path) || (tc.path != cur.Path && s.exists(cur.Path)) {
				t.Errorf("post at %s, want it (only) at %s", res.Post.Path, tc.path)
			}
		})
	}
}

// An update that sends the post as it is, but for the trailing newline
// the file adds to its body (as a browser's textarea drops it), changes
// nothing: no commit, and the post as it is.
func TestUpdatePostWithoutTrailingNewlineChangesNothing(t *testing.T) {
	s := newSite(t)
	p := s.post(command.PostInput{Title: "Draft", Content: "Body"})
	before := s.head()
	res, err := s.w.UpdatePost(ctx, ed, p.ID, p.Blob, command.PostInput{Title: "Draft", Content: "Body"})
	if err != nil {
		t.Fatal(err)
	}
	s.unchanged(before, res)
	if res.Post == nil || res.Post.Blob != p.Blob {
		t.Errorf("the post after an update that changed nothing: %+v", res.Post)
	}
}

// Publishing and unpublishing through UpdatePost are the events of those
// names, as derivation tells them.
func TestUpdatePostStatus(t *testing.T) {
	s := newSite(t)
	p := s.post(command.PostInput{Title: "Notes"})
	for i, step := range []struct {
		status content.Status
		event  events.Type
	}{
		{content.Published, events.PostPublished},
		{content.Published, ""}, // already published: nothing to commit
		{content.Draft, events.PostUnpublished},
		{content.Published, events.PostPublished},
	} {
		before := s.head()
		res, err := s.w.UpdatePost(ctx, ed, p.ID, "", command.PostInput{Title: "Notes", Status: step.status})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if step.event == "" {
			s.unchanged(before, res)
			continue
		}
		s.committed(res, "Update post “Notes”", step.event, "post/"+p.ID, step.event)
		if res.Post.Status != step.status || (step.status == content.Published) != (res.Post.PublishedAt != nil) {
			t.Errorf("step %d: status %s published at %v", i, res.Post.Status, res.Post.PublishedAt)
		}
	}
}

func TestDeletePost(t *testing.T) {
	for _, tc := range []struct {
		name    string
		id      string // "" for the post under test
		ifMatch string // "stale" and "current" stand for its first and current versions
		err     wantErr
	}{
		{name: "no condition"},
		{name: "current version", ifMatch: "current"},
		{name: "stale version", ifMatch: "stale", err: wantErr{is: command.ErrStale}},
		{name: "unknown post", id: "nope", err: wantErr{is: command.ErrNotFound}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t)
			first := s.post(command.PostInput{Title: "Doomed", EmbedURL: "https://example.org/video"})
			res, err := s.w.UpdatePost(ctx, ed, first.ID, "", command.PostInput{Title: "Doomed", Content: "Edited", EmbedURL: "https://example.org/video"})
			if err != nil {
				t.Fatal(err)
			}
			cur := res.Post
			if err := s.w.RecordEmbed(ctx, cur.ID, content.Embed{URL: "https://example.org/video", Kind: "link"}); err != nil {
				t.Fatal(err)
			}
			id := cmpOr(tc.id, cur.ID)
			ifMatch := cmpOr(map[string]string{"stale": first.Blob, "current": cur.Blob}[tc.ifMatch], tc.ifMatch)
			before := s.head()
			res, err = s.w.DeletePost(ctx, ed, id, ifMatch)
			tc.err.check(t, err)
			if err != nil {
				s.unchanged(before, res)
				return
			}
			// Its resolved embed goes with it, which derives no event.
			s.committed(res, "Delete post “Doomed”", events.PostDeleted, "post/"+id, events.PostDeleted)
			if s.exists(cur.Path) || s.exists(content.EmbedPath(id)) {
				t.Errorf("the post's file or its embed is still there")
			}
			if _, err := s.w.Post(id); !errors.Is(err, command.ErrNotFound) {
				t.Errorf("the deleted post reads as %v", err)
			}
		})
	}
}

// Steps run in order on one site.
func TestPutCategory(t *testing.T) {
	s := newSite(t)
	var versions []string // of news, after each step that wrote it
	for _, step := range []struct {
		name    string
		c       content.Category
		ifMatch string // "first" and "current" stand for news' first and current versions
		err     wantErr
		created bool
		event   events.Type // "" when nothing is committed
		summary string
	}{
		{name: "create", c: content.Category{Slug: "news", Name: "News"}, created: true, event: events.CategoryCreated, summary: "Create category “News”"},
		{name: "the same again", c: content.Category{Slug: "news", Name: "News"}},
		{name: "update", c: content.Category{Slug: "news", Name: "Latest news", Description: "What happened"}, ifMatch: "current",
			event: events.CategoryUpdated, summary: "Update category “Latest news”"},
		{name: "stale version", c: content.Category{Slug: "news", Name: "Old news"}, ifMatch: "first", err: wantErr{is: command.ErrStale}},
		{name: "any version of one that does not exist", c: content.Category{Slug: "travel", Name: "Travel"}, ifMatch: "*", err: wantErr{is: command.ErrStale}},
		{name: "no letter in the name", c: content.Category{Slug: "misc", Name: "---"}, err: wantErr{invalid: "name"}},
		{name: "not a slug", c: content.Category{Slug: "Not A Slug", Name: "Fine"}, err: wantErr{invalid: "slug"}},
	} {
		t.Run(step.name, func(t *testing.T) {
			s := s.in(t)
			ifMatch := step.ifMatch
			switch ifMatch {
			case "first":
				ifMatch = versions[0]
			case "current":
				ifMatch = versions[len(versions)-1]
			}
			before := s.head()
			res, created, err := s.w.PutCategory(ctx, ed, step.c, ifMatch)
			step.err.check(t, err)
			if created != step.created {
				t.Errorf("created %v", created)
			}
			if step.event == "" {
				s.unchanged(before, res)
				return
			}
			s.committed(res, step.summary, step.event, "category/"+step.c.Slug, step.event)
			got, version, err := s.w.Category(step.c.Slug)
			if err != nil || got != step.c || version != res.Version {
				t.Errorf("reads as %+v at %s (%v), want %+v at %s", got, version, err, step.c, res.Version)
			}
			versions = append(versions, res.Version)
		})
	}
}

func TestDeleteCategory(t *testing.T) {
	for _, tc := range []struct {
		name, slug string
		ifMatch    string // "current" stands for the category's version
		err        wantErr
	}{
		{name: "unused", slug: "travel"},
		{name: "unused, current version", slug: "travel", ifMatch: "current"},
		{name: "unused, stale version", slug: "travel", ifMatch: stale, err: wantErr{is: command.ErrStale}},
		{name: "used by a post", slug: "news", err: wantErr{conflict: "slug"}},
		{name: "unknown", slug: "nowhere", err: wantErr{is: command.ErrNotFound}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t)
			versions := map[string]string{"news": s.category("news", "News"), "travel": s.category("travel", "Travel")}
			s.post(command.PostInput{Title: "Filed", Categories: []string{"news"}})
			ifMatch := tc.ifMatch
			if ifMatch == "current" {
				ifMatch = versions[tc.slug]
			}
			before := s.head()
			res, err := s.w.DeleteCategory(ctx, ed, tc.slug, ifMatch)
			tc.err.check(t, err)
			if err != nil {
				s.unchanged(before, res)
				if tc.err.conflict != "" && !strings.Contains(err.Error(), "used by 1 post") {
					t.Errorf("the refusal does not say what uses it: %v", err)
				}
				return
			}
			s.committed(res, "Delete category “"+tc.slug+"”", events.CategoryDeleted, "category/"+tc.slug, events.CategoryDeleted)
			if s.exists(content.CategoryPath(tc.slug)) {
				t.Errorf("the category's file is still there")
			}
		})
	}
}

// A category no longer used by any post can be deleted.
func TestDeleteCategoryOnceUnused(t *testing.T) {
	s := newSite(t)
	s.category("news", "News")
	p := s.post(command.PostInput{Title: "Filed", Categories: []string{"news"}})
	if _, err := s.w.DeleteCategory(ctx, ed, "news", ""); err == nil {
		t.Fatal("deleted a category in use")
	}
	if _, err := s.w.UpdatePost(ctx, ed, p.ID, "", command.PostInput{Title: "Filed"}); err != nil {
		t.Fatal(err)
	}
	res, err := s.w.DeleteCategory(ctx, ed, "news", "")
	if err != nil {
		t.Fatal(err)
	}
	s.committed(res, "Delete category “news”", events.CategoryDeleted, "category/news", events.CategoryDeleted)
}

func TestPutSettingsAndProfile(t *testing.T) {
	settings := func(edit func(*content.Settings)) content.Settings {
		s := content.DefaultSettings()
		s.Title = "Mine"
		edit(&s)
		return s
	}
	link := func(name, url string) []content.Link { return []content.Link{{Name: name, URL: url}} }
	for _, tc := range []struct {
		name     string
		settings *content.Settings // else profile
		profile  content.Profile
		ifMatch  string
		err      wantErr
		same     bool // the file already holds it: nothing to commit
	}{
		{name: "settings", settings: ptr(settings(func(s *content.Settings) { s.Tagline = "Words" }))},
		{name: "settings as they are", settings: ptr(settings(func(*content.Settings) {})), same: true},
		{name: "settings, any version", settings: ptr(settings(func(s *content.Settings) { s.Language = "pt-BR" })), ifMatch: "*"},
		{name: "settings, stale version", settings: ptr(settings(func(s *content.Settings) { s.Language = "pt-BR" })), ifMatch: stale,
			err: wantErr{is: command.ErrStale}},
		{name: "settings without a title", settings: ptr(settings(func(s *content.Settings) { s.Title = " " })), err: wantErr{invalid: "title"}},
		{name: "too many posts per page", settings: ptr(settings(func(s *content.Settings) { s.PostsPerPage = 1000 })), err: wantErr{invalid: "posts_per_page"}},
		{name: "not a language", settings: ptr(settings(func(s *content.Settings) { s.Language = "English" })), err: wantErr{invalid: "language"}},
		{name: "not an analytics id", settings: ptr(settings(func(s *content.Settings) { s.Analytics.GoogleAnalyticsID = "<script>" })),
			err: wantErr{invalid: "analytics.google_analytics_id"}},
		{name: "profile", profile: content.Profile{Name: "Ed", Email: "ed@example.org", Links: link("Mastodon", "https://example.social/@ed")}},
		{name: "profile as it is", profile: content.Profile{Name: "Ed"}, same: true},
		{name: "profile, stale version", profile: content.Profile{Name: "Eddie"}, ifMatch: stale,
			err: wantErr{is: command.ErrStale}},
		{name: "not an email", profile: content.Profile{Name: "Ed", Email: "ed at example"}, err: wantErr{invalid: "email"}},
		{name: "not a link", profile: content.Profile{Name: "Ed", Links: link("Home", "javascript:alert(1)")}, err: wantErr{invalid: "links[0].url"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t)
			if _, err := s.w.PutSettings(ctx, ed, "", settings(func(*content.Settings) {})); err != nil {
				t.Fatal(err)
			}
			if _, err := s.w.PutProfile(ctx, ed, "", content.Profile{Name: "Ed"}); err != nil {
				t.Fatal(err)
			}
			before := s.head()
			var res command.Written
			var err error
			file, subject, event, summary := content.ProfilePath, "site/profile", events.ProfileChanged, "Change profile"
			if tc.settings != nil {
				file, subject, event, summary = content.SettingsPath, "site/settings", events.SettingsChanged, "Change settings"
				res, err = s.w.PutSettings(ctx, ed, tc.ifMatch, *tc.settings)
			} else {
				res, err = s.w.PutProfile(ctx, ed, tc.ifMatch, tc.profile)
			}
			tc.err.check(t, err)
			if err != nil || tc.same {
				s.unchanged(before, res)
				return
			}
			s.committed(res, summary, event, subject, event)
			if h, err := s.r.Stat(s.head(), file); err != nil || h.String() != res.Version {
				t.Errorf("version %s, the file is at %s (%v)", res.Version, h, err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// cmpOr is cmp.Or for strings, kept local to read plainly.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Upload, describe and delete a media item, in order on one site.
func TestMediaCommands(t *testing.T) {
	s := newSite(t)
	sha := strings.Repeat("ab", 32)
	upload := func(name string) (command.Written, content.Media) {
		t.Helper()
		res, m, err := s.w.UploadMedia(ctx, ed, content.Media{SHA256: sha, Type: "image/png", Ext: "png", Width: 4, Height: 3, Bytes: 40, OriginalName: name})
		if err != nil {
			t.Fatal(err)
		}
		s.committed(res, "Upload “"+name+"”", events.MediaUploaded, "media/"+m.ID, events.MediaUploaded)
		if !m.UploadedAt.Equal(clock) || !s.exists(content.MediaMetaPath(m.ID)) || !s.exists(content.MediaFilePath(m.ID, "png")) {
			t.Errorf("uploaded %+v", m)
		}
		return res, m
	}
	_, cat := upload("cat.png")
	if !s.exists(content.GitAttributesPath) {
		t.Error("the first upload wrote no .gitattributes")
	}
	before := s.head()
	_, dog := upload("dog.png")
	if changes, err := s.r.Diff(before, s.head()); err != nil || len(changes) != 2 {
		t.Errorf("the second upload changed %v (%v), want its two files only", changes, err)
	}
	if _, _, err := s.w.UploadMedia(ctx, ed, content.Media{SHA256: sha, Type: "image/png", Ext: "png", Width: 1, Height: 1, Bytes: 40, Alt: "two\nlines"}); err == nil {
		t.Error("uploaded with an alt text of two lines")
	}

	res, m, err := s.w.UpdateMedia(ctx, ed, cat.ID, "", "A cat", "On the sofa")
	if err != nil {
		t.Fatal(err)
	}
	s.committed(res, "Describe media "+cat.ID, events.MediaUpdated, "media/"+cat.ID, events.MediaUpdated)
	if m.Alt != "A cat" || m.Caption != "On the sofa" || m.SHA256 != sha || m.Blob != res.Version {
		t.Errorf("described %+v, version %s", m, res.Version)
	}
	before = s.head()
	for _, tc := range []struct {
		name, id, ifMatch, alt string
		err                    wantErr
	}{
		{name: "as it is", id: cat.ID, ifMatch: m.Blob, alt: "A cat"},
		{name: "stale version", id: cat.ID, ifMatch: stale, alt: "A dog", err: wantErr{is: command.ErrStale}},
		{name: "alt of two lines", id: cat.ID, alt: "A\ncat", err: wantErr{invalid: "alt"}},
		{name: "unknown", id: "nope", alt: "x", err: wantErr{is: command.ErrNotFound}},
	} {
		t.Run("update "+tc.name, func(t *testing.T) {
			s := s.in(t)
			res, _, err := s.w.UpdateMedia(ctx, ed, tc.id, tc.ifMatch, tc.alt, "On the sofa")
			tc.err.check(t, err)
			s.unchanged(before, res)
		})
	}

	if _, err := s.w.DeleteMedia(ctx, ed, cat.ID, stale); !errors.Is(err, command.ErrStale) {
		t.Errorf("delete with a stale version: %v", err)
	}
	if _, err := s.w.DeleteMedia(ctx, ed, "nope", ""); !errors.Is(err, command.ErrNotFound) {
		t.Errorf("delete of nothing: %v", err)
	}
	res, err = s.w.DeleteMedia(ctx, ed, cat.ID, m.Blob)
	if err != nil {
		t.Fatal(err)
	}
	s.committed(res, "Delete media "+cat.ID, events.MediaDeleted, "media/"+cat.ID, events.MediaDeleted)
	if s.exists(content.MediaMetaPath(cat.ID)) || s.exists(content.MediaFilePath(cat.ID, "png")) || !s.exists(content.MediaMetaPath(dog.ID)) {
		t.Error("the delete did not remove exactly the cat's files")
	}
}

// A picture added with git (a Git LFS pointer, no metadata) is described
// by a media/<id>.yaml holding only the description: its facts stay
// those of the picture. Deleting it removes both files.
func TestDescribeAPictureAddedWithGit(t *testing.T) {
	s := newSite(t)
	data := []byte("picture bytes")
	oid := fmt.Sprintf("%x", sha256.Sum256(data))
	if err := os.MkdirAll(filepath.Dir(lfs.ObjectPath(s.lfsDir, oid)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lfs.ObjectPath(s.lfsDir, oid), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.r.Commit(ctx, repo.CommitRequest{Changes: []repo.Change{{Path: "media/pic.png", Data: content.LFSPointerFile(oid, int64(len(data)))}},
		Message: "Add a picture\n", Author: repo.Signature{Name: "Ed", Email: ed.Email, When: clock.Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	res, m, err := s.w.UpdateMedia(ctx, ed, "pic", "", "A picture", "")
	if err != nil {
		t.Fatal(err)
	}
	s.committed(res, "Describe media pic", events.MediaUpdated, "media/pic", events.MediaUpdated)
	b, _, err := s.r.ReadFile(s.head(), content.MediaMetaPath("pic"))
	if err != nil {
		t.Fatal(err)
	}
	if desc, err := content.ParseMediaMeta(content.MediaMetaPath("pic"), b); err != nil || !desc.DescribedOnly() || desc.Alt != "A picture" {
		t.Errorf("media/pic.yaml is %q (%v), want a description only", b, err)
	}
	if m.SHA256 != oid || m.Width != 10 || m.Type != "image/png" || !m.UploadedAt.Equal(clock.Add(-time.Hour)) {
		t.Errorf("described %+v, want the picture's facts", m)
	}
	res, err = s.w.DeleteMedia(ctx, ed, "pic", "")
	if err != nil {
		t.Fatal(err)
	}
	s.committed(res, "Delete media pic", events.MediaDeleted, "media/pic", events.MediaDeleted)
	if s.exists("media/pic.png") || s.exists("media/pic.yaml") {
		t.Error("the picture or its description is still there")
	}
}

// A writer opened on a site it did not write (a clone, a fast start) knows
// every post's slug from its first sync, which reads the many posts'
// files from git in one go.
func TestWriterIndexesASiteItDidNotWrite(t *testing.T) {
	s := newSite(t)
	var changes []repo.Change
	for i := range 70 {
		id := make([]byte, 16)
		id[0], id[15] = 1, byte(i)
		at := clock
		p := content.Post{ID: content.NewID(id), Slug: fmt.Sprintf("post-%d", i), Title: fmt.Sprint("Post ", i),
			Status: content.Published, CreatedAt: clock, PublishedAt: &at, Content: "Body.\n"}
		b, err := content.MarshalPost(&p)
		if err != nil {
			t.Fatal(err)
		}
		changes = append(changes, repo.Change{Path: fmt.Sprintf("posts/2026/post-%d.md", i), Data: b})
	}
	if _, err := s.r.Commit(ctx, repo.CommitRequest{Changes: changes, Message: "import\n",
		Author: repo.Signature{Name: "Ed", Email: "ed@example.org", When: clock}}); err != nil {
		t.Fatal(err)
	}
	fresh := newSite(t)
	fresh.r, fresh.w = s.r, command.NewWriter(gitlog.NewGitLog(s.r, gitlog.NewDeriver(s.r, quiet)), gitlog.NewDeriver(s.r, quiet), quiet,
		command.WriterConfig{Now: func() time.Time { return clock }})
	if err := fresh.w.Sync(); err != nil {
		t.Fatal(err)
	}
	_, err := fresh.w.CreatePost(ctx, ed, command.PostInput{Title: "Again", Slug: "post-69"})
	wantErr{conflict: "slug"}.check(t, err)
	if res, err := fresh.w.CreatePost(ctx, ed, command.PostInput{Title: "Post 69"}); err != nil || res.Post.Slug != "post-69-2" {
		t.Fatalf("created %+v, %v; want the slug post-69-2", res.Post, err)
	}
}
