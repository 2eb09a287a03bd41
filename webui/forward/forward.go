// Package forward answers, on a read node, the requests only the writer
// can: every API write (POST, PUT, PATCH, DELETE under /api/v1, sign-in
// for a token included), the whole admin (/admin/: its sessions are the
// writer's) and all of git and Git LFS (/git/: a read node has no
// repository). With the writer's URL they are sent there through
// net/http/httputil's ReverseProxy, bodies streamed, and the client gets
// the writer's answer; an API write that asks "Prefer: wait" is answered
// once this node's projections applied it too. Without the URL each is
// refused with a 503 that says where writes go.
package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/webui/api"
	"github.com/chronicle-cms/chronicle/webui/httperr"
)

// Waiter tells when this node's projections have applied a write.
type Waiter interface {
	WaitFor(ctx context.Context, c events.Cursor) error
}

// Config is what forwarding needs.
type Config struct {
	// Writer is the writer's base URL (scheme and host; a path prefix is
	// kept); nil: writes are refused with a 503.
	Writer *url.URL
	Waiter Waiter // this node's projections; nil: "Prefer: wait" is not honoured here
	Logger *slog.Logger
	// Transport reaches the writer; default one with bounded dial,
	// handshake and response-header waits.
	Transport http.RoundTripper
	// ResponseTimeout bounds the wait for the writer's answer once the
	// request is sent (the default Transport's); default 60 s, the
	// daemon's own write timeout.
	ResponseTimeout time.Duration
}

// Mount routes, on r (the root router, before the areas it stands in
// for), what a read node cannot answer itself.
func Mount(r *mux.Router, cfg Config) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var h http.Handler
	if cfg.Writer != nil {
		h = newProxy(cfg)
	} else {
		h = refuse{}
	}
	r.PathPrefix("/api/v1/").MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool {
		// Without a writer a token is still issued from this node's own
		// accounts, for what a signed-in reader may read here.
		return isWrite(req) && (cfg.Writer != nil || req.URL.Path != "/api/v1/auth/token")
	}).Handler(h)
	r.Path("/admin").Handler(h)
	r.PathPrefix("/admin/").Handler(h)
	r.PathPrefix("/git/").Handler(h)
}

// isWrite reports whether req may change something: any method but the
// safe ones.
func isWrite(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// forwarded is what the answer to a forwarded request needs to know of
// it, kept in the outbound request's context: when it arrived (the
// client's "Prefer: wait" budget counts from then) and whether it is an
// API write.
type forwarded struct {
	start time.Time
	api   bool
}

type forwardedKey struct{}

func newProxy(cfg Config) *httputil.ReverseProxy {
	if cfg.ResponseTimeout <= 0 {
		cfg.ResponseTimeout = 60 * time.Second
	}
	if cfg.Transport == nil {
		cfg.Transport = &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: cfg.ResponseTimeout,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   64,
			ForceAttemptHTTP2:     true,
		}
	}
	writer := cfg.Writer.Redacted()
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(cfg.Writer)
			// The site's own host, not the writer's: both serve the same
			// site, and the admin's cross-origin check compares a form's
			// Origin with it.
			pr.Out.Host = pr.In.Host
			// The chain so far, then this node's peer: the writer trusts
			// (--trusted-proxies) only what its trusted proxies appended.
			pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			pr.SetXForwarded()
			f := forwarded{start: time.Now(), api: strings.HasPrefix(pr.In.URL.Path, "/api/v1/")}
			pr.Out = pr.Out.WithContext(context.WithValue(pr.Out.Context(), forwardedKey{}, f))
		},
		Transport:     cfg.Transport,
		FlushInterval: -1, // git's progress and remote: lines as they come
		ErrorLog:      slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
		ModifyResponse: func(resp *http.Response) error {
			return readYourWrite(resp, cfg.Waiter, cfg.Logger)
		},
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			if req.Context().Err() != nil {
				return // the client went away
			}
			cfg.Logger.Warn("forwarding to the writer failed", "writer", writer, "method", req.Method, "path", req.URL.Path, "err", err)
			status, what := http.StatusBadGateway, "did not answer"
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				status, what = http.StatusGatewayTimeout, "did not answer in time"
			}
			answer(w, req, status, fmt.Sprintf("this is a read node; it forwards writes to the writer at %s, which %s: try again shortly", writer, what))
		},
	}
}

// readYourWrite, for an API write the client asked to wait for, holds
// the writer's answer until this node's projections applied the write,
// within what is left of the client's budget. Preference-Applied is this
// node's to give: the writer's (about its own projections) is dropped.
func readYourWrite(resp *http.Response, w Waiter, log *slog.Logger) error {
	req := resp.Request
	f, ok := req.Context().Value(forwardedKey{}).(forwarded)
	if !ok || !f.api {
		return nil
	}
	resp.Header.Del("Preference-Applied")
	d := api.PreferWait(req.Header)
	if d == 0 || w == nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil
	}
	c, err := api.ParseCursor(resp.Header.Get(api.CursorHeader))
	if err != nil {
		if resp.Header.Get(api.CursorHeader) != "" {
			log.Warn("the writer's answer has a cursor this node cannot read", "err", err)
		}
		return nil
	}
	ctx, cancel := context.WithDeadline(req.Context(), f.start.Add(d))
	defer cancel()
	if err := w.WaitFor(ctx, c); err != nil {
		log.Info("a forwarded write was answered before this node applied it", "cursor", api.FormatCursor(c), "err", err)
		return nil
	}
	resp.Header.Set("Preference-Applied", fmt.Sprintf("wait=%d", int(d.Seconds())))
	return nil
}

// refuse answers what only the writer can do on a node that does not
// know where the writer is.
type refuse struct{}

func (refuse) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	what := "send writes to the writer"
	if strings.HasPrefix(r.URL.Path, "/admin") {
		what = "use the admin on the writer"
	} else if strings.HasPrefix(r.URL.Path, "/git/") {
		what = "use git with the writer"
	}
	answer(w, r, http.StatusServiceUnavailable, "this is a read node; "+what+
		" (or start this node with --writer-url, CHRONICLE_WRITER_URL, to forward it there)")
}

// answer writes a failure as the area's clients read it: a plain line for
// git (it prints it as "remote: …"), Git LFS's JSON for LFS, problem+json
// for the API and the admin.
func answer(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Retry-After", "5")
	switch {
	case strings.HasPrefix(r.URL.Path, "/git/site.git/info/lfs/"):
		w.Header().Set("Content-Type", "application/vnd.git-lfs+json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"message": msg})
	case strings.HasPrefix(r.URL.Path, "/git/"):
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, msg, status)
	default:
		e := httperr.New(status, "%s", msg)
		e.Instance = r.URL.Path
		httperr.WriteProblem(w, r, e)
	}
}
