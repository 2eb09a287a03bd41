package api

import (
	"net/http"
	"time"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/webui/httperr"
	"github.com/chronicle-cms/chronicle/webui/params"
)

// postRequest is the body of POST /posts and PUT /posts/{id}.
type postRequest struct {
	Title        string        `json:"title"`
	Slug         string        `json:"slug"`
	Content      string        `json:"content"`
	Excerpt      string        `json:"excerpt"`
	Status       string        `json:"status"`
	PublishedAt  *string       `json:"published_at"`
	Categories   []string      `json:"categories"`
	Tags         []string      `json:"tags"`
	FeatureImage string        `json:"feature_image"`
	Gallery      []string      `json:"gallery"`
	EmbedURL     string        `json:"embed_url"`
	Meta         *content.Meta `json:"meta"`
	// Author: empty keeps the post's (on create, the caller's); only
	// editors give a post to another account (the writer judges).
	Author string `json:"author"`
	// ReviewNote: what an editor asks to change; kept on drafts only.
	ReviewNote string `json:"review_note"`
}

// decodePost reads a post body and turns it into the writer's input.
func (h *Handler) decodePost(w http.ResponseWriter, r *http.Request) (command.PostInput, error) {
	var req postRequest
	if err := h.decodeJSON(w, r, &req); err != nil {
		return command.PostInput{}, err
	}
	return req.input()
}

func (p *postRequest) input() (command.PostInput, error) {
	in := command.PostInput{Title: p.Title, Slug: p.Slug, Content: p.Content, Excerpt: p.Excerpt,
		Status: content.Status(p.Status), Categories: p.Categories, Tags: p.Tags,
		FeatureImage: p.FeatureImage, Gallery: p.Gallery, EmbedURL: p.EmbedURL,
		Author: p.Author, ReviewNote: p.ReviewNote}
	if p.Meta != nil {
		in.Meta = *p.Meta
	}
	if p.Slug != "" && !content.ValidSlug(p.Slug) {
		return in, httperr.Field(http.StatusUnprocessableEntity, "slug",
			"%q is not a slug: lower-case letters, digits and single hyphens, at most %d characters", params.Clip(p.Slug), content.MaxSlug)
	}
	if p.PublishedAt != nil && *p.PublishedAt != "" {
		t, err := time.Parse(time.RFC3339, *p.PublishedAt)
		if err != nil {
			return in, httperr.Field(http.StatusUnprocessableEntity, "published_at", "%q is not an RFC 3339 date-time such as 2026-11-21T09:30:00Z", params.Clip(*p.PublishedAt))
		}
		in.PublishedAt = &t
	}
	return in, nil
}

// writePost answers with a post and its version as ETag.
func writePost(w http.ResponseWriter, status int, p *content.Post) error {
	presentPost(p)
	w.Header().Set("ETag", etag(p.Blob))
	w.Header().Set("Cache-Control", "no-cache")
	return writeJSON(w, status, p)
}

// presentPost gives clients empty lists rather than nulls.
func presentPost(p *content.Post) {
	for _, l := range []*[]string{&p.Categories, &p.Tags, &p.Gallery} {
		if *l == nil {
			*l = []string{}
		}
	}
}

// anonymous hides from a reader without a token what is not public
// about a post: whose it is (an account's email) and its review.
func anonymous(p *content.Post) {
	p.Author, p.ReviewNote = "", ""
}
