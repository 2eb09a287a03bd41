package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
)

// maxSettingsForm bounds the settings form: a few lines, a description
// and the navigation.
const maxSettingsForm = 256 << 10

// Navigation choices of the settings form (input nav_choice): the
// default (content.Settings.Navigation nil) or the rows given.
const (
	navDefault = "default"
	navCustom  = "custom"
)

// settingsInputs are the settings form's fields; each navigation row
// adds its own (readSettingsForm).
func settingsInputs() inputs {
	return sameNames("title", "tagline", "description", "base_url", "language", "posts_per_page",
		"analytics.google_analytics_id", "ads.adsense_client_id", "navigation")
}

// settingsData is what the settings page shows besides the form.
type settingsData struct {
	Rows        []row
	Categories  []content.Category // for the navigation's suggestions
	DefaultNavN int
}

func (h *handler) settingsPage(w http.ResponseWriter, r *http.Request, status int, f *form, rows int) error {
	return h.render(w, r, status, "settings", page{Title: "Settings", Section: "settings", Form: f, Data: settingsData{
		Rows: rowsOf(rows), Categories: h.cfg.Catalogue.Categories(), DefaultNavN: content.DefaultNavCategories}})
}

// settings shows the site's settings as the head holds them, with the
// version their save names ("" while the settings file does not exist).
func (h *handler) settings(w http.ResponseWriter, r *http.Request) error {
	s, version, err := h.cfg.Writer.Settings()
	if err != nil {
		return fmt.Errorf("read the settings: %w", err)
	}
	v := url.Values{"title": {s.Title}, "tagline": {s.Tagline}, "description": {s.Description}, "base_url": {s.BaseURL},
		"language": {s.Language}, "posts_per_page": {strconv.Itoa(s.PostsPerPage)},
		"analytics.google_analytics_id": {s.Analytics.GoogleAnalyticsID}, "ads.adsense_client_id": {s.Ads.AdSenseClientID},
		"version": {version}, "nav_choice": {navDefault}}
	var items []content.NavItem
	if s.Navigation != nil {
		v.Set("nav_choice", navCustom)
		items = *s.Navigation
	}
	for i, it := range items {
		v.Set(rowName("navigation", i, "label"), it.Label)
		v.Set(rowName("navigation", i, "target"), it.Category+it.URL) // one of them
	}
	return h.settingsPage(w, r, http.StatusOK, newForm(v), len(items)+emptyRows)
}

// readSettingsForm reads the settings form, and the inputs the writer's
// field names stand for: navigation rows left empty are not sent, so the
// writer's navigation[k] is the form's k-th filled row. A row's target is
// a category's slug, or an address (on the site: /tag/go; or http(s)).
func readSettingsForm(f *form) (content.Settings, inputs) {
	in := settingsInputs()
	s := content.Settings{Title: f.Value("title"), Tagline: f.Value("tagline"), Description: normalizeNewlines(f.Value("description")),
		BaseURL: strings.TrimSpace(f.Value("base_url")), Language: strings.TrimSpace(f.Value("language")),
		Analytics: content.Analytics{GoogleAnalyticsID: strings.TrimSpace(f.Value("analytics.google_analytics_id"))},
		Ads:       content.Ads{AdSenseClientID: strings.TrimSpace(f.Value("ads.adsense_client_id"))}}
	perPage := strings.TrimSpace(f.Value("posts_per_page"))
	n, err := strconv.Atoi(perPage)
	if err != nil {
		f.fail("posts_per_page", fmt.Sprintf("%q is not a whole number: how many posts a page lists, from 1 to 100", clip(perPage)))
		n = content.DefaultSettings().PostsPerPage // so the writer's rules speak of the other fields only
	}
	s.PostsPerPage = n
	if f.Value("nav_choice") != navCustom {
		return s, in // the default; rows are ignored (and shown again as sent)
	}
	items := []content.NavItem{} // not nil: an empty list is no links
	for i := range sentRows(f, "navigation", "label", "target") {
		label := strings.TrimSpace(f.Value(rowName("navigation", i, "label")))
		target := strings.TrimSpace(f.Value(rowName("navigation", i, "target")))
		if label == "" && target == "" {
			continue
		}
		it := content.NavItem{Label: label}
		if strings.HasPrefix(target, "/") || strings.Contains(target, ":") {
			it.URL = target
		} else {
			it.Category = target
		}
		k, targetInput := len(items), rowName("navigation", i, "target")
		in[rowName("navigation", k, "label")] = rowName("navigation", i, "label")
		for _, field := range []string{fmt.Sprintf("navigation[%d]", k), rowName("navigation", k, "category"), rowName("navigation", k, "url")} {
			in[field] = targetInput
		}
		items = append(items, it)
	}
	s.Navigation = &items
	return s, in
}

// saveSettings replaces the settings (admin only) as the API's PUT
// /settings does, with every field of the form.
func (h *handler) saveSettings(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r, maxSettingsForm)
	if err != nil {
		return err
	}
	s, in := readSettingsForm(f)
	rows := max(sentRows(f, "navigation", "label", "target"), emptyRows)
	if f.failed() {
		// The writer's rules on the rest, so every problem shows at once.
		f.blame(content.ValidateSettings(&s).Err(""), "the settings", in)
		return h.settingsPage(w, r, http.StatusUnprocessableEntity, f, rows)
	}
	version := f.Value("version")
	if version == "" {
		// Filled in while there was no settings file: there still is
		// none, or someone saved settings since.
		if _, now, err := h.cfg.Writer.Settings(); err != nil {
			return fmt.Errorf("read the settings: %w", err)
		} else if now != "" {
			f.blame(command.ErrStale, "the settings", in)
			return h.settingsPage(w, r, http.StatusPreconditionFailed, f, rows)
		}
	}
	res, err := h.cfg.Writer.PutSettings(r.Context(), actor(r), version, s)
	if err != nil {
		if f.blame(err, "the settings", in) {
			return h.settingsPage(w, r, statusOf(f, err), f, rows)
		}
		return fmt.Errorf("save the settings: %w", err)
	}
	msg := "Saved."
	if len(res.Events) == 0 {
		msg = "No changes to save."
	}
	h.saved(r, res, msg)
	http.Redirect(w, r, "/admin/settings", http.StatusSeeOther)
	return nil
}
