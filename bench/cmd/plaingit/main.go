// Command plaingit serves a folder of repositories with nothing but git
// http-backend behind net/http/cgi, no authentication and no checks: the
// baseline that bench/git compares Chronicle's git endpoint with.
//
//	go run ./bench/cmd/plaingit -addr 127.0.0.1:18183 -root /path/to/data
package main

import (
	"flag"
	"log"
	"net/http"
	"net/http/cgi"
	"os/exec"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18183", "listen address")
	root := flag.String("root", ".", "GIT_PROJECT_ROOT")
	flag.Parse()
	git, err := exec.LookPath("git")
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(*addr, &cgi.Handler{Path: git, Args: []string{"http-backend"}, Root: "/git",
		Env: []string{"GIT_PROJECT_ROOT=" + *root, "GIT_HTTP_EXPORT_ALL=1"}, InheritEnv: []string{"PATH", "HOME"}}))
}
