// Command chronicle is the Chronicle content daemon; see package daemon.
package main

import (
	"os"

	"github.com/chronicle-cms/chronicle/daemon"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(daemon.Main(os.Args[1:], version, os.Stdin, os.Stdout, os.Stderr))
}
