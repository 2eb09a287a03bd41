package timetravel

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/repo"
)

// sitePaths are the files and folders whose events (settings, profile,
// categories) date the site as a whole: the pages' "updated" of the home
// page, the about page and the feeds.
var sitePaths = []string{content.SettingsPath, content.ProfilePath, strings.TrimSuffix(content.CategoriesDir, "/")}

// link is one commit of main's first-parent chain.
type link struct {
	hash repo.Hash
	when time.Time // the author's time: the events' time
	site []repo.Hash
	// siteAt is the position of the newest commit at or before this one
	// that changed sitePaths, -1 if none did.
	siteAt int
}

// chain is main's first-parent history as time travel needs it: which
// commits exist, in what order, when, and when the site-wide files last
// changed before each. It is read once (one commit and one root tree
// per commit) and extended as main moves; main is never rewritten.
type chain struct {
	repo *repo.Repo

	mu     sync.Mutex
	links  []link // oldest first
	byHash map[repo.Hash]int
}

func newChain(r *repo.Repo) *chain { return &chain{repo: r, byHash: map[repo.Hash]int{}} }

// errUnknown is a revision that is not on main's first-parent chain.
var errUnknown = errors.New("not a commit of the site's history")

// refresh reads the commits main gained since the last call. Callers
// hold mu.
func (c *chain) refresh() error {
	head, err := c.repo.Head()
	if err != nil {
		return fmt.Errorf("read main: %w", err)
	}
	if head.IsZero() || (len(c.links) > 0 && c.links[len(c.links)-1].hash == head) {
		return nil
	}
	fresh, stop, err := c.walk(head, c.byHash)
	if err != nil {
		return err
	}
	if stop != len(c.links)-1 {
		// Not a descendant of what was read (main is never rewritten, but
		// a repository can be replaced): read it all again.
		c.links, c.byHash = nil, map[repo.Hash]int{}
		if fresh, _, err = c.walk(head, nil); err != nil {
			return err
		}
	}
	c.append(fresh)
	return nil
}

// walk reads the first-parent chain from head, newest first, until a
// commit in known (whose position it returns) or the root (-1).
func (c *chain) walk(head repo.Hash, known map[repo.Hash]int) ([]link, int, error) {
	var fresh []link
	for cur := head; !cur.IsZero(); {
		if i, ok := known[cur]; ok {
			return fresh, i, nil
		}
		cm, err := c.repo.ReadCommit(cur)
		if err != nil {
			return nil, 0, fmt.Errorf("read history: %w", err)
		}
		site, err := c.repo.Entries(cm.Tree, sitePaths...)
		if err != nil {
			return nil, 0, fmt.Errorf("read history: %w", err)
		}
		fresh = append(fresh, link{hash: cur, when: cm.Author.When, site: site})
		cur = repo.ZeroHash
		if len(cm.Parents) > 0 {
			cur = cm.Parents[0]
		}
	}
	return fresh, -1, nil
}

// append adds commits given newest first after the last one read.
func (c *chain) append(fresh []link) {
	for i := len(fresh) - 1; i >= 0; i-- {
		l := fresh[i]
		n := len(c.links)
		l.siteAt = -1
		if n > 0 {
			l.siteAt = c.links[n-1].siteAt
		}
		if changed(l.site, n, c.links) {
			l.siteAt = n
		}
		c.links = append(c.links, l)
		c.byHash[l.hash] = n
	}
}

// changed reports whether site differs from the previous commit's (or,
// for the first commit, holds anything).
func changed(site []repo.Hash, n int, links []link) bool {
	for i, h := range site {
		if n == 0 && !h.IsZero() || n > 0 && links[n-1].site[i] != h {
			return true
		}
	}
	return false
}

// resolve finds the commit a revision names: a full commit hash, an
// unambiguous abbreviation of at least 7 hex digits, or an RFC 3339
// date-time (the newest commit at or before it). It returns the commit's
// position.
func (c *chain) resolve(rev string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.refresh(); err != nil {
		return 0, err
	}
	if t, err := time.Parse(time.RFC3339Nano, rev); err == nil {
		// Commit times need not rise along the chain (a push carries its
		// own): the newest commit made at or before t.
		for i := len(c.links) - 1; i >= 0; i-- {
			if !c.links[i].when.After(t) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("%w: the site has no change at or before %s", errUnknown, t.UTC().Format(time.RFC3339))
	}
	rev = strings.ToLower(rev)
	if len(rev) < 7 || len(rev) > 40 || strings.Trim(rev, "0123456789abcdef") != "" {
		return 0, fmt.Errorf("%w: %q is neither a commit hash nor an RFC 3339 date-time", errUnknown, rev)
	}
	if len(rev) == 40 {
		if i, ok := c.byHash[repo.ParseHash(rev)]; ok {
			return i, nil
		}
		return 0, fmt.Errorf("%w: %s", errUnknown, rev)
	}
	found := -1
	for i, l := range c.links {
		if strings.HasPrefix(l.hash.String(), rev) {
			if found >= 0 {
				return 0, fmt.Errorf("%w: %s names more than one commit", errUnknown, rev)
			}
			found = i
		}
	}
	if found < 0 {
		return 0, fmt.Errorf("%w: %s", errUnknown, rev)
	}
	return found, nil
}

// at returns the commit at position i, and the positions of its
// neighbours (-1 when none).
func (c *chain) at(i int) (l link, siteWhen time.Time, prev, next int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l = c.links[i]
	if l.siteAt >= 0 {
		siteWhen = c.links[l.siteAt].when
	}
	prev, next = i-1, i+1
	if next >= len(c.links) {
		next = -1
	}
	return l, siteWhen, prev, next
}

// hash returns the commit at position i.
func (c *chain) hash(i int) (repo.Hash, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.links[i].hash, c.links[i].when
}
