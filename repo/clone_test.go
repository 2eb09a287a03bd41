package repo_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/repo"
)

// A remote that accepts the connection and never answers (a hung
// writer), and one that drops the packets of a new connection (here: a
// listener whose queue is full, as the kernel then drops a SYN), each
// fail a fetch within about its Stall, rather than hold it for ever or
// for TCP's connect timeout (about two minutes).
func TestFetchMainGivesUpOnARemoteThatDoesNotAnswer(t *testing.T) {
	t.Parallel()
	for name, addr := range map[string]string{"accepts and never answers": silentListener(t), "drops new connections": fullListener(t)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			err := repo.FetchMain(ctx, filepath.Join(t.TempDir(), "clone.git"), repo.Remote{URL: "http://" + addr + "/git/site.git", Stall: time.Second})
			took := time.Since(start)
			t.Logf("%s: %v", took.Round(time.Millisecond), err)
			if err == nil || ctx.Err() != nil || took > 8*time.Second {
				t.Fatalf("fetch from a remote that %s: %v after %s; want an error within a few seconds (Stall 1 s)", name, err, took.Round(time.Millisecond))
			}
		})
	}
	// The fetch ends with its context too, git's remote helper included
	// (it holds the pipes that Run waits for).
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := repo.FetchMain(ctx, filepath.Join(t.TempDir(), "clone.git"), repo.Remote{URL: "http://" + silentListener(t) + "/git/site.git"})
	if took := time.Since(start); err == nil || took > 3*time.Second {
		t.Fatalf("fetch whose context ends after 0.5 s: %v after %s", err, took.Round(time.Millisecond))
	}
}

// silentListener accepts connections on loopback and never answers.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String()
}

// fullListener is a loopback listener that never accepts, its queue of
// one filled: the kernel drops any further connection's SYN, as a
// remote behind a firewall that drops packets would.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	c, err := net.DialTimeout("tcp", addr, time.Second) // fills the queue
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if c2, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		c2.Close()
		t.Skip("this kernel accepts a connection beyond a full listen queue")
	}
	return addr
}
