// Package seclog is the security log: an append-only record of account
// events that are not content (sign-ins, failed sign-ins, accounts added
// and removed, role and password changes, tokens created and revoked,
// sessions ended). It is kept outside the content repository, which
// anyone with read access may clone: it holds the emails strangers tried
// and the addresses they came from. File is the one-node implementation:
// one JSON line per event appended to a file of the data directory's
// secrets, each synced before Record returns.
package seclog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chronicle-cms/chronicle/repo/atomicfile"
)

// Type names a kind of security event. The strings are stored: never
// rename one.
type Type string

const (
	SignIn          Type = "signin.succeeded"
	SignInFailed    Type = "signin.failed" // wrong email or password (the email tried is Account)
	AccountCreated  Type = "account.created"
	AccountRemoved  Type = "account.removed"
	AccountDisabled Type = "account.disabled"
	AccountEnabled  Type = "account.enabled"
	RoleChanged     Type = "account.role_changed"
	PasswordChanged Type = "account.password_changed"
	TokenCreated    Type = "token.created"
	TokenRevoked    Type = "token.revoked"
	SessionEnded    Type = "session.ended"
	KeyRotated      Type = "token_key.rotated" // the API tokens' signing key (Detail: the new key's id)
)

// Sign-in methods.
const (
	MethodPassword = "password"
	MethodToken    = "token" // a personal access token
	MethodOIDC     = "oidc"  // an identity provider (OpenID Connect)
)

// Event is one entry of the log.
type Event struct {
	// ID is where the entry starts in the log (set when read): stable,
	// the log being only appended to, and a cursor for the next page.
	ID      string    `json:"id,omitempty"`
	Time    time.Time `json:"time"`
	Type    Type      `json:"type"`
	Actor   string    `json:"actor,omitempty"`   // who did it: the signed-in account, "cli" for the command line
	Account string    `json:"account,omitempty"` // whose account it concerns; for a failed sign-in, the email tried
	Method  string    `json:"method,omitempty"`  // how a sign-in was made: password, oidc
	Via     string    `json:"via,omitempty"`     // where: api, admin, git, cli
	Client  string    `json:"client,omitempty"`  // the client's address
	Detail  string    `json:"detail,omitempty"`  // e.g. "editor → admin", a token's name and id
}

// Field bounds: what a stranger types into a sign-in form is kept, but
// not without limit.
const (
	maxField = 256
	// MaxLine bounds a line as read: more is not a line this package
	// wrote.
	MaxLine = 16 << 10
)

func clip(s string) string {
	if len(s) <= maxField {
		return s
	}
	n := maxField
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// Filter selects events. Empty fields match everything.
type Filter struct {
	Actor string // the actor or the account concerned, ignoring case
	// Types match exactly, or by prefix when they end in "." ("account.").
	Types []string
	Since time.Time // at or after
	Until time.Time // at or before
	// After continues a listing: only events after it in the order asked
	// for (older, newest first; newer, oldest first). An event's ID.
	After  string
	Oldest bool // oldest first; the default is newest first
}

func (f *Filter) match(e *Event) bool {
	if f.Actor != "" && !strings.EqualFold(e.Actor, f.Actor) && !strings.EqualFold(e.Account, f.Actor) {
		return false
	}
	if !f.Since.IsZero() && e.Time.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && e.Time.After(f.Until) {
		return false
	}
	if len(f.Types) == 0 {
		return true
	}
	for _, t := range f.Types {
		if string(e.Type) == t || (strings.HasSuffix(t, ".") && strings.HasPrefix(string(e.Type), t)) {
			return true
		}
	}
	return false
}

// ErrStop ends a Query early without an error.
var ErrStop = errors.New("seclog: stop")

// ErrBadCursor is Query's error for an After that is not an event's ID.
var ErrBadCursor = errors.New("seclog: not an event id")

// File is the log in one file. Several processes may append to it (the
// daemon, `chronicle user add`): each entry is one write of one line to
// a file opened with O_APPEND.
type File struct {
	path string
	now  func() time.Time

	mu sync.Mutex
	f  *os.File
}

// Open opens (or creates, 0600) the log at path. Its folder must exist.
func Open(path string) (*File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the security log: %w", err)
	}
	// A file made by hand or restored from a backup with wider
	// permissions is tightened: it names accounts and addresses.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("open the security log: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, fmt.Errorf("open the security log: %w", err)
	}
	return &File{path: path, f: f, now: time.Now}, nil
}

