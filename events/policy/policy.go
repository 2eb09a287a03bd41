// Package policy decides who may make which change. A role is a preset
// of named capabilities; Check and the Post and Media rules are the one
// place every write is judged, whatever path it came by: the API, the
// admin, a git push or an LFS upload.
package policy

import (
	"errors"
	"fmt"
	"slices"

	"github.com/chronicle-cms/chronicle/events/content"
)

// Role is what an account may do: a preset of capabilities.
type Role string

const (
	Contributor Role = "contributor" // drafts of own posts, submitted for review
	Author      Role = "author"      // own posts, published too, and own uploads
	Editor      Role = "editor"      // all content
	Admin       Role = "admin"       // also settings, accounts, rollback
)

// Roles are every role, from least to most.
func Roles() []Role { return []Role{Contributor, Author, Editor, Admin} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Capability names one thing a role may do.
type Capability string

const (
	// WriteOwnPosts: create posts (as their author), edit and delete
	// them while they are unpublished, submit them for review.
	WriteOwnPosts Capability = "posts.write_own"
	// PublishOwnPosts: publish, schedule and unpublish own posts, and
	// edit or delete them once published.
	PublishOwnPosts Capability = "posts.publish_own"
	// EditAllPosts: every post, whoever wrote it: edit, publish, review
	// (request changes, approve), change its author.
	EditAllPosts Capability = "posts.edit_all"
	// ReadAll: everything in the repository: others' unpublished posts,
	// the history of anything, commits, the audit log, time travel.
	ReadAll Capability = "site.read_all"
	// UseGit: clone, fetch and push the site's repository. A clone holds
	// every file, so an account that may clone reads every draft; pushed
	// changes are still judged file by file.
	UseGit Capability = "site.git"
	// UploadMedia: upload pictures, and change or delete own uploads.
	UploadMedia Capability = "media.upload"
	// EditAllMedia: every media item, whoever uploaded it.
	EditAllMedia Capability = "media.edit_all"
	// EditCategories: create, change and delete categories.
	EditCategories Capability = "categories.edit"
	// EditProfile: the site's author profile (the about page).
	EditProfile Capability = "profile.edit"
	// Revert: undo any commit with a new one.
	Revert Capability = "site.revert"
	// EditSettings: the site's settings (title, analytics, ads…).
	EditSettings Capability = "settings.edit"
	// ManageAccounts: accounts, their roles and tokens, the security log.
	ManageAccounts Capability = "accounts.manage"
	// Rollback: bring the whole site back to an earlier revision.
	Rollback Capability = "site.rollback"
)

// presets are the roles' capabilities, each role adding to the one
// before it.
var presets = func() map[Role][]Capability {
	contributor := []Capability{WriteOwnPosts}
	author := append(slices.Clip(contributor), PublishOwnPosts, UploadMedia, UseGit)
	editor := append(slices.Clip(author), EditAllPosts, ReadAll, EditAllMedia, EditCategories, EditProfile, Revert)
	admin := append(slices.Clip(editor), EditSettings, ManageAccounts, Rollback)
	return map[Role][]Capability{Contributor: contributor, Author: author, Editor: editor, Admin: admin}
}()

// Capabilities are what r may do (none for an unknown role).
func (r Role) Capabilities() []Capability { return slices.Clone(presets[r]) }

// Can reports whether r has capability c.
func (r Role) Can(c Capability) bool { return slices.Contains(presets[r], c) }

// ErrForbidden is wrapped by every refusal.
var ErrForbidden = errors.New("forbidden")

// Refusal is why a change is refused, said so the person who tried can
// act on it. Field names the post's field at fault, if one is.
type Refusal struct {
	Field  string
	Reason string
}

func (e *Refusal) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Reason
	}
	return e.Reason
}

// Unwrap makes every refusal ErrForbidden.
func (e *Refusal) Unwrap() error { return ErrForbidden }

