package daemon

import (
	"os"
	"testing"
)

// TestMain lets a test run this test binary as the real chronicle
// command in a subprocess (see startProcess), so it can be killed.
func TestMain(m *testing.M) {
	if os.Getenv("CHRONICLE_TEST_MAIN") == "1" {
		os.Exit(Main(os.Args[1:], "test", os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
