package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections/history"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// Revisions is the history projection with its revisions' states.
type Revisions interface {
	Revisions(subject string, page, perPage int) (history.Page, error)
	Revision(subject, commit string) (history.Revision, error)
	Previous(rev history.Revision) (history.Revision, bool, error)
	// State is the event that made rev: its payload is the whole state.
	State(rev history.Revision) (events.Event, error)
}

// Restorer is what restores need of the writer.
type Restorer interface {
	RestorePost(ctx context.Context, a command.Actor, id, ifMatch, rev string, old content.Post) (command.Written, error)
	RestoreFiles(ctx context.Context, a command.Actor, subject, ifMatch, rev string, typ events.Type, summary string, files ...string) (command.Written, error)
	MediaFiles(rev, id string) ([]string, error)
}

// kind is a kind of subject with a history: how a request names one,
// and how one is restored.
type kind struct {
	name    string // the state's key in answers: "post", "category"…
	subject func(r *http.Request) string
	restore func(h *Handler, r *http.Request, wr write, rs Restorer, rev history.Revision, state any) (command.Written, error)
}

var (
	postKind = kind{name: "post", subject: func(r *http.Request) string { return "post/" + mux.Vars(r)["id"] },
		restore: func(h *Handler, r *http.Request, wr write, rs Restorer, rev history.Revision, state any) (command.Written, error) {
			return rs.RestorePost(r.Context(), wr.actor, mux.Vars(r)["id"], wr.match, rev.Commit, state.(content.Post))
		}}
	categoryKind = kind{name: "category", subject: func(r *http.Request) string { return "category/" + mux.Vars(r)["slug"] },
		restore: func(h *Handler, r *http.Request, wr write, rs Restorer, rev history.Revision, state any) (command.Written, error) {
			slug := mux.Vars(r)["slug"]
			return rs.RestoreFiles(r.Context(), wr.actor, rev.Subject, wr.match, rev.Commit, events.CategoryRestored,
				"Restore category "+fmt.Sprintf("%q", slug), content.CategoryPath(slug))
		}}
	settingsKind = kind{name: "settings", subject: func(*http.Request) string { return "site/settings" },
		restore: func(h *Handler, r *http.Request, wr write, rs Restorer, rev history.Revision, state any) (command.Written, error) {
			return rs.RestoreFiles(r.Context(), wr.actor, rev.Subject, wr.match, rev.Commit, events.SettingsRestored,
				"Restore the settings", content.SettingsPath)
		}}
	profileKind = kind{name: "profile", subject: func(*http.Request) string { return "site/profile" },
		restore: func(h *Handler, r *http.Request, wr write, rs Restorer, rev history.Revision, state any) (command.Written, error) {
			return rs.RestoreFiles(r.Context(), wr.actor, rev.Subject, wr.match, rev.Commit, events.ProfileRestored,
				"Restore the profile", content.ProfilePath)
		}}
	mediaKind = kind{name: "media", subject: func(r *http.Request) string { return "media/" + mux.Vars(r)["id"] },
		restore: func(h *Handler, r *http.Request, wr write, rs Restorer, rev history.Revision, state any) (command.Written, error) {
			id := mux.Vars(r)["id"]
			files, err := rs.MediaFiles(rev.Commit, id)
			if err != nil {
				return command.Written{}, err
			}
			return rs.RestoreFiles(r.Context(), wr.actor, rev.Subject, wr.match, rev.Commit, events.MediaRestored,
				"Restore media "+id, files...)
		}}
)

// revisionView is a revision as the API shows it.
type revisionView struct {
	Revision     string      `json:"revision"`
	Version      int         `json:"version"`
	Time         time.Time   `json:"time"`
	Actor        string      `json:"actor"`
	Author       string      `json:"author,omitempty"`
	Pusher       string      `json:"pusher,omitempty"`
	Type         events.Type `json:"type"`
	Summary      string      `json:"summary"`
	Changed      []string    `json:"changed"`
	Deleted      bool        `json:"deleted,omitempty"`
	RestoredFrom string      `json:"restored_from,omitempty"`
}

func viewOf(r history.Revision) revisionView {
	changed := r.Changed
	if changed == nil {
		changed = []string{}
	}
	return revisionView{Revision: r.Commit, Version: r.Version, Time: r.Time, Actor: r.Actor, Author: r.Author, Pusher: r.Pusher,
		Type: r.Type, Summary: r.Summary, Changed: changed, Deleted: r.Deleted, RestoredFrom: r.RestoredFrom}
}

