package daemon

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/chronicle-cms/chronicle/events/policy"
	"github.com/chronicle-cms/chronicle/events/upload"
	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/oidc"
	"github.com/chronicle-cms/chronicle/webui/ops"
)

// Config is the daemon's whole configuration, read once from flags and
// CHRONICLE_* environment variables and handed down to each component.
type Config struct {
	DataDir            string
	Addr               string
	PublicURL          string        // the site's address for links in feeds and metadata, until the settings give one
	NatsURL            string        // empty: run an embedded server
	ReadOnly           bool          // a read node: no repository, consume the stream only
	WriterURL          string        // a read node's writer, where it forwards writes; empty: it refuses them
	WriterAccount      string        // a read node's account on the writer, to clone its repository when the stream lacks events
	WriterToken        string        // that account's personal access token
	ReadyMaxLag        int           // a read node is ready while its projections are at most this many events behind the stream
	NatsReplicas       int           // servers of a JetStream cluster that hold the stream and buckets (1, 3 or 5)
	StreamMaxAge       time.Duration // the events stream keeps events this long (0: forever)
	StreamMaxBytes     int64         // and at most this many bytes (0: no bound)
	Node               string        // names this node's consumers on a shared NATS
	TokenTTL           time.Duration
	ReconcileInterval  time.Duration
	RepackInterval     time.Duration
	FastStartBehind    int64 // a writer whose projections are this many commits behind builds them from git first (0: never)
	ShutdownTimeout    time.Duration
	LogLevel           string
	LogFormat          string
	ImageWorkers       int      // images processed at once by the media projection
	MediaCacheMiB      int      // a read node's cache of originals fetched from the Object Store
	MediaMaxMiB        int      // one upload
	MediaMaxMegapixels int      // one image
	MediaMaxSide       int      // pixels, either dimension
	EmbedsAllowPrivate bool     // let embed URLs reach private addresses (tests only)
	MaxConns           int      // HTTP connections open at once; 0: derived from the file-descriptor limit
	MaxConnsPerClient  int      // HTTP connections open at once from one address; 0: no bound
	MetricsAllow       []string // networks that may read /metrics without the token
	MetricsToken       string   // bearer token that opens /metrics from anywhere
	TrustedProxies     []string // reverse proxies whose X-Forwarded-For names the client
	OIDC               OIDCConfig
	// HookCommand runs `chronicle hook …` from git hooks: this binary by
	// default; tests point it at themselves.
	HookCommand string
	HookEnv     []string
	// PasswordHash is the argon2id cost of the passwords the daemon sets
	// (zero: auth.DefaultArgon2). Not a flag: tests lower it, so that
	// the accounts they make through the API and the admin do not cost
	// a second of CPU each under the race detector.
	PasswordHash auth.Argon2Params
	// SignInEvery is how often a sign-in budget (per address, per
	// account, per pair) gains an attempt back once its burst is spent
	// (zero: webui's default). Not a flag: tests that spend a budget
	// raise it, so that a slow machine refilling it mid-test does not
	// pass for a limit that failed.
	SignInEvery time.Duration
	// DebugAddr serves Go's profiles (pprof) on a loopback address of
	// its own; empty: off.
	DebugAddr string
	// PageCacheMiB bounds the rendered pages kept in memory; the others
	// are rendered from the pages projection's store when asked for.
	PageCacheMiB int
}

// OIDCConfig is "Sign in with Google" (or any OpenID Connect provider)
// for the admin; off without an issuer.
type OIDCConfig struct {
	Issuer, ClientID, ClientSecret string
	AllowedEmails, AllowedDomains  []string
	SignUpRole, RoleClaim, Name    string
}

