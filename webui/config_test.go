package webui_test

import (
	"testing"

	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/webui"
)

// Defaults are filled in one place, on a copy: the caller's configuration
// is left as it was, and the values in effect are read from WithDefaults.
func TestDefaultsAreAppliedOnceOnACopy(t *testing.T) {
	cfg := webui.Config{Media: &webui.MediaConfig{Store: t.TempDir()}, Git: &webui.GitConfig{Root: t.TempDir()}}
	webui.New(cfg)
	if cfg.Media.MaxBytes != 0 || cfg.Git.MaxPush != 0 || cfg.Metrics.AllowFrom != nil {
		t.Fatalf("New changed its caller's configuration: media %+v, git %+v", *cfg.Media, *cfg.Git)
	}
	d := cfg.WithDefaults()
	if d.Media.MaxBytes != upload.DefaultMaxMiB<<20 || d.Media.Limits != upload.DefaultLimits || d.Git.MaxPush != 512<<20 ||
		d.MaxBody != 1<<20 || d.LoginBurst != 10 || len(d.Metrics.AllowFrom) != 2 || d.Registry == nil || d.Logger == nil || d.Ready() != nil {
		t.Fatalf("defaults: %+v", d)
	}
	if again := d.WithDefaults(); again.Media.MaxBytes != d.Media.MaxBytes || len(again.Metrics.AllowFrom) != 2 {
		t.Fatal("WithDefaults is not idempotent")
	}
}
