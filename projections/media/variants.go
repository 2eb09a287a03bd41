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
	"slices"
	"strings"
	"sync"
	"time"

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

// SrcWidth bounds the width pages name in an <img src> (the widest
// variant not wider): the one made first when no reader has asked for
// another.
const SrcWidth = 1024

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
	Workers   int       // images processed at once, AVIF in the background included; bounds memory and CPU (default 2)
	Logger    *slog.Logger
}

// Variants builds the resized images of every upload. Variants are keyed
// by the original's SHA-256 and the parameters, so building them again is
// harmless; the checkpoint is written once the batch's files are durable.
//
// A set is built in two stages: the fast formats (JPEG or PNG, and WebP)
// at every width, each file listed as soon as it is whole, then AVIF
// (several times slower to encode) by a worker in the background, which
// lists the whole set and marks it done. The first file, the width pages
// put in <img src>, is made straight from the original, before the
// master the others come from; a width a reader asks for while the first
// stage runs (Want) is made next, so that what readers wait for comes
// first. The checkpoint moves after the first
// stage; a set whose second stage did not finish (a restart, an error)
// is found by OpenVariants and finished.
type Variants struct {
	cfg Config
	sem chan struct{}

	files sync.Mutex // held while a file is put in place, so Reset never races a write

	mu    sync.Mutex
	wants map[string]int // original → the width a reader asked for before its first stage ended (Want)
	cp    projections.Checkpoint
	queue []*set        // sets waiting for their second stage
	busy  int           // sets queued or being finished
	idle  chan struct{} // closed while busy is 0
	gen   int           // bumped by Reset: work from before it is dropped
	wake  chan struct{}
	stop  context.CancelFunc
	done  chan struct{} // closed when the worker has stopped
}

var _ projections.Projection = (*Variants)(nil)