// Paths inside the data directory.
func (c *Config) repoDir() string      { return filepath.Join(c.DataDir, "site.git") }
func (c *Config) natsDir() string      { return filepath.Join(c.DataDir, "nats") }
func (c *Config) bootstrapDir() string { return filepath.Join(c.DataDir, "bootstrap.git") }
func (c *Config) accountsDir() string  { return filepath.Join(c.DataDir, "accounts") }
func (c *Config) tokenKeyFile() string { return filepath.Join(c.DataDir, "secrets", "token.key") }
func (c *Config) sessionsFile() string { return filepath.Join(c.DataDir, "secrets", "sessions.db") }
func (c *Config) catalogueFile() string {
	return filepath.Join(c.DataDir, "projections", "catalogue.db")
}
func (c *Config) historyFile() string {
	return filepath.Join(c.DataDir, "projections", "history.db")
}
func (c *Config) lfsDir() string      { return filepath.Join(c.DataDir, "lfs") }
func (c *Config) embedsFile() string  { return filepath.Join(c.DataDir, "projections", "embeds.json") }
func (c *Config) variantsDir() string { return filepath.Join(c.DataDir, "projections", "variants") }
func (c *Config) pagesFile() string   { return filepath.Join(c.DataDir, "projections", "pages.db") }
func (c *Config) searchDir() string   { return filepath.Join(c.DataDir, "projections", "search.bleve") }
func (c *Config) themeDir() string    { return filepath.Join(c.DataDir, "theme") }
func (c *Config) auditFile() string   { return filepath.Join(c.DataDir, "projections", "audit.db") }

// securityLogFile is the append-only log of account events: a secret
// (emails tried, client addresses), outside the content repository.
func (c *Config) securityLogFile() string { return filepath.Join(c.DataDir, "secrets", "security.log") }

// publicURL is where readers reach the site: --public-url, else an
// address made from --addr, on which a host that listens everywhere (none,
// 0.0.0.0, ::) is named localhost: a wildcard is where the daemon listens,
// never an address a feed reader or a Git LFS client can use.
func (c *Config) publicURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		host, port = c.Addr, ""
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	if port == "" || port == "80" {
		if strings.Contains(host, ":") {
			return "http://[" + host + "]"
		}
		return "http://" + host
	}
	return "http://" + net.JoinHostPort(host, port)
}

