package webui_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/webui/front"
)

// startFront serves the daemon's handler through a Front on a real
// listener, with one published post whose page is rendered.
func startFront(t *testing.T) (addr string, shutdown func() error) {
	t.Helper()
	return startFrontWith(t, front.Config{MaxBody: 1 << 20, MaxHeaderBytes: 16 << 10, ReadHeaderTimeout: 300 * time.Millisecond,
		IdleTimeout: time.Minute})
}

// startFrontWith is startFront with a configuration of its own; the
// net/http side gets the same header limits and timeouts.
func startFrontWith(t *testing.T, cfg front.Config) (addr string, shutdown func() error) {
	t.Helper()
	h, pg := newHandler(t)
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	d, _ := json.Marshal(events.PostData{Post: content.Post{ID: "p1", Slug: "hello", Title: "Hello front", Content: strings.Repeat("Words words. ", 900),
		Status: content.Published, PublishedAt: &at, CreatedAt: at, UpdatedAt: at}})
	e := events.Event{ID: "1", Type: events.PostCreated, Height: 1, Count: 1, Schema: 1, Data: d}
	if err := pg.Apply(context.Background(), []events.Event{e}, projections.Checkpoint{Cursor: e.Cursor(), Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if pg.Lookup("/posts/hello") == nil || pg.Cached("/posts/hello") == nil {
		t.Fatal("the post's page is not rendered")
	}
	srv := &http.Server{ReadHeaderTimeout: cfg.ReadHeaderTimeout, ReadTimeout: cfg.ReadTimeout, IdleTimeout: cfg.IdleTimeout,
		MaxHeaderBytes: cfg.MaxHeaderBytes, ErrorLog: slog.NewLogLogger(slog.DiscardHandler, slog.LevelWarn)}
	f := front.New(h, srv, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- f.Serve(ln) }()
	stopped := false
	shutdown = func() error {
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.Shutdown(ctx); err != nil {
			return err
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	t.Cleanup(func() {
		if !stopped {
			shutdown()
		}
	})
	return ln.Addr().String(), shutdown
}

// exchange writes raw requests on one connection and reads one response
// per method given, in order.
func exchange(t *testing.T, c net.Conn, br *bufio.Reader, raw string, methods ...string) []*http.Response {
	t.Helper()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	var out []*http.Response
	for _, m := range methods {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, &http.Request{Method: m})
		if err != nil {
			t.Fatalf("response %d: %v", len(out)+1, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		out = append(out, resp)
	}
	return out
}

func body(r *http.Response) string { b, _ := io.ReadAll(r.Body); return string(b) }

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// A connection that starts with pages and goes on with anything else is
// answered in order, each request by the server that owns it then.
func TestFrontHandsConnectionsOver(t *testing.T) {
	addr, _ := startFront(t)
	c, br := dial(t, addr)
	rs := exchange(t, c, br,
		"GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\n"+
			"HEAD /posts/hello HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"+
			"GET /posts/hello?utm=1 HTTP/1.1\r\nHost: x\r\n\r\n"+ // handed over here
			"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"+
			"GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET", "HEAD", "GET", "GET", "GET")
	page := body(rs[0])
	if rs[0].StatusCode != 200 || !strings.Contains(page, "Hello front") || rs[0].Header.Get("Content-Security-Policy") == "" ||
		rs[0].Header.Get("Etag") == "" || rs[0].Header.Get("Date") == "" || rs[0].ContentLength != int64(len(page)) {
		t.Fatalf("page: %d %v", rs[0].StatusCode, rs[0].Header)
	}
	if rs[1].StatusCode != 200 || rs[1].Header.Get("Content-Encoding") != "gzip" || rs[1].ContentLength <= 0 || body(rs[1]) != "" {
		t.Fatalf("HEAD: %d %v", rs[1].StatusCode, rs[1].Header)
	}
	if rs[2].StatusCode != 200 || body(rs[2]) != page || rs[3].StatusCode != 200 || rs[4].StatusCode != 200 || body(rs[4]) != page {
		t.Fatalf("after the hand-over: %d %d %d", rs[2].StatusCode, rs[3].StatusCode, rs[4].StatusCode)
	}
	etag := rs[0].Header.Get("Etag")
	c2, br2 := dial(t, addr)
	rs = exchange(t, c2, br2, "GET /posts/hello HTTP/1.1\r\nHost: x\r\nIf-None-Match: "+etag+"\r\nAccept-Encoding: gzip\r\n\r\n", "GET")
	if rs[0].StatusCode != 304 || rs[0].Header.Get("Content-Encoding") != "" || body(rs[0]) != "" {
		t.Fatalf("If-None-Match: %d %v", rs[0].StatusCode, rs[0].Header)
	}
}

// A page not rendered yet is rendered on the fast connection, which stays
// there. (fasthttp writes Date first, net/http last.)
func TestFrontRendersMissingPages(t *testing.T) {
	addr, _ := startFront(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var raw strings.Builder
	br := bufio.NewReader(io.TeeReader(c, &raw))
	rs := exchange(t, c, br, "GET /archive/2026 HTTP/1.1\r\nHost: x\r\n\r\nGET /sitemap.xml HTTP/1.1\r\nHost: x\r\n\r\nGET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET", "GET", "GET")
	for i, r := range rs {
		if r.StatusCode != 200 {
			t.Fatalf("response %d: %d", i+1, r.StatusCode)
		}
	}
	if n := strings.Count(raw.String(), "HTTP/1.1 200 OK\r\nDate: "); n != 3 {
		t.Fatalf("%d of 3 answered by fasthttp:\n%.600s", n, raw.String())
	}
}

// A body that follows a page on the same connection — chunked, behind
// "Expect: 100-continue" — reaches the API whole, with one 100 Continue.
func TestFrontHandsBodiesOver(t *testing.T) {
	addr, _ := startFront(t)
	c, br := dial(t, addr)
	exchange(t, c, br, "GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	payload := `{"email":"someone@example.org","password":""}`
	io.WriteString(c, "POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	br.ReadString('\n') // the blank line after it
	half := len(payload) / 2
	rs := exchange(t, c, br, strconv.FormatInt(int64(half), 16)+"\r\n"+payload[:half]+"\r\n"+strconv.FormatInt(int64(len(payload)-half), 16)+"\r\n"+payload[half:]+"\r\n0\r\n\r\n"+
		"GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\n", "POST", "GET")
	if got := body(rs[0]); rs[0].StatusCode != 422 || !strings.Contains(got, "password") {
		t.Fatalf("the API saw another body: %d %s", rs[0].StatusCode, got)
	}
	if rs[1].StatusCode != 200 {
		t.Fatalf("page after the body: %d", rs[1].StatusCode)
	}
	// A connection that opens with a write goes to net/http directly.
	c2, br2 := dial(t, addr)
	rs = exchange(t, c2, br2, "POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"+
		"GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\n", "POST", "GET")
	if rs[0].StatusCode != 422 || rs[1].StatusCode != 200 {
		t.Fatalf("write first: %d, then page %d", rs[0].StatusCode, rs[1].StatusCode)
	}
	// Bodies over the route's limit on a page's connection are refused
	// once their first bytes arrive, on their declared length.
	c3, br3 := dial(t, addr)
	exchange(t, c3, br3, "GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	rs = exchange(t, c3, br3, "POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n"+
		strings.Repeat(" ", 16<<10), "POST")
	if rs[0].StatusCode != 413 {
		t.Fatalf("too large: %d", rs[0].StatusCode)
	}
}

// Silent connections are closed; shutdown closes idle connections of both
// servers and returns.
func TestFrontTimeoutsAndShutdown(t *testing.T) {
	addr, shutdown := startFront(t)
	silent, sbr := dial(t, addr)
	silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := sbr.ReadByte(); err == nil {
		t.Fatal("a silent connection got an answer")
	}
	fast, fbr := dial(t, addr)
	exchange(t, fast, fbr, "GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\n", "GET")
	handed, hbr := dial(t, addr)
	exchange(t, handed, hbr, "GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "GET")
	start := time.Now()
	if err := shutdown(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	for _, br := range []*bufio.Reader{fbr, hbr} {
		if _, err := br.ReadByte(); err == nil {
			t.Error("an idle connection is still open after shutdown")
		}
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still accepting after shutdown")
	}
}

// Many connections handed over and closed at once: nothing fasthttp
// reuses (its read buffers, its hijacked connections) may be touched by
// net/http after the hand-over.
func TestFrontHandOverUnderLoad(t *testing.T) {
	addr, _ := startFront(t)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					errs <- err
					return
				}
				io.WriteString(c, "GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/posts?limit=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\n")
				br := bufio.NewReader(c)
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				for n := range 3 {
					if w%2 == 0 && i%3 == 0 && n == 1 {
						break // hang up while net/http is still at it
					}
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						errs <- fmt.Errorf("worker %d, connection %d, response %d: %w", w, i, n+1, err)
						c.Close()
						return
					}
					io.Copy(io.Discard, resp.Body)
					if resp.StatusCode != 200 {
						errs <- fmt.Errorf("worker %d, connection %d, response %d: %d", w, i, n+1, resp.StatusCode)
					}
				}
				c.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Requests that declare large bodies and send none cost the server what
// the clients sent, not what they declared: fasthttp once allocated the
// declared length of every body before a byte of it arrived.
func TestFrontMemoryIsBoundedByWhatClientsSend(t *testing.T) {
	addr, _ := startFrontWith(t, front.Config{MaxBody: 32 << 20, MaxHeaderBytes: 16 << 10,
		ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, IdleTimeout: time.Minute})
	const n, declared = 20, 30 << 20
	requests := []string{
		// A page's GET that claims a body.
		fmt.Sprintf("GET /posts/hello HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", declared),
		// A write after a page on the same connection, its body never sent.
		fmt.Sprintf("GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\nPOST /api/v1/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"ti", declared),
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			io.WriteString(c, requests[i%len(requests)])
			// An answer, or the server hanging up: either way it is done
			// with the request.
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			io.Copy(io.Discard, c)
		}()
	}
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	got := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d requests declaring %d MiB each: %d KiB allocated in all", n, declared>>20, got>>10)
	if got > 16<<20 {
		t.Fatalf("%d requests declaring %d MiB bodies made the server allocate %d MiB", n, declared>>20, got>>20)
	}
}

// A GET or HEAD that carries a body is refused on either server.
func TestFrontRefusesBodiesOnReads(t *testing.T) {
	addr, _ := startFront(t)
	c, br := dial(t, addr)
	rs := exchange(t, c, br, "GET /posts/hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "GET")
	if rs[0].StatusCode != 413 || !rs[0].Close {
		t.Fatalf("GET with a body on fasthttp: %d, close %v", rs[0].StatusCode, rs[0].Close)
	}
	c, br = dial(t, addr)
	rs = exchange(t, c, br, "POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"+
		"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", "POST", "GET")
	if rs[1].StatusCode != 413 {
		t.Fatalf("GET with a body on net/http: %d", rs[1].StatusCode)
	}
}

// Both servers give a request's headers the same time, and refuse a
// second Host header alike.
func TestFrontHeaderTimeoutAndHostOnBothSides(t *testing.T) {
	addr, _ := startFront(t) // header timeout 300 ms
	for name, opening := range map[string]string{
		"fasthttp": "GET /posts/hello HTTP/1.1\r\nHost: x\r\n",
		"net/http": "POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\n",
		"handed":   "GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n",
	} {
		c, br := dial(t, addr)
		io.WriteString(c, opening)
		start := time.Now()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.Copy(io.Discard, br) // the page, if any, then the close
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: headers left unfinished kept the connection %s", name, d)
		}
	}
	for name, raw := range map[string]string{
		"fasthttp": "GET /posts/hello HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
		"net/http": "POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nhost: y\r\nContent-Length: 0\r\n\r\n",
		"handed":   "GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nHOST: y\r\n\r\n",
	} {
		c, br := dial(t, addr)
		methods := []string{"GET"}
		if name == "handed" {
			methods = append(methods, "GET")
		}
		rs := exchange(t, c, br, raw, methods...)
		if got := rs[len(rs)-1].StatusCode; got != 400 {
			t.Errorf("%s: two Host headers answered %d", name, got)
		}
	}
}

// One client address cannot hold more than its share of connections,
// nor all clients together more than the bound; closed connections give
// their places back. Nothing is logged per connection.
func TestFrontBoundsConnections(t *testing.T) {
	var logged strings.Builder
	var mu sync.Mutex
	refused := 0
	addr, _ := startFrontWith(t, front.Config{MaxBody: 1 << 20, MaxHeaderBytes: 16 << 10, ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout: time.Minute, MaxConns: 6, MaxConnsPerClient: 4,
		Refused: func() { mu.Lock(); refused++; mu.Unlock() },
		Logger:  slog.New(slog.NewTextHandler(&syncWriter{w: &logged, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	open := func(from string) (net.Conn, bool) {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		// A page answered means admitted; a closed connection, refused.
		io.WriteString(c, "GET /posts/hello HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return c, false
		}
		io.Copy(io.Discard, resp.Body)
		return c, resp.StatusCode == 200
	}
	var first []net.Conn
	for i := range 5 {
		c, ok := open("127.0.0.1")
		if want := i < 4; ok != want {
			t.Fatalf("connection %d from one address: admitted %v", i+1, ok)
		}
		first = append(first, c)
	}
	for i := range 3 {
		if _, ok := open("127.0.0.2"); ok != (i < 2) {
			t.Fatalf("connection %d from a second address (6 in all allowed): admitted %v", i+1, ok)
		}
	}
	first[0].Close()
	first[1].Close()
	eventstest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if _, ok := open("127.0.0.1"); !ok {
			return errors.New("a closed connection's place was not given back")
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if refused < 2 {
		t.Errorf("refusals counted: %d", refused)
	}
	if logged.Len() > 0 {
		t.Errorf("logged per connection:\n%s", logged.String())
	}
}

type syncWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
