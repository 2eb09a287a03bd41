// Package media is the projection that builds the picture variants readers
// are served (sizes and formats, with libvips) from the originals in the
// LFS store, as media events arrive.
package media

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/h2non/bimg"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/repo/atomicfile"
	"github.com/chronicle-cms/chronicle/repo/lfs"
)

// Name is the projection's stable name.
const Name = "media"

// Widths are the variant widths; an image is never enlarged.
var Widths = []int{320, 640, 1024, 1600, 2400}

// Originals finds an original on this node's disk by its SHA-256,
// fetching it first where it lives elsewhere (a read node's originals are
// in the writer's Object Store). An original not found anywhere is an
// error wrapping fs.ErrNotExist.
type Originals interface {
	Path(ctx context.Context, sha256 string) (string, error)
}

// Config configures the variants projection.
type Config struct {
	Store     string    // originals, by SHA-256 (the LFS store), when Originals is nil
	Originals Originals // where originals come from; nil: the LFS store in Store
	Dir       string    // variants: <Dir>/<sha256>/w<width>.<ext>
	Workers   int       // images processed at once; bounds memory and CPU (default 2)
	Logger    *slog.Logger
}

// Variants builds the resized images of every upload. Variants are keyed
// by the original's SHA-256 and the parameters, so building them again is
// harmless; the checkpoint is written once the batch's files are durable.
type Variants struct {
	cfg Config
	sem chan struct{}

	mu sync.Mutex
	cp projections.Checkpoint
}

var _ projections.Projection = (*Variants)(nil)

// OpenVariants opens the variants folder and its checkpoint.
func OpenVariants(cfg Config) (*Variants, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Originals == nil {
		cfg.Originals = lfs.Local(cfg.Store)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	v := &Variants{cfg: cfg, sem: make(chan struct{}, cfg.Workers)}
	b, err := os.ReadFile(v.checkpointFile())
	if err == nil {
		err = json.Unmarshal(b, &v.cp)
	} else if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return v, err
}

func (v *Variants) checkpointFile() string { return filepath.Join(v.cfg.Dir, "checkpoint.json") }

// Name implements projections.Projection.
func (v *Variants) Name() string { return Name }

// Checkpoint implements projections.Projection.
func (v *Variants) Checkpoint() projections.Checkpoint {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.cp
}

// Reset implements projections.Projection.
func (v *Variants) Reset() error {
	entries, _ := os.ReadDir(v.cfg.Dir)
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(v.cfg.Dir, e.Name())); err != nil {
			return err
		}
	}
	v.mu.Lock()
	v.cp = projections.Checkpoint{}
	v.mu.Unlock()
	return nil
}

