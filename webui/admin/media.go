package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// The media library: a grid of uploads, uploads by a plain multipart
// form (several files at once) or, with the script, by dropping files,
// one request each with a progress bar; an item's page edits its alt
// text and caption and deletes it after showing where it is used.

const (
	mediaPerPage = 48
	// maxFormFiles bounds one form's upload: its request may carry this
	// many files of the largest size (and is refused on its declared
	// length beyond that, before a byte is read).
	maxFormFiles = 20
	// thumbWidth is the public variant the grid shows (the site serves
	// the original until the variant is built).
	thumbWidth = 320
)

// mediaCard is one item as the library shows it.
type mediaCard struct {
	content.Media
	Ref, Thumb, Preview, URL, Label string
	ThumbW, ThumbH                  int
}

func card(m content.Media) mediaCard {
	c := mediaCard{Media: m, Ref: content.MediaRefPrefix + m.ID, URL: "/media/" + url.PathEscape(m.ID) + "/original",
		Thumb: "/media/" + url.PathEscape(m.ID) + "/w" + strconv.Itoa(thumbWidth), Preview: "/media/" + url.PathEscape(m.ID) + "/w1024"}
	c.ThumbW, c.ThumbH = m.Width, m.Height
	if m.Width > thumbWidth {
		c.ThumbW, c.ThumbH = thumbWidth, max(1, m.Height*thumbWidth/m.Width)
	}
	c.Label = firstOf(m.Alt, m.OriginalName, m.ID)
	return c
}

// Markdown is the reference to paste into a post's text.
func (c mediaCard) Markdown() string {
	return "![" + strings.NewReplacer("[", `\[`, "]", `\]`).Replace(c.Alt) + "](" + c.Ref + ")"
}

