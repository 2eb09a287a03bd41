// Package front owns the daemon's listener: a fasthttp server answers
// rendered public pages from the page cache, and hands every other
// request, with its connection, to the net/http server that runs the
// router. It also bounds the connections open at once, in all and per
// client.
package front

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
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/chronicle-cms/chronicle/projections/pages"
	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/site"
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
	pages   Pages // nil: no fast side for pages
	observe prometheus.Observer
	slow    *http.Server
	fast    *fasthttp.Server
	log     *slog.Logger

	fastQ, slowQ *connQueue
	headerWait   time.Duration
	conns        *connLimit

	mu sync.Mutex
	ln net.Listener
}

// Pages is where the fast side finds rendered pages by their exact path.
type Pages interface {
	Cached(path string) *pages.Page
	Lookup(path string) *pages.Page
}

// PageSource is a handler whose rendered pages the fast side may answer
// itself (webui's router): the pages (nil for none) and what times them.
type PageSource interface {
	FastPages() (Pages, prometheus.Observer)
}

// Config sets the limits of the fasthttp side (the net/http side
// keeps those of its http.Server; give both the same values) and of the
// connections the front accepts.
type Config struct {
	// MaxBody bounds a body that follows a page on the same connection
	// (a browser's form): fasthttp never reads such a body whole, it
	// streams it to net/http, whose handler applies its route's limit.
	MaxBody int
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int
	// ReadHeaderTimeout bounds the wait for a new connection's first
	// bytes and a request's headers, on both servers; ReadTimeout a
	// request's body; IdleTimeout a kept-alive connection.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxConns bounds the connections open at once, MaxConnsPerClient
	// those from one address (0: no bound). Connections past a bound are
	// closed as soon as they are accepted, so that one client cannot use
	// up the process's file descriptors (readers, sign-in, git and the
	// outbox all need some).
	MaxConns, MaxConnsPerClient int
	// Refused, if set, counts connections closed for a bound.
	Refused func()
	Logger  *slog.Logger
}

