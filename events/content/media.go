package content

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	// UploadedBy is the account (email) that uploaded it: who may change
	// it besides editors. Empty for pictures added before uploaders were
	// recorded, or pushed without a description naming one.
	UploadedBy string `json:"uploaded_by,omitempty" yaml:"uploaded_by,omitempty"`
	Blob       string `json:"blob,omitempty" yaml:"-"` // git blob of the metadata file: the version (ETag)
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
func MediaMetaPath(id string) string { return MediaDir + id + ".yaml" }

func MediaFilePath(id, ext string) string { return MediaDir + id + "." + ext }

func mediaIDOf(metaPath string) string { return strings.TrimSuffix(path.Base(metaPath), ".yaml") }

func LFSPointerFile(oid string, size int64) []byte {
	return []byte(fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", oid, size))
}

// ParseMedia reads media/<id>.yaml as a new write (a push) must be.
func ParseMedia(file string, data []byte) (Media, error) { return parseMedia(file, data, newRules) }

// parseCommittedMedia reads a media file already in git (committedRules).
func parseCommittedMedia(file string, data []byte) (Media, error) {
	return parseMedia(file, data, committedRules)
}

func parseMedia(file string, data []byte, r rules) (Media, error) {
	var m Media
	if err := strictYAML(file, data, &m); err != nil {
		return Media{}, err
	}
	var fe FieldErrors
	if m.ID != mediaIDOf(file) {
		fe.Add("id", 0, "must be the file's name, %q", mediaIDOf(file))
	} else if !r.id(m.ID) {
		fe.Add("id", 0, "%q is not an id: letters, digits, - and _, at most %d characters", Clip(m.ID), MaxID)
	}
	if !oidRE.MatchString(m.SHA256) {
		fe.Add("sha256", 0, "is not a SHA-256 in hex")
	}
	if m.Width <= 0 || m.Height <= 0 || m.Bytes <= 0 {
		fe.Add("width", 0, "width, height and bytes must be positive")
	}
	fe = append(fe, ValidateMediaText(m.Alt, m.Caption)...)
	if m.UploadedBy != "" && !ValidEmail(m.UploadedBy) {
		fe.Add("uploaded_by", 0, "%q is not an account's email address", Clip(m.UploadedBy))
	}
	return m, fe.Err(file)
}

func ValidateMediaText(alt, caption string) FieldErrors {
	var fe FieldErrors
	if n := utf8.RuneCountInString(alt); n > MaxText || strings.ContainsAny(alt, "\r\n") {
		fe.Add("alt", 0, "must be one line of at most %d characters", MaxText)
	}
	if n := utf8.RuneCountInString(caption); n > MaxText {
		fe.Add("caption", 0, "is %d characters long, at most %d allowed", n, MaxText)
	}
	return fe
}

// Pictures added with git need only their file: media/<id>.<ext>, a Git
// LFS pointer whose object is in the store. Everything else is read from
// the object when the commit is derived (the store holds each SHA-256's
// bytes forever, so this stays a function of the repository and the
// store). An optional media/<id>.yaml next to it gives alt text and a
// caption; uploads through the API write the whole metadata there, and
// then that is what counts.

// pictureExts are the names a picture's file may end with, each for the
// types its bytes may have.
var pictureExts = map[string]string{
	"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
	"avif": "image/avif", "heic": "image/heif", "heif": "image/heif",
}

// PictureExts lists pictureExts' keys in a fixed order.
var PictureExts = []string{"jpg", "jpeg", "png", "gif", "webp", "avif", "heic", "heif"}

// MediaPicture splits media/<id>.<ext> into its id and extension; ok is
// false for anything else under media/ (metadata, other names, folders).
func MediaPicture(p string) (id, ext string, ok bool) {
	name, found := strings.CutPrefix(p, MediaDir)
	if !found || strings.Contains(name, "/") {
		return "", "", false
	}
	id, ext, found = strings.Cut(name, ".")
	if !found || pictureExts[ext] == "" {
		return "", "", false
	}
	return id, ext, true
}

// MediaItemOf names the media item a file belongs to, if any.
func MediaItemOf(p string) (string, bool) {
	if IsMediaMetaPath(p) {
		return mediaIDOf(p), true
	}
	id, _, ok := MediaPicture(p)
	return id, ok
}

// DescribedOnly reports whether media metadata leaves the picture's facts
// (hash, type, size) to be read from the picture itself.
func (m *Media) DescribedOnly() bool { return m.SHA256 == "" }

// ParseMediaMeta reads media/<id>.yaml: either the whole metadata, as the
// API writes it (checked as ParseMedia does), or only a description (id,
// alt, caption, original_name, uploaded_at), the rest to be read from the
// picture.
func ParseMediaMeta(file string, data []byte) (Media, error) {
	return parseMediaMetaRules(file, data, newRules)
}

// ParseCommittedMediaMeta reads media/<id>.yaml already in git
// (committedRules).
func ParseCommittedMediaMeta(file string, data []byte) (Media, error) {
	return parseMediaMetaRules(file, data, committedRules)
}

func parseMediaMetaRules(file string, data []byte, r rules) (Media, error) {
	var m Media
	if err := strictYAML(file, data, &m); err != nil {
		return Media{}, err
	}
	if !m.DescribedOnly() {
		return parseMedia(file, data, r)
	}
	var fe FieldErrors
	if m.ID == "" {
		m.ID = mediaIDOf(file)
	}
	if m.ID != mediaIDOf(file) {
		fe.Add("id", 0, "must be the file's name, %q", mediaIDOf(file))
	} else if !r.id(m.ID) {
		fe.Add("id", 0, "%q is not an id: letters, digits, - and _, at most %d characters", Clip(m.ID), MaxID)
	}
	if m.Type != "" || m.Ext != "" || m.Width != 0 || m.Height != 0 || m.Bytes != 0 {
		fe.Add("sha256", 0, "type, ext, width, height and bytes are read from the picture: leave them out (or give them all, with sha256)")
	}
	fe = append(fe, ValidateMediaText(m.Alt, m.Caption)...)
	if m.UploadedBy != "" && !ValidEmail(m.UploadedBy) {
		fe.Add("uploaded_by", 0, "%q is not an account's email address", Clip(m.UploadedBy))
	}
	return m, fe.Err(file)
}

// PictureMedia completes a media item from its picture's LFS pointer and
// what the object's bytes are. ext is the picture file's extension.
func PictureMedia(desc Media, id, ext string, ptr LFSPointer, info ImageInfo) (Media, error) {
	if pictureExts[ext] != info.Type {
		return Media{}, fmt.Errorf("the picture is %s, not what .%s names: call it %s", info.Type, ext, MediaFilePath(id, info.Ext))
	}
	m := desc
	m.ID, m.SHA256, m.Type, m.Ext, m.Width, m.Height, m.Bytes = id, ptr.OID, info.Type, ext, info.Width, info.Height, ptr.Size
	return m, nil
}

// ImageInfo is what the bytes of an image say it is.
type ImageInfo struct {
	Type, Ext     string
	Width, Height int
}
