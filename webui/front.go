package webui

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/chronicle-cms/chronicle/projections/pages"
)

// Front owns the daemon's listener and puts two HTTP servers behind it.
//
// Requests for rendered pages are most of a site's traffic, and Go's
// net/http spends several times the CPU of nginx on each (headers in maps,
// sorted and cloned per response): on two cores the daemon answered a
// half to three fifths of nginx's rate for the same bytes.
// So connections that open with GET or HEAD are served by fasthttp, which
// answers a rendered page straight from the page cache. The first request
// on such a connection that is anything else — an API call, git, search,
// media, a form — is handed over with its bytes to the net/http server
// that runs the router, and the connection stays there. Connections that
// open with another method (API writes, pushes) go to net/http at once,
// so fasthttp never reads a large body.
type Front struct {
	router *Router
	slow   *http.Server
	fast   *fasthttp.Server
	log    *slog.Logger

	fastQ, slowQ *connQueue
	headerWait   time.Duration

	mu sync.Mutex
	ln net.Listener
}

// FrontConfig sets the limits of the fasthttp side; the net/http side
// keeps those of its http.Server.
type FrontConfig struct {
	// MaxBody bounds a body fasthttp reads before handing its request
	// over: only a request that follows a page on the same connection
	// (a browser's form) has one. Larger ones are refused with 413.
	MaxBody int
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int
	// ReadHeaderTimeout bounds the wait for a new connection's first
	// bytes and a request's headers; IdleTimeout a kept-alive connection.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	Logger                                                    *slog.Logger
}

// NewFront returns a front for handler (what New returns), whose other
// requests are served by srv (its Handler is set to handler).
func NewFront(handler http.Handler, srv *http.Server, cfg FrontConfig) *Front {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv.Handler = handler
	f := &Front{slow: srv, log: cfg.Logger, headerWait: cfg.ReadHeaderTimeout,
		fastQ: newConnQueue(), slowQ: newConnQueue()}
	f.router, _ = handler.(*Router)
	f.fast = &fasthttp.Server{
		Handler:               f.serveFast,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		ReadBufferSize:        cfg.MaxHeaderBytes,
		// A page and its headers leave in one write (the default 4 KiB
		// buffer split a 7 KiB page in two, costing a third of the rate).
		WriteBufferSize:    32 << 10,
		MaxRequestBodySize: cfg.MaxBody,
		ReadTimeout:        cfg.ReadTimeout,
		WriteTimeout:       cfg.WriteTimeout,
		IdleTimeout:        cfg.IdleTimeout,
		CloseOnShutdown:    true,
		KeepHijackedConns:  true, // handed over: net/http closes them
		Logger:             fastLogger{cfg.Logger},
		// Reported by fasthttp when it answers a request itself (bad
		// syntax, body too large) — the client sees only the status.
		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			status := fasthttp.StatusBadRequest
			if errors.Is(err, fasthttp.ErrBodyTooLarge) {
				status = fasthttp.StatusRequestEntityTooLarge
			}
			ctx.Error(fasthttp.StatusMessage(status)+"\n", status)
			ctx.SetConnectionClose()
		},
	}
	return f
}

// Serve accepts connections on ln until Shutdown; it returns
// http.ErrServerClosed then.
func (f *Front) Serve(ln net.Listener) error {
	f.mu.Lock()
	f.ln = ln
	f.mu.Unlock()
	f.fastQ.addr, f.slowQ.addr = ln.Addr(), ln.Addr()
	errs := make(chan error, 2)
	go func() { errs <- f.fast.Serve(f.fastQ) }()
	go func() { errs <- f.slow.Serve(f.slowQ) }()
	delay := time.Duration(0)
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return http.ErrServerClosed
		}
		if err != nil {
			// Out of file descriptors and the like: wait and go on, as
			// net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			f.log.Warn("accept", "err", err, "retry_in", delay)
			select {
			case err := <-errs:
				return fmt.Errorf("http server: %w", err)
			case <-time.After(delay):
			}
			continue
		}
		delay = 0
		go f.route(c)
	}
}

// route gives a new connection to fasthttp if it opens with GET or HEAD,
// to net/http otherwise.
func (f *Front) route(c net.Conn) {
	if f.headerWait > 0 {
		c.SetReadDeadline(time.Now().Add(f.headerWait))
	}
	br := bufio.NewReaderSize(c, 16)
	head, err := br.Peek(5)
	if err != nil {
		c.Close() // nothing, or not HTTP, within the wait
		return
	}
	c.SetReadDeadline(time.Time{})
	pc := &peekedConn{Conn: c, r: br}
	if string(head) == "GET /" || string(head) == "HEAD " {
		f.fastQ.push(pc)
	} else {
		f.slowQ.push(pc)
	}
}

// serveFast answers a rendered page, or hands the connection over.
func (f *Front) serveFast(ctx *fasthttp.RequestCtx) {
	if f.router != nil && f.router.fast != nil && (ctx.IsGet() || ctx.IsHead()) {
		// Only the exact path of a page: anything a router would clean,
		// decode or redirect first is the router's.
		uri := string(ctx.Request.Header.RequestURI())
		pg := f.router.fast.h.cfg.Pages.Cached(uri)
		if pg == nil && pages.Serves(uri) {
			// Render it here: handing the connection over at every page
			// an edit dropped would move busy connections to net/http.
			pg = f.router.fast.h.cfg.Pages.Lookup(uri)
		}
		if pg != nil && pg.Location == "" {
			start := time.Now()
			writeFastPage(ctx, pg)
			f.router.fast.observe.Observe(time.Since(start).Seconds())
			return
		}
	}
	f.handOver(ctx)
}

