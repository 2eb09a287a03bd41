package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrDataInUse: another process (a `serve`, a `rebuild`) holds the data
// directory.
var ErrDataInUse = errors.New("the data directory is in use")

// lockDataDir takes an exclusive flock(2) on <data>/.lock, without
// waiting, before anything else in the directory is opened (the NATS
// store, the projections, the repository): two daemons on one directory
// would corrupt each other's state. The holder writes who it is into the
// file, so a refusal can name it. The lock goes with the process (or with
// release): a killed daemon never leaves a stale lock behind.
func lockDataDir(dir, command string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the data directory's lock: %w", err)
	}
	// A lock just released can still be held for a moment by a copy of
	// its descriptor in a child being forked elsewhere in the process
	// (until that child execs), so a refusal is only believed after a
	// second of asking.
	for deadline := time.Now().Add(time.Second); ; {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		holder, _ := os.ReadFile(path)
		f.Close()
		who := "another process"
		if h := strings.TrimSpace(string(holder)); h != "" && len(h) < 200 {
			who = h
		}
		return nil, fmt.Errorf("%w by %s (lock %s): stop it first, or use another --data", ErrDataInUse, who, path)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the data directory: %w", err)
	}
	// Who holds it, for the next one's error; a failure here only makes
	// that error vaguer.
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "chronicle %s, pid %d, since %s", command, os.Getpid(), time.Now().UTC().Format(time.RFC3339))
	}
	return func() { f.Close() }, nil // closing releases the lock
}
