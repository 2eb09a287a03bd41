package daemon

import "github.com/chronicle-cms/chronicle/events/gitlog"

// pictures lets derivation read pictures added with git (a Git LFS pointer
// under media/, no full metadata) from the LFS store, with the uploads'
// inspection: every deriver of the daemon (the log, the writer, rebuild)
// must use it, so they all derive the same events.
func pictures(cfg Config) gitlog.DeriverOption {
	return gitlog.WithPictures(cfg.lfsDir(), inspectImage)
}
