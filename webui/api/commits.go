package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// Commits reads single commits of main (gitlog.GitLog).
type Commits interface {
	Commit(h repo.Hash) (gitlog.CommitView, error)
}

type signatureView struct {
	Name  string    `json:"name"`
	Email string    `json:"email"`
	Time  time.Time `json:"time"`
}

type commitEventView struct {
	ID      string      `json:"id"`
	Type    events.Type `json:"type"`
	Subject string      `json:"subject"`
	Summary string      `json:"summary,omitempty"`
}

type lfsView struct {
	OID  string `json:"oid"`
	Size int64  `json:"size"`
}

type fileDiffView struct {
	Path    string   `json:"path"`
	Status  string   `json:"status"`
	Old     string   `json:"old,omitempty"`
	New     string   `json:"new,omitempty"`
	Subject string   `json:"subject,omitempty"`
	Title   string   `json:"title,omitempty"`
	Added   int      `json:"added"`
	Deleted int      `json:"deleted"`
	Binary  bool     `json:"binary,omitempty"`
	OldLFS  *lfsView `json:"old_lfs,omitempty"`
	NewLFS  *lfsView `json:"new_lfs,omitempty"`
	Diff    string   `json:"diff,omitempty"`
	Note    string   `json:"note,omitempty"`
}

type commitView struct {
	Hash      string            `json:"hash"`
	Parents   []string          `json:"parents"`
	Height    int64             `json:"height"`
	Summary   string            `json:"summary"`
	Message   string            `json:"message"`
	Time      time.Time         `json:"time"`
	Author    signatureView     `json:"author"`
	Committer signatureView     `json:"committer"`
	Actor     string            `json:"actor"`
	Claimed   string            `json:"claimed_author,omitempty"`
	Pusher    string            `json:"pusher,omitempty"`
	Events    []commitEventView `json:"events"`
	Files     []fileDiffView    `json:"files"`
	Truncated bool              `json:"truncated,omitempty"`
}

func viewCommit(v gitlog.CommitView) commitView {
	c := v.Commit
	out := commitView{Hash: c.Hash.String(), Parents: []string{}, Height: v.Height, Summary: firstLine(c.Message), Message: c.Message,
		Time: c.Author.When.UTC(), Actor: v.Actor, Claimed: v.Author, Pusher: v.Pusher, Truncated: v.Truncated,
		Author:    signatureView{Name: c.Author.Name, Email: c.Author.Email, Time: c.Author.When.UTC()},
		Committer: signatureView{Name: c.Committer.Name, Email: c.Committer.Email, Time: c.Committer.When.UTC()},
		Events:    []commitEventView{}, Files: []fileDiffView{}}
	for _, p := range c.Parents {
		out.Parents = append(out.Parents, p.String())
	}
	for _, e := range v.Events {
		out.Events = append(out.Events, commitEventView{ID: e.ID, Type: e.Type, Subject: e.Subject, Summary: eventSummary(e)})
	}
	for _, f := range v.Files {
		fv := fileDiffView{Path: f.Path, Status: f.Status, Subject: f.Subject, Title: f.Title, Added: f.Added, Deleted: f.Deleted,
			Binary: f.Binary, Diff: f.Diff, Note: f.Note}
		if !f.Old.IsZero() {
			fv.Old = f.Old.String()
		}
		if !f.New.IsZero() {
			fv.New = f.New.String()
		}
		if f.OldLFS != nil {
			fv.OldLFS = &lfsView{OID: f.OldLFS.OID, Size: f.OldLFS.Size}
		}
		if f.NewLFS != nil {
			fv.NewLFS = &lfsView{OID: f.NewLFS.OID, Size: f.NewLFS.Size}
		}
		out.Files = append(out.Files, fv)
	}
	return out
}