// Size is the file's size as people read it.
func (c mediaCard) Size() string {
	switch b := float64(c.Bytes); {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%d bytes", c.Bytes)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// mediaOn refuses the media pages on a node without a media store.
func (h *handler) mediaOn() error {
	if h.cfg.Media == nil {
		return httperr.New(http.StatusNotFound, "this site has no media library")
	}
	return nil
}

// libraryData is what the library page shows.
type libraryData struct {
	Items    []mediaCard
	Total    int
	Pager    *pager
	MaxMiB   int64
	MaxBytes int64
	Accept   string
	Uploaded []string // names uploaded by the form just sent
	Refused  []string // "name: why", by the form just sent
}

// acceptTypes are what the file picker offers: the types upload.Inspect
// accepts (it decides by the bytes, whatever the picker let through).
const acceptTypes = "image/jpeg,image/png,image/webp,image/gif,image/avif,image/heif,.heic,.heif,.avif"

// mediaLibrary is the grid of uploads, newest first; with ?format=json,
// the same page as JSON for the editor's picker.
func (h *handler) mediaLibrary(w http.ResponseWriter, r *http.Request) error {
	if err := h.mediaOn(); err != nil {
		return err
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	n = max(n, 1)
	if r.URL.Query().Get("format") == "json" {
		items, total := h.cfg.Catalogue.MediaList(n, mediaPerPage)
		out := []mediaJSON{}
		for _, m := range items {
			out = append(out, toJSON(m))
		}
		return writeJSON(w, http.StatusOK, map[string]any{"items": out, "page": n, "pages": pages(total, mediaPerPage), "total": total})
	}
	return h.library(w, r, http.StatusOK, newForm(nil), n, libraryData{})
}

func pages(total, per int) int { return max(1, int(math.Ceil(float64(total)/float64(per)))) }

func (h *handler) library(w http.ResponseWriter, r *http.Request, status int, f *form, n int, d libraryData) error {
	items, total := h.cfg.Catalogue.MediaList(n, mediaPerPage)
	for _, m := range items {
		d.Items = append(d.Items, card(m))
	}
	d.Total, d.MaxMiB, d.MaxBytes, d.Accept = total, h.cfg.Media.MaxBytes>>20, h.cfg.Media.MaxBytes, acceptTypes
	if last := pages(total, mediaPerPage); last > 1 {
		d.Pager = &pager{Page: n, Pages: last}
		if n > 1 {
			d.Pager.Prev = "/admin/media?page=" + strconv.Itoa(n-1)
		}
		if n < last {
			d.Pager.Next = "/admin/media?page=" + strconv.Itoa(n+1)
		}
	}
	return h.render(w, r, status, "media", page{Title: "Media", Section: "media", Form: f, Data: d})
}

// mediaJSON is an upload as the editor's script reads it.
type mediaJSON struct {
	ID    string `json:"id"`
	Ref   string `json:"ref"`
	URL   string `json:"url"`
	Thumb string `json:"thumb"`
	Alt   string `json:"alt"`
}

func toJSON(m content.Media) mediaJSON {
	c := card(m)
	return mediaJSON{ID: m.ID, Ref: c.Ref, URL: c.URL, Thumb: c.Thumb, Alt: m.Alt}
}

// uploadRefusal is a JSON answer's refusal: the field and why, as the
// API's problem details name them.
type uploadRefusal struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// wantsJSON: the script's uploads ask for JSON; a form's, for a page.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

// received is one file of an upload form, stored or refused.
type received struct {
	name string
	info upload.Info
	why  string // refused: why
	code int    // refused: the status a JSON answer gives
}

// uploadMedia takes one or more pictures (field file; alt and caption
// optional, for all of them) as the API does: each is spooled within the
// size limit, checked by its bytes, stored under its SHA-256 and
// committed as its own media item. A refused file is named with why,
// and nothing is committed for it.
func (h *handler) uploadMedia(w http.ResponseWriter, r *http.Request) error {
	if err := h.mediaOn(); err != nil {
		return err
	}
	mc := h.cfg.Media
	asJSON := wantsJSON(r)
	limit := mc.MaxBytes + 1<<20
	if !asJSON {
		limit = maxFormFiles*mc.MaxBytes + 1<<20
	}
	tooBig := fmt.Sprintf("is larger than %d MiB", mc.MaxBytes>>20)
	refuse := func(status int, field, detail string) error {
		if asJSON {
			return writeJSON(w, status, uploadRefusal{Field: field, Detail: detail})
		}
		f := newForm(nil)
		f.fail(field, detail)
		return h.library(w, r, status, f, 1, libraryData{})
	}
	if r.ContentLength > limit {
		// Refused on its declared length, before a byte is read.
		if asJSON {
			return refuse(http.StatusRequestEntityTooLarge, "file", "The file "+tooBig+".")
		}
		return refuse(http.StatusRequestEntityTooLarge, "file", fmt.Sprintf("The upload is larger than %d MiB in all: send fewer files at a time (nothing was uploaded).", limit>>20))
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mr, err := r.MultipartReader()
	if err != nil {
		return refuse(http.StatusUnsupportedMediaType, "file", "Send the pictures as a multipart form, in a field named file.")
	}
	store := upload.Store{Dir: mc.Store, MaxBytes: mc.MaxBytes, Limits: mc.Limits, Log: h.log}
	var files []received
	var alt, caption string
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return refuse(readStatus(err), "file", readProblem(err, limit))
		}
		switch part.FormName() {
		case "file":
			name := upload.CleanName(part.FileName())
			if name == "" {
				continue // a form sent without a file chosen
			}
			if asJSON && len(files) > 0 {
				return refuse(http.StatusBadRequest, "file", "Send one file per request.")
			}
			got := received{name: name}
			sp, err := store.Spool(part)
			switch {
			case errors.Is(err, upload.ErrOverLimit):
				got.why, got.code = tooBig, http.StatusRequestEntityTooLarge
			case err != nil:
				return refuse(readStatus(err), "file", readProblem(err, limit))
			default:
				got.info, err = sp.Keep()
				switch {
				case errors.Is(err, upload.ErrUnsupported):
					got.why, got.code = err.Error()+", judging by its bytes", http.StatusUnsupportedMediaType
				case upload.Refused(err):
					got.why, got.code = err.Error(), http.StatusUnprocessableEntity
				case err != nil:
					return fmt.Errorf("keep an upload: %w", err)
				}
			}
			files = append(files, got)
		case "alt", "caption":
			b, err := io.ReadAll(io.LimitReader(part, 8<<10))
			if err != nil {
				return refuse(readStatus(err), "file", readProblem(err, limit))
			}
			if part.FormName() == "alt" {
				alt = strings.TrimSpace(string(b))
			} else {
				caption = normalizeNewlines(string(b))
			}
		default:
			return refuse(http.StatusBadRequest, "file", fmt.Sprintf("Unknown field %q: send file, alt and caption.", clip(part.FormName())))
		}
	}
	if len(files) == 0 {
		return refuse(http.StatusUnprocessableEntity, "file", "Choose one or more pictures to upload.")
	}
	if fe := content.ValidateMediaText(alt, caption); len(fe) > 0 {
		return refuse(http.StatusUnprocessableEntity, fe[0].Field, "The "+fe[0].Field+" text "+fe[0].Detail+".")
	}

	var last command.Written
	var uploaded, refused []string
	for _, f := range files {
		if f.why != "" {
			if asJSON {
				return refuse(f.code, "file", f.name+": "+f.why+".")
			}
			refused = append(refused, f.name+": "+f.why+" — not uploaded.")
			continue
		}
		res, m, err := h.cfg.Writer.UploadMedia(r.Context(), actor(r), content.Media{SHA256: f.info.SHA256, Type: f.info.Type,
			Ext: f.info.Ext, Width: f.info.Width, Height: f.info.Height, Bytes: f.info.Bytes, Alt: alt, Caption: caption, OriginalName: f.name})
		if refusal := (*policy.Refusal)(nil); errors.As(err, &refusal) {
			return refuse(http.StatusForbidden, "", "Not uploaded: "+refusal.Reason+".")
		}
		if err != nil {
			return fmt.Errorf("commit upload %s: %w", f.name, err)
		}
		last = res
		if asJSON {
			h.wait(r, res)
			return writeJSON(w, http.StatusCreated, toJSON(m))
		}
		uploaded = append(uploaded, "“"+f.name+"”")
	}
	msg := ""
	if len(uploaded) > 0 {
		msg = "Uploaded " + strings.Join(uploaded, ", ") + "."
		h.saved(r, last, msg)
	}
	if len(refused) > 0 {
		f := newForm(nil)
		f.fail("file", fmt.Sprintf("%d of %d files were not uploaded:", len(refused), len(files)))
		return h.library(w, r, http.StatusUnprocessableEntity, f, 1, libraryData{Refused: refused})
	}
	http.Redirect(w, r, "/admin/media", http.StatusSeeOther)
	return nil
}

// wait is saved without the flash: the script's upload answers once
// readers see it, so its thumbnail and the library show it.
func (h *handler) wait(r *http.Request, res command.Written) {
	if h.cfg.Waiter != nil && len(res.Events) > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), h.cfg.WaitAfterWrite)
		defer cancel()
		_ = h.cfg.Waiter.WaitFor(ctx, res.Cursor) // late: the picture shows a moment later
	}
}

