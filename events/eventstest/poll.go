package eventstest

import (
	"testing"
	"time"
)

// CheckFor calls f every sleep until it returns nil, and fails the test with
// f's last error once total has passed, so a timeout says what was still
// wrong rather than only that something was (after nats-server's checkFor).
func CheckFor(t testing.TB, total, sleep time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", total, err)
		}
		time.Sleep(sleep)
	}
}
