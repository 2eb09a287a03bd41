package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/repo/lfs"
)

// photo makes a JPEG of w×h with photo-like detail (gradients and noise),
// so encoders have real work.
func photo(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewSource(3))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := uint8(rng.Intn(24))
			img.Set(x, y, color.RGBA{uint8(x*255/w) + n, uint8(y*255/h) + n, uint8((x+y)%256) / 2, 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 88})
	return b.Bytes()
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// BenchmarkVariantSet builds the whole variant set of a 12-megapixel JPEG
// (5 widths × JPEG, WebP, AVIF) and, as the baseline, has vipsthumbnail
// make the same set from the same file in the same run. The goal is
// within 1.2× of vipsthumbnail. Run with -benchtime=3x.
func BenchmarkVariantSet(b *testing.B) {
	w, h := 4000, 3000
	if testing.Short() {
		w, h = 800, 600
	}
	orig := photo(w, h)
	sum := sha256.Sum256(orig)
	sha := hex.EncodeToString(sum[:])
	store := b.TempDir()
	p := lfs.ObjectPath(store, sha)
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, orig, 0o644)
	in := filepath.Join(b.TempDir(), "in.jpg")
	os.WriteFile(in, orig, 0o644)
	vt, vtErr := exec.LookPath("vipsthumbnail")

	var ours, theirs []time.Duration
	for i := 0; i < b.N; i++ {
		v, err := OpenVariants(Config{Store: store, Dir: b.TempDir(), Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := v.Build(context.Background(), sha, "image/jpeg"); err != nil {
			b.Fatal(err)
		}
		ours = append(ours, time.Since(start))
		if vtErr != nil {
			continue
		}
		out := b.TempDir()
		start = time.Now()
		for _, width := range Widths {
			if width >= w {
				break
			}
			for _, f := range []string{"jpg", "webp", "avif"} {
				cmd := exec.Command(vt, in, "--size", fmt.Sprint(width), "-o", filepath.Join(out, fmt.Sprintf("w%d.%s[Q=82,strip]", width, f)))
				if o, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("vipsthumbnail: %v\n%s", err, o)
				}
			}
		}
		theirs = append(theirs, time.Since(start))
	}
	b.ReportMetric(median(ours).Seconds(), "chronicle-s")
	if len(theirs) > 0 {
		b.ReportMetric(median(theirs).Seconds(), "vipsthumbnail-s")
		b.ReportMetric(median(ours).Seconds()/median(theirs).Seconds(), "ratio")
	}
}