func readStatus(err error) int {
	if errors.As(err, new(*http.MaxBytesError)) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func readProblem(err error, limit int64) string {
	if errors.As(err, new(*http.MaxBytesError)) {
		return fmt.Sprintf("The upload is larger than %d MiB in all: send fewer files at a time (nothing was uploaded).", limit>>20)
	}
	return "The upload broke off or is not a well-formed multipart form: send it again (nothing was uploaded)."
}

// mediaItemData is what an item's page shows.
type mediaItemData struct {
	Item   mediaCard
	UsedIn []content.Post
}

func (h *handler) mediaItem(w http.ResponseWriter, r *http.Request, status int, f *form, m content.Media) error {
	return h.render(w, r, status, "media-item", page{Title: "Picture " + firstOf(m.OriginalName, m.ID), Section: "media", Form: f,
		Data: mediaItemData{Item: card(m), UsedIn: h.usedIn(r, m.ID)}})
}

func (h *handler) findMedia(id string) (content.Media, error) {
	if err := h.mediaOn(); err != nil {
		return content.Media{}, err
	}
	m, ok := h.cfg.Catalogue.Media(id)
	if !ok {
		return m, httperr.New(http.StatusNotFound, "there is no picture with id %q (deleted?)", clip(id))
	}
	return m, nil
}

// editMedia shows an item: the picture, its facts, its description's
// form, where it is used.
func (h *handler) editMedia(w http.ResponseWriter, r *http.Request) error {
	m, err := h.findMedia(pathVar(r, "id"))
	if err != nil {
		return err
	}
	return h.mediaItem(w, r, http.StatusOK, newForm(url.Values{"alt": {m.Alt}, "caption": {m.Caption}, "version": {m.Blob}}), m)
}

// updateMedia saves an item's alt text and caption, from the version the
// form was filled from.
func (h *handler) updateMedia(w http.ResponseWriter, r *http.Request) error {
	id := pathVar(r, "id")
	m, err := h.findMedia(id)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return httperr.New(http.StatusBadRequest, "the form could not be read: nothing was saved")
	}
	f := newForm(r.PostForm)
	alt, caption := strings.TrimSpace(f.Value("alt")), normalizeNewlines(f.Value("caption"))
	version := f.Value("version")
	if version == "" {
		f.fail("", "This form lacks the picture's version: open it again and redo your change.")
		return h.mediaItem(w, r, http.StatusPreconditionRequired, f, m)
	}
	res, _, err := h.cfg.Writer.UpdateMedia(r.Context(), actor(r), id, version, alt, caption)
	var ve *content.ValidationError
	var refusal *policy.Refusal
	switch {
	case errors.As(err, &refusal):
		f.fail("", "Not saved: "+refusal.Reason+".")
		return h.mediaItem(w, r, http.StatusForbidden, f, m)
	case errors.Is(err, command.ErrNotFound):
		return httperr.New(http.StatusNotFound, "there is no picture with id %q (deleted meanwhile?)", clip(id))
	case errors.Is(err, command.ErrStale):
		f.fail("", "Someone else changed this picture's description after you opened it, so yours was not saved (your text is still here). "+
			"Copy it, open the picture again, and apply it there.")
		return h.mediaItem(w, r, http.StatusPreconditionFailed, f, m)
	case errors.As(err, &ve):
		for _, fe := range ve.Errors {
			field := fe.Field
			if field != "alt" && field != "caption" {
				field = ""
			}
			f.fail(field, fe.Detail)
		}
		return h.mediaItem(w, r, http.StatusUnprocessableEntity, f, m)
	case err != nil:
		return fmt.Errorf("update media %s: %w", id, err)
	}
	msg := "Saved."
	if len(res.Events) == 0 {
		msg = "No changes to save."
	}
	h.saved(r, res, msg)
	http.Redirect(w, r, "/admin/media/"+url.PathEscape(id), http.StatusSeeOther)
	return nil
}