// writeFastPage is servePage for fasthttp.
func writeFastPage(ctx *fasthttp.RequestCtx, pg *pages.Page) {
	in := &ctx.Request.Header
	hdr, body, status := pickPage(pg, string(in.Peek("Accept-Encoding")), string(in.Peek("If-None-Match")), string(in.Peek("If-Modified-Since")))
	out := &ctx.Response.Header
	for k, v := range hdr {
		switch {
		case k == "Content-Length":
			continue // fasthttp writes the body's
		case k == "Content-Type":
			out.SetContentType(v[0])
			continue
		case k == "Content-Encoding" && status == http.StatusNotModified:
			continue
		}
		for _, x := range v {
			out.Add(k, x)
		}
	}
	ctx.SetStatusCode(status)
	if status != http.StatusNotModified {
		ctx.Response.SetBodyRaw(body) // HEAD: fasthttp sends the length only
	}
}

// handOver gives the connection, starting with ctx's request, to the
// net/http server.
func (f *Front) handOver(ctx *fasthttp.RequestCtx) {
	req := &ctx.Request
	// fasthttp has read the body (de-chunked) and answered any "Expect:
	// 100-continue": pass the body with its length, and no second 100.
	req.Header.Del("Expect")
	body := req.Body()
	if len(body) > 0 || req.Header.ContentLength() != 0 {
		req.Header.SetContentLength(len(body))
	}
	var b bytes.Buffer
	b.Grow(len(req.Header.Header()) + len(body))
	b.Write(req.Header.Header())
	b.Write(body)
	prefix := b.Bytes()
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		// fasthttp reuses its read buffer once this returns (and with
		// KeepHijackedConns leaves the socket alone): take out what it
		// read ahead — pipelined requests — and give net/http the
		// connection route made, never fasthttp's wrapper.
		pc, ok := socket(c).(*peekedConn)
		if !ok {
			c.Close()
			return
		}
		ahead, err := readAhead(c, pc)
		if err != nil {
			pc.Close()
			return
		}
		f.slowQ.push(&handedConn{peekedConn: pc, prefix: append(prefix, ahead...)})
	})
}

// readAhead returns what hijacked (fasthttp's connection) holds in its
// buffer, without waiting for the socket pc: a deadline in the past makes
// the first read that would reach the socket fail at once.
func readAhead(hijacked net.Conn, pc *peekedConn) ([]byte, error) {
	if err := pc.SetReadDeadline(time.Unix(1, 0)); err != nil {
		return nil, err
	}
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := hijacked.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			break // the deadline, or the client gone: net/http sees which
		}
	}
	return out, pc.SetReadDeadline(time.Time{})
}

// Shutdown stops accepting, then shuts both servers down: requests in
// flight finish, idle connections close.
func (f *Front) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	if f.ln != nil {
		f.ln.Close()
	}
	f.mu.Unlock()
	var fastErr error
	done := make(chan struct{})
	go func() { fastErr = f.fast.ShutdownWithContext(ctx); close(done) }()
	slowErr := f.slow.Shutdown(ctx)
	<-done
	return errors.Join(fastErr, slowErr)
}

// connQueue is a net.Listener fed by Front.
type connQueue struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newConnQueue() *connQueue {
	return &connQueue{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error { q.once.Do(func() { close(q.done) }); return nil }

func (q *connQueue) Addr() net.Addr { return q.addr }

// push hands c to the queue's server; after Close it closes c instead.
func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.done:
		c.Close()
		return false
	}
}

// peekedConn reads what route peeked before the rest of the connection.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// CloseWrite and ReadFrom keep what net/http does with a TCP connection:
// half-closing before closing (so that a client still sending gets the
// response, not a reset) and sendfile for files. Writes are not wrapped,
// so both go to the socket itself.
func (c *peekedConn) CloseWrite() error                   { return closeWrite(c.Conn) }
func (c *handedConn) CloseWrite() error                   { return closeWrite(socket(c.Conn)) }
func (c *peekedConn) ReadFrom(r io.Reader) (int64, error) { return readFrom(c.Conn, r) }
func (c *handedConn) ReadFrom(r io.Reader) (int64, error) { return readFrom(socket(c.Conn), r) }

// socket unwraps a connection fasthttp hijacked: what route gave it.
func socket(c net.Conn) net.Conn {
	if u, ok := c.(interface{ UnsafeConn() net.Conn }); ok {
		return u.UnsafeConn()
	}
	return c
}

func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func readFrom(c net.Conn, r io.Reader) (int64, error) {
	if rf, ok := c.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c}, r)
}

// handedConn is a connection handed from fasthttp to net/http: the
// requests fasthttp read, then the rest of the connection.
type handedConn struct {
	*peekedConn
	prefix []byte
}

func (c *handedConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.peekedConn.Read(p)
}

// fastLogger passes fasthttp's messages to slog.
type fastLogger struct{ log *slog.Logger }

func (l fastLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...), "server", "fasthttp")
}
