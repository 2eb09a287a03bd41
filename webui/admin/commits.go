package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/projections/audit"
	"github.com/chronicle-cms/chronicle/repo"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// Commits reads single commits of main with their events and diffs
// (gitlog.GitLog): the same view the API's commits are answered from.
type Commits interface {
	Commit(h repo.Hash) (gitlog.CommitView, error)
}

// Undo is what the writer undoes commits with (command.Writer), as the
// API's revert and rollback use it.
type Undo interface {
	// Revert undoes commit h in a new commit; admin tells whether the
	// actor may change what only admins may (the settings).
	Revert(ctx context.Context, a command.Actor, h repo.Hash) (command.Written, error)
	PlanRollback(to repo.Hash) (command.RollbackPlan, error)
	Rollback(ctx context.Context, a command.Actor, to repo.Hash) (command.Written, command.RollbackPlan, error)
	CommitAt(t time.Time) (repo.Hash, error)
}

// commitEvent is one event of a commit, its subject linked when the
// admin has a page for it.
type commitEvent struct {
	Type, Subject, Link, Summary string
}

// diffLine is one line of a unified diff: Kind is "add", "del", "ctx",
// "hunk" (an @@ line) or "meta" (the file's header lines).
type diffLine struct{ Kind, Text string }

// commitFile is a file a commit changed, its diff split into lines.
type commitFile struct {
	gitlog.FileDiff
	ID    string // the file's heading, which labels its diff
	Link  string // its subject's page, "" if none
	Lines []diffLine
	// Revert is what a revert does to the file.
	Revert string
}

// commitData is what the commit page and its revert's confirmation show.
type commitData struct {
	View             gitlog.CommitView
	Hash, Short      string
	Summary, Body    string // the message's first line, and the rest
	Parents          []string
	Events           []commitEvent
	Files            []commitFile
	Revert, Rollback string // the revert's confirmation; the rollback's dry run (admins)
	// On a revert's confirmation: why it was not made, and the later
	// commits that stop it (oldest first).
	Problems []string
	Later    []command.LaterCommit
	LeftOut  int
	Refused  bool // nothing can be done: no button
}

// maxLaterCommits bounds the later commits a refused revert lists.
const maxLaterCommits = 100

func (h *handler) commits() (Commits, error) {
	if h.cfg.Commits == nil {
		return nil, httperr.New(http.StatusNotFound, "this node has no repository: open the admin of the writer node")
	}
	return h.cfg.Commits, nil
}

func (h *handler) undo() (Undo, error) {
	if h.cfg.Undo == nil {
		return nil, httperr.New(http.StatusNotFound, "this node cannot undo changes: open the admin of the writer node")
	}
	return h.cfg.Undo, nil
}

// commitOf reads the commit {hash} names: anything but a full hash of a
// commit of main's history is not found.
func (h *handler) commitOf(r *http.Request) (commitData, error) {
	cs, err := h.commits()
	if err != nil {
		return commitData{}, err
	}
	ref := pathVar(r, "hash")
	hash := repo.ParseHash(ref)
	if hash.IsZero() {
		return commitData{}, httperr.New(http.StatusNotFound, "there is no commit %q on the site: a commit is named by its full 40-character hash", clip(ref))
	}
	v, err := cs.Commit(hash)
	if errors.Is(err, gitlog.ErrNotOnMain) {
		return commitData{}, httperr.New(http.StatusNotFound, "there is no commit %s in the site's history", hash)
	}
	if err != nil {
		return commitData{}, fmt.Errorf("commit %s: %w", hash, err)
	}
	return commitView(r, v), nil
}

func commitView(r *http.Request, v gitlog.CommitView) commitData {
	c := v.Commit
	summary, body, _ := strings.Cut(c.Message, "\n")
	d := commitData{View: v, Hash: c.Hash.String(), Short: c.Hash.String()[:7], Summary: summary, Body: strings.TrimSpace(body)}
	a, _ := auth.Principal(r)
	if a.Role.Can(policy.Revert) {
		d.Revert = "/admin/commits/" + d.Hash + "/revert"
	}
	if a.Role.Can(policy.Rollback) {
		d.Rollback = "/admin/rollback?" + url.Values{"to": {d.Hash}}.Encode()
	}
	for _, p := range c.Parents {
		d.Parents = append(d.Parents, p.String())
	}
	for _, e := range v.Events {
		d.Events = append(d.Events, commitEvent{Type: string(e.Type), Subject: e.Subject, Link: subjectLink(e.Subject), Summary: audit.Summary(&e)})
	}
	for i, f := range v.Files {
		d.Files = append(d.Files, commitFile{FileDiff: f, ID: fmt.Sprintf("file-%d", i+1), Link: subjectLink(f.Subject),
			Lines: diffLines(f.Diff), Revert: revertAction(f.Status)})
	}
	return d
}

