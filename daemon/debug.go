package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"time"
)

// debugServer serves Go's profiles (net/http/pprof) on its own listener
// and mux, never the public one: heap, goroutines and CPU show what a
// running daemon spends its memory and time on. It listens on loopback
// only, since a profile shows the process's insides and a CPU profile
// costs a core while it runs. It starts first, so a long start can be
// profiled too. The returned stop closes it.
func debugServer(addr string, log *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on --debug-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also heap, goroutine, allocs… by name
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("debug server stopped", "err", err)
		}
	}()
	log.Info("debug server (pprof) listening", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// checkLoopback refuses a debug address that is not on loopback.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--debug-addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--debug-addr %q must be a loopback address (127.0.0.1:PORT or [::1]:PORT): profiles show the process's insides", addr)
	}
	return nil
}

// releaseAfterStart gives the memory the start used back to the system
// once settled() holds (every projection caught up and idle, the
// backlog published). Reading a long history into the projections grows
// the heap several times what the site then needs, and Go returns the
// rest over minutes; an operator watching memory after a start should see
// what the daemon keeps. It waits at most an hour.
func releaseAfterStart(ctx context.Context, settled func() bool, log *slog.Logger) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for range 3600 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if settled() {
			debug.FreeOSMemory()
			log.Info("start settled: memory it used returned to the system")
			return
		}
	}
}