// Apply implements projections.Projection: it builds the variants of the
// uploads in the batch, Workers at a time.
func (v *Variants) Apply(ctx context.Context, evs []events.Event, cp projections.Checkpoint) error {
	todo := map[string]string{} // sha256 → type
	for _, e := range evs {
		// Filtered by type first: decoding every post's content to drop
		// it would be most of a replay's work here.
		if e.Type != events.MediaUploaded && e.Type != events.MediaUpdated { // a picture replaced in git keeps its id
			continue
		}
		pl, err := e.Payload()
		if err != nil {
			return fmt.Errorf("event %s: %w", e.ID, err)
		}
		if d, ok := pl.(events.MediaData); ok {
			todo[d.Media.SHA256] = d.Media.Type
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(todo))
	for sha, typ := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v.sem <- struct{}{}
			defer func() { <-v.sem }()
			err := v.Build(ctx, sha, typ)
			if errors.Is(err, errUnusable) {
				// The bytes will never make variants (history from before
				// uploads were checked, or a libvips that cannot read
				// them): the original is served alone, and the projection
				// goes on. Anything else — a missing original, a full
				// disk — stops it until the cause is gone.
				v.cfg.Logger.Warn("no variants for this original", "sha256", sha, "err", err)
				err = nil
			}
			if err != nil {
				errs <- fmt.Errorf("variants of %s: %w", sha[:12], err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	b, _ := json.Marshal(cp)
	if err := atomicfile.Write(v.checkpointFile(), b, 0o644); err != nil {
		return err
	}
	v.mu.Lock()
	v.cp = cp
	v.mu.Unlock()
	return nil
}

// Variant is one built file.
type Variant struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Format string `json:"format"` // jpg, png, webp, avif
	Path   string `json:"-"`
	File   string `json:"file"` // its name in the original's folder: w640.webp
}

// manifest lists an original's variants once all are built: List reads
// it, and so names only variants that exist whole, with their real
// dimensions (libvips rounds the height).
const manifest = "variants.json"

// Formats a variant set is made in, for an original of type typ.
func formats(typ string) []bimg.ImageType {
	first := bimg.JPEG
	if typ == "image/png" || typ == "image/gif" {
		first = bimg.PNG
	}
	out := []bimg.ImageType{first, bimg.WEBP}
	if bimg.IsTypeSupportedSave(bimg.AVIF) {
		out = append(out, bimg.AVIF)
	}
	return out
}

// errUnusable marks an original libvips cannot make variants of.
var errUnusable = errors.New("the original cannot be made into variants")

// Build makes the variant set of one original, if it is not made yet. An
// error that is errUnusable is about the bytes, and permanent.
func (v *Variants) Build(ctx context.Context, sha, typ string) error {
	dir := filepath.Join(v.cfg.Dir, sha)
	done := filepath.Join(dir, ".done")
	if _, err := os.Stat(done); err == nil {
		return nil
	}
	path, err := v.cfg.Originals.Path(ctx, sha)
	if err != nil {
		return err
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// One normalised master: upright, sRGB, no metadata. Every variant
	// comes from it, so none can inherit an orientation tag.
	upright, err := bimg.NewImage(orig).AutoRotate()
	if err != nil {
		return fmt.Errorf("%w: auto-rotate: %w", errUnusable, err)
	}
	master, err := bimg.NewImage(upright).Process(bimg.Options{StripMetadata: true, Interpretation: bimg.InterpretationSRGB,
		NoAutoRotate: true, Type: bimg.PNG, Compression: 1})
	if err != nil {
		return fmt.Errorf("%w: master: %w", errUnusable, err)
	}
	size, err := bimg.Size(master)
	if err != nil {
		return fmt.Errorf("%w: %w", errUnusable, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	built := []Variant{}
	for _, w := range Widths {
		if w >= size.Width {
			break
		}
		for _, f := range formats(typ) {
			out, err := bimg.NewImage(master).Process(bimg.Options{Width: w, Type: f, Quality: 82, StripMetadata: true,
				NoAutoRotate: true, Interpretation: bimg.InterpretationSRGB, Speed: 8})
			if err != nil {
				return fmt.Errorf("%w: %d px %s: %w", errUnusable, w, bimg.ImageTypeName(f), err)
			}
			if f == bimg.WEBP {
				out = StripWebPMetadata(out) // libvips keeps EXIF in WebP (libvips issue 3340)
			}
			got, err := bimg.Size(out)
			if err != nil {
				return fmt.Errorf("%w: %d px %s: %w", errUnusable, w, bimg.ImageTypeName(f), err)
			}
			name := fmt.Sprintf("w%d.%s", w, ext(f))
			if err := atomicfile.Write(filepath.Join(dir, name), out, 0o644); err != nil {
				return err
			}
			built = append(built, Variant{Width: got.Width, Height: got.Height, Format: ext(f), File: name})
		}
	}
	b, _ := json.Marshal(built)
	if err := atomicfile.Write(filepath.Join(dir, manifest), b, 0o644); err != nil {
		return err
	}
	return atomicfile.Write(done, nil, 0o644)
}

func ext(f bimg.ImageType) string {
	if f == bimg.JPEG {
		return "jpg"
	}
	return bimg.ImageTypeName(f)
}

// List returns the variants built for an original, narrowest first:
// none until the whole set is built (the original serves meanwhile).
func (v *Variants) List(sha string) []Variant {
	if len(sha) != 64 || strings.ContainsAny(sha, "/\\.") {
		return nil
	}
	dir := filepath.Join(v.cfg.Dir, sha)
	var out []Variant
	if b, err := os.ReadFile(filepath.Join(dir, manifest)); err == nil && json.Unmarshal(b, &out) == nil {
		for i := range out {
			out[i].Path = filepath.Join(dir, out[i].File)
		}
		return out
	}
	if _, err := os.Stat(filepath.Join(dir, ".done")); err != nil {
		return nil
	}
	// Built before manifests: the files say what they are, read once and
	// remembered in a manifest.
	for _, w := range Widths {
		for _, f := range []string{"jpg", "png", "webp", "avif"} {
			name := fmt.Sprintf("w%d.%s", w, f)
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				continue
			}
			if size, err := bimg.Size(b); err == nil {
				out = append(out, Variant{Width: size.Width, Height: size.Height, Format: f, File: name, Path: filepath.Join(dir, name)})
			}
		}
	}
	if b, err := json.Marshal(out); err == nil {
		if err := atomicfile.Write(filepath.Join(dir, manifest), b, 0o644); err != nil {
			v.cfg.Logger.Warn("could not remember the variants built", "sha256", sha, "err", err)
		}
	}
	return out
}

// StripWebPMetadata removes the EXIF and XMP chunks of a WebP file and
// clears their flags in the VP8X header.
func StripWebPMetadata(b []byte) []byte {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return b
	}
	out := append([]byte(nil), b[:12]...)
	for off := 12; off+8 <= len(b); {
		fourcc := string(b[off : off+4])
		n := int(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		end := off + 8 + n + n%2
		if end > len(b) {
			end = len(b)
		}
		chunk := b[off:end]
		switch fourcc {
		case "EXIF", "XMP ":
		case "VP8X":
			c := append([]byte(nil), chunk...)
			if len(c) > 8 {
				c[8] &^= 0x08 | 0x04 // EXIF and XMP present flags
			}
			out = append(out, c...)
		default:
			out = append(out, chunk...)
		}
		off = end
	}
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out
}
