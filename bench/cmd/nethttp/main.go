// Command nethttp serves files from a folder with nothing but Go's
// net/http: the reference for how fast any Go server can answer on this
// machine, next to nginx, in bench/site.
//
//	go run ./bench/cmd/nethttp -addr 127.0.0.1:18182 -root /tmp/www
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18182", "listen address")
	root := flag.String("root", ".", "folder to serve (index.html for folders)")
	flag.Parse()
	files := map[string][]byte{}
	filepath.WalkDir(*root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			url := "/" + strings.TrimSuffix(strings.TrimPrefix(filepath.ToSlash(p), filepath.ToSlash(*root)+"/"), "index.html")
			files[url] = b
		}
		return nil
	})
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b)
	})))
}