// New returns a front for handler (what webui.New returns), whose other
// requests are served by srv (its Handler is set to handler). When
// handler is a PageSource, rendered pages are answered on the fast side.
func New(handler http.Handler, srv *http.Server, cfg Config) *Front {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv.Handler = handler
	f := &Front{slow: srv, log: cfg.Logger, headerWait: cfg.ReadHeaderTimeout,
		fastQ: newConnQueue(), slowQ: newConnQueue(),
		conns: &connLimit{max: cfg.MaxConns, perClient: cfg.MaxConnsPerClient, byAddr: map[string]int{}, refused: cfg.Refused}}
	bodyTimeout := cfg.ReadTimeout
	if ps, ok := handler.(PageSource); ok {
		f.pages, f.observe = ps.FastPages()
	}
	f.fast = &fasthttp.Server{
		Handler:               f.serveFast,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		ReadBufferSize:        cfg.MaxHeaderBytes,
		// A page and its headers leave in one write (the default 4 KiB
		// buffer split a 7 KiB page in two, costing a third of the rate).
		WriteBufferSize: 32 << 10,
		// Idle connections give their buffers back to the pools: a
		// thousand kept-alive readers must not hold 96 KiB each.
		ReduceMemoryUsage: true,
		// A body is never read whole here, and never allocated from its
		// declared length: fasthttp reads at most its first 8 KiB (or
		// what MaxBody allows) before the handler, which hands the
		// request over; net/http streams the rest to the route's handler.
		// Multipart forms are not parsed ahead either.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		MaxRequestBodySize:           max(cfg.MaxBody, 1),
		// fasthttp's ReadTimeout runs from a request's first byte to the
		// end of its headers (and the body's first bytes): the header
		// timeout of net/http. A request with a body gets ReadTimeout.
		ReadTimeout: cfg.ReadHeaderTimeout,
		HeaderReceived: func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
			if declaresBody(h) && bodyTimeout > 0 {
				return fasthttp.RequestConfig{ReadTimeout: bodyTimeout}
			}
			return fasthttp.RequestConfig{}
		},
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		CloseOnShutdown:   true,
		KeepHijackedConns: true, // handed over: net/http closes them
		Logger:            fastLogger{cfg.Logger},
		// Reported by fasthttp when it answers a request itself (bad
		// syntax, headers too large, a timeout) — the client sees only
		// the status.
		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			status := fasthttp.StatusBadRequest
			var small *fasthttp.ErrSmallBuffer
			switch {
			case errors.Is(err, fasthttp.ErrBodyTooLarge):
				status = fasthttp.StatusRequestEntityTooLarge
			case errors.As(err, &small):
				status = fasthttp.StatusRequestHeaderFieldsTooLarge
			case isTimeout(err):
				status = fasthttp.StatusRequestTimeout
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
		tc, ok := f.conns.admit(c)
		if !ok {
			c.Close()
			continue
		}
		go f.route(tc)
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
	raw := ctx.Request.Header.RawHeaders()
	if headerCount(raw, "host") > 1 {
		// fasthttp keeps the last Host where net/http refuses: refuse
		// here too, so both sides read a request the same way.
		ctx.Error("400 Bad Request: more than one Host header\n", fasthttp.StatusBadRequest)
		ctx.SetConnectionClose()
		return
	}
	if (ctx.IsGet() || ctx.IsHead()) && declaresBody(&ctx.Request.Header) {
		// No route that reads takes a body: refuse it before a byte of it
		// is kept, and close, since the body would follow.
		ctx.Error("413 Content Too Large: a GET or HEAD request carries no body\n", fasthttp.StatusRequestEntityTooLarge)
		ctx.SetConnectionClose()
		return
	}
	if f.pages != nil && (ctx.IsGet() || ctx.IsHead()) {
		// Only the exact path of a page: anything a router would clean,
		// decode or redirect first is the router's.
		uri := string(ctx.Request.Header.RequestURI())
		pg := f.pages.Cached(uri)
		if pg == nil && pages.Serves(uri) {
			// Render it here: handing the connection over at every page
			// an edit dropped would move busy connections to net/http.
			pg = f.pages.Lookup(uri)
		}
		if pg != nil && pg.Location == "" {
			start := time.Now()
			writeFastPage(ctx, pg)
			f.observe.Observe(time.Since(start).Seconds())
			return
		}
	}
	f.handOver(ctx)
}

// writeFastPage is site.ServePage for fasthttp.
func writeFastPage(ctx *fasthttp.RequestCtx, pg *pages.Page) {
	in := &ctx.Request.Header
	hdr, body, status := site.PickPage(pg, string(in.Peek("Accept-Encoding")), string(in.Peek("If-None-Match")), string(in.Peek("If-Modified-Since")))
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
// net/http server. The request goes over as it arrived — its request
// line, its headers byte for byte (a second Host, say, is net/http's to
// refuse), and its body still framed as the client sent it — so that
// net/http parses it once and streams its body to the handler. fasthttp
// has read at most the first few KiB of a body, which go first.
func (f *Front) handOver(ctx *fasthttp.RequestCtx) {
	hdr := &ctx.Request.Header
	raw := hdr.RawHeaders()
	if ctx.Request.MayContinue() {
		// fasthttp answered "Expect: 100-continue" already: no second 100.
		raw = dropHeader(raw, "expect")
	}
	var b bytes.Buffer
	b.Grow(len(hdr.Method()) + len(hdr.RequestURI()) + len(hdr.Protocol()) + 4 + len(raw))
	b.Write(hdr.Method())
	b.WriteByte(' ')
	b.Write(hdr.RequestURI())
	b.WriteByte(' ')
	b.Write(hdr.Protocol())
	b.WriteString("\r\n")
	b.Write(raw)
	prefix := b.Bytes()
	// A body with a length: fasthttp's stream holds its first bytes
	// (read ahead, and unframed only in the sense that a length-framed
	// body has no framing). A chunked one it has not touched.
	stream := ctx.RequestBodyStream()
	if hdr.ContentLength() <= 0 {
		stream = nil
	}
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		// fasthttp reuses its read buffer once this returns (and with
		// KeepHijackedConns leaves the socket alone): take out what it
		// read ahead — the body's first bytes, pipelined requests — and
		// give net/http the connection route made, never fasthttp's
		// wrapper.
		pc, ok := socket(c).(*peekedConn)
		if !ok {
			c.Close()
			return
		}
		if err := pc.SetReadDeadline(time.Unix(1, 0)); err != nil {
			pc.Close()
			return
		}
		if stream != nil {
			// Only what is in memory: with the deadline past, a read
			// that would wait for the client fails at once.
			prefix = appendAvailable(prefix, stream)
		}
		prefix = appendAvailable(prefix, c)
		if err := pc.SetReadDeadline(time.Time{}); err != nil {
			pc.Close()
			return
		}
		f.slowQ.push(&handedConn{peekedConn: pc, prefix: prefix})
	})
}

