package events_test

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/repo"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newGitLog(t *testing.T) *events.GitLog {
	r, err := repo.Open(filepath.Join(t.TempDir(), "site.git"), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return events.NewGitLog(r, events.NewDeriver(r, quiet))
}

func TestGitLogContract(t *testing.T) {
	eventstest.Run(t, func(t *testing.T) events.Log { return newGitLog(t) })
}
