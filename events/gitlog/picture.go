package gitlog

import (
	"fmt"
	"os"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/repo/lfs"
)

// MaxMediaObject is the largest stored LFS object read to learn what
// picture it is (uploads are smaller still).
const MaxMediaObject = 256 << 20

// Picture is what an LFS object is as a picture, or why it is not one.
type Picture struct {
	Info      content.ImageInfo
	Problem   string // why the object cannot be media; "" if it can
	RecordErr error  // the sidecar could not be written (the answer stands)
	// Transient is a failure of this machine, not a fact of the object
	// (a read error): nothing is recorded, and the caller tries again
	// later rather than derive the picture as absent. What the image
	// library says of the bytes is taken as their fact: the same bytes
	// give the same answer on every node running the same libvips.
	Transient error
}

// ReadPicture reads what image an LFS object is, or why it cannot be one:
// from its sidecar if it has one, else from its bytes, then recorded in
// a sidecar so that no one reads them again.
func ReadPicture(lfsDir string, image func([]byte) (content.ImageInfo, error), oid string, size int64) Picture {
	if !lfs.Exists(lfsDir, oid, size) {
		return Picture{Problem: fmt.Sprintf("LFS object sha256:%s (%d bytes) was never uploaded: push it with git lfs first", oid[:12], size)}
	}
	if f, ok := lfs.ReadFacts(lfsDir, oid, size); ok {
		if f.Problem != "" {
			return Picture{Problem: f.Problem}
		}
		return Picture{Info: content.ImageInfo{Type: f.Type, Ext: f.Ext, Width: f.Width, Height: f.Height}}
	}
	if image == nil || size > MaxMediaObject {
		return Picture{Problem: fmt.Sprintf("LFS object sha256:%s cannot be checked here: upload the picture through the API", oid[:12])}
	}
	data, err := os.ReadFile(lfs.ObjectPath(lfsDir, oid))
	if err != nil {
		return Picture{Transient: fmt.Errorf("read LFS object sha256:%s: %w", oid[:12], err)}
	}
	facts := lfs.Facts{Size: size}
	o := Picture{}
	if info, err := image(data); err != nil {
		o.Problem = fmt.Sprintf("LFS object sha256:%s is not an accepted image: %v", oid[:12], err)
		facts.Problem = o.Problem
	} else {
		o.Info = info
		facts.Type, facts.Ext, facts.Width, facts.Height = info.Type, info.Ext, info.Width, info.Height
	}
	// Without the sidecar the bytes are read again next time: the caller
	// logs why.
	o.RecordErr = lfs.Record(lfsDir, oid, facts)
	return o
}
