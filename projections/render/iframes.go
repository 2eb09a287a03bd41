package render

import (
	"slices"
	"strings"
)

// IframeHosts returns the hosts of the players a page may embed in an
// iframe, sorted, in a new slice. The list lives with rendering because it
// is a rule about what a page may contain: the embed resolver records an
// iframe only for these hosts, and pages check it again when they render
// and list them in their frame-src.
func IframeHosts() []string {
	return []string{"open.spotify.com", "player.vimeo.com", "w.soundcloud.com", "www.youtube-nocookie.com", "www.youtube.com"}
}

// IframeHost reports whether a page may embed an https iframe from host, a
// URL's Host (case-insensitive; a port makes it another host).
func IframeHost(host string) bool { return slices.Contains(IframeHosts(), strings.ToLower(host)) }