// subjectLink is the admin's page of a subject: a post's history.
func subjectLink(subject string) string {
	if id, ok := strings.CutPrefix(subject, "post/"); ok && id != "" {
		return "/admin/posts/" + url.PathEscape(id) + "/history"
	}
	return ""
}

// revertAction says what reverting a commit does to a file it changed.
func revertAction(status string) string {
	switch status {
	case "added":
		return "deleted"
	case "deleted":
		return "brought back"
	}
	return "put back as it was before"
}

// diffLines splits a unified diff into lines marked by kind; the lines
// before the first hunk are the file's header.
func diffLines(diff string) []diffLine {
	if diff == "" {
		return nil
	}
	var out []diffLine
	inHunk := false
	for _, l := range strings.Split(strings.TrimSuffix(diff, "\n"), "\n") {
		kind := "meta"
		switch {
		case strings.HasPrefix(l, "@@"):
			kind, inHunk = "hunk", true
		case !inHunk:
		case strings.HasPrefix(l, "+"):
			kind = "add"
		case strings.HasPrefix(l, "-"):
			kind = "del"
		case strings.HasPrefix(l, " "), l == "":
			kind = "ctx"
		}
		out = append(out, diffLine{Kind: kind, Text: l})
	}
	return out
}

// commitPage shows one commit of main: who made it and when, its
// events, and its files' diffs.
func (h *handler) commitPage(w http.ResponseWriter, r *http.Request) error {
	d, err := h.commitOf(r)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "commit", page{Title: "Commit " + d.Short + ": " + clip(d.Summary), Section: "audit", Data: d})
}

// confirmRevert asks before reverting (a page, so it works without
// JavaScript), saying which files go back.
func (h *handler) confirmRevert(w http.ResponseWriter, r *http.Request) error {
	d, err := h.commitOf(r)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "commit-revert", page{Title: "Revert commit " + d.Short + "?", Section: "audit", Data: d})
}

// revert undoes a commit in a new commit and shows it; a refusal is said
// on the confirmation page, with nothing committed.
func (h *handler) revert(w http.ResponseWriter, r *http.Request) error {
	un, err := h.undo()
	if err != nil {
		return err
	}
	if _, err := readForm(w, r, 4<<10); err != nil {
		return err
	}
	d, err := h.commitOf(r)
	if err != nil {
		return err
	}
	res, err := un.Revert(r.Context(), actor(r), d.View.Commit.Hash)
	var ce *command.RevertConflictError
	var ue *command.UnrevertableError
	var re *command.RevertRefusedError
	status := http.StatusConflict
	switch {
	case errors.As(err, &ce):
		d.Problems = []string{fmt.Sprintf("Nothing was reverted: %d later commit%s changed some of the same files since. "+
			"Revert those first (newest first), or restore the files by hand.", len(ce.Later), plural(len(ce.Later)))}
		d.Later = ce.Later[:min(len(ce.Later), maxLaterCommits)]
		d.LeftOut = len(ce.Later) - len(d.Later)
	case errors.As(err, &re):
		d.Problems = append([]string{"Nothing was reverted: what it would leave is refused, as a push of it would be:"}, re.Problems...)
	case errors.As(err, &ue):
		status = http.StatusUnprocessableEntity
		d.Problems = []string{"Nothing was reverted: " + ue.Detail + "."}
	case errors.Is(err, command.ErrNotOnMain):
		return httperr.New(http.StatusNotFound, "there is no commit %s in the site's history", d.Hash)
	case err != nil:
		return fmt.Errorf("revert commit %s: %w", d.Hash, err)
	}
	if err != nil {
		d.Refused = true
		return h.render(w, r, status, "commit-revert", page{Title: "Revert commit " + d.Short + "?", Section: "audit", Data: d})
	}
	h.saved(r, res, fmt.Sprintf("Reverted “%s” (%s).", clip(d.Summary), d.Short))
	http.Redirect(w, r, "/admin/commits/"+res.Cursor.Commit, http.StatusSeeOther)
	return nil
}

// rollbackData is the rollback form, and its dry run once a revision is
// picked.
type rollbackData struct {
	To, Date, Time string // as typed
	Plan           *command.RollbackPlan
	Target         string // the revision's commit page
	Files          []rollbackFile
	Nothing        bool
	Problem        string // the form's, beside its inputs
	Done           string // why the last try rolled nothing back
}

type rollbackFile struct {
	command.RollbackFile
	Link string
}

// rollbackPage is the rollback's form; with a revision picked (a commit
// or a date and time, UTC) it lists what rolling back to it changes,
// and asks.
func (h *handler) rollbackPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	return h.rollbackForm(w, r, http.StatusOK, rollbackData{To: strings.TrimSpace(q.Get("to")), Date: q.Get("date"), Time: q.Get("time")})
}

