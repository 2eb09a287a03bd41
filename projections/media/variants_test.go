package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/h2non/bimg"

	"github.com/chronicle-cms/chronicle/events"
	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/projections"
	"github.com/chronicle-cms/chronicle/repo/lfs"
)

// withEXIF inserts an APP1 segment with Orientation and a GPS tag.
func withEXIF(jpg []byte, orientation uint16) []byte {
	var t bytes.Buffer
	le := binary.LittleEndian
	t.WriteString("II")
	binary.Write(&t, le, uint16(42))
	binary.Write(&t, le, uint32(8))
	binary.Write(&t, le, uint16(2)) // IFD0: two entries
	binary.Write(&t, le, []uint16{0x0112, 3})
	binary.Write(&t, le, uint32(1))
	binary.Write(&t, le, []uint16{orientation, 0})
	binary.Write(&t, le, []uint16{0x8825, 4}) // GPS IFD pointer
	binary.Write(&t, le, uint32(1))
	binary.Write(&t, le, uint32(38))
	binary.Write(&t, le, uint32(0))
	binary.Write(&t, le, uint16(1)) // GPS IFD: latitude ref "N"
	binary.Write(&t, le, []uint16{0x0001, 2})
	binary.Write(&t, le, uint32(2))
	t.Write([]byte{'N', 0, 0, 0})
	binary.Write(&t, le, uint32(0))
	payload := append([]byte("Exif\x00\x00"), t.Bytes()...)
	app1 := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(payload)+2))
	out := append([]byte{0xFF, 0xD8}, app1...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

func TestVariantsAreUprightSizedAndStripped(t *testing.T) {
	var b bytes.Buffer
	jpeg.Encode(&b, picture(1100, 700), &jpeg.Options{Quality: 90}) // landscape pixels…
	orig := withEXIF(b.Bytes(), 6)                                  // …shown rotated: 700 × 1100
	if md, err := bimg.Metadata(orig); err != nil || md.Orientation != 6 {
		t.Fatalf("test image: orientation %d, %v", md.Orientation, err)
	}
	store, dir := t.TempDir(), t.TempDir()
	sum := sha256.Sum256(orig)
	sha := hex.EncodeToString(sum[:])
	p := lfs.ObjectPath(store, sha)
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, orig, 0o644)

	v := openVariants(t, Config{Store: store, Dir: dir, Workers: 2})
	data, _ := json.Marshal(events.MediaData{Media: content.Media{ID: "m1", SHA256: sha, Type: "image/jpeg"}})
	e := events.Event{ID: "c-0", Type: events.MediaUploaded, Height: 1, Count: 1, Schema: 1, Data: data}
	cp := projections.Checkpoint{Cursor: e.Cursor(), Seq: 1}
	if err := v.Apply(context.Background(), []events.Event{e}, cp); err != nil {
		t.Fatal(err)
	}
	// Once Apply returns, the fast formats are listed at every width
	// (AVIF follows in the background).
	fast, slow := formats("image/jpeg")
	if got := formatsAt(v.List(sha)); got["jpg"] != "320 640" || got["webp"] != "320 640" {
		t.Fatalf("after Apply: %v, want JPEG and WebP at 320 and 640", got)
	}
	if err := v.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := v.List(sha)
	want := 2 * len(append(fast, slow...)) // 320 and 640: 1024 would enlarge the 700-wide upright image
	if len(got) != want {
		t.Fatalf("%d variants, want %d: %+v", len(got), want, got)
	}
	for _, vr := range got {
		out, _ := os.ReadFile(vr.Path)
		size, err := bimg.Size(out)
		if err != nil {
			t.Fatalf("%s: %v", vr.Path, err)
		}
		if size.Height != vr.Height {
			t.Errorf("%s: listed %d high, the file is %d", filepath.Base(vr.Path), vr.Height, size.Height)
		}
		if size.Width != vr.Width || size.Height <= size.Width {
			t.Errorf("%s: %d×%d, want %d wide and upright (portrait)", filepath.Base(vr.Path), size.Width, size.Height, vr.Width)
		}
		if typ := bimg.DetermineImageTypeName(out); typ != map[string]string{"jpg": "jpeg", "webp": "webp", "avif": "avif", "png": "png"}[vr.Format] {
			t.Errorf("%s is %s", filepath.Base(vr.Path), typ)
		}
		if bytes.Contains(out, []byte("Exif")) || bytes.Contains(out, []byte("EXIF")) {
			t.Errorf("%s still carries EXIF", filepath.Base(vr.Path))
		}
		if md, err := bimg.Metadata(out); err == nil && md.Orientation > 1 {
			t.Errorf("%s has orientation %d", filepath.Base(vr.Path), md.Orientation)
		}
	}
	// Variants built before manifests are listed alike, from the files.
	if err := os.Remove(filepath.Join(dir, sha, manifest)); err != nil {
		t.Fatal(err)
	}
	if again := v.List(sha); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Fatalf("without a manifest: %+v, with one: %+v", again, got)
	}
	if _, err := os.Stat(filepath.Join(dir, sha, manifest)); err != nil {
		t.Fatalf("the files were not remembered in a manifest: %v", err)
	}
	if v.Checkpoint() != cp {
		t.Fatalf("checkpoint %+v", v.Checkpoint())
	}
	// Idempotent, and rebuilt after the variants are deleted.
	if err := v.Reset(); err != nil {
		t.Fatal(err)
	}
	if len(v.List(sha)) != 0 {
		t.Fatal("reset left variants")
	}
	if err := v.Apply(context.Background(), []events.Event{e, e}, cp); err != nil {
		t.Fatal(err)
	}
	if err := v.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(v.List(sha)) != want {
		t.Fatal("variants not rebuilt")
	}
	// Rewound (a read node put onto another history): the checkpoint
	// goes, on disk too, and the variants stay; applied again, the set
	// is passed over without its original, which is not looked for.
	if err := v.Rewind(); err != nil {
		t.Fatal(err)
	}
	if v.Checkpoint() != (projections.Checkpoint{}) || len(v.List(sha)) != want {
		t.Fatalf("after Rewind: checkpoint %+v, %d variants; want none and %d", v.Checkpoint(), len(v.List(sha)), want)
	}
	if reopened := openVariants(t, Config{Store: store, Dir: dir}); reopened.Checkpoint() != (projections.Checkpoint{}) {
		t.Fatalf("reopened after Rewind at %+v", reopened.Checkpoint())
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := v.Apply(context.Background(), []events.Event{e}, cp); err != nil {
		t.Fatalf("applied again after Rewind, without the original: %v", err)
	}
	if v.Checkpoint() != cp || len(v.List(sha)) != want {
		t.Fatalf("after Rewind and Apply: checkpoint %+v, %d variants", v.Checkpoint(), len(v.List(sha)))
	}
}

