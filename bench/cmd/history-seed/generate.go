package main

import (
	"fmt"
	"io"
	"math/rand"
	"slices"
	"strings"
	"time"

	"github.com/chronicle-cms/chronicle/bench/corpus"
	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
)

// config is the shape of the history to write.
type config struct {
	Posts, Commits, HotRevisions, HotWords, Words, Categories int
	Seed                                                      int64
}

// info is what was written: where the hot post is, and the count of each
// event type the commits' trailers name (derivation must give the same).
type info struct {
	Commits                 int
	HotID, HotSlug, HotPath string
	HotRevisions            int
	Types                   map[events.Type]int
}

func (i info) print(w io.Writer) {
	fmt.Fprintf(w, "commits=%d\nhot_id=%s\nhot_slug=%s\nhot_path=%s\nhot_revisions=%d\n", i.Commits, i.HotID, i.HotSlug, i.HotPath, i.HotRevisions)
}

var vocabulary = corpus.Words()

// The people who edit the site, as the API's writer names them.
var actors = []struct{ name, email string }{
	{"Ada Editor", "ada@example.org"}, {"Ben Author", "ben@example.org"}, {"Chloé Writer", "chloe@example.org"},
	{"Dev Contributor", "dev@example.org"}, {"Eve Admin", "eve@example.org"}, {"Farid Author", "farid@example.org"},
}

// post is a post being written: its words are kept as indexes into the
// vocabulary (10,000 posts' bodies in a few megabytes).
type post struct {
	p     content.Post
	words []uint8
}

func (p *post) body() string {
	var b strings.Builder
	for i, w := range p.words {
		switch {
		case i == 0:
		case i%400 == 0:
			fmt.Fprintf(&b, ".\n\n## Part %d\n\n", i/400)
		case i%80 == 0:
			b.WriteString(".\n\n")
		default:
			b.WriteByte(' ')
		}
		b.WriteString(vocabulary[w])
	}
	b.WriteString(".\n")
	return b.String()
}

type generator struct {
	cfg   config
	rng   *rand.Rand
	out   io.Writer
	now   time.Time
	posts []*post // by creation; posts[0] is the hot post
	info  info
	err   error
}

// generate writes the fast-import stream of the whole history.
func generate(out io.Writer, cfg config) (info, error) {
	setup := 1 + cfg.Categories
	if cfg.HotRevisions < 1 || cfg.Posts < 2 || cfg.Commits < setup+cfg.Posts+cfg.HotRevisions-1 {
		return info{}, fmt.Errorf("%d commits cannot hold %d set-up commits, %d posts and %d revisions of one", cfg.Commits, setup, cfg.Posts, cfg.HotRevisions)
	}
	g := &generator{cfg: cfg, rng: rand.New(rand.NewSource(cfg.Seed)), out: out,
		now: time.Date(2016, 1, 1, 9, 0, 0, 0, time.UTC), info: info{Types: map[events.Type]int{}}}
	settings, _ := content.MarshalSettings(&content.Settings{Title: "A long history", Language: "en", PostsPerPage: 10})
	g.tick()
	g.commit("site/settings", events.SettingsChanged, "Change settings", content.SettingsPath, settings)
	for c := range cfg.Categories {
		cat := content.Category{Slug: fmt.Sprintf("cat-%d", c), Name: fmt.Sprintf("Category %d", c), Description: "Posts about " + vocabulary[c]}
		data, _ := content.MarshalCategory(&cat)
		g.tick()
		g.commit("category/"+cat.Slug, events.CategoryCreated, "Create category "+quote(cat.Name), content.CategoryPath(cat.Slug), data)
	}

	// The rest is posts created, the hot post's revisions and other edits,
	// each drawn with the weight of what is left of it: all three spread
	// evenly over the years.
	g.create(cfg.HotWords)
	hot := g.posts[0]
	g.info.HotID, g.info.HotSlug, g.info.HotPath = hot.p.ID, hot.p.Slug, hot.p.Path
	creates, hotLeft := cfg.Posts-1, cfg.HotRevisions-1
	edits := cfg.Commits - setup - cfg.Posts - hotLeft
	for g.err == nil && creates+hotLeft+edits > 0 {
		n := g.rng.Intn(creates + hotLeft + edits)
		switch {
		case n < creates || len(g.posts) == 1 && n >= creates+hotLeft:
			g.create(cfg.Words)
			creates--
		case n < creates+hotLeft:
			g.edit(hot, true)
			hotLeft--
		default:
			// Recent posts are edited more than old ones.
			i := 1 + g.rng.Intn(len(g.posts)-1)
			if g.rng.Intn(2) == 0 {
				i = max(1, len(g.posts)-1-g.rng.Intn(200))
			}
			g.edit(g.posts[i], false)
			edits--
		}
	}
	g.info.HotRevisions = cfg.HotRevisions
	if g.err == nil {
		_, g.err = io.WriteString(out, "done\n")
	}
	return g.info, g.err
}

