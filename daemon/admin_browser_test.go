package daemon

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// toFront brings the tab to the front: keys go to the page with focus.
func toFront() chromedp.ActionFunc {
	return func(ctx context.Context) error { return page.BringToFront().Do(ctx) }
}

// until evaluates cond until it is true, across page loads (a navigation
// under way fails an evaluation: it is tried again).
func until(cond string) chromedp.ActionFunc {
	return func(ctx context.Context) error {
		var last error
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var ok bool
			if last = chromedp.Evaluate(cond, &ok).Do(ctx); last == nil && ok {
				return nil
			}
		}
		return fmt.Errorf("still not %s (last error %v)", cond, last)
	}
}

// tabTo presses Tab until the focused element matches the CSS selector,
// as someone without a mouse would.
func tabTo(selector string) chromedp.ActionFunc {
	return func(ctx context.Context) error {
		for i := 0; i < 60; i++ {
			var on bool
			if err := chromedp.Evaluate(fmt.Sprintf(`document.activeElement !== null && document.activeElement.matches(%q)`, selector), &on).Do(ctx); err != nil {
				return err
			}
			if on {
				return nil
			}
			if err := chromedp.KeyEvent(kb.Tab).Do(ctx); err != nil {
				return err
			}
		}
		return fmt.Errorf("Tab never reached %s", selector)
	}
}

// A person at the keyboard, in Debian's chromium with scripts on: sign in,
// write a post (the preview follows the typing, the draft is kept), close
// the tab, come back and restore the unsaved change, publish — without
// the mouse. The post is then on the site, in search and in the feed.
func TestAdminInTheBrowser(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	root, cancel := browserCtx(t, 3*time.Minute)
	defer cancel()
	if err := chromedp.Run(root); err != nil { // the browser, with a first tab kept open
		t.Fatal(err)
	}
	ctx, closeTab := chromedp.NewContext(root)
	defer closeTab()

	var where, preview, status string
	err := chromedp.Run(ctx,
		toFront(),
		chromedp.Navigate(s.url+"/admin/"),
		chromedp.WaitVisible("#email", chromedp.ByQuery),
		tabTo("#email"), // the page focuses it already
		chromedp.KeyEvent("ed@example.org"),
		tabTo("#password"),
		chromedp.KeyEvent(password),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible("#drafts-h", chromedp.ByQuery),
		tabTo(`a[href="/admin/posts/new"]`),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible("#title", chromedp.ByQuery),
		tabTo("#title"),
		chromedp.KeyEvent("Typed by keyboard"),
		tabTo("#content"),
		chromedp.KeyEvent("A *first* draft, typed key by key."),
		chromedp.Poll(`document.querySelector("#preview em") !== null && document.querySelector("#preview").textContent.includes("key by key")`, nil,
			chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Text("#preview", &preview, chromedp.ByQuery),
		chromedp.Poll(`document.getElementById("autosave-status").textContent.startsWith("Draft kept")`, nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Text("#autosave-status", &status, chromedp.ByQuery),
		// Publish, from the keyboard.
		tabTo(`button[value=publish]`),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`button[value=unpublish]`, chromedp.ByQuery),
		chromedp.Location(&where),
	)
	if err != nil {
		t.Fatalf("write and publish: %v", err)
	}
	if !strings.Contains(preview, "A first draft, typed key by key.") {
		t.Errorf("preview: %q", preview)
	}
	id := where[strings.LastIndex(where, "/")+1:]
	mustStatus(t, s.do("GET", "/posts/typed-by-keyboard", "", nil), 200)

	// More text, kept as a draft; the tab is closed without saving.
	err = chromedp.Run(ctx,
		tabTo("#content"),
		chromedp.KeyEvent(kb.End),
		chromedp.KeyEvent(" And a second thought."),
		chromedp.Poll(`document.getElementById("autosave-status").textContent.startsWith("Draft kept")`, nil, chromedp.WithPollingTimeout(15*time.Second)),
	)
	if err != nil {
		t.Fatalf("second thought: %v", err)
	}
	if err := chromedp.Cancel(ctx); err != nil { // closes the tab, unsaved
		t.Fatalf("closing the tab: %v", err)
	}
	tab2, cancel2 := chromedp.NewContext(root) // a new tab in the same browser
	defer cancel2()
	var text string
	err = chromedp.Run(tab2,
		toFront(),
		chromedp.Navigate(s.url+"/admin/posts/"+id),
		chromedp.WaitVisible("#draft-h", chromedp.ByQuery),
		tabTo(`a[href$="?restore=1"]`),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible("#content", chromedp.ByQuery),
		chromedp.Value("#content", &text, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if !strings.Contains(text, "And a second thought.") {
		t.Fatalf("restored text: %q", text)
	}
	// Ctrl-S saves.
	err = chromedp.Run(tab2,
		tabTo("#content"),
		chromedp.KeyEvent("s", chromedp.KeyModifiers(input.ModifierCtrl)),
		until(`location.search === "" && document.querySelector(".flash") !== null && document.querySelector(".flash").textContent.startsWith("Saved")`),
	)
	if err != nil {
		t.Fatalf("save with Ctrl-S: %v", err)
	}
	eventstest.CheckFor(t, 15*time.Second, pollEvery, func() error {
		if p := s.do("GET", "/posts/typed-by-keyboard", "", nil); !strings.Contains(string(p.body), "And a second thought.") {
			return fmt.Errorf("the public page lacks the restored text")
		}
		if r := s.do("GET", "/api/v1/search?q=thought", "", nil); !strings.Contains(string(r.body), id) {
			return fmt.Errorf("search: %s", r.body)
		}
		if f := s.do("GET", "/feed.xml", "", nil); !strings.Contains(string(f.body), "Typed by keyboard") {
			return fmt.Errorf("the feed lacks the post")
		}
		return nil
	})
}