func TestStripWebPMetadata(t *testing.T) {
	var b bytes.Buffer
	jpeg.Encode(&b, picture(64, 64), nil)
	webp, err := bimg.NewImage(withEXIF(b.Bytes(), 1)).Process(bimg.Options{Type: bimg.WEBP})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(webp, []byte("EXIF")) {
		t.Log("this libvips dropped EXIF from WebP by itself; the stripping is checked on a crafted chunk below")
		webp = append(webp[:len(webp):len(webp)], []byte("EXIF\x04\x00\x00\x00Exif")...)
		binary.LittleEndian.PutUint32(webp[4:8], uint32(len(webp)-8))
	}
	clean := StripWebPMetadata(webp)
	if bytes.Contains(clean, []byte("EXIF")) {
		t.Fatal("EXIF chunk left")
	}
	if _, err := bimg.Size(clean); err != nil || int(binary.LittleEndian.Uint32(clean[4:8]))+8 != len(clean) {
		t.Fatalf("stripped WebP is broken: %v", err)
	}
}

// An original libvips cannot read (history from before uploads were
// checked) gets no variants and does not stop the projection; a missing
// original does, until it is back.
func TestUnusableOriginalsDoNotStopVariants(t *testing.T) {
	store, dir := t.TempDir(), t.TempDir()
	put := func(b []byte) string {
		sum := sha256.Sum256(b)
		sha := hex.EncodeToString(sum[:])
		p := lfs.ObjectPath(store, sha)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, b, 0o644)
		return sha
	}
	v := openVariants(t, Config{Store: store, Dir: dir, Workers: 1})
	event := func(id, sha string, h int64) events.Event {
		data, _ := json.Marshal(events.MediaData{Media: content.Media{ID: id, SHA256: sha, Type: "image/jpeg"}})
		return events.Event{ID: id, Type: events.MediaUploaded, Height: h, Count: 1, Schema: 1, Data: data}
	}
	html := event("bad", put([]byte("<html><script>alert(1)</script></html>")), 1)
	if err := v.Apply(context.Background(), []events.Event{html}, projections.Checkpoint{Cursor: html.Cursor(), Seq: 1}); err != nil {
		t.Fatalf("an unreadable original stopped the projection: %v", err)
	}
	var b bytes.Buffer
	jpeg.Encode(&b, picture(400, 300), nil)
	good := b.Bytes()
	sum := sha256.Sum256(good)
	missing := event("later", hex.EncodeToString(sum[:]), 2)
	cp := projections.Checkpoint{Cursor: missing.Cursor(), Seq: 2}
	if err := v.Apply(context.Background(), []events.Event{missing}, cp); err == nil {
		t.Fatal("a missing original was passed over")
	}
	put(good)
	if err := v.Apply(context.Background(), []events.Event{missing}, cp); err != nil {
		t.Fatalf("once the original is back: %v", err)
	}
	if v.Checkpoint() != cp {
		t.Fatalf("checkpoint %+v", v.Checkpoint())
	}
}

