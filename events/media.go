package events

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chronicle-cms/chronicle/repo"
)

// Media is an uploaded image: its metadata in media/<id>.yaml, its bytes
// in the LFS store, and a Git LFS pointer to them at media/<id>.<ext>.
type Media struct {
	ID           string    `json:"id" yaml:"id"`
	SHA256       string    `json:"sha256" yaml:"sha256"`
	Type         string    `json:"type" yaml:"type"`
	Ext          string    `json:"ext" yaml:"ext"`
	Width        int       `json:"width" yaml:"width"`
	Height       int       `json:"height" yaml:"height"`
	Bytes        int64     `json:"bytes" yaml:"bytes"`
	Alt          string    `json:"alt" yaml:"alt,omitempty"`
	Caption      string    `json:"caption" yaml:"caption,omitempty"`
	OriginalName string    `json:"original_name" yaml:"original_name,omitempty"`
	UploadedAt   time.Time `json:"uploaded_at" yaml:"uploaded_at"`
	Blob         string    `json:"blob,omitempty" yaml:"-"` // git blob of the metadata file: the version (ETag)
}

// Media event types.
const (
	MediaUploaded Type = "media.uploaded"
	MediaUpdated  Type = "media.updated"
	MediaDeleted  Type = "media.deleted"
)

// MediaData is the payload of media events.
type MediaData struct {
	Media Media `json:"media"`
}

// IsMediaMetaPath reports whether a file is a media item's metadata.
func IsMediaMetaPath(p string) bool {
	return strings.HasPrefix(p, MediaDir) && strings.HasSuffix(p, ".yaml") && !strings.Contains(p[len(MediaDir):], "/")
}

// GitAttributesPath tells git (and Git LFS clients) that media files are
// LFS pointers and their metadata plain text.
const GitAttributesPath = ".gitattributes"

// GitAttributes is what the daemon writes there.
const GitAttributes = "media/** filter=lfs diff=lfs merge=lfs -text\nmedia/*.yaml -filter -diff -merge text\n"

// MediaMetaPath and MediaFilePath are where an item lives.
func MediaMetaPath(id string) string      { return MediaDir + id + ".yaml" }
func MediaFilePath(id, ext string) string { return MediaDir + id + "." + ext }
func mediaIDOf(metaPath string) string    { return strings.TrimSuffix(path.Base(metaPath), ".yaml") }
func lfsPointer(oid string, size int64) []byte {
	return []byte(fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", oid, size))
}

// ParseMedia reads media/<id>.yaml.
func ParseMedia(file string, data []byte) (Media, error) {
	var m Media
	if err := strictYAML(file, data, &m); err != nil {
		return Media{}, err
	}
	var fe fieldErrors
	if m.ID != mediaIDOf(file) {
		fe.add("id", 0, "must be the file's name, %q", mediaIDOf(file))
	} else if !ValidID(m.ID) {
		fe.add("id", 0, "%q is not an id: letters, digits, - and _, at most %d characters", clip(m.ID), MaxID)
	}
	if !oidRE.MatchString(m.SHA256) {
		fe.add("sha256", 0, "is not a SHA-256 in hex")
	}
	if m.Width <= 0 || m.Height <= 0 || m.Bytes <= 0 {
		fe.add("width", 0, "width, height and bytes must be positive")
	}
	fe = append(fe, validateMediaText(m.Alt, m.Caption)...)
	return m, fe.err(file)
}

func validateMediaText(alt, caption string) fieldErrors {
	var fe fieldErrors
	if n := utf8.RuneCountInString(alt); n > MaxText || strings.ContainsAny(alt, "\r\n") {
		fe.add("alt", 0, "must be one line of at most %d characters", MaxText)
	}
	if n := utf8.RuneCountInString(caption); n > MaxText {
		fe.add("caption", 0, "is %d characters long, at most %d allowed", n, MaxText)
	}
	return fe
}

// StoreLFSObject moves a verified file into the LFS store under its
// SHA-256, durably; the same bytes twice are stored once.
func StoreLFSObject(store, oid, tmp string) error {
	dst := LFSObjectPath(store, oid)
	if _, err := os.Stat(dst); err == nil {
		return os.Remove(tmp)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.Open(tmp)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	if err := os.Rename(tmp, dst); err != nil {
		// Another file system: copy.
		data, err := os.ReadFile(tmp)
		if err != nil {
			return err
		}
		if err := repo.WriteFileDurably(dst, data, 0o644); err != nil {
			return err
		}
		return os.Remove(tmp)
	}
	return repo.SyncDir(filepath.Dir(dst))
}