type revisionList struct {
	Items      []revisionView `json:"items"`
	Page       int            `json:"page"`
	PerPage    int            `json:"per_page"`
	Total      int            `json:"total"`
	TotalPages int            `json:"total_pages"`
}

func (h *Handler) revisions() (Revisions, error) {
	if h.cfg.Revisions == nil {
		return nil, httperr.New(http.StatusServiceUnavailable, "this node keeps no history: ask the writer node")
	}
	return h.cfg.Revisions, nil
}

// listRevisions pages through a subject's revisions, newest first.
func (h *Handler) listRevisions(k kind) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rs, err := h.revisions()
		if err != nil {
			return err
		}
		page, err := params.Int(r, "page", 1, 1_000_000)
		if err != nil {
			return err
		}
		perPage, err := params.Int(r, "per_page", 20, 100)
		if err != nil {
			return err
		}
		subject := k.subject(r)
		p, err := rs.Revisions(subject, page, perPage)
		if err != nil {
			return err
		}
		if p.Total == 0 {
			return httperr.New(http.StatusNotFound, "%s has no history", params.Clip(subject))
		}
		out := revisionList{Items: []revisionView{}, Page: page, PerPage: perPage, Total: p.Total, TotalPages: (p.Total + perPage - 1) / perPage}
		for _, rev := range p.Items {
			out.Items = append(out.Items, viewOf(rev))
		}
		w.Header().Set("Cache-Control", "no-cache")
		return writeJSON(w, http.StatusOK, out)
	}
}

// revisionAt finds a revision of the subject and its whole state.
func (h *Handler) revisionAt(k kind, r *http.Request, commit string) (history.Revision, any, error) {
	rs, err := h.revisions()
	if err != nil {
		return history.Revision{}, nil, err
	}
	subject := k.subject(r)
	rev, err := rs.Revision(subject, commit)
	if errors.Is(err, history.ErrNotFound) {
		return rev, nil, httperr.New(http.StatusNotFound, "%s has no revision %q: list them at its revisions", params.Clip(subject), params.Clip(commit))
	}
	if err != nil {
		return rev, nil, err
	}
	e, err := rs.State(rev)
	if err != nil {
		return rev, nil, err
	}
	state, err := stateOf(&e)
	if err != nil {
		return rev, nil, err
	}
	return rev, state, nil
}

// stateOf is the subject's state an event carries.
func stateOf(e *events.Event) (any, error) {
	pl, err := e.Payload()
	if err != nil {
		return nil, err
	}
	switch d := pl.(type) {
	case events.PostData:
		return d.Post, nil
	case events.CategoryData:
		return d.Category, nil
	case events.SettingsData:
		return d.Settings, nil
	case events.ProfileData:
		return d.Profile, nil
	case events.MediaData:
		return d.Media, nil
	}
	return nil, fmt.Errorf("event %s carries no subject's state", e.ID)
}

// getRevision returns the subject exactly as it was at one revision.
func (h *Handler) getRevision(k kind) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rev, state, err := h.revisionAt(k, r, mux.Vars(r)["revision"])
		if err != nil {
			return err
		}
		// A revision never changes: cache it as long as anyone likes.
		w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
		return writeJSON(w, http.StatusOK, map[string]any{"revision": viewOf(rev), k.name: present(rev, state)})
	}
}

// diffView is how two revisions differ.
type diffView struct {
	From    revisionView          `json:"from"`
	To      revisionView          `json:"to"`
	Fields  []history.FieldChange `json:"fields"`
	Content *contentDiff          `json:"content,omitempty"`
}

// contentDiff is how a post's text changed: word by word, and as the
// unified line diff git prints.
type contentDiff struct {
	Words   []history.Op `json:"words"`
	Unified string       `json:"unified"`
}