// appendAvailable appends to out what r gives until its first error: the
// caller has put the socket's read deadline in the past, so that is what
// r holds in memory.
func appendAvailable(out []byte, r io.Reader) []byte {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out // the deadline, the end, or the client gone: net/http sees which
		}
	}
}

// headerCount counts the header lines named name (lower case) in raw
// headers.
func headerCount(raw []byte, name string) int {
	n := 0
	for line := range bytes.Lines(raw) {
		if len(line) > len(name) && line[len(name)] == ':' && bytes.EqualFold(line[:len(name)], []byte(name)) {
			n++
		}
	}
	return n
}

// dropHeader returns raw headers without the lines named name.
func dropHeader(raw []byte, name string) []byte {
	out := make([]byte, 0, len(raw))
	for line := range bytes.Lines(raw) {
		if k, _, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(bytes.TrimSpace(k)), name) {
			continue
		}
		out = append(out, line...)
	}
	return out
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

// fastLogger passes fasthttp's messages to slog at debug level: what it
// reports is one connection's trouble (a client gone, a timeout, bad
// syntax), which its client was told; a line per such connection would
// let anyone fill the log.
type fastLogger struct{ log *slog.Logger }

func (l fastLogger) Printf(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...), "server", "fasthttp")
}

// declaresBody reports whether a request has a body to read: a length
// (fasthttp gives -2 for none) or chunks (-1).
func declaresBody(h *fasthttp.RequestHeader) bool {
	n := h.ContentLength()
	return n > 0 || n == -1
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// connLimit bounds the connections open at once, in all and per client
// address.
type connLimit struct {
	max, perClient int
	refused        func()

	mu     sync.Mutex
	total  int
	byAddr map[string]int
}

// admit counts c in, or reports false when a bound is reached. The
// returned connection counts itself out when closed.
func (l *connLimit) admit(c net.Conn) (net.Conn, bool) {
	if l.max <= 0 && l.perClient <= 0 {
		return c, true
	}
	addr := clientKey(c.RemoteAddr())
	l.mu.Lock()
	if (l.max > 0 && l.total >= l.max) || (l.perClient > 0 && l.byAddr[addr] >= l.perClient) {
		l.mu.Unlock()
		if l.refused != nil {
			l.refused()
		}
		return nil, false
	}
	l.total++
	l.byAddr[addr]++
	l.mu.Unlock()
	return &countedConn{Conn: c, release: func() {
		l.mu.Lock()
		l.total--
		if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
			delete(l.byAddr, addr)
		}
		l.mu.Unlock()
	}}, true
}

// clientKey is what counts as one client: an IPv4 address, or an IPv6
// /64 (one host is commonly given a whole /64, so its single addresses
// would be free for the taking).
func clientKey(a net.Addr) string {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return a.String()
	}
	return auth.ClientOfIP(ap.Addr())
}

// countedConn gives its place back once, at its first Close.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

func (c *countedConn) CloseWrite() error                   { return closeWrite(c.Conn) }
func (c *countedConn) ReadFrom(r io.Reader) (int64, error) { return readFrom(c.Conn, r) }
