package daemon

import (
	"fmt"
	"io"
	"os/user"
	"path/filepath"

	"github.com/chronicle-cms/chronicle/webui/auth"
	"github.com/chronicle-cms/chronicle/webui/seclog"
)

// openSecurityLog opens the security log in the data directory's
// secrets, making the folder (0700) if need be.
func openSecurityLog(cfg Config) (*seclog.File, error) {
	if err := auth.PrivateDir(filepath.Dir(cfg.securityLogFile())); err != nil {
		return nil, err
	}
	return seclog.Open(cfg.securityLogFile())
}

// recordCLI appends an account change made on the command line to the
// security log; the daemon may be running and appending too. The change
// is made already: a log that cannot be written is reported, not
// undone.
func recordCLI(cfg Config, stderr io.Writer, e seclog.Event) {
	e.Via, e.Actor = "cli", "cli"
	if u, err := user.Current(); err == nil {
		e.Actor = "cli:" + u.Username // the system account that ran it
	}
	l, err := openSecurityLog(cfg)
	if err == nil {
		err = l.Record(e)
		l.Close()
	}
	if err != nil {
		fmt.Fprintf(stderr, "warning: the change is made but the security log could not record it: %v\n", err)
	}
}