// A set stopped between its stages (the daemon stopped while AVIF was
// being made) is finished when the variants are opened again: the
// checkpoint has moved on, and no event will ask for it.
func TestUnfinishedSetIsFinishedOnOpen(t *testing.T) {
	if _, slow := formats("image/png"); len(slow) == 0 {
		t.Skip("this libvips saves no AVIF: every set is made in one stage")
	}
	var b bytes.Buffer
	jpeg.Encode(&b, picture(700, 400), nil)
	store, dir := t.TempDir(), t.TempDir()
	sum := sha256.Sum256(b.Bytes())
	sha := hex.EncodeToString(sum[:])
	p := lfs.ObjectPath(store, sha)
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, b.Bytes(), 0o644)
	v := openVariants(t, Config{Store: store, Dir: dir, Workers: 1})
	if err := v.Build(context.Background(), sha, "image/png"); err != nil {
		t.Fatal(err)
	}
	whole := v.List(sha)
	v.Close()
	// What a stop between the stages leaves: the fast formats listed,
	// the set pending, no AVIF, not done.
	set := filepath.Join(dir, sha)
	var fast []Variant
	for _, vr := range whole {
		if vr.Format == "avif" {
			os.Remove(filepath.Join(set, vr.File))
		} else {
			fast = append(fast, vr)
		}
	}
	mf, _ := json.Marshal(fast)
	os.WriteFile(filepath.Join(set, manifest), mf, 0o644)
	os.WriteFile(filepath.Join(set, pending), []byte("image/png"), 0o644)
	os.Remove(filepath.Join(set, ".done"))

	v = openVariants(t, Config{Store: store, Dir: dir, Workers: 1})
	if err := v.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := v.List(sha); fmt.Sprint(got) != fmt.Sprint(whole) {
		t.Fatalf("after a restart: %+v, want the whole set %+v", got, whole)
	}
	if _, err := os.Stat(filepath.Join(set, ".done")); err != nil {
		t.Fatal("the finished set is not marked done")
	}
	if _, err := os.Stat(filepath.Join(set, pending)); err == nil {
		t.Fatal("the finished set is still marked pending")
	}
}