// deleteMedia asks first, naming the posts that show the picture (a
// page, so it works without JavaScript), then deletes it: the posts keep
// their reference, which then shows nothing.
func (h *handler) deleteMedia(w http.ResponseWriter, r *http.Request) error {
	id := pathVar(r, "id")
	m, err := h.findMedia(id)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		return httperr.New(http.StatusBadRequest, "the form could not be read")
	}
	version := r.PostForm.Get("version")
	if r.PostForm.Get("confirm") != "yes" {
		return h.render(w, r, http.StatusOK, "media-delete", page{Title: "Delete picture?", Section: "media", Data: map[string]any{
			"Item": card(m), "UsedIn": h.usedIn(r, id), "Version": version}})
	}
	res, err := h.cfg.Writer.DeleteMedia(r.Context(), actor(r), id, version)
	var refusal *policy.Refusal
	switch {
	case errors.As(err, &refusal):
		f := newForm(url.Values{"alt": {m.Alt}, "caption": {m.Caption}, "version": {m.Blob}})
		f.fail("", "Not deleted: "+refusal.Reason+".")
		return h.mediaItem(w, r, http.StatusForbidden, f, m)
	case errors.Is(err, command.ErrStale):
		h.flash(r, "Not deleted: someone changed this picture after you opened it. Here it is as it is now.")
		http.Redirect(w, r, "/admin/media/"+url.PathEscape(id), http.StatusSeeOther)
		return nil
	case errors.Is(err, command.ErrNotFound):
		return httperr.New(http.StatusNotFound, "there is no picture with id %q (deleted meanwhile?)", clip(id))
	case err != nil:
		return fmt.Errorf("delete media %s: %w", id, err)
	}
	h.saved(r, res, fmt.Sprintf("Deleted “%s”.", firstOf(m.OriginalName, m.ID)))
	http.Redirect(w, r, "/admin/media", http.StatusSeeOther)
	return nil
}

// usedIn lists the posts (drafts too) that show a picture: in their text,
// as feature image, in their gallery or as their social card image.
func (h *handler) usedIn(r *http.Request, id string) []content.Post {
	ref := regexp.MustCompile(regexp.QuoteMeta(content.MediaRefPrefix+id) + `(?:[^A-Za-z0-9_-]|$)`)
	all, _ := h.cfg.Catalogue.Posts(catalogue.Query{Page: 1, PerPage: math.MaxInt32, Visible: readable(r)})
	var out []content.Post
	for _, p := range all {
		used := ref.MatchString(p.Content) || ref.MatchString(p.FeatureImage) || ref.MatchString(p.Meta.Image)
		for _, g := range p.Gallery {
			used = used || ref.MatchString(g)
		}
		if used {
			out = append(out, p)
		}
	}
	return out
}