func (h *handler) rollbackForm(w http.ResponseWriter, r *http.Request, status int, d rollbackData) error {
	un, err := h.undo()
	if err != nil {
		return err
	}
	if d.To != "" || d.Date != "" {
		to, problem, err := pickRevision(un, d)
		if err != nil {
			return err
		}
		d.Problem = problem
		if problem == "" {
			plan, err := un.PlanRollback(to)
			switch {
			case errors.Is(err, command.ErrNotOnMain):
				d.Problem = fmt.Sprintf("%s is not a commit of the site's history.", to)
			case err != nil:
				return fmt.Errorf("plan a rollback to %s: %w", to, err)
			default:
				d.Plan, d.Target, d.Nothing = &plan, "/admin/commits/"+plan.To.Hash.String(), len(plan.Files) == 0
				for _, f := range plan.Files {
					d.Files = append(d.Files, rollbackFile{RollbackFile: f, Link: subjectLink(f.Subject)})
				}
			}
		}
		if d.Problem != "" && status == http.StatusOK {
			status = http.StatusUnprocessableEntity
		}
	}
	title := "Roll back the site"
	if d.Plan != nil {
		title = "Roll back the site to " + d.Plan.To.Hash.String()[:7] + "?"
	}
	return h.render(w, r, status, "rollback", page{Title: title, Section: "rollback", Data: d})
}

// pickRevision reads the revision to roll back to: a full commit hash,
// or the newest commit at or before a date and time (UTC; a date alone
// is its end). problem is what the form says when it names none.
func pickRevision(un Undo, d rollbackData) (to repo.Hash, problem string, err error) {
	if d.To != "" {
		if to = repo.ParseHash(d.To); to.IsZero() {
			return to, "Give a commit's full 40-character hash (its page has it), or a date.", nil
		}
		return to, "", nil
	}
	day, err := time.ParseInLocation("2006-01-02", d.Date, time.UTC)
	if err != nil {
		return to, "Dates are written 2026-11-30.", nil
	}
	at := day.Add(24*time.Hour - time.Second)
	if d.Time != "" {
		clock, err := time.Parse("15:04", d.Time)
		if err != nil {
			if clock, err = time.Parse("15:04:05", d.Time); err != nil {
				return to, "Times are written 14:30, in UTC.", nil
			}
		}
		at = day.Add(time.Duration(clock.Hour())*time.Hour + time.Duration(clock.Minute())*time.Minute + time.Duration(clock.Second())*time.Second)
	}
	to, err = un.CommitAt(at)
	if errors.Is(err, command.ErrNotFound) {
		return to, fmt.Sprintf("The site has no commit at or before %s UTC.", at.Format("2 Jan 2006, 15:04:05")), nil
	}
	if err != nil {
		return to, "", fmt.Errorf("the commit at %s: %w", at.Format(time.RFC3339), err)
	}
	return to, "", nil
}

// rollback brings the whole site back to a revision in one new commit
// and shows it.
func (h *handler) rollback(w http.ResponseWriter, r *http.Request) error {
	un, err := h.undo()
	if err != nil {
		return err
	}
	f, err := readForm(w, r, 4<<10)
	if err != nil {
		return err
	}
	d := rollbackData{To: strings.TrimSpace(f.Value("to"))}
	to := repo.ParseHash(d.To)
	if to.IsZero() {
		return h.rollbackForm(w, r, http.StatusUnprocessableEntity, d)
	}
	// The site changed since the dry run was shown: show it again rather
	// than roll back files the admin did not see listed.
	if seen := f.Value("head"); seen != "" {
		plan, err := un.PlanRollback(to)
		if err == nil && plan.Head.String() != seen {
			d.Done = "The site changed after the list below was first shown, so nothing was rolled back: here is what rolling back changes now."
			return h.rollbackForm(w, r, http.StatusConflict, d)
		}
	}
	res, plan, err := un.Rollback(r.Context(), actor(r), to)
	switch {
	case errors.Is(err, command.ErrNothingToRollBack):
		d.Done = "Nothing was rolled back: the site's files already equal those of this commit."
		return h.rollbackForm(w, r, http.StatusConflict, d)
	case errors.Is(err, command.ErrNotOnMain):
		return h.rollbackForm(w, r, http.StatusUnprocessableEntity, d)
	case err != nil:
		return fmt.Errorf("roll back to %s: %w", to, err)
	}
	h.saved(r, res, fmt.Sprintf("Rolled the site back to %s (%s): %d file%s changed.", to.String()[:7], when(plan.To.Author.When), len(plan.Files), plural(len(plan.Files))))
	http.Redirect(w, r, "/admin/commits/"+res.Cursor.Commit, http.StatusSeeOther)
	return nil
}
