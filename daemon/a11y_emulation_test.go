package daemon

import (
	"context"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// trapAlerts makes alert, confirm and prompt record that they were called,
// before any script of the page runs.
func trapAlerts() chromedp.ActionFunc {
	return func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(`for (const f of ['alert','confirm','prompt']) window[f] = () => { window.__alerted = true; };`).Do(ctx)
		return err
	}
}

func emulationSetScheme(ctx context.Context, scheme string) error {
	return emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}).Do(ctx)
}
