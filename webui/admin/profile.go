package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
)

// maxProfileForm bounds the profile form: its bio may be 10×MaxText
// characters of up to 4 bytes, and the links.
const maxProfileForm = 512 << 10

// profileInputs are the profile form's fields; each link row adds its
// own (readProfileForm).
func profileInputs() inputs { return sameNames("name", "email", "bio", "avatar", "links") }

// profileData is what the profile page shows besides the form.
type profileData struct {
	Rows  []row
	Media bool // the media library is on: link to it
}

func (h *handler) profilePage(w http.ResponseWriter, r *http.Request, status int, f *form, rows int) error {
	return h.render(w, r, status, "profile", page{Title: "Profile", Section: "profile", Form: f,
		Data: profileData{Rows: rowsOf(rows), Media: h.cfg.Media != nil}})
}

// profile shows the author's profile (the site's About page) as the head
// holds it, with the version its save names ("" while there is none).
func (h *handler) profile(w http.ResponseWriter, r *http.Request) error {
	p, version, err := h.cfg.Writer.Profile()
	if err != nil {
		return fmt.Errorf("read the profile: %w", err)
	}
	v := url.Values{"name": {p.Name}, "email": {p.Email}, "bio": {p.Bio}, "avatar": {p.Avatar}, "version": {version}}
	for i, l := range p.Links {
		v.Set(rowName("links", i, "name"), l.Name)
		v.Set(rowName("links", i, "url"), l.URL)
	}
	return h.profilePage(w, r, http.StatusOK, newForm(v), len(p.Links)+emptyRows)
}

// readProfileForm reads the profile form, and the inputs the writer's
// field names stand for: link rows left empty are not sent, so the
// writer's links[k] is the form's k-th filled row.
func readProfileForm(f *form) (content.Profile, inputs) {
	in := profileInputs()
	p := content.Profile{Name: f.Value("name"), Email: strings.TrimSpace(f.Value("email")), Bio: normalizeNewlines(f.Value("bio")),
		Avatar: strings.TrimSpace(f.Value("avatar"))}
	for i := range sentRows(f, "links", "name", "url") {
		name := strings.TrimSpace(f.Value(rowName("links", i, "name")))
		u := strings.TrimSpace(f.Value(rowName("links", i, "url")))
		if name == "" && u == "" {
			continue
		}
		k := len(p.Links)
		in[rowName("links", k, "name")] = rowName("links", i, "name")
		in[rowName("links", k, "url")] = rowName("links", i, "url")
		p.Links = append(p.Links, content.Link{Name: name, URL: u})
	}
	return p, in
}

// saveProfile replaces the profile as the API's PUT /profile does (an
// editor may), with every field of the form.
func (h *handler) saveProfile(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r, maxProfileForm)
	if err != nil {
		return err
	}
	p, in := readProfileForm(f)
	rows := max(sentRows(f, "links", "name", "url"), emptyRows)
	version := f.Value("version")
	if version == "" {
		// Filled in while there was no profile: there still is none, or
		// someone saved one since.
		if _, now, err := h.cfg.Writer.Profile(); err != nil {
			return fmt.Errorf("read the profile: %w", err)
		} else if now != "" {
			f.blame(command.ErrStale, "the profile", in)
			return h.profilePage(w, r, http.StatusPreconditionFailed, f, rows)
		}
	}
	res, err := h.cfg.Writer.PutProfile(r.Context(), actor(r), version, p)
	if err != nil {
		if f.blame(err, "the profile", in) {
			return h.profilePage(w, r, statusOf(f, err), f, rows)
		}
		return fmt.Errorf("save the profile: %w", err)
	}
	msg := "Saved."
	if len(res.Events) == 0 {
		msg = "No changes to save."
	}
	h.saved(r, res, msg)
	http.Redirect(w, r, "/admin/profile", http.StatusSeeOther)
	return nil
}