// The width pages name in <img src> is made first and listed at once;
// then a width a reader asked for before the set was whole (Want), then
// the rest, narrowest first.
func TestWantedWidthIsMadeFirst(t *testing.T) {
	store := t.TempDir()
	log := &madeLog{listed: map[string][]Variant{}}
	v := openVariants(t, Config{Store: store, Dir: t.TempDir(), Workers: 1,
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	log.v = v
	for i, tc := range []struct {
		want int
		made string
	}{{0, "w1024.jpg w320.jpg w320.webp w640.jpg w640.webp w1024.webp"}, // the <img src> width first, from the original
		{640, "w1024.jpg w640.jpg w640.webp w320.jpg w320.webp w1024.webp"}, {500, "w1024.jpg w640.jpg w640.webp w320.jpg w320.webp w1024.webp"},
		{2400, "w1024.jpg w1024.webp w320.jpg w320.webp w640.jpg w640.webp"}} {
		var b bytes.Buffer
		jpeg.Encode(&b, picture(1030, 200+i), nil) // each its own original: widths 320, 640 and 1024
		sum := sha256.Sum256(b.Bytes())
		sha := hex.EncodeToString(sum[:])
		p := lfs.ObjectPath(store, sha)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, b.Bytes(), 0o644)

		v.Want(sha, tc.want)
		if _, err := v.buildFast(context.Background(), sha, "image/jpeg"); err != nil { // JPEG and WebP: AVIF is not wished for
			t.Fatal(err)
		}
		made, listed := log.of(sha)
		if strings.Join(made, " ") != tc.made {
			t.Errorf("asked for w%d: made %v, want %s", tc.want, made, tc.made)
		}
		if first, _, _ := strings.Cut(tc.made, " "); len(listed) != 1 || listed[0].File != first {
			t.Errorf("asked for w%d: listed once the first file was made: %v, want %s alone", tc.want, listed, first)
		}
		if got := formatsAt(v.List(sha)); got["jpg"] != "320 640 1024" || got["webp"] != "320 640 1024" {
			t.Errorf("asked for w%d: the whole set lists %v", tc.want, got)
		}
	}
	if len(v.wants) != 0 {
		t.Errorf("wishes kept after their sets were made: %v", v.wants)
	}
}

// madeLog is a log that keeps, for each original, the files logged as
// made and what List named when the first was.
type madeLog struct {
	v      *Variants
	mu     sync.Mutex
	made   map[string][]string
	listed map[string][]Variant
}

func (l *madeLog) Write(p []byte) (int, error) {
	line := string(p)
	if !strings.Contains(line, "variant made") {
		return len(p), nil
	}
	_, sha, _ := strings.Cut(line, "sha256=")
	sha, _, _ = strings.Cut(sha, " ")
	_, f, _ := strings.Cut(line, "file=")
	f, _, _ = strings.Cut(f, " ")
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.made == nil {
		l.made = map[string][]string{}
	}
	if len(l.made[sha]) == 0 {
		l.listed[sha] = l.v.List(sha)
	}
	l.made[sha] = append(l.made[sha], f)
	return len(p), nil
}

func (l *madeLog) of(sha string) ([]string, []Variant) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.made[sha], l.listed[sha]
}

func openVariants(t *testing.T, cfg Config) *Variants {
	t.Helper()
	v, err := OpenVariants(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// formatsAt lists the widths listed in each format: {"jpg": "320 640"}.
func formatsAt(vs []Variant) map[string]string {
	out := map[string]string{}
	for _, vr := range vs {
		out[vr.Format] = strings.TrimSpace(out[vr.Format] + " " + strconv.Itoa(vr.Width))
	}
	return out
}

// picture is a w×h image with detail in every pixel (so encoders cannot
// shrink it to nothing).
func picture(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	return img
}
