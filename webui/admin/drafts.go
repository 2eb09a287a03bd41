package admin

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/repo/autosave"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// draftView is the notice an editor gets on opening a post whose text
// they changed and did not save: when, what differs, and the choice.
type draftView struct {
	Saved   time.Time
	Diff    template.HTML // the text, theirs (saved) against the draft
	Fields  []fieldChange
	Restore string // where restoring leads
	Discard string // the form action that discards it
}

// conflictView is what a refused save shows: the version someone else
// saved, how the editor's text differs from it, and the version to save
// over if the editor chooses to.
type conflictView struct {
	Theirs  string // their text
	Diff    template.HTML
	Fields  []fieldChange
	Version string
	By      string
	At      time.Time
}

// Draft keys: "post-<id>" for a post that exists, "new-<random>" for one
// being written, so that no post id (one may well start "new-") is taken
// for the other kind.
const postDraftPrefix = "post-"

func postDraftKey(id string) string { return postDraftPrefix + id }

// maxDrafts bounds the drafts an account keeps.
const maxDrafts = 50

// notSaved are form fields that are not the post's.
var notSaved = map[string]bool{"action": true, "draft_key": true, "version": true, "conflict_version": true, "confirm": true}

// newDraftKey names the draft of a post not created yet.
func newDraftKey() string {
	b := make([]byte, 10)
	rand.Read(b)
	return "new-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func account(r *http.Request) string {
	a, _ := auth.Principal(r)
	return a.Email
}

// autosave keeps the editor's form as typed, on the account's own ref;
// the editor's script sends it a few seconds after typing stops.
func (h *handler) autosave(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Drafts == nil {
		return httperr.New(http.StatusNotFound, "autosave is off on this node")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseMultipartForm(maxForm); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return httperr.New(http.StatusRequestEntityTooLarge, "the draft is too large to keep")
	}
	key := r.PostForm.Get("draft_key")
	if !autosave.ValidKey(key) {
		return httperr.New(http.StatusBadRequest, "no draft key")
	}
	// A draft is of a post that exists, or of one being written, and an
	// account keeps a bounded number of the latter.
	if strings.HasPrefix(key, "new-") {
		if _, ok := h.loadDraft(r, key); !ok {
			keys, err := h.cfg.Drafts.Keys(r.Context(), account(r))
			if err != nil {
				return fmt.Errorf("autosave: %w", err)
			}
			if len(keys) >= maxDrafts {
				return httperr.New(http.StatusConflict, "%d unsaved posts are kept for you already: save or discard some (the dashboard lists them)", maxDrafts)
			}
		}
	} else if id, ok := strings.CutPrefix(key, postDraftPrefix); !ok {
		return httperr.New(http.StatusBadRequest, "%q names no draft", clip(key))
	} else if p, ok := h.cfg.Catalogue.Post(id); !ok || !asker(r).CanRead(&p) {
		return httperr.New(http.StatusNotFound, "there is no post %q to keep a draft of", clip(id))
	}
	d := autosave.Draft{Fields: map[string][]string{}, Base: r.PostForm.Get("version")}
	post := postInputs()
	for k, v := range r.PostForm {
		if _, field := post[k]; field && !notSaved[k] {
			d.Fields[k] = v
		}
	}
	if err := h.cfg.Drafts.Save(r.Context(), account(r), key, d); err != nil {
		return fmt.Errorf("autosave: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]string{"saved": time.Now().UTC().Format(time.RFC3339)})
}

// discardDraft drops an autosave the editor does not want.
func (h *handler) discardDraft(w http.ResponseWriter, r *http.Request) error {
	key := pathVar(r, "key")
	if h.cfg.Drafts == nil || !autosave.ValidKey(key) {
		return httperr.New(http.StatusNotFound, "no such draft")
	}
	if err := h.cfg.Drafts.Discard(r.Context(), account(r), key); err != nil {
		return fmt.Errorf("discard a draft: %w", err)
	}
	h.flash(r, "The unsaved changes were discarded.")
	to := "/admin/posts/new"
	if id, ok := strings.CutPrefix(key, postDraftPrefix); ok {
		to = "/admin/posts/" + url.PathEscape(id)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// loadDraft is the account's draft under key, if any; a store that fails
// is logged and counts as none (the editor still opens).
func (h *handler) loadDraft(r *http.Request, key string) (autosave.Draft, bool) {
	if h.cfg.Drafts == nil {
		return autosave.Draft{}, false
	}
	d, ok, err := h.cfg.Drafts.Load(account(r), key)
	if err != nil {
		h.log.Warn("an autosaved draft could not be read", "key", key, "err", err)
		return autosave.Draft{}, false
	}
	return d, ok
}

// discard drops a draft once what it held is saved for real.
func (h *handler) discard(r *http.Request, key string) {
	if h.cfg.Drafts == nil || key == "" {
		return
	}
	if err := h.cfg.Drafts.Discard(r.Context(), account(r), key); err != nil {
		h.log.Warn("a saved post's autosave could not be discarded", "key", key, "err", err)
	}
}

// draftForm is the editor's form as the draft holds it.
func draftForm(d autosave.Draft, key string) *form {
	v := url.Values{}
	for k, vals := range d.Fields {
		v[k] = vals
	}
	v.Set("version", d.Base)
	v.Set("draft_key", key)
	return newForm(v)
}

// unsavedDrafts lists the account's drafts of posts never created, for
// the dashboard.
func (h *handler) unsavedDrafts(r *http.Request) []map[string]any {
	if h.cfg.Drafts == nil {
		return nil
	}
	keys, err := h.cfg.Drafts.Keys(r.Context(), account(r))
	if err != nil {
		h.log.Warn("the account's drafts could not be listed", "err", err)
		return nil
	}
	var out []map[string]any
	for _, k := range keys {
		if !strings.HasPrefix(k, "new-") {
			continue
		}
		if d, ok := h.loadDraft(r, k); ok {
			title := strings.TrimSpace(strings.Join(d.Fields["title"], ""))
			out = append(out, map[string]any{"Key": k, "Title": title, "Saved": d.Saved})
		}
	}
	return out
}
