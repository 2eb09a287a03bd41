package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// lockedBuffer collects a logger's output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A second daemon (or a rebuild) on a live data directory fails at once,
// naming the first, before it opens anything there; the first keeps
// serving and writing.
func TestSecondServeOnOneDataDirectory(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "admin@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	tok := s.token("admin@example.org")

	var logged lockedBuffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	err := Serve(ctx, testConfig(data), log, nil)
	if !errors.Is(err, ErrDataInUse) {
		t.Fatalf("second serve: %v, want ErrDataInUse", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("second serve took %s to fail", took)
	}
	if msg := err.Error(); !strings.Contains(msg, "chronicle serve") || !strings.Contains(msg, fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("error does not name the other process: %q", msg)
	}
	if out := logged.String(); out != "" {
		t.Errorf("second serve logged before failing (it opened something):\n%s", out)
	}

	err = rebuildProjection(context.Background(), testConfig(data), "pages", log, io.Discard)
	if !errors.Is(err, ErrDataInUse) {
		t.Fatalf("rebuild under a running daemon: %v, want ErrDataInUse", err)
	}

	// The first daemon still writes and serves.
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("Still here", "status", "published"), "Prefer", "wait=5"), 201)
	mustStatus(t, s.do("GET", "/posts/still-here", "", nil), 200)

	// Once it stops, the directory is free again.
	s.stop()
	s = startSite(t, data)
	mustStatus(t, s.do("GET", "/posts/still-here", "", nil), 200)
}
