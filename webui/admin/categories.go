package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections/catalogue"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// maxCategoryForm bounds a category form: a name, a slug and a
// description of at most content.MaxText characters.
const maxCategoryForm = 64 << 10

// categoryRow is one line of the category list.
type categoryRow struct {
	content.Category
	Posts int // drafts included
}

// categoryInputs are the category form's fields.
func categoryInputs() inputs { return sameNames("slug", "name", "description") }

// categories lists the categories, with how many posts each has, and
// the form that creates one.
func (h *handler) categories(w http.ResponseWriter, r *http.Request) error {
	return h.categoryList(w, r, http.StatusOK, newForm(nil))
}

func (h *handler) categoryList(w http.ResponseWriter, r *http.Request, status int, f *form) error {
	var rows []categoryRow
	for _, c := range h.cfg.Catalogue.Categories() {
		_, n := h.cfg.Catalogue.Posts(catalogue.Query{Category: c.Slug, PerPage: 1})
		rows = append(rows, categoryRow{Category: c, Posts: n})
	}
	return h.render(w, r, status, "categories", page{Title: "Categories", Section: "categories", Form: f, Data: map[string]any{"Categories": rows}})
}

// createCategory adds a category as the API's POST /categories does: its
// slug is made from the name when left empty, and a slug in use is a
// conflict (checked under the writer's lock), never an overwrite.
func (h *handler) createCategory(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(w, r, maxCategoryForm)
	if err != nil {
		return err
	}
	c := content.Category{Slug: strings.TrimSpace(f.Value("slug")), Name: f.Value("name"), Description: normalizeNewlines(f.Value("description"))}
	if c.Slug == "" {
		c.Slug = content.Slugify(c.Name)
		if c.Slug == "" {
			// No slug can be made from the name: say so of the name.
			if msg := content.NameProblem(c.Name); msg != "" {
				f.fail("name", msg)
				return h.categoryList(w, r, http.StatusUnprocessableEntity, f)
			}
		}
	}
	res, _, err := h.cfg.Writer.EditCategory(r.Context(), actor(r), c.Slug, "", func(_ content.Category, exists bool) (content.Category, error) {
		if exists {
			return c, &command.ConflictError{Field: "slug", Detail: fmt.Sprintf("There is a category %q already: choose another slug, or change that one.", c.Slug)}
		}
		return c, nil
	})
	if err != nil {
		if f.blame(err, "this category", categoryInputs()) {
			return h.categoryList(w, r, statusOf(f, err), f)
		}
		return fmt.Errorf("create category %s: %w", c.Slug, err)
	}
	h.saved(r, res, fmt.Sprintf("Created the category “%s”.", c.Name))
	http.Redirect(w, r, "/admin/categories/"+url.PathEscape(c.Slug), http.StatusSeeOther)
	return nil
}

// categoryData is what the category's page shows besides the form.
type categoryData struct {
	Slug  string
	Posts int
}

func (h *handler) categoryPage(w http.ResponseWriter, r *http.Request, status int, f *form, slug string) error {
	_, n := h.cfg.Catalogue.Posts(catalogue.Query{Category: slug, PerPage: 1})
	return h.render(w, r, status, "category", page{Title: "Edit category", Section: "categories", Form: f, Data: categoryData{Slug: slug, Posts: n}})
}

// editCategory shows a category as the head holds it, with the version
// its save names.
func (h *handler) editCategory(w http.ResponseWriter, r *http.Request) error {
	slug := pathVar(r, "slug")
	c, version, err := h.cfg.Writer.Category(slug)
	if errors.Is(err, command.ErrNotFound) {
		return httperr.New(http.StatusNotFound, "there is no category %q", clip(slug))
	}
	if err != nil {
		return fmt.Errorf("read category %s: %w", slug, err)
	}
	return h.categoryPage(w, r, http.StatusOK, newForm(url.Values{"name": {c.Name}, "description": {c.Description}, "version": {version}}), slug)
}