// eventSummary is one line naming what an event is about: a post's
// title, a category's name, a media item's file, a rollback's revision.
func eventSummary(e events.Event) string {
	pl, err := e.Payload()
	if err != nil {
		return ""
	}
	switch d := pl.(type) {
	case events.PostData:
		return d.Post.Title
	case events.CategoryData:
		return d.Category.Name
	case events.MediaData:
		return firstNonEmpty(d.Media.OriginalName, d.Media.ID)
	case events.SettingsData:
		return d.Settings.Title
	case events.ProfileData:
		return d.Profile.Name
	case events.RollbackData:
		return "back to " + d.To
	case events.EmbedData:
		return d.Embed.URL
	}
	return ""
}

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// commitHash reads {hash}: anything that is not a full commit hash
// names no commit of main.
func commitHash(r *http.Request) (repo.Hash, error) {
	h := repo.ParseHash(mux.Vars(r)["hash"])
	if h.IsZero() {
		return h, httperr.New(http.StatusNotFound, "no commit %s on main: give a full 40-character commit hash", clip(mux.Vars(r)["hash"]))
	}
	return h, nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// getCommit shows one commit of main: who made it, its events and its
// diff.
func (h *Handler) getCommit(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Commits == nil {
		return httperr.New(http.StatusServiceUnavailable, "this node has no repository: ask the writer node")
	}
	hash, err := commitHash(r)
	if err != nil {
		return err
	}
	v, err := h.cfg.Commits.Commit(hash)
	if errors.Is(err, gitlog.ErrNotOnMain) {
		return httperr.New(http.StatusNotFound, "no commit %s on main's history", hash)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, max-age=3600") // a commit never changes
	return writeJSON(w, http.StatusOK, viewCommit(v))
}

// maxLaterCommits bounds the later commits a refused revert lists (the
// oldest ones; commits_left_out counts the rest).
const maxLaterCommits = 100

// revertCommit undoes one commit of main in a new commit: 201 with the
// new commit, 409 naming the later commits that changed the same files.
func (h *Handler) revertCommit(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	hash, err := commitHash(r)
	if err != nil {
		return err
	}
	res, err := wr.Revert(r.Context(), wr.actor, hash)
	var ce *command.RevertConflictError
	var ue *command.UnrevertableError
	var re *command.RevertRefusedError
	switch {
	case errors.As(err, &re):
		e := httperr.New(http.StatusConflict, "the revert would leave the site in a state a push is refused for: nothing was committed")
		for _, p := range re.Problems {
			field, detail, ok := strings.Cut(p, ": ")
			if !ok {
				field, detail = "", p
			}
			e.Errors = append(e.Errors, httperr.FieldError{Field: field, Detail: detail})
		}
		return e
	case errors.As(err, &ce):
		later := make([]map[string]any, 0, min(len(ce.Later), maxLaterCommits))
		for _, l := range ce.Later[:min(len(ce.Later), maxLaterCommits)] {
			later = append(later, map[string]any{"hash": l.Hash, "summary": l.Summary, "files": l.Files})
		}
		e := httperr.New(http.StatusConflict, "%s: revert those first, or restore the files by hand", ce.Error()).Extend("commits", later)
		if n := len(ce.Later) - len(later); n > 0 {
			e.Extend("commits_left_out", n)
		}
		return e
	case errors.As(err, &ue):
		return httperr.New(http.StatusUnprocessableEntity, "%s", ue.Detail)
	case err != nil:
		return err
	}
	h.afterWrite(w, r, res)
	return h.writeNewCommit(w, res)
}

// writeNewCommit answers 201 with the commit a write made.
func (h *Handler) writeNewCommit(w http.ResponseWriter, res command.Written) error {
	w.Header().Set("Location", "/api/v1/commits/"+res.Cursor.Commit)
	if h.cfg.Commits == nil {
		return writeJSON(w, http.StatusCreated, map[string]string{"hash": res.Cursor.Commit})
	}
	v, err := h.cfg.Commits.Commit(repo.ParseHash(res.Cursor.Commit))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, viewCommit(v))
}
