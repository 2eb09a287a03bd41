package render

import (
	"slices"
	"testing"
)

func TestIframeHost(t *testing.T) {
	for host, want := range map[string]bool{
		"www.youtube-nocookie.com": true, "WWW.YouTube.com": true, "player.vimeo.com": true,
		"open.spotify.com": true, "w.soundcloud.com": true,
		"youtube.com": false, "www.youtube.com:8443": false, "evil.example": false, "": false,
	} {
		if got := IframeHost(host); got != want {
			t.Errorf("IframeHost(%q) = %v, want %v", host, got, want)
		}
	}
	// Pages list them in their Content-Security-Policy, which must not
	// change from one render to the next.
	if hs := IframeHosts(); !slices.IsSorted(hs) {
		t.Errorf("IframeHosts() = %q, not sorted", hs)
	}
}
