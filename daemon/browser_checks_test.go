package daemon

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browserCtx starts Debian's chromium for a test (skipped outside CI
// when it is missing), for at most timeout.
func browserCtx(t *testing.T, timeout time.Duration) (context.Context, func()) {
	t.Helper()
	chromium := need(t, "/usr/bin/chromium", "apt-get install chromium")
	// Not t.TempDir: chromium's helper processes may still write to the
	// profile for a moment after the browser exits, and t.TempDir fails
	// the test when it cannot remove a folder at once.
	profile, err := os.MkdirTemp("", "chronicle-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	return ctx, func() { cancelTimeout(); cancelCtx(); cancelAlloc() }
}

// loadAxe reads axe-core, from node_modules.
func loadAxe(t *testing.T) []byte {
	t.Helper()
	axe, err := os.ReadFile(need(t, "../node_modules/axe-core/axe.min.js", "npm ci in the repository root"))
	if err != nil {
		t.Fatal(err)
	}
	return axe
}

// axeCheck fails t for serious or critical axe-core violations on the
// page as it is now (a dialog open, say), light and dark.
func axeCheck(t *testing.T, ctx context.Context, axe []byte, name string) {
	t.Helper()
	for _, scheme := range []string{"light", "dark"} {
		var raw string
		if err := chromedp.Run(ctx, emulateScheme(scheme), chromedp.Evaluate(string(axe), nil),
			chromedp.Evaluate(`axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations))`, &raw,
				func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var violations []struct {
			ID, Impact, Help string
			Nodes            []struct{ HTML string }
		}
		json.Unmarshal([]byte(raw), &violations)
		for _, v := range violations {
			if v.Impact == "serious" || v.Impact == "critical" {
				var nodes []string
				for _, n := range v.Nodes {
					nodes = append(nodes, n.HTML)
				}
				t.Errorf("%s (%s): %s %s: %s\n  %s", name, scheme, v.Impact, v.ID, v.Help, strings.Join(nodes, "\n  "))
			}
		}
	}
}

// vnuCheck fails t for every error or warning of the Nu Html Checker on
// files, checked in one run of it.
func vnuCheck(t *testing.T, files []string) {
	t.Helper()
	java := need(t, "java", "apt-get install default-jre-headless")
	jar := need(t, "../node_modules/vnu-jar/build/dist/vnu.jar", "npm ci in the repository root")
	// One short run: the JIT's first tier only (C2 costs more than it
	// saves on a few pages: ~45% less CPU, same messages), with the
	// deeper stack that tier needs (-Xss1m overflows with it).
	out, err := exec.Command(java, append([]string{"-Xss4m", "-XX:TieredStopAtLevel=1", "-jar", jar, "--format", "json", "--exit-zero-always"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("vnu: %v\n%s", err, out)
	}
	var res struct {
		Messages []struct {
			Type, SubType, URL, Message, Extract string
			LastLine                             int
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("vnu output: %v\n%s", err, out)
	}
	for _, m := range res.Messages {
		if m.Type == "error" || m.SubType == "warning" {
			t.Errorf("%s:%d: %s %s: %s\n  %s", filepath.Base(m.URL), m.LastLine, m.Type, m.SubType, m.Message, m.Extract)
		}
	}
}
