package daemon

import (
	"os"
	"strings"
	"testing"
)

// TestMain lets a test run this test binary as the real chronicle
// command in a subprocess (see startProcess), so it can be killed.
func TestMain(m *testing.M) {
	if os.Getenv("CHRONICLE_TEST_MAIN") == "1" {
		os.Exit(Main(os.Args[1:], "test", os.Stdin, os.Stdout, os.Stderr))
	}
	// Built with -race, a process sleeps a second before it exits, so
	// that other threads can finish a race report. This binary runs as
	// both git hooks of every push and as each CLI call of the tests:
	// that second, twice a push, was most of a push's time. Its races are
	// still reported (and fail it with exit status 66).
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	os.Exit(m.Run())
}