// Close closes the file.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// Record appends e (at the time now, unless e has one) and syncs it to
// disk before returning.
func (l *File) Record(e Event) error {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.ID, e.Time = "", e.Time.UTC()
	e.Actor, e.Account, e.Method, e.Via, e.Client, e.Detail = clip(e.Actor), clip(e.Account), clip(e.Method), clip(e.Via), clip(e.Client), clip(e.Detail)
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("record a security event: %w", err)
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("record a security event: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("record a security event: %w", err)
	}
	return nil
}

// Query calls fn for each event matching f, newest first unless
// f.Oldest, until fn returns an error (ErrStop ends it quietly). It
// reads the file as it was when called, a block at a time in either
// direction: memory stays bounded whatever the log's size. A line not
// whole yet (being appended) is left for the next reader.
func (l *File) Query(ctx context.Context, f Filter, fn func(Event) error) error {
	rf, err := os.Open(l.path)
	if err != nil {
		return fmt.Errorf("read the security log: %w", err)
	}
	defer rf.Close()
	st, err := rf.Stat()
	if err != nil {
		return fmt.Errorf("read the security log: %w", err)
	}
	size := st.Size()
	var after int64 = -1
	if f.After != "" {
		if after, err = strconv.ParseInt(f.After, 10, 64); err != nil || after < 0 || after >= size || !lineStart(rf, after) {
			return ErrBadCursor
		}
	}
	emit := func(off int64, line []byte) error {
		var e Event
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("security log at byte %d: %w", off, err)
		}
		e.ID = strconv.FormatInt(off, 10)
		if !f.match(&e) {
			return nil
		}
		return fn(e)
	}
	if f.Oldest {
		err = forward(ctx, rf, after, size, emit)
	} else {
		end := size
		if after >= 0 {
			end = after
		}
		err = backward(ctx, rf, end, emit)
	}
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// lineStart reports whether off is where a line starts.
func lineStart(r io.ReaderAt, off int64) bool {
	if off == 0 {
		return true
	}
	b := make([]byte, 1)
	_, err := r.ReadAt(b, off-1)
	return err == nil && b[0] == '\n'
}

// forward reads the whole lines in (after's line, size), in order.
func forward(ctx context.Context, r io.ReaderAt, after, size int64, emit func(int64, []byte) error) error {
	off := int64(0)
	if after >= 0 {
		off = after
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r, off, size-off), 64<<10)
	skip := after >= 0
	for n := 0; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("security log at byte %d: a line longer than %d bytes", off, br.Size())
		}
		if err != nil { // io.EOF: what is left is no whole line
			return nil
		}
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if !skip {
			if err := emit(off, line[:len(line)-1]); err != nil {
				return err
			}
		}
		skip = false
		off += int64(len(line))
	}
}

// backward reads the whole lines before end, last first, a block at a
// time.
func backward(ctx context.Context, r io.ReaderAt, end int64, emit func(int64, []byte) error) error {
	const block = 64 << 10
	pos := end
	var carry []byte // bytes from pos on, not yet read as lines
	whole := false   // carry ends where a line ends
	for pos > 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		size := min(block, pos)
		pos -= size
		buf := make([]byte, size, size+int64(len(carry)))
		if _, err := r.ReadAt(buf, pos); err != nil {
			return fmt.Errorf("read the security log: %w", err)
		}
		carry = append(buf, carry...)
		if !whole {
			// What follows the last newline is a line being written.
			i := bytes.LastIndexByte(carry, '\n')
			if i < 0 {
				if len(carry) > MaxLine {
					return fmt.Errorf("security log before byte %d: a line longer than %d bytes", end, MaxLine)
				}
				continue
			}
			carry, whole = carry[:i+1], true
		}
		// Every line after the first newline in carry is whole.
		for {
			i := bytes.LastIndexByte(carry[:len(carry)-1], '\n')
			if i < 0 {
				break
			}
			if err := emit(pos+int64(i)+1, carry[i+1:len(carry)-1]); err != nil {
				return err
			}
			carry = carry[:i+1]
		}
		if len(carry) > MaxLine {
			return fmt.Errorf("security log at byte %d: a line longer than %d bytes", pos, MaxLine)
		}
	}
	if whole && len(carry) > 1 {
		return emit(0, carry[:len(carry)-1])
	}
	return nil
}
