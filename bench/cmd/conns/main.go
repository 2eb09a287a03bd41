// Command conns measures a server's resident memory while it holds many
// connections: idle kept-alive ones (each has fetched a page) and slow
// ones (a request's headers arriving a byte at a time). Connections come
// from several loopback addresses (127.0.0.2, .3, …), as from several
// clients. It prints the RSS of the given processes before, with the idle
// connections, and with both.
//
//	go run ./bench/cmd/conns -url http://127.0.0.1:8080/posts/x -pid 1234 -idle 1000 -slow 1000
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	target := flag.String("url", "", "a page of the server")
	pids := flag.String("pid", "", "comma-separated process ids whose RSS is summed")
	idle := flag.Int("idle", 1000, "idle kept-alive connections")
	slow := flag.Int("slow", 1000, "connections sending headers slowly")
	perAddr := flag.Int("per-addr", 100, "connections from each loopback address")
	declared := flag.Int("declared", 100, "connections each sending, after a page, a write that declares a 30 MB body and sends none")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || *pids == "" {
		log.Fatal("need -url and -pid")
	}
	n := 0
	dial := func() net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, byte(n/(*perAddr*256)), byte(2 + n / *perAddr % 250))}, Timeout: 5 * time.Second}
		n++
		c, err := d.Dial("tcp", u.Host)
		if err != nil {
			log.Fatalf("connection %d: %v", n, err)
		}
		return c
	}
	settle := func() { time.Sleep(time.Second) }
	settle()
	base := rss(*pids)
	fmt.Printf("rss with no connections:          %6.1f MiB\n", base)
	var held []net.Conn
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n\r\n"
	for range *idle {
		c := dial()
		io.WriteString(c, req)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			log.Fatalf("idle connection %d: %v", len(held), err)
		}
		io.Copy(io.Discard, resp.Body)
		held = append(held, c)
	}
	settle()
	withIdle := rss(*pids)
	fmt.Printf("rss with %5d idle connections:   %6.1f MiB (+%.1f KiB each)\n", *idle, withIdle, (withIdle-base)*1024/float64(max(*idle, 1)))
	for range *slow {
		c := dial()
		io.WriteString(c, "GET "+u.RequestURI()+" HTTP/1.1\r\nHost: "+u.Host+"\r\nX-Slow: ")
		held = append(held, c)
	}
	// A byte more from each now and then, within the server's header timeout.
	for range 3 {
		for _, c := range held[*idle:] {
			c.Write([]byte("a"))
		}
		time.Sleep(time.Second)
	}
	both := rss(*pids)
	fmt.Printf("rss with %5d slow ones as well:  %6.1f MiB (+%.1f KiB each)\n", *slow, both, (both-withIdle)*1024/float64(max(*slow, 1)))
	for range *declared {
		c := dial()
		io.WriteString(c, req+"POST /api/v1/posts HTTP/1.1\r\nHost: "+u.Host+"\r\nContent-Type: application/json\r\nContent-Length: 30000000\r\n\r\n{")
		held = append(held, c)
	}
	time.Sleep(2 * time.Second)
	withDeclared := rss(*pids)
	fmt.Printf("rss with %5d writes declaring 30 MB as well: %6.1f MiB (+%.1f KiB each)\n", *declared, withDeclared, (withDeclared-both)*1024/float64(max(*declared, 1)))
	open := 0
	for _, c := range held[:*idle+*slow] {
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && strings.Contains(err.Error(), "timeout") {
			open++
		}
	}
	for _, c := range held {
		c.Close()
	}
	fmt.Printf("idle and slow connections still open at the end: %d of %d\n", open, *idle+*slow)
}

// rss sums VmRSS of the processes, in MiB.
func rss(pids string) float64 {
	total := 0.0
	for _, p := range strings.Split(pids, ",") {
		b, err := os.ReadFile("/proc/" + strings.TrimSpace(p) + "/status")
		if err != nil {
			log.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				total += kb / 1024
			}
		}
	}
	return total
}
