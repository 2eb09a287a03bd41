package events

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// MediaDir holds media: Git LFS pointers only, their objects in the
// daemon's LFS store, so clones stay small.
const MediaDir = "media/"

// LFSPointer is a parsed Git LFS pointer file.
type LFSPointer struct {
	OID  string // sha256, hex
	Size int64
}

var oidRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseLFSPointer recognises a Git LFS pointer (spec v1).
func ParseLFSPointer(data []byte) (LFSPointer, bool) {
	if len(data) > 1024 || !bytes.HasPrefix(data, []byte("version https://git-lfs.github.com/spec/v1\n")) {
		return LFSPointer{}, false
	}
	var p LFSPointer
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "oid":
			p.OID = strings.TrimPrefix(v, "sha256:")
		case "size":
			p.Size, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return p, oidRE.MatchString(p.OID) && p.Size >= 0
}

// LFSObjectPath is where the LFS store keeps an object (git-lfs's own
// layout: objects/ab/cd/abcd…).
func LFSObjectPath(store, oid string) string {
	return filepath.Join(store, "objects", oid[0:2], oid[2:4], oid)
}

// lfsObjectExists reports whether the store holds the object, whole.
func lfsObjectExists(store string, p LFSPointer) bool {
	if store == "" {
		return false
	}
	st, err := os.Stat(LFSObjectPath(store, p.OID))
	return err == nil && st.Mode().IsRegular() && st.Size() == p.Size
}