// create writes a new published post of n words.
func (g *generator) create(n int) {
	at := g.tick()
	i := len(g.posts)
	var id [16]byte
	ms := uint64(at.UnixMilli())
	for b := 5; b >= 0; b-- {
		id[b] = byte(ms)
		ms >>= 8
	}
	g.rng.Read(id[6:])
	title := fmt.Sprintf("%s %s %d", capital(g.word()), g.word(), i)
	p := &post{p: content.Post{ID: content.NewID(id[:]), Title: title, Slug: content.Slugify(title), Status: content.Published,
		PublishedAt: &at, CreatedAt: at, UpdatedAt: at, Categories: []string{fmt.Sprintf("cat-%d", i%g.cfg.Categories)}, Tags: g.tags()}}
	p.p.Path = fmt.Sprintf("%s%d/%s.md", content.PostsDir, at.Year(), p.p.Slug)
	p.words = make([]uint8, n)
	for w := range p.words {
		p.words[w] = uint8(g.rng.Intn(len(vocabulary)))
	}
	g.posts = append(g.posts, p)
	g.write(p, events.PostCreated, "Create post "+quote(title))
}

// edit changes a few words of a post, or (not the hot post) its tags,
// title or categories, as an editor would.
func (g *generator) edit(p *post, hot bool) {
	p.p.UpdatedAt = g.tick()
	// Every edit changes something: the writer commits nothing for an
	// edit that changes nothing, and such a commit would derive no event.
	switch k := g.rng.Intn(100); {
	case hot || k < 80:
		for range 1 + g.rng.Intn(3) {
			i := g.rng.Intn(len(p.words))
			p.words[i] = uint8((int(p.words[i]) + 1 + g.rng.Intn(len(vocabulary)-1)) % len(vocabulary))
		}
	case k < 90:
		for old := p.p.Tags; slices.Equal(old, p.p.Tags); {
			p.p.Tags = g.tags()
		}
	case k < 97:
		for old := p.p.Title; old == p.p.Title; {
			p.p.Title = fmt.Sprintf("%s %s %s", capital(g.word()), g.word(), p.p.Slug[strings.LastIndexByte(p.p.Slug, '-')+1:])
		}
	default:
		for old := p.p.Categories[0]; old == p.p.Categories[0]; {
			p.p.Categories = []string{fmt.Sprintf("cat-%d", g.rng.Intn(g.cfg.Categories))}
		}
	}
	g.write(p, events.PostUpdated, "Update post "+quote(p.p.Title))
}

func (g *generator) write(p *post, typ events.Type, summary string) {
	p.p.Content = p.body()
	data, err := content.MarshalPost(&p.p)
	if err != nil && g.err == nil {
		g.err = err
	}
	g.commit("post/"+p.p.ID, typ, summary, p.p.Path, data)
}

// commit writes one commit changing one file, with the message the API's
// writer gives it (events/command/writer.go batch).
func (g *generator) commit(subject string, typ events.Type, summary, path string, data []byte) {
	if g.err != nil {
		return
	}
	a := actors[g.rng.Intn(len(actors))]
	msg := fmt.Sprintf("%s\n\n%s: %s\n%s: %s\n%s: %s\n", summary, gitlog.TrailerEvent, typ, gitlog.TrailerSubject, subject, gitlog.TrailerActor, a.email)
	sig := fmt.Sprintf("%s <%s> %d +0000", a.name, a.email, g.now.Unix())
	_, g.err = fmt.Fprintf(g.out, "commit refs/heads/main\nauthor %s\ncommitter %s\ndata %d\n%s\nM 100644 inline %s\ndata %d\n%s\n",
		sig, sig, len(msg), msg, path, len(data), data)
	g.info.Commits++
	g.info.Types[typ]++
}

// tick moves the clock on by one to a hundred minutes: 100,000 commits
// span about ten years.
func (g *generator) tick() time.Time {
	g.now = g.now.Add(time.Duration(1+g.rng.Intn(100)) * time.Minute)
	return g.now
}

func (g *generator) word() string { return vocabulary[g.rng.Intn(len(vocabulary))] }

func (g *generator) tags() []string {
	tags := []string{vocabulary[g.rng.Intn(40)]}
	if t := vocabulary[g.rng.Intn(40)]; t != tags[0] {
		tags = append(tags, t)
	}
	return tags
}

func capital(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// quote is the writer's: a title in curly quotes, cut at 60 characters.
func quote(s string) string {
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return "“" + s + "”"
}
