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
	"syscall"
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

// cpuTime is the CPU time this process has used, libvips' threads
// included.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// BenchmarkVariantSet builds the whole variant set of a 12-megapixel JPEG
// (5 widths × JPEG, WebP, AVIF) and of a 900×600 one (the cluster test's
// picture: 2 widths), and reports the time until List names the first
// usable set (what /media/<id>/w640 serves) and until the whole set is
// built. The baseline is vipsthumbnail making the same files from the
// same JPEG in the same run: the fast formats alone (JPEG and WebP, for
// the first usable set) and all three. The goal is within 1.2× of
// vipsthumbnail. Run with -benchtime=3x.
func BenchmarkVariantSet(b *testing.B) {
	sizes := [][2]int{{4000, 3000}, {900, 600}}
	if testing.Short() {
		sizes = [][2]int{{800, 600}}
	}
	for _, wh := range sizes {
		b.Run(fmt.Sprintf("%dx%d", wh[0], wh[1]), func(b *testing.B) { benchVariantSet(b, wh[0], wh[1]) })
	}
}

func benchVariantSet(b *testing.B, w, h int) {
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
	if testing.Short() {
		b.N = 1
	}

	// Wall time and CPU time (this process's; vipsthumbnail's children's):
	// the machine is shared, and CPU time is steadier under load.
	var first, whole, vtFast, vtAll, firstCPU, wholeCPU, vtFastCPU, vtAllCPU []time.Duration
	for i := 0; i < b.N; i++ {
		v, err := OpenVariants(Config{Store: store, Dir: b.TempDir(), Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		start, cpu := time.Now(), cpuTime()
		built := make(chan error, 1)
		go func() { built <- v.Build(context.Background(), sha, "image/jpeg") }()
		var firstAt, firstAtCPU time.Duration
	wait:
		for {
			select {
			case err := <-built:
				if err != nil {
					b.Fatal(err)
				}
				break wait
			case <-time.After(2 * time.Millisecond):
				if firstAt == 0 && len(v.List(sha)) > 0 {
					firstAt, firstAtCPU = time.Since(start), cpuTime()-cpu
				}
			}
		}
		whole, wholeCPU = append(whole, time.Since(start)), append(wholeCPU, cpuTime()-cpu)
		if firstAt == 0 {
			firstAt, firstAtCPU = whole[i], wholeCPU[i]
		}
		first, firstCPU = append(first, firstAt), append(firstCPU, firstAtCPU)
		v.Close()
		if vtErr != nil {
			continue
		}
		out := b.TempDir()
		start = time.Now()
		var vtCPU time.Duration
		for _, set := range [][]string{{"jpg", "webp"}, {"avif"}} {
			for _, width := range Widths {
				if width >= w {
					break
				}
				for _, f := range set {
					cmd := exec.Command(vt, in, "--size", fmt.Sprint(width), "-o", filepath.Join(out, fmt.Sprintf("w%d.%s[Q=82,strip]", width, f)))
					if o, err := cmd.CombinedOutput(); err != nil {
						b.Fatalf("vipsthumbnail: %v\n%s", err, o)
					}
					vtCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				}
			}
			if len(vtFast) == i {
				vtFast, vtFastCPU = append(vtFast, time.Since(start)), append(vtFastCPU, vtCPU)
			}
		}
		vtAll, vtAllCPU = append(vtAll, time.Since(start)), append(vtAllCPU, vtCPU)
	}
	b.ReportMetric(median(firstCPU).Seconds(), "first-usable-cpu-s")
	b.ReportMetric(median(wholeCPU).Seconds(), "whole-set-cpu-s")
	b.ReportMetric(median(first).Seconds(), "first-usable-s")
	b.ReportMetric(median(whole).Seconds(), "whole-set-s")
	if len(vtAll) > 0 {
		b.ReportMetric(median(vtFast).Seconds(), "vipsthumbnail-fast-s")
		b.ReportMetric(median(vtAll).Seconds(), "vipsthumbnail-all-s")
		b.ReportMetric(median(vtFastCPU).Seconds(), "vipsthumbnail-fast-cpu-s")
		b.ReportMetric(median(vtAllCPU).Seconds(), "vipsthumbnail-all-cpu-s")
		b.ReportMetric(median(first).Seconds()/median(vtFast).Seconds(), "first-ratio")
		b.ReportMetric(median(whole).Seconds()/median(vtAll).Seconds(), "whole-ratio")
	}
}