func refuse(field, format string, args ...any) error {
	return &Refusal{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Actor is who asks: an account's email and role.
type Actor struct {
	Email string
	Role  Role
}

// Check refuses a if its role lacks c.
func (a Actor) Check(c Capability) error {
	if a.Role.Can(c) {
		return nil
	}
	return refuse("", "your role, %s, may not %s", a.roleName(), what[c])
}

func (a Actor) roleName() string {
	if a.Role == "" {
		return "none"
	}
	return string(a.Role)
}

// what says what a capability allows, to finish "may not …".
var what = map[Capability]string{
	WriteOwnPosts:   "write posts",
	PublishOwnPosts: "publish posts",
	EditAllPosts:    "change posts of other accounts",
	ReadAll:         "read the whole site's history and others' unpublished posts",
	UseGit:          "use git: write through the admin or the API",
	UploadMedia:     "upload media",
	EditAllMedia:    "change media uploaded by other accounts",
	EditCategories:  "change categories",
	EditProfile:     "change the profile",
	Revert:          "revert commits",
	EditSettings:    "change the site's settings",
	ManageAccounts:  "manage accounts",
	Rollback:        "roll the site back",
}

// Owns reports whether a may treat post p as its own.
func (a Actor) Owns(p *content.Post) bool { return a.Email != "" && p.Author == a.Email }

// CanRead reports whether a may read p: anyone a published post, an
// account its own posts, editors and admins every post.
func (a Actor) CanRead(p *content.Post) bool {
	return p.Status.Public() || a.Role.Can(ReadAll) || a.Role.Can(WriteOwnPosts) && a.Owns(p)
}

// CanReadHistory reports whether a may read p's history: its earlier
// states (drafts, review notes) are for its author, editors and admins,
// even once the post itself is public.
func (a Actor) CanReadHistory(p *content.Post) bool {
	return a.Role.Can(ReadAll) || a.Role.Can(WriteOwnPosts) && a.Owns(p)
}

// Post judges a change of a post from cur to next: cur nil creates it,
// next nil deletes it. Editors and admins may make any change; authors
// change their own posts; contributors their own unpublished ones, and
// never publish or schedule. Only editors give a post another author or
// write a review note.
func (a Actor) Post(cur, next *content.Post) error {
	if a.Role.Can(EditAllPosts) {
		return nil
	}
	if err := a.Check(WriteOwnPosts); err != nil {
		return err
	}
	if cur != nil && !a.Owns(cur) {
		if cur.Author == "" {
			return refuse("", "this post has no author: only editors and admins change it")
		}
		return refuse("", "this post is %s's: only its author, editors and admins change it", cur.Author)
	}
	if next != nil && !a.Owns(next) {
		return refuse("author", "must be you (%s): only editors and admins give a post to another account", a.Email)
	}
	if next != nil && next.ReviewNote != "" && (cur == nil || next.ReviewNote != cur.ReviewNote) {
		return refuse("review_note", "only editors and admins write review notes")
	}
	if a.Role.Can(PublishOwnPosts) {
		return nil
	}
	if cur != nil && !unpublished(cur.Status) {
		return refuse("status", "the post is %s: a contributor changes only drafts and posts waiting for review", cur.Status)
	}
	if next != nil && !unpublished(next.Status) {
		return refuse("status", "a contributor saves drafts (%q) and submits them for review (%q); an editor publishes or schedules them", content.Draft, content.Pending)
	}
	return nil
}

// unpublished: the statuses a contributor may give a post.
func unpublished(s content.Status) bool { return s == content.Draft || s == content.Pending }

// Media judges a change of a media item: cur nil uploads it, next nil
// deletes it. Authors upload and change their own uploads; editors and
// admins every item.
func (a Actor) Media(cur, next *content.Media) error {
	if a.Role.Can(EditAllMedia) {
		return nil
	}
	if err := a.Check(UploadMedia); err != nil {
		return err
	}
	if cur != nil && (a.Email == "" || cur.UploadedBy != a.Email) {
		if cur.UploadedBy == "" {
			return refuse("", "media %s has no uploader on record: only editors and admins change it", cur.ID)
		}
		return refuse("", "media %s was uploaded by %s: only they, editors and admins change it", cur.ID, cur.UploadedBy)
	}
	if next != nil && next.UploadedBy != a.Email {
		return refuse("uploaded_by", "must be you (%s): only editors and admins record another uploader", a.Email)
	}
	return nil
}