// updateCategory renames or describes a category; its slug (its file
// and its pages' address) stays.
func (h *handler) updateCategory(w http.ResponseWriter, r *http.Request) error {
	slug := pathVar(r, "slug")
	f, err := readForm(w, r, maxCategoryForm)
	if err != nil {
		return err
	}
	version := f.Value("version")
	if version == "" {
		// Without the version read, a save could undo someone else's.
		f.fail("", "This form lacks the category's version: open the category again and redo your change.")
		return h.categoryPage(w, r, http.StatusPreconditionRequired, f, slug)
	}
	c := content.Category{Slug: slug, Name: f.Value("name"), Description: normalizeNewlines(f.Value("description"))}
	res, _, err := h.cfg.Writer.PutCategory(r.Context(), actor(r), c, version)
	if err != nil {
		if errors.Is(err, command.ErrStale) {
			if _, _, err := h.cfg.Writer.Category(slug); errors.Is(err, command.ErrNotFound) {
				return httperr.New(http.StatusNotFound, "there is no category %q any more (deleted meanwhile): nothing was saved", clip(slug))
			}
		}
		if f.blame(err, "this category", categoryInputs()) {
			return h.categoryPage(w, r, statusOf(f, err), f, slug)
		}
		return fmt.Errorf("update category %s: %w", slug, err)
	}
	msg := "Saved."
	if len(res.Events) == 0 {
		msg = "No changes to save."
	}
	h.saved(r, res, msg)
	http.Redirect(w, r, "/admin/categories/"+url.PathEscape(slug), http.StatusSeeOther)
	return nil
}

// maxUsersShown bounds the posts a refused deletion lists; the rest are
// a link to the post list away.
const maxUsersShown = 50

// deleteCategory asks first (a page, so it works without JavaScript),
// then deletes. The writer refuses to delete a category posts still use:
// the page then lists them, to be moved first.
func (h *handler) deleteCategory(w http.ResponseWriter, r *http.Request) error {
	slug := pathVar(r, "slug")
	f, err := readForm(w, r, 16<<10)
	if err != nil {
		return err
	}
	c, _, err := h.cfg.Writer.Category(slug)
	if errors.Is(err, command.ErrNotFound) {
		return httperr.New(http.StatusNotFound, "there is no category %q", clip(slug))
	}
	if err != nil {
		return fmt.Errorf("read category %s: %w", slug, err)
	}
	version := f.Value("version")
	back := "/admin/categories/" + url.PathEscape(slug)
	inUse := func(status int, refusal string) error {
		posts, total := h.cfg.Catalogue.Posts(catalogue.Query{Category: slug, PerPage: maxUsersShown})
		title := "Delete category?"
		if total > 0 || refusal != "" {
			title = "Category in use"
		}
		return h.render(w, r, status, "category-delete", page{Title: title, Section: "categories", Data: map[string]any{
			"Category": c, "Posts": posts, "Total": total, "Refusal": refusal, "Version": version, "Back": back,
			"AllPosts": "/admin/posts?category=" + url.QueryEscape(slug)}})
	}
	if f.Value("confirm") != "yes" {
		return inUse(http.StatusOK, "")
	}
	if version == "" {
		// Without the version read, a deletion could drop someone else's save.
		return httperr.New(http.StatusPreconditionRequired, "this form lacks the category's version: open the category again and delete it from there")
	}
	res, err := h.cfg.Writer.DeleteCategory(r.Context(), actor(r), slug, version)
	var ce *command.ConflictError
	switch {
	case errors.As(err, &ce):
		return inUse(http.StatusConflict, ce.Detail)
	case errors.Is(err, command.ErrStale):
		h.flash(r, "Not deleted: someone saved this category after you opened it. Here it is as it is now.")
		http.Redirect(w, r, back, http.StatusSeeOther)
		return nil
	case errors.Is(err, command.ErrNotFound):
		return httperr.New(http.StatusNotFound, "there is no category %q any more (deleted meanwhile)", clip(slug))
	case err != nil:
		return fmt.Errorf("delete category %s: %w", slug, err)
	}
	h.saved(r, res, fmt.Sprintf("Deleted the category “%s”.", c.Name))
	http.Redirect(w, r, "/admin/categories", http.StatusSeeOther)
	return nil
}