// diffRevisions compares two revisions of a subject: ?from=&to=, to
// defaulting to the newest and from to the one before to.
func (h *Handler) diffRevisions(k kind) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rs, err := h.revisions()
		if err != nil {
			return err
		}
		q := r.URL.Query()
		toRef, fromRef := q.Get("to"), q.Get("from")
		if toRef == "" {
			p, err := rs.Revisions(k.subject(r), 1, 1)
			if err != nil {
				return err
			}
			if len(p.Items) == 0 {
				return httperr.New(http.StatusNotFound, "%s has no history", params.Clip(k.subject(r)))
			}
			toRef = p.Items[0].Commit
		}
		to, toState, err := h.revisionAt(k, r, toRef)
		if err != nil {
			return err
		}
		if fromRef == "" {
			prev, ok, err := rs.Previous(to)
			if err != nil {
				return err
			}
			if !ok {
				return httperr.Field(http.StatusBadRequest, "from", "revision %s is the first: name the revision to compare it with", to.Commit)
			}
			fromRef = prev.Commit
		}
		from, fromState, err := h.revisionAt(k, r, fromRef)
		if err != nil {
			return err
		}
		a, err := jsonOf(fromState)
		if err != nil {
			return err
		}
		b, err := jsonOf(toState)
		if err != nil {
			return err
		}
		out := diffView{From: viewOf(from), To: viewOf(to), Fields: history.CompareStates(a, b, "content")}
		if out.Fields == nil {
			out.Fields = []history.FieldChange{}
		}
		if pa, ok := fromState.(content.Post); ok {
			pb := toState.(content.Post)
			out.Content = &contentDiff{Words: history.WordDiff(pa.Content, pb.Content),
				Unified: history.UnifiedDiff("a/"+pa.Path, "b/"+pb.Path, pa.Content, pb.Content)}
		}
		w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
		return writeJSON(w, http.StatusOK, out)
	}
}

type restoreRequest struct {
	Revision string `json:"revision"`
}

// restore brings a subject back to one of its revisions in a new commit.
func (h *Handler) restore(k kind) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		wr, err := h.startWrite(r)
		if err != nil {
			return err
		}
		rs, ok := wr.Writer.(Restorer)
		if !ok {
			return httperr.New(http.StatusServiceUnavailable, "this node cannot restore: send it to the writer node")
		}
		var req restoreRequest
		if err := h.decodeJSON(w, r, &req); err != nil {
			return err
		}
		if req.Revision == "" {
			return httperr.Field(http.StatusUnprocessableEntity, "revision", "name the revision to restore (a commit from the revisions list)")
		}
		rev, state, err := h.revisionAt(k, r, req.Revision)
		if err != nil {
			return err
		}
		if rev.Deleted {
			return httperr.Field(http.StatusUnprocessableEntity, "revision", "revision %s deleted it: restore one before it", rev.Commit)
		}
		res, err := k.restore(h, r, wr, rs, rev, state)
		if err != nil {
			return err
		}
		h.afterWrite(w, r, res)
		if res.Post != nil {
			return writePost(w, http.StatusOK, res.Post)
		}
		w.Header().Set("ETag", etag(res.Version))
		return writeJSON(w, http.StatusOK, map[string]any{"restored_from": rev.Commit, k.name: present(rev, state)})
	}
}

// present is a revision's state as clients get it: a post with its
// version and revision then, and empty lists rather than nulls.
func present(rev history.Revision, state any) any {
	switch s := state.(type) {
	case content.Post:
		s.Version, s.Revision = rev.Version, rev.Commit
		presentPost(&s)
		return s
	case content.Media:
		return mediaBase(s) // a past state: its variants are not listed
	}
	return state
}

func jsonOf(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return b, nil
}

// postReadable lets through to next only a caller the policy lets read
// the post: the post as it is now, or for a deleted post as its last
// revision left it, of which only its author (and editors) may read the
// history. To anyone else the post's history does not exist.
func (h *Handler) postReadable(next apiFunc) apiFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, _ := auth.Principal(r)
		id := mux.Vars(r)["id"]
		if p, ok := h.cfg.Catalogue.Post(id); ok {
			if !a.Actor().CanRead(&p) {
				return httperr.New(http.StatusNotFound, "no post with id %q", params.Clip(id))
			}
			if !a.Actor().CanReadHistory(&p) {
				return httperr.New(http.StatusForbidden, "a post's history is for its author, editors and admins")
			}
			return next(w, r)
		}
		rs, err := h.revisions()
		if err != nil {
			return err
		}
		pg, err := rs.Revisions(postKind.subject(r), 1, 1)
		if err != nil {
			return err
		}
		if len(pg.Items) == 0 {
			return httperr.New(http.StatusNotFound, "post/%s has no history", params.Clip(id))
		}
		e, err := rs.State(pg.Items[0])
		if err != nil {
			return err
		}
		state, err := stateOf(&e)
		if err != nil {
			return err
		}
		last, _ := state.(content.Post)
		// Deleted, it is no one's to read but its author's and editors':
		// whatever its status was, a post without one is not public.
		if !a.Actor().CanReadHistory(&content.Post{Author: last.Author}) {
			return httperr.New(http.StatusNotFound, "post/%s has no history", params.Clip(id))
		}
		return next(w, r)
	}
}