// publicURLWarning is what to log at start when links will not reach
// readers: --public-url unset (links are made from --addr), or a loopback
// one while listening for other machines (the container image's default);
// "" otherwise.
func (c *Config) publicURLWarning() string {
	const fix = "set --public-url (CHRONICLE_PUBLIC_URL) to the address readers use, e.g. https://blog.example.org"
	if c.PublicURL == "" {
		return fmt.Sprintf("--public-url is not set: feeds, canonical links and Git LFS links point at %s; %s", c.publicURL(), fix)
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil {
		return fmt.Sprintf("--public-url %q is not a URL; %s", c.PublicURL, fix)
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		host = c.Addr
	}
	listen, err := netip.ParseAddr(host)
	everywhere := host == "" || (err == nil && listen.IsUnspecified())
	if ip, err := netip.ParseAddr(u.Hostname()); everywhere && (u.Hostname() == "localhost" || (err == nil && ip.IsLoopback())) {
		return fmt.Sprintf("--public-url is %s while the daemon listens on %s for other machines: feeds, canonical links and Git LFS links "+
			"work only on this machine; %s", c.publicURL(), c.Addr, fix)
	}
	return ""
}

// trustedProxies parses --trusted-proxies (validate has checked it).
func (c *Config) trustedProxies() []netip.Prefix {
	var out []netip.Prefix
	for _, n := range c.TrustedProxies {
		if p, err := netip.ParsePrefix(n); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// writer parses --writer-url: an http or https URL with a host, no
// credentials (the writer judges each forwarded request by its own), no
// query; nil when unset.
func (c *Config) writer() (*url.URL, error) {
	if c.WriterURL == "" {
		return nil, nil
	}
	u, err := url.Parse(c.WriterURL)
	if err == nil && u.User != nil {
		// Not echoed: it holds a secret. Each request carries its own.
		return nil, errors.New("--writer-url: the writer's base URL takes no credentials; the writer checks each forwarded request's own")
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--writer-url: %q is not the writer's base URL such as http://10.0.0.1:8080", c.WriterURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// metrics is who may read /metrics.
func (c *Config) metrics() ops.MetricsConfig {
	allow := []netip.Prefix{}
	for _, n := range c.MetricsAllow {
		if p, err := netip.ParsePrefix(n); err == nil {
			allow = append(allow, p)
		}
	}
	return ops.MetricsConfig{AllowFrom: allow, Token: c.MetricsToken}
}

// maxConns is --max-conns, or what the process's file-descriptor limit
// leaves after a reserve for everything else the daemon opens (the
// repository and git processes, NATS, projection files, uploads): a
// reserve of an eighth of the limit, at least 512, and at most 10,000
// connections.
func (c *Config) maxConns() int {
	if c.MaxConns > 0 {
		return c.MaxConns
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return 1024
	}
	n := int(min(lim.Cur, 1<<20))
	return min(max(n-max(n/8, 512), 64), 10_000)
}

func (c *Config) bindCommon(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", "./data", "data directory: content repository, accounts, projections, NATS store")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
}

func (c *Config) bindServe(fs *pflag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.PublicURL, "public-url", "", "the site's public address, for feeds, canonical and Git LFS links (feeds and pages use settings.base_url once set; default: http://<addr>, localhost for a wildcard address)")
	fs.StringVar(&c.NatsURL, "nats-url", "", "external NATS server URL (default: an embedded server)")
	fs.BoolVar(&c.ReadOnly, "read-only", false, "serve as a read node of an external NATS cluster (needs --nats-url)")
	fs.IntVar(&c.NatsReplicas, "nats-replicas", 1, "with an external NATS cluster: how many of its servers hold the events stream and the buckets (1, 3 or 5; 3 survives one server lost)")
	fs.DurationVar(&c.StreamMaxAge, "stream-max-age", 0, "drop events older than this from the stream (0: keep them; a node that needs dropped events rebuilds from the writer's repository)")
	fs.Int64Var(&c.StreamMaxBytes, "stream-max-bytes", 0, "keep at most this many bytes of events in the stream (0: no bound)")
	fs.StringVar(&c.WriterURL, "writer-url", "", "on a read node, the writer's base URL (e.g. http://10.0.0.1:8080): API writes, the admin, git pushes and LFS uploads sent to this node are forwarded there (default: refused with a 503)")
	fs.StringVar(&c.WriterAccount, "writer-account", "", "on a read node, the email of an account on the writer whose role may use git: with --writer-token, the node clones the writer's repository when it needs events the stream no longer holds")
	fs.StringVar(&c.WriterToken, "writer-token", "", "that account's personal access token (chronicle token create; better from CHRONICLE_WRITER_TOKEN)")
	fs.IntVar(&c.ReadyMaxLag, "ready-max-lag", 100, "on a read node, /readyz answers 503 while a projection is more than this many events behind the stream")
	fs.StringVar(&c.Node, "node", "", "node name for this node's consumers on a shared NATS (default: the host name when --nats-url is set)")
	fs.IntVar(&c.ImageWorkers, "image-workers", 2, "images the media projection processes at once (bounds memory)")
	fs.IntVar(&c.MediaCacheMiB, "media-cache-mib", 1024, "on a read node, disk kept for the media originals fetched from the writer's Object Store, MiB")
	fs.IntVar(&c.MediaMaxMiB, "media-max-mib", upload.DefaultMaxMiB, "largest upload, MiB")
	fs.IntVar(&c.MediaMaxMegapixels, "media-max-megapixels", upload.DefaultMaxMegapixels, "most pixels in an uploaded image, millions")
	fs.IntVar(&c.MediaMaxSide, "media-max-side", upload.DefaultMaxSide, "longest side of an uploaded image, pixels")
	fs.BoolVar(&c.EmbedsAllowPrivate, "embeds-allow-private", false, "let embed URLs reach private and loopback addresses (for tests)")
	fs.MarkHidden("embeds-allow-private")
	fs.IntVar(&c.MaxConns, "max-conns", 0, "HTTP connections open at once (default: the file-descriptor limit less a reserve for the repository, NATS and files)")
	fs.IntVar(&c.MaxConnsPerClient, "max-conns-per-client", 256, "HTTP connections open at once from one address; 0 for no bound (behind a reverse proxy every client has its address)")
	fs.StringSliceVar(&c.MetricsAllow, "metrics-allow", []string{"127.0.0.0/8", "::1/128"}, "networks that may read /metrics without a token (behind a reverse proxy on this machine, block /metrics there or set this empty)")
	fs.StringVar(&c.MetricsToken, "metrics-token", "", "a bearer token that opens /metrics from anywhere")
	fs.StringSliceVar(&c.TrustedProxies, "trusted-proxies", nil, "networks of reverse proxies whose X-Forwarded-For names the client, for sign-in limits (e.g. 127.0.0.1/32 behind a proxy on this machine)")
	fs.StringVar(&c.OIDC.Issuer, "oidc-issuer", "", "OpenID Connect provider for the admin's sign-in, by its issuer URL (e.g. https://accounts.google.com); passwords keep working")
	fs.StringVar(&c.OIDC.ClientID, "oidc-client-id", "", "the client id this site has at the provider")
	fs.StringVar(&c.OIDC.ClientSecret, "oidc-client-secret", "", "its client secret (better from CHRONICLE_OIDC_CLIENT_SECRET)")
	fs.StringSliceVar(&c.OIDC.AllowedEmails, "oidc-allowed-emails", nil, "emails that may sign in with the provider (default: any verified email with an account here)")
	fs.StringSliceVar(&c.OIDC.AllowedDomains, "oidc-allowed-domains", nil, "email domains that may sign in with the provider (Google's hosted domain is checked too)")
	fs.StringVar(&c.OIDC.SignUpRole, "oidc-signup-role", "", "let an allowed, verified email without an account sign up with this role (needs an allow-list); default: refuse it")
	fs.StringVar(&c.OIDC.RoleClaim, "oidc-role-claim", "", "a claim (e.g. groups, also asked for as a scope) whose values name the role at every sign-in")
	fs.StringVar(&c.OIDC.Name, "oidc-name", "", "the provider's name on the sign-in button (default: Google for Google, else \"single sign-on\")")
	fs.DurationVar(&c.TokenTTL, "token-ttl", time.Hour, "lifetime of API tokens")
	fs.DurationVar(&c.ReconcileInterval, "reconcile-interval", 30*time.Second, "how often the outbox checks for unpublished commits")
	fs.Int64Var(&c.FastStartBehind, "fast-start-behind", 1000, "when the projections are at least this many commits behind the repository (empty, say), build them straight from git before consuming the stream, as rebuild does (0: always from the stream)")
	fs.DurationVar(&c.RepackInterval, "repack-interval", 10*time.Minute, "how often to check whether the repository needs repacking")
	fs.IntVar(&c.PageCacheMiB, "page-cache-mib", pages.DefaultCacheBytes>>20, "memory kept for rendered pages (with their gzip and brotli forms), MiB: the most read stay, the others are rendered again from disk when asked for")
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "serve Go's profiles (net/http/pprof: heap, goroutines, CPU) on this loopback address, e.g. 127.0.0.1:6060 (default: off; never on --addr)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long to let requests finish on shutdown")
}

// validate checks the configuration before anything starts.
func (c *Config) validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data must not be empty"))
	} else if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs // git http-backend and hooks run in other folders
	}
	if c.MediaMaxMiB < 0 || c.MediaMaxMegapixels < 0 || c.MediaMaxSide < 0 {
		errs = append(errs, errors.New("media limits must be positive"))
	}
	for _, n := range c.MetricsAllow {
		if _, err := netip.ParsePrefix(n); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-allow: %q is not a network such as 10.0.0.0/8", n))
		}
	}
	for _, n := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(n); err != nil {
			errs = append(errs, fmt.Errorf("--trusted-proxies: %q is not a network such as 127.0.0.1/32", n))
		}
	}
	if c.OIDC.Issuer != "" {
		if err := c.oidc().Validate(); err != nil {
			errs = append(errs, fmt.Errorf("--oidc-*: %w", err))
		}
	}
	switch c.NatsReplicas {
	case 0, 1, 3, 5: // 0: the default, 1
	default:
		errs = append(errs, fmt.Errorf("--nats-replicas must be 1, 3 or 5, not %d", c.NatsReplicas))
	}
	if c.NatsReplicas > 1 && c.NatsURL == "" {
		errs = append(errs, errors.New("--nats-replicas above 1 needs --nats-url: the embedded server is one server"))
	}
	if c.StreamMaxAge < 0 || c.StreamMaxBytes < 0 {
		errs = append(errs, errors.New("--stream-max-age and --stream-max-bytes may not be negative"))
	}
	if c.ReadOnly && c.NatsURL == "" {
		errs = append(errs, errors.New("--read-only needs --nats-url: a read node consumes a shared stream"))
	}
	if c.WriterURL != "" {
		if !c.ReadOnly {
			errs = append(errs, errors.New("--writer-url is for a read node (--read-only): a writer takes its writes itself"))
		}
		if _, err := c.writer(); err != nil {
			errs = append(errs, err)
		}
	}
	if (c.WriterAccount != "" || c.WriterToken != "") && (c.WriterAccount == "" || c.WriterToken == "" || c.WriterURL == "") {
		errs = append(errs, errors.New("--writer-account and --writer-token go together, with --writer-url: they let a read node clone the writer's repository"))
	}
	if c.DebugAddr != "" {
		if err := checkLoopback(c.DebugAddr); err != nil {
			errs = append(errs, err)
		}
	}
	if c.PageCacheMiB < 0 {
		errs = append(errs, errors.New("--page-cache-mib may not be negative"))
	}
	if c.ReadyMaxLag < 0 {
		errs = append(errs, errors.New("--ready-max-lag may not be negative"))
	}
	if c.NatsURL != "" && c.Node == "" {
		h, _ := os.Hostname()
		c.Node = sanitizeNode(h)
	}
	return errors.Join(errs...)
}

func sanitizeNode(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// applyEnv sets every flag not given on the command line from its
// CHRONICLE_* variable: --nats-url from CHRONICLE_NATS_URL.
func applyEnv(fs *pflag.FlagSet) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" {
			return
		}
		env := "CHRONICLE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
		}
	})
	return errors.Join(errs...)
}

// oidc is the OIDC client's configuration, the callback at the public URL.
func (c *Config) oidc() oidc.Config {
	return oidc.Config{Issuer: c.OIDC.Issuer, ClientID: c.OIDC.ClientID, ClientSecret: c.OIDC.ClientSecret,
		RedirectURL: c.publicURL() + "/admin/login/oidc/callback", AllowedEmails: c.OIDC.AllowedEmails,
		AllowedDomains: c.OIDC.AllowedDomains, SignUpRole: c.OIDC.SignUpRole, RoleClaim: c.OIDC.RoleClaim,
		Roles: roleNames(), Name: c.OIDC.Name}
}

// roleNames are the roles, lowest first, as an identity provider's
// claim names them.
func roleNames() []string {
	var names []string
	for _, r := range policy.Roles() {
		names = append(names, string(r))
	}
	return names
}
