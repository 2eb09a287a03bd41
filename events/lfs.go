package events

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/chronicle-cms/chronicle/repo/atomicfile"
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

// What an LFS object is (its type and dimensions, or why it is not a
// picture) is read from its bytes once and kept in a small sidecar next
// to it, <oid>.json: objects are content-addressed and never change, so
// the push check and derivation never read a large object twice. Uploads
// record it as they store the object (they inspect the bytes anyway);
// objects stored before the sidecars existed get theirs the first time
// they are read.

// lfsFacts is a sidecar's content.
type lfsFacts struct {
	Size    int64  `json:"size"`
	Type    string `json:"type,omitempty"`
	Ext     string `json:"ext,omitempty"`
	Width   int    `json:"width,omitempty"`
	Height  int    `json:"height,omitempty"`
	Problem string `json:"problem,omitempty"` // the bytes are not an accepted picture: why
}

func lfsFactsPath(store, oid string) string { return LFSObjectPath(store, oid) + ".json" }

// RecordLFSFacts remembers, durably, what picture a stored object is.
func RecordLFSFacts(store, oid string, size int64, info ImageInfo) error {
	return writeLFSFacts(store, oid, lfsFacts{Size: size, Type: info.Type, Ext: info.Ext, Width: info.Width, Height: info.Height})
}

func writeLFSFacts(store, oid string, f lfsFacts) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(lfsFactsPath(store, oid), b, 0o644); err != nil {
		return fmt.Errorf("record LFS object facts: %w", err)
	}
	return nil
}

// readLFSFacts reads an object's sidecar; ok is false if there is none
// (or it is not whole, or for another size).
func readLFSFacts(store, oid string, size int64) (lfsFacts, bool) {
	b, err := os.ReadFile(lfsFactsPath(store, oid))
	if err != nil || len(b) > 4096 {
		return lfsFacts{}, false
	}
	var f lfsFacts
	if json.Unmarshal(b, &f) != nil || f.Size != size || (f.Problem == "" && (f.Type == "" || f.Width <= 0 || f.Height <= 0)) {
		return lfsFacts{}, false
	}
	return f, true
}
