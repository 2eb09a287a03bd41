package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

type rollbackRequest struct {
	To     string `json:"to"`
	DryRun bool   `json:"dry_run"`
}

type rollbackFileView struct {
	Path    string `json:"path"`
	Action  string `json:"action"`
	Subject string `json:"subject,omitempty"`
	Title   string `json:"title,omitempty"`
}

type rollbackTarget struct {
	Hash    string    `json:"hash"`
	Time    time.Time `json:"time"`
	Summary string    `json:"summary"`
}

type rollbackView struct {
	To     rollbackTarget     `json:"to"`
	DryRun bool               `json:"dry_run"`
	Files  []rollbackFileView `json:"files"`
	// Commit is the rollback's commit (not on a dry run).
	Commit *commitView `json:"commit,omitempty"`
}

// rollbackSite brings the whole site back to a revision in one commit;
// with dry_run it only lists what that would change. Nothing to change
// is 409 for a real rollback, an empty list for a dry run.
func (h *Handler) rollbackSite(w http.ResponseWriter, r *http.Request) error {
	wr, err := h.startWrite(r)
	if err != nil {
		return err
	}
	var req rollbackRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return err
	}
	to, err := h.revision(wr, req.To)
	if err != nil {
		return err
	}
	var plan command.RollbackPlan
	var res command.Written
	if req.DryRun {
		plan, err = wr.PlanRollback(to)
	} else {
		res, plan, err = wr.Rollback(r.Context(), wr.actor, to)
	}
	switch {
	case errors.Is(err, command.ErrNothingToRollBack):
		return httperr.New(http.StatusConflict, "nothing to do: the site's files already equal those of %s", to)
	case errors.Is(err, command.ErrNotOnMain):
		return httperr.Field(http.StatusUnprocessableEntity, "to", "%s is not a commit of main's history", to)
	case err != nil:
		return err
	}
	out := rollbackView{DryRun: req.DryRun, Files: []rollbackFileView{},
		To: rollbackTarget{Hash: plan.To.Hash.String(), Time: plan.To.Author.When.UTC(), Summary: firstLine(plan.To.Message)}}
	for _, f := range plan.Files {
		out.Files = append(out.Files, rollbackFileView{Path: f.Path, Action: f.Action, Subject: f.Subject, Title: f.Title})
	}
	if req.DryRun {
		return writeJSON(w, http.StatusOK, out)
	}
	h.afterWrite(w, r, res)
	w.Header().Set("Location", "/api/v1/commits/"+res.Cursor.Commit)
	if h.cfg.Commits != nil {
		v, err := h.cfg.Commits.Commit(repo.ParseHash(res.Cursor.Commit))
		if err != nil {
			return err
		}
		cv := viewCommit(v)
		out.Commit = &cv
	}
	return writeJSON(w, http.StatusCreated, out)
}

// revision reads a rollback's "to": a full commit hash, or an RFC 3339
// date-time meaning the newest commit of main at or before it.
func (h *Handler) revision(wr write, to string) (repo.Hash, error) {
	if hash := repo.ParseHash(to); !hash.IsZero() {
		return hash, nil
	}
	t, err := time.Parse(time.RFC3339, to)
	if err != nil {
		return repo.ZeroHash, httperr.Field(http.StatusBadRequest, "to", "give a full commit hash or an RFC 3339 date-time (e.g. 2026-01-02T15:04:05Z)")
	}
	hash, err := wr.CommitAt(t)
	if errors.Is(err, command.ErrNotFound) {
		return repo.ZeroHash, httperr.Field(http.StatusUnprocessableEntity, "to", "the site has no commit at or before %s", t.UTC().Format(time.RFC3339))
	}
	return hash, err
}
