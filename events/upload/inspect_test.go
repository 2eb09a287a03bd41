package upload

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/h2non/bimg"
)

func picture(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	return img
}

func encoded(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	img := picture(w, h)
	switch format {
	case "jpeg":
		jpeg.Encode(&b, img, nil)
	case "png":
		png.Encode(&b, img)
	case "gif":
		gif.Encode(&b, img, nil)
	default: // webp, avif: through libvips
		var jb bytes.Buffer
		jpeg.Encode(&jb, img, nil)
		typ := map[string]bimg.ImageType{"webp": bimg.WEBP, "avif": bimg.AVIF}[format]
		out, err := bimg.NewImage(jb.Bytes()).Convert(typ)
		if err != nil {
			t.Skipf("libvips cannot write %s here: %v", format, err)
		}
		return out
	}
	return b.Bytes()
}

func TestInspectAcceptsImagesByTheirBytes(t *testing.T) {
	for _, tc := range []struct{ format, mime string }{
		{"jpeg", "image/jpeg"}, {"png", "image/png"}, {"gif", "image/gif"}, {"webp", "image/webp"}, {"avif", "image/avif"},
	} {
		info, err := Inspect(encoded(t, tc.format, 64, 48), DefaultLimits)
		if err != nil || info.Type != tc.mime || info.Width != 64 || info.Height != 48 || len(info.SHA256) != 64 {
			t.Errorf("%s: %+v, %v", tc.format, info, err)
		}
	}
}

func TestInspectRefusesBadUploads(t *testing.T) {
	jpg := encoded(t, "jpeg", 64, 48)
	var bomb bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	enc.Encode(&bomb, image.NewGray(image.Rect(0, 0, 10000, 10000))) // 100 megapixels, ~100 KB
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"text named .jpg", []byte("this is not a picture, whatever its name says\n"), ErrUnsupported},
		{"truncated JPEG", jpg[:len(jpg)/2], ErrTruncated},
		{"truncated PNG", encoded(t, "png", 64, 48)[:300], ErrTruncated},
		{"100-megapixel PNG", bomb.Bytes(), ErrTooLarge},
		{"empty", nil, ErrEmpty},
		{"SVG", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`), ErrUnsupported},
	} {
		if _, err := Inspect(tc.data, DefaultLimits); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
