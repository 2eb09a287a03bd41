package daemon

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// cli runs a chronicle command and returns its standard output.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := Main(args, "test", strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("chronicle %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
	}
	return out.String()
}

// A writer and a read node on Debian's nats-server share accounts,
// tokens and the token keys: the writer's account files are copied to
// the bucket once; an API token from either node is good on the other,
// and a personal access token made by `chronicle token create
// --nats-url` on both; an account disabled from the command line is
// refused on both at the next request; a key rotation keeps old tokens
// good and signs new ones with the new key, on both.
func TestNodesShareAccountsAndKeys(t *testing.T) {
	t.Parallel()
	url := startNATSServer(t)
	wdata, rdata := t.TempDir(), t.TempDir()
	addAccount(t, wdata, "ann@example.org", auth.RoleEditor)
	w := startSite(t, wdata, func(c *Config) { c.NatsURL, c.Node = url, "writer" })
	r := startSite(t, rdata, func(c *Config) { c.NatsURL, c.Node, c.ReadOnly = url, "reader", true })
	nodes := map[string]*site{"writer": w, "read node": r}
	signedIn := func(what, tok string, want int) {
		t.Helper()
		for name, s := range nodes {
			if res := s.do("GET", "/api/v1/tokens", tok, nil); res.status != want {
				t.Fatalf("%s on the %s: status %d, want %d: %s", what, name, res.status, want, res.body)
			}
		}
	}
	wtok, rtok := w.token("ann@example.org"), r.token("ann@example.org")
	signedIn("the writer's API token", wtok, 200)
	signedIn("the read node's API token", rtok, 200)
	pat := strings.TrimSpace(cli(t, "token", "create", "--nats-url", url, "--data", t.TempDir(), "--email", "ann@example.org", "--name", "ci"))
	signedIn("a personal access token", pat, 200)

	out := cli(t, "token", "rotate-key", "--nats-url", url, "--data", t.TempDir())
	kid := strings.Fields(out)[len(strings.Fields(out))-4]
	signedIn("an API token of the old key", rtok, 200)
	for name, s := range nodes {
		var fresh string
		eventstest.CheckFor(t, time.Second, pollEvery, func() error { // the nodes watch the key set
			fresh = s.token("ann@example.org")
			parsed, _, err := jwt.NewParser().ParseUnverified(fresh, &jwt.RegisteredClaims{})
			if err != nil || parsed.Header["kid"] != kid {
				return fmt.Errorf("%s signs a new token with key %v (%v), want the new key %s", name, parsed.Header["kid"], err, kid)
			}
			return nil
		})
		signedIn(name+"'s token of the new key", fresh, 200)
	}

	cli(t, "user", "disable", "--nats-url", url, "--data", t.TempDir(), "--email", "ann@example.org")
	signedIn("a disabled account's API token", wtok, 401)
	signedIn("a disabled account's API token", rtok, 401)
	signedIn("a disabled account's personal access token", pat, 401)
	for name, s := range nodes {
		if res := s.do("POST", "/api/v1/auth/token", "", map[string]string{"email": "ann@example.org", "password": password}); res.status == 200 {
			t.Fatalf("%s signs in a disabled account", name)
		}
	}
}
