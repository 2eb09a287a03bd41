package daemon

import (
	"log/slog"
	"strings"
	"testing"
)

// Links are never made of a wildcard address: a daemon listening on all
// interfaces (the container's 0.0.0.0:8080) without --public-url links to
// localhost, and says at start to set --public-url.
func TestPublicURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr, public, want string
		warns              bool
	}{
		{"127.0.0.1:8080", "", "http://127.0.0.1:8080", true},
		{":8080", "", "http://localhost:8080", true},
		{"0.0.0.0:8080", "", "http://localhost:8080", true},
		{"[::]:8080", "", "http://localhost:8080", true},
		{"[::1]:8080", "", "http://[::1]:8080", true},
		{"blog.example.org:80", "", "http://blog.example.org", true},
		{"0.0.0.0", "", "http://localhost", true},
		{"", "", "http://localhost", true},
		{"0.0.0.0:8080", "https://blog.example.org", "https://blog.example.org", false},
		{"0.0.0.0:8080", "https://blog.example.org/", "https://blog.example.org", false},
		{"127.0.0.1:8080", "http://localhost:8080", "http://localhost:8080", false}, // behind nothing, on this machine
		{"0.0.0.0:8080", "http://localhost:8080", "http://localhost:8080", true},    // the image's default
		{"[::]:8080", "http://127.0.0.1:8080/", "http://127.0.0.1:8080", true},
	} {
		c := Config{Addr: tc.addr, PublicURL: tc.public}
		if got := c.publicURL(); got != tc.want {
			t.Errorf("addr %q, public URL %q: %q, want %q", tc.addr, tc.public, got, tc.want)
		}
		warn := c.publicURLWarning()
		if (warn != "") != tc.warns || (warn != "" && (!strings.Contains(warn, "--public-url") || !strings.Contains(warn, tc.want))) {
			t.Errorf("addr %q, public URL %q: warning %q", tc.addr, tc.public, warn)
		}
	}
}

func TestWriterURLIsForReadNodes(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{DataDir: "d", WriterURL: "http://10.0.0.1:8080"}, "--writer-url is for a read node"},
		{Config{DataDir: "d", ReadOnly: true, NatsURL: "nats://x", WriterURL: "ftp://10.0.0.1"}, "not the writer's base URL"},
		{Config{DataDir: "d", ReadOnly: true, NatsURL: "nats://x", WriterURL: "http://ann:pw@10.0.0.1"}, "takes no credentials"},
		{Config{DataDir: "d", ReadOnly: true, NatsURL: "nats://x", WriterURL: "http://10.0.0.1:8080/"}, ""},
		// The bootstrap's credentials: both, and a writer to use them on.
		{Config{DataDir: "d", ReadOnly: true, NatsURL: "nats://x", WriterURL: "http://10.0.0.1:8080", WriterAccount: "ann@example.org", WriterToken: "chr_x"}, ""},
		{Config{DataDir: "d", ReadOnly: true, NatsURL: "nats://x", WriterURL: "http://10.0.0.1:8080", WriterToken: "chr_x"}, "go together"},
		{Config{DataDir: "d", ReadOnly: true, NatsURL: "nats://x", WriterAccount: "ann@example.org", WriterToken: "chr_x"}, "with --writer-url"},
		{Config{DataDir: "d", ReadOnly: true, NatsURL: "nats://x", ReadyMaxLag: -1}, "--ready-max-lag"},
	} {
		err := tc.cfg.validate()
		if (tc.want == "" && err != nil) || (tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want))) {
			t.Errorf("%+v: %v, want %q", tc.cfg.WriterURL, err, tc.want)
		}
	}
}

// Profiles show the process's insides: the debug listener is on loopback
// or nowhere, and serves them there.
func TestDebugAddrIsLoopbackOnly(t *testing.T) {
	t.Parallel()
	for addr, ok := range map[string]bool{
		"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:6060": true,
		"0.0.0.0:6060": false, ":6060": false, "10.0.0.1:6060": false, "[::]:6060": false, "example.org:6060": false, "6060": false,
	} {
		c := Config{DataDir: "d", DebugAddr: addr}
		if err := c.validate(); (err == nil) != ok || (err != nil && !strings.Contains(err.Error(), "--debug-addr")) {
			t.Errorf("--debug-addr %s: %v", addr, err)
		}
	}
	stop, err := debugServer("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if _, err := debugServer("0.0.0.0:0", slog.New(slog.DiscardHandler)); err == nil {
		t.Error("the debug server listened on every interface")
	}
}
