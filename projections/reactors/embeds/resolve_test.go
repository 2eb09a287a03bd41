package embeds

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func server(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/video-page", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><head><title>A video</title><link rel="alternate" type="application/json+oembed" href="%s/oembed-video"></head><body>x</body></html>`, srv.URL)
	})
	mux.HandleFunc("/oembed-video", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"type":"video","title":"Sea","provider_name":"Vimeo","html":"<script>alert(1)</script><iframe src=\"https://player.vimeo.com/video/42\" onload=\"x()\"></iframe>"}`))
	})
	mux.HandleFunc("/photo-page", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<head><link rel="alternate" type="application/json+oembed" href="/oembed-photo"></head>`))
	})
	mux.HandleFunc("/oembed-photo", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"type":"photo","title":"Cliffs","url":"https://photos.example/c.jpg"}`))
	})
	mux.HandleFunc("/evil-iframe", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<link rel="alternate" type="application/json+oembed" href="%s/oembed-evil">`, srv.URL)
	})
	mux.HandleFunc("/oembed-evil", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"type":"rich","title":"Nope","html":"<iframe src=\"https://evil.example/x\"></iframe>"}`))
	})
	mux.HandleFunc("/article", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<head><meta property="og:title" content="An article"><meta property="og:description" content="About things"><meta property="og:image" content="/img.jpg"></head>`))
	})
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<html><head><title>Just a page</title></head><body></body></html>`))
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("<p>filler</p>", 1000))
		for n := 0; n < 50<<20; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestResolve(t *testing.T) {
	srv, _ := server(t)
	r := NewResolver(Config{Timeout: 2 * time.Second, AllowPrivate: true})
	for _, tc := range []struct {
		path string
		want Embed
	}{
		{"/video-page", Embed{Kind: "iframe", Provider: "Vimeo", Title: "Sea", IframeSrc: "https://player.vimeo.com/video/42"}},
		{"/photo-page", Embed{Kind: "photo", Title: "Cliffs", Image: "https://photos.example/c.jpg"}},
		{"/evil-iframe", Embed{Kind: "card", Title: "Nope"}},
		{"/article", Embed{Kind: "card", Title: "An article", Description: "About things", Image: srv.URL + "/img.jpg"}},
		{"/plain", Embed{Kind: "link", Title: "Just a page"}},
	} {
		got, err := r.Resolve(context.Background(), srv.URL+tc.path)
		tc.want.URL = srv.URL + tc.path
		if tc.want.Kind == "card" && tc.path == "/article" {
			tc.want.Provider = "127.0.0.1"
		}
		if err != nil || got != tc.want {
			t.Errorf("%s:\n got %+v (%v)\nwant %+v", tc.path, got, err, tc.want)
		}
	}
}

func TestProviderTableNeedsNoFetch(t *testing.T) {
	r := NewResolver(Config{Timeout: time.Second}) // no network here: nothing may be fetched
	for raw, src := range map[string]string{
		"https://www.youtube.com/watch?v=dQw4w9WgXcQ":           "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
		"https://youtu.be/dQw4w9WgXcQ":                          "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
		"https://vimeo.com/76979871":                            "https://player.vimeo.com/video/76979871",
		"https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC": "https://open.spotify.com/embed/track/4uLU6hMCjMI75M1A2tKUQC",
	} {
		e, err := r.Resolve(context.Background(), raw)
		if err != nil || e.Kind != "iframe" || e.IframeSrc != src {
			t.Errorf("%s: %+v %v", raw, e, err)
		}
	}
}

// A provider that hangs or sends 50 MB costs at most the timeout and the
// size limit, and leaves a plain link.
func TestBadProvidersDoNotStall(t *testing.T) {
	srv, _ := server(t)
	r := NewResolver(Config{Timeout: 1 * time.Second, MaxBytes: 1 << 20, AllowPrivate: true})
	for _, path := range []string{"/hang", "/huge"} {
		start := time.Now()
		e, _ := r.Resolve(context.Background(), srv.URL+path)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s took %s", path, took)
		}
		if e.Kind != "link" || e.URL != srv.URL+path {
			t.Errorf("%s: %+v", path, e)
		}
	}
}

func TestPrivateAddressesAreRefused(t *testing.T) {
	srv, hits := server(t)
	r := NewResolver(Config{Timeout: time.Second})
	for _, raw := range []string{srv.URL + "/plain", "http://localhost/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "ftp://example.org/x", "javascript:alert(1)"} {
		e, err := r.Resolve(context.Background(), raw)
		if err == nil || e.Kind != "link" {
			t.Errorf("%s: resolved %+v", raw, e)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server was reached %d times", n)
	}
}
