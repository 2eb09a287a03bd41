package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// starting answers on the daemon's listener while it prepares (opens
// NATS, builds the projections from git), so that a probe sees a 503
// and the reason rather than a refused connection: /healthz 200,
// /readyz 503 with what the daemon is doing, everything else 503 with
// Retry-After. Stop hands the listener, still open, to the real server;
// connections arriving in between wait in the kernel's queue.
type starting struct {
	srv    *http.Server
	ln     *handoff
	done   chan struct{}
	status atomic.Pointer[string]
	once   sync.Once
}

// serveStarting starts answering on ln.
func serveStarting(ln *net.TCPListener, log *slog.Logger) *starting {
	s := &starting{ln: &handoff{TCPListener: ln}, done: make(chan struct{})}
	s.Set("starting")
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("answering while starting", "err", err)
		}
	}()
	return s
}

// Set says what the daemon is doing now (shown by /readyz).
func (s *starting) Set(status string) { s.status.Store(&status) }

func (s *starting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/healthz":
		w.Write([]byte("ok\n"))
	case "/readyz":
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", *s.status.Load())
	default:
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("503 Service Unavailable: the site is starting, try again in a moment\n"))
	}
}

// Stop ends the answers of starting (waiting up to a few seconds for
// those under way) and leaves the listener open for the real server.
// It can be called more than once.
func (s *starting) Stop() {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.srv.Shutdown(ctx) // closes the handoff, not the listener
		<-s.done
		s.ln.TCPListener.SetDeadline(time.Time{})
	})
}

// handoff is a listener whose Close ends Accept without closing the
// socket: a deadline in the past wakes the Accept under way.
type handoff struct {
	*net.TCPListener
	closed atomic.Bool
}

func (h *handoff) Accept() (net.Conn, error) {
	c, err := h.TCPListener.Accept()
	if h.closed.Load() {
		if err == nil {
			// Accepted as the handoff closed: the real server gets no
			// chance at it, so it is closed and the client retries.
			c.Close()
		}
		return nil, net.ErrClosed
	}
	return c, err
}

func (h *handoff) Close() error {
	h.closed.Store(true)
	return h.TCPListener.SetDeadline(time.Now())
}