// OpenVariants opens the variants folder and its checkpoint, and starts
// finishing the sets left with their fast formats only. Close stops it.
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
	v := &Variants{cfg: cfg, sem: make(chan struct{}, cfg.Workers), wants: map[string]int{}, idle: make(chan struct{}),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	close(v.idle)
	b, err := os.ReadFile(v.checkpointFile())
	if err == nil {
		err = json.Unmarshal(b, &v.cp)
	} else if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		dir := filepath.Join(cfg.Dir, e.Name())
		if !e.IsDir() || len(e.Name()) != 64 || exists(filepath.Join(dir, ".done")) {
			continue
		}
		if typ, err := os.ReadFile(filepath.Join(dir, pending)); err == nil {
			v.enqueue(&set{sha: e.Name(), typ: string(typ), dir: dir})
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	v.stop = stop
	go v.finisher(ctx)
	return v, nil
}

// Close stops the background stage after the file it is encoding; sets
// not finished are finished by the next OpenVariants.
func (v *Variants) Close() error {
	v.stop()
	<-v.done
	return nil
}

// Drain waits until every set queued for its second stage is finished.
func (v *Variants) Drain(ctx context.Context) error {
	v.mu.Lock()
	idle := v.idle
	v.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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
	v.files.Lock()
	defer v.files.Unlock()
	v.mu.Lock()
	v.gen++ // the set being finished stops at its next file
	if n := len(v.queue); n > 0 {
		v.busy -= n
		if v.busy == 0 {
			close(v.idle)
		}
	}
	v.queue = nil
	v.mu.Unlock()
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

// Rewind implements projections.Rewinder: the checkpoint goes, the
// variants stay. They are made from an original's bytes alone, so they
// hold in any history, and a set already made is passed over when the
// projection is built again: a read node put onto its writer's history
// fetches no original and encodes no picture that it has already.
func (v *Variants) Rewind() error {
	if err := os.Remove(v.checkpointFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	v.mu.Lock()
	v.cp = projections.Checkpoint{}
	v.mu.Unlock()
	return nil
}

var _ projections.Rewinder = (*Variants)(nil)

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
			s, err := v.buildFast(ctx, sha, typ)
			if err == nil && s != nil {
				v.enqueue(s)
			}
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

// manifest lists an original's variants once the fast formats are built
// at every width, and again once all are: List reads it, and so names
// only variants that exist whole, with their real dimensions (libvips
// rounds the height).
const manifest = "variants.json"

// Formats a variant set is made in, for an original of type typ: the
// fast ones (listed first), then the slow ones.
func formats(typ string) (fast, slow []bimg.ImageType) {
	first := bimg.JPEG
	if typ == "image/png" || typ == "image/gif" {
		first = bimg.PNG
	}
	if bimg.IsTypeSupportedSave(bimg.AVIF) {
		slow = []bimg.ImageType{bimg.AVIF}
	}
	return []bimg.ImageType{first, bimg.WEBP}, slow
}

// pending marks a set whose fast formats are being or were built and
// whose slow ones are not yet; it holds the original's media type.
const pending = ".pending"

// errUnusable marks an original libvips cannot make variants of.
var errUnusable = errors.New("the original cannot be made into variants")

// errStale stops a set being finished when Reset dropped it.
var errStale = errors.New("the variants were reset")

// set is one original's variants while they are built.
type set struct {
	sha, typ, dir string
	gen           int
	widths        []int    // nil until the master is measured
	sized         [][]byte // the master at each width, kept for the second stage; nil: made again
	built         []Variant

	began             time.Time     // for the log
	fetched, mastered time.Duration // for the log
}

// Build makes the whole variant set of one original, if it is not made
// yet, and returns once it is. An error that is errUnusable is about the
// bytes, and permanent.
func (v *Variants) Build(ctx context.Context, sha, typ string) error {
	s, err := v.buildFast(ctx, sha, typ)
	if err != nil || s == nil {
		return err
	}
	return v.finish(ctx, s)
}

// buildFast makes the fast formats of an original at every width and
// lists them; nil when the whole set is already built.
func (v *Variants) buildFast(ctx context.Context, sha, typ string) (*set, error) {
	v.mu.Lock()
	s := &set{sha: sha, typ: typ, dir: filepath.Join(v.cfg.Dir, sha), gen: v.gen, began: time.Now()}
	v.mu.Unlock()
	defer v.granted(sha) // whatever the outcome
	if exists(filepath.Join(s.dir, ".done")) {
		return nil, nil
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(s.dir, pending), []byte(typ), 0o644); err != nil {
		return nil, err
	}
	start := time.Now()
	fast, _ := formats(typ)
	if err := v.make(ctx, s, fast, true); err != nil {
		if errors.Is(err, errUnusable) {
			os.Remove(filepath.Join(s.dir, pending)) // nothing to finish
		}
		return nil, err
	}
	_, slow := formats(typ)
	whole := len(s.widths) == 0 || len(slow) == 0 // narrower than every width, or no AVIF here: nothing to finish
	if err := v.list(s, whole); err != nil || whole {
		return nil, err
	}
	v.cfg.Logger.Debug("variants listed: the fast formats", "sha256", sha, "original", s.fetched.Round(time.Millisecond),
		"master", s.mastered.Round(time.Millisecond), "took", time.Since(start).Round(time.Millisecond))
	return s, nil
}

// finish makes the slow formats of a set and lists the whole set.
func (v *Variants) finish(ctx context.Context, s *set) error {
	fast, slow := formats(s.typ)
	start := time.Now()
	if s.began.IsZero() { // left unfinished by an earlier run
		s.began = start
	}
	if err := v.make(ctx, s, append(fast, slow...), false); err != nil {
		return err
	}
	if err := v.list(s, true); err != nil {
		return err
	}
	v.cfg.Logger.Debug("variants listed: the whole set", "sha256", s.sha, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// make writes the files of formats fs at every width the original is
// wider than, skipping those already whole on disk, and records them in
// s.built (narrowest first, in the order of fs). Each width is resized
// once from the upright, stripped master, losslessly, and every format
// is encoded from that; in the first stage those images stay for the
// second, each file is listed as soon as it is whole, and a width a
// reader asked for (Want) is made before the others.
func (v *Variants) make(ctx context.Context, s *set, fs []bimg.ImageType, firstStage bool) error {
	s.built = s.built[:0]
	var master []byte
	if s.widths == nil {
		release := v.slot(firstStage)
		orig, err := v.original(ctx, s)
		if err == nil && firstStage {
			err = v.first(s, orig, fs[0])
		}
		if err == nil {
			master, err = v.master(s, orig)
		}
		release()
		if err != nil {
			return err
		}
	}
	type job struct {
		i int // in s.widths
		f bimg.ImageType
	}
	var todo []job
	for i := range s.widths {
		for _, f := range fs {
			todo = append(todo, job{i, f})
		}
	}
	for len(todo) > 0 {
		k := 0
		if firstStage {
			k = v.wanted(s, len(todo), func(k int) int { return s.widths[todo[k].i] })
		}
		i, f := todo[k].i, todo[k].f
		todo = append(todo[:k], todo[k+1:]...)
		w := s.widths[i]
		if k > 0 && !slices.ContainsFunc(todo, func(j job) bool { return s.widths[j.i] == w }) {
			v.granted(s.sha) // this width is the last wished for: the rest in order
		}
		name := fmt.Sprintf("w%d.%s", w, ext(f))
		if b, err := os.ReadFile(filepath.Join(s.dir, name)); err == nil {
			if size, err := bimg.Size(b); err == nil {
				s.add(Variant{Width: size.Width, Height: size.Height, Format: ext(f), File: name}, fs)
				continue
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.sized[i] == nil && master == nil {
			s.widths = nil // not kept: begin again from the original
			return v.make(ctx, s, fs, firstStage)
		}
		release := v.slot(firstStage)
		vr, err := v.file(s, i, f, master)
		release()
		if err != nil {
			return err
		}
		s.add(vr, fs)
		if firstStage && len(todo) > 0 { // the last is listed by the caller
			if err := v.list(s, false); err != nil {
				return err
			}
		}
		v.cfg.Logger.Debug("variant made", "sha256", s.sha, "file", vr.File, "since", time.Since(s.began).Round(time.Millisecond))
	}
	if !firstStage {
		s.widths, s.sized = nil, nil
	}
	return nil
}

// add records a built file in s.built, narrowest first and in the order
// of fs within a width, whatever order they were made in; once.
func (s *set) add(vr Variant, fs []bimg.ImageType) {
	if slices.ContainsFunc(s.built, func(b Variant) bool { return b.File == vr.File }) {
		return
	}
	rank := func(v Variant) int {
		for j, f := range fs {
			if ext(f) == v.Format {
				return v.Width*len(fs) + j
			}
		}
		return v.Width * len(fs)
	}
	j := len(s.built)
	for j > 0 && rank(s.built[j-1]) > rank(vr) {
		j--
	}
	s.built = slices.Insert(s.built, j, vr)
}

// Want says a reader asked for an original's variant of width w before
// its set was whole: if its first stage is being made or is still to
// come, that width (or the nearest wider one) is made next. What is
// remembered is bounded: an arbitrary wish is forgotten when there are
// too many (they only order the work).
func (v *Variants) Want(sha string, w int) {
	if w <= 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.wants[sha]; !ok && len(v.wants) >= maxWants {
		for k := range v.wants {
			delete(v.wants, k)
			break
		}
	}
	v.wants[sha] = w
}

// maxWants bounds the widths asked for that Variants remembers.
const maxWants = 256

// wanted picks which of n jobs to do next, given each one's width: the
// narrowest at least as wide as a reader asked for, else the widest; the
// first when nobody asked.
func (v *Variants) wanted(s *set, n int, width func(int) int) int {
	w := v.wish(s.sha)
	if w == 0 {
		return 0
	}
	best := 0
	for k := range n {
		switch wk, wb := width(k), width(best); {
		case wb >= w:
			if wk >= w && wk < wb {
				best = k
			}
		case wk > wb:
			best = k
		}
	}
	return best
}

// granted forgets the width wished for an original, once it is made.
func (v *Variants) granted(sha string) {
	v.mu.Lock()
	delete(v.wants, sha)
	v.mu.Unlock()
}

// slot takes a worker slot for one step of the second stage, and gives
// it back when called. Apply holds a slot for a set's whole first stage;
// the background stage takes one per step, so a new upload's first stage
// waits for one step at most, and Workers bounds the images in memory.
func (v *Variants) slot(firstStage bool) func() {
	if firstStage {
		return func() {}
	}
	v.sem <- struct{}{}
	return func() { <-v.sem }
}

// file makes and writes the variant of format f at the set's i-th width.
func (v *Variants) file(s *set, i int, f bimg.ImageType, master []byte) (Variant, error) {
	w := s.widths[i]
	if s.sized[i] == nil {
		sized, err := bimg.NewImage(master).Process(bimg.Options{Width: w, Type: bimg.TIFF, StripMetadata: true,
			NoAutoRotate: true, Interpretation: bimg.InterpretationSRGB})
		if err != nil {
			return Variant{}, fmt.Errorf("%w: %d px: %w", errUnusable, w, err)
		}
		s.sized[i] = sized
	}
	out, err := bimg.NewImage(s.sized[i]).Process(bimg.Options{Type: f, Quality: 82, StripMetadata: true,
		NoAutoRotate: true, Interpretation: bimg.InterpretationSRGB, Speed: 8})
	if err != nil {
		return Variant{}, fmt.Errorf("%w: %d px %s: %w", errUnusable, w, bimg.ImageTypeName(f), err)
	}
	if f == bimg.WEBP {
		out = StripWebPMetadata(out) // libvips keeps EXIF in WebP (libvips issue 3340)
	}
	got, err := bimg.Size(out)
	if err != nil {
		return Variant{}, fmt.Errorf("%w: %d px %s: %w", errUnusable, w, bimg.ImageTypeName(f), err)
	}
	name := fmt.Sprintf("w%d.%s", w, ext(f))
	if err := v.write(s, name, out); err != nil {
		return Variant{}, err
	}
	return Variant{Width: got.Width, Height: got.Height, Format: ext(f), File: name}, nil
}

// master makes an original's normalised master — upright (turned by its
// EXIF orientation), sRGB, no metadata, lossless — and from its size the
// widths of the set: every one narrower than it. Every variant comes
// from the master, so none can inherit an orientation tag. The master
// and the images at each width are uncompressed TIFF: PNG (even at
// compression 1, with libvips' adaptive filters) cost 2–2.5× the CPU to
// write and read again, for memory that lives only while a set is made.
func (v *Variants) master(s *set, orig []byte) ([]byte, error) {
	start := time.Now()
	master, err := bimg.NewImage(orig).Process(bimg.Options{StripMetadata: true, Interpretation: bimg.InterpretationSRGB,
		Type: bimg.TIFF})
	if err != nil {
		return nil, fmt.Errorf("%w: master: %w", errUnusable, err)
	}
	s.mastered = time.Since(start)
	size, err := bimg.Size(master)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUnusable, err)
	}
	s.widths = widthsUnder(size.Width)
	s.sized = make([][]byte, len(s.widths))
	return master, nil
}

// widthsUnder is every variant width narrower than an image w wide.
func widthsUnder(w int) []int {
	out := []int{}
	for _, x := range Widths {
		if x >= w {
			break
		}
		out = append(out, x)
	}
	return out
}

// original reads an original, fetching it first if it lives elsewhere.
func (v *Variants) original(ctx context.Context, s *set) ([]byte, error) {
	start := time.Now()
	path, err := v.cfg.Originals.Path(ctx, s.sha)
	if err != nil {
		return nil, err
	}
	orig, err := os.ReadFile(path)
	s.fetched = time.Since(start)
	return orig, err
}

// first makes, straight from the original, the file readers are most
// likely waiting for — the width pages name in <img src> (SrcWidth), in
// format f — and lists it before the master is made: that costs one
// more decoding of the original (shrunk on load where libvips can), and
// saves the wait for the master. The options are the master's and a
// variant's together, so the file is upright, sRGB and stripped like the
// others. Which file is made this way does not depend on what readers
// asked for, so every node makes the same bytes for it (a variant's
// ETag is the original's hash and the file's size). Bytes it cannot
// make are left to the master to judge.
func (v *Variants) first(s *set, orig []byte, f bimg.ImageType) error {
	img := bimg.NewImage(orig)
	meta, err := img.Metadata()
	if err != nil {
		return nil
	}
	upright := meta.Size.Width
	if meta.Orientation >= 5 { // turned a quarter: EXIF orientations 5–8
		upright = meta.Size.Height
	}
	widths := widthsUnder(upright)
	if len(widths) == 0 {
		return nil
	}
	k := len(widths) - 1
	for k > 0 && widths[k] > SrcWidth {
		k--
	}
	name := fmt.Sprintf("w%d.%s", widths[k], ext(f))
	if exists(filepath.Join(s.dir, name)) { // made before a restart
		return nil
	}
	out, err := img.Process(bimg.Options{Width: widths[k], Type: f, Quality: 82, StripMetadata: true,
		Interpretation: bimg.InterpretationSRGB, Speed: 8})
	if err != nil {
		return nil
	}
	got, err := bimg.Size(out)
	if err != nil || got.Width != widths[k] {
		return nil
	}
	if err := v.write(s, name, out); err != nil {
		return err
	}
	s.built = append(s.built, Variant{Width: got.Width, Height: got.Height, Format: ext(f), File: name})
	if err := v.list(s, false); err != nil {
		return err
	}
	v.cfg.Logger.Debug("variant made", "sha256", s.sha, "file", name, "since", time.Since(s.began).Round(time.Millisecond), "from", "original")
	return nil
}

// wish is the width asked for an original (Want); 0 if none.
func (v *Variants) wish(sha string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.wants[sha]
}

// stale reports whether Reset dropped s since it was begun.
func (v *Variants) stale(s *set) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return s.gen != v.gen
}

// write puts one whole file of a set in place, unless Reset dropped the
// set meanwhile.
func (v *Variants) write(s *set, name string, b []byte) error {
	v.files.Lock()
	defer v.files.Unlock()
	if v.stale(s) {
		return errStale
	}
	return atomicfile.Write(filepath.Join(s.dir, name), b, 0o644)
}

// list writes the set's manifest: what List names from then on. With all
// true the set is whole: marked done, and no longer pending. A manifest
// of the fast formats never replaces the whole set's.
func (v *Variants) list(s *set, all bool) error {
	b, _ := json.Marshal(s.built)
	v.files.Lock()
	defer v.files.Unlock()
	if v.stale(s) {
		return errStale
	}
	done := filepath.Join(s.dir, ".done")
	if !all && exists(done) {
		return nil
	}
	if err := atomicfile.Write(filepath.Join(s.dir, manifest), b, 0o644); err != nil || !all {
		return err
	}
	if err := atomicfile.Write(done, nil, 0o644); err != nil {
		return err
	}
	return os.Remove(filepath.Join(s.dir, pending))
}

// enqueue hands a set to the background stage, unless it is there.
func (v *Variants) enqueue(s *set) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, q := range v.queue {
		if q.sha == s.sha {
			return
		}
	}
	if len(v.queue) >= v.cfg.Workers {
		s.widths, s.sized = nil, nil // many waiting (a replay): made again when their turn comes, not held in memory
	}
	v.queue = append(v.queue, s)
	if v.busy == 0 {
		v.idle = make(chan struct{})
	}
	v.busy++
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// finisher is the background stage: it finishes queued sets one at a
// time until Close.
func (v *Variants) finisher(ctx context.Context) {
	defer close(v.done)
	for {
		v.mu.Lock()
		var s *set
		if len(v.queue) > 0 {
			s, v.queue = v.queue[0], v.queue[1:]
		}
		v.mu.Unlock()
		if s == nil {
			select {
			case <-ctx.Done():
				return
			case <-v.wake:
				continue
			}
		}
		err := v.finish(ctx, s)
		switch {
		case err == nil, errors.Is(err, errStale), ctx.Err() != nil:
		case errors.Is(err, errUnusable):
			// The fast formats are listed; the bytes make no AVIF.
			v.cfg.Logger.Warn("no slow-format variants for this original", "sha256", s.sha, "err", err)
			if err := v.list(s, true); err != nil {
				v.cfg.Logger.Error("could not mark the variants done", "sha256", s.sha, "err", err)
			}
		default:
			// A missing original, a full disk: the fast formats serve
			// meanwhile, and the set is tried again later (and on start).
			v.cfg.Logger.Error("variants not finished; trying again in a minute", "sha256", s.sha, "err", err)
			time.AfterFunc(time.Minute, func() {
				if ctx.Err() == nil && !v.stale(s) {
					v.enqueue(&set{sha: s.sha, typ: s.typ, dir: s.dir, gen: s.gen})
				}
			})
		}
		v.mu.Lock()
		v.busy--
		if v.busy == 0 {
			close(v.idle)
		}
		v.mu.Unlock()
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func ext(f bimg.ImageType) string {
	if f == bimg.JPEG {
		return "jpg"
	}
	return bimg.ImageTypeName(f)
}

// Complete reports whether an original's variant set is whole: what is
// served for it will not change. An original that makes no variants
// (narrower than every width, or unusable) is complete once that is known.
func (v *Variants) Complete(sha string) bool {
	if len(sha) != 64 || strings.ContainsAny(sha, "/\\.") {
		return false
	}
	return exists(filepath.Join(v.cfg.Dir, sha, ".done"))
}

// List returns the variants built for an original, narrowest first:
// none until a first file is built (the original serves meanwhile), then
// the fast formats' files as each is made, then the whole set.
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
