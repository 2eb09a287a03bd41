// Package upload checks what an uploaded file is from its bytes alone,
// never its name, before the writer stores it (through the API, an LFS
// upload or a push), and refuses what must not be stored: unknown types,
// truncated files and decompression bombs. It holds the upload limits'
// defaults, set here once.
package upload

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/h2non/bimg"
)

var (
	// ErrUnsupported: not an image of an accepted type.
	ErrUnsupported = errors.New("not a JPEG, PNG, WebP, GIF, AVIF or HEIF image")
	// ErrTruncated: the file ends before the image does.
	ErrTruncated = errors.New("the image is truncated")
	// ErrTooLarge: more pixels than allowed (a decompression bomb, or just too big).
	ErrTooLarge = errors.New("the image has too many pixels")
	// ErrEmpty: no bytes at all.
	ErrEmpty = errors.New("the file is empty")
)

// Info describes an accepted image.
type Info struct {
	Type   string // MIME type
	Ext    string // file extension for the type
	Width  int
	Height int
	Bytes  int64
	SHA256 string
}

// Limits bound what an upload may be.
type Limits struct {
	MaxPixels int // width × height
	MaxSide   int // pixels, either dimension
}

// The default upload limits, the one place they are set (the daemon's
// flags and the web layer's defaults read them).
const (
	DefaultMaxMiB        = 25
	DefaultMaxMegapixels = 50
	DefaultMaxSide       = 20_000
)

// DefaultLimits: 50 megapixels, 20,000 pixels a side.
var DefaultLimits = Limits{MaxPixels: DefaultMaxMegapixels * 1_000_000, MaxSide: DefaultMaxSide}

// Inspect identifies an image by its bytes and checks it is whole and
// within the limits. Only the header is decoded.
func Inspect(data []byte, lim Limits) (Info, error) {
	if len(data) == 0 {
		return Info{}, ErrEmpty
	}
	typ, ext, ok := sniff(data)
	if !ok {
		return Info{}, ErrUnsupported
	}
	if !whole(typ, data) {
		return Info{}, ErrTruncated
	}
	md, err := bimg.Metadata(data)
	if err != nil || md.Size.Width <= 0 || md.Size.Height <= 0 {
		return Info{}, fmt.Errorf("%w: libvips cannot read it", ErrTruncated)
	}
	w, h := md.Size.Width, md.Size.Height
	if w > lim.MaxSide || h > lim.MaxSide || w*h > lim.MaxPixels {
		return Info{}, fmt.Errorf("%w: %d×%d is %.1f megapixels; at most %.1f, and %d a side", ErrTooLarge, w, h, float64(w*h)/1e6, float64(lim.MaxPixels)/1e6, lim.MaxSide)
	}
	sum := sha256.Sum256(data)
	return Info{Type: typ, Ext: ext, Width: w, Height: h, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// sniff reads the magic bytes.
func sniff(b []byte) (mime, ext string, ok bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg", "jpg", true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", "png", true
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif", "gif", true
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp", "webp", true
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		switch string(b[8:12]) {
		case "avif", "avis":
			return "image/avif", "avif", true
		case "heic", "heix", "hevc", "heim", "heis", "mif1", "msf1":
			return "image/heif", "heic", true
		}
	}
	return "", "", false
}

// whole checks that the file's structure reaches its declared end.
func whole(typ string, b []byte) bool {
	switch typ {
	case "image/jpeg":
		t := bytes.TrimRight(b, "\x00\r\n ")
		return len(t) >= 4 && t[len(t)-2] == 0xFF && t[len(t)-1] == 0xD9
	case "image/png":
		return bytes.HasSuffix(b, []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82})
	case "image/gif":
		t := bytes.TrimRight(b, "\x00")
		return len(t) > 13 && t[len(t)-1] == 0x3B
	case "image/webp":
		return len(b) >= 8 && int64(binary.LittleEndian.Uint32(b[4:8]))+8 <= int64(len(b))
	case "image/avif", "image/heif":
		// Top-level ISO-BMFF boxes must tile the file exactly.
		for off := int64(0); off < int64(len(b)); {
			if int64(len(b))-off < 8 {
				return false
			}
			size := int64(binary.BigEndian.Uint32(b[off : off+4]))
			switch size {
			case 0:
				return true // to the end of the file
			case 1:
				if int64(len(b))-off < 16 {
					return false
				}
				size = int64(binary.BigEndian.Uint64(b[off+8 : off+16]))
			}
			if size < 8 || off+size > int64(len(b)) {
				return false
			}
			off += size
		}
		return true
	}
	return false
}
