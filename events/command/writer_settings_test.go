package command_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/command"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/gitlog"
	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/repo"
)

// A stored settings file today's rules refuse is read, and edited, as the
// defaults readers see (derivation does the same), not refused.
func TestInvalidStoredSettingsCountAsDefaults(t *testing.T) {
	r, err := repo.Open(filepath.Join(t.TempDir(), "site.git"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	l := gitlog.NewGitLog(r, gitlog.NewDeriver(r, quiet))
	if _, _, err := l.Append(context.Background(), gitlog.Batch{Message: "by hand\n",
		Changes: []repo.Change{{Path: content.SettingsPath, Data: []byte("title: Mine\nposts_per_page: -3\n")}},
		Author:  repo.Signature{Name: "A", Email: "a@example.org", When: time.Unix(1700000000, 0)}}); err != nil {
		t.Fatal(err)
	}
	w := command.NewWriter(l, gitlog.NewDeriver(r, quiet), quiet, command.WriterConfig{})
	s, _, err := w.Settings()
	if err != nil || s.Title != content.DefaultSettings().Title {
		t.Fatalf("settings %+v, %v", s, err)
	}
	if _, err := w.EditSettings(context.Background(), command.Actor{Name: "A", Email: "a@example.org", Role: policy.Admin}, "", func(cur content.Settings) (content.Settings, error) {
		cur.Tagline = "Fixed"
		return cur, nil
	}); err != nil {
		t.Fatalf("an edit over invalid settings: %v", err)
	}
	if s, _, _ := w.Settings(); s.Tagline != "Fixed" {
		t.Fatalf("after the edit: %+v", s)
	}
}
