package daemon

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// upload sends a multipart upload like a browser form would.
func (s *site) upload(tok, filename string, data []byte, fields ...string) response {
	s.t.Helper()
	return s.uploadPrefer(tok, "wait=5", filename, data, fields...)
}

// uploadNoWait is upload answered as soon as the writer has committed,
// before its own variants are built.
func (s *site) uploadNoWait(tok, filename string, data []byte) response {
	s.t.Helper()
	return s.uploadPrefer(tok, "", filename, data)
}

func (s *site) uploadPrefer(tok, prefer, filename string, data []byte, fields ...string) response {
	s.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write(data)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	mw.Close()
	hd := []string{"Content-Type", mw.FormDataContentType()}
	if prefer != "" {
		hd = append(hd, "Prefer", prefer)
	}
	return s.do("POST", "/api/v1/media", tok, b.Bytes(), hd...)
}

func testJPEG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 3), uint8(y * 5), 90, 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	return b.Bytes()
}

func storedObjects(t *testing.T, data string) int {
	n := 0
	filepath.WalkDir(filepath.Join(data, "lfs", "objects"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".json") { // not the objects' sidecars
			n++
		}
		return nil
	})
	return n
}

type apiMedia struct {
	ID, SHA256, Type, Alt, Caption, URL string
	OriginalName                        string `json:"original_name"`
	Width, Height                       int
	Bytes                               int64
}

func TestMediaUploadStoreAndServe(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	photo := testJPEG(120, 80)
	r := s.upload(tok, "../../holiday photo.JPG", photo, "alt", "A beach at dusk", "caption", "Summer")
	mustStatus(t, r, 201)
	var m apiMedia
	r.json(t, &m)
	sum := fmt.Sprintf("%x", sha256.Sum256(photo))
	if m.SHA256 != sum || m.Type != "image/jpeg" || m.Width != 120 || m.Height != 80 || m.Bytes != int64(len(photo)) ||
		m.Alt != "A beach at dusk" || m.OriginalName != "holiday photo.JPG" || r.header.Get("Location") != "/api/v1/media/"+m.ID {
		t.Fatalf("upload answer: %+v %v", m, r.header)
	}
	// In git: metadata and an LFS pointer, not the bytes.
	meta := git(t, s.repoDir(), "show", "main:media/"+m.ID+".yaml")
	pointer := git(t, s.repoDir(), "show", "main:media/"+m.ID+".jpg")
	if !strings.Contains(meta, "sha256: "+sum) || pointer != "version https://git-lfs.github.com/spec/v1\noid sha256:"+sum+"\nsize "+fmt.Sprint(len(photo)) {
		t.Fatalf("repository holds:\n%s\n%s", meta, pointer)
	}
	if subj := git(t, s.repoDir(), "log", "-1", "--format=%s%n%b"); !strings.Contains(subj, "Chronicle-Event: media.uploaded") {
		t.Fatalf("commit: %s", subj)
	}
	// Served byte for byte, cached for good; a variant not built yet is the original.
	for _, variant := range []string{"original", "w640.webp"} {
		got := s.get("/media/" + m.ID + "/" + variant)
		if got.status != 200 || !bytes.Equal(got.body, photo) || got.header.Get("Content-Type") != "image/jpeg" ||
			!strings.Contains(got.header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %v", variant, got.status, got.header)
		}
	}
	// The same bytes twice are stored once.
	mustStatus(t, s.upload(tok, "again.jpg", photo), 201)
	if n := storedObjects(t, data); n != 1 {
		t.Fatalf("%d objects stored for one picture uploaded twice", n)
	}
	// Alt text and caption change; deletion removes it from the site.
	first := r.header.Get("ETag")
	if first == "" {
		t.Fatal("upload answered without an ETag")
	}
	r = s.do("PUT", "/api/v1/media/"+m.ID, tok, map[string]string{"alt": "A beach", "caption": "Later"}, "If-Match", first)
	mustStatus(t, r, 200)
	var changed apiMedia
	r.json(t, &changed)
	if changed.Alt != "A beach" || changed.Caption != "Later" || r.header.Get("ETag") == first {
		t.Fatalf("update: %+v, ETag %s", changed, r.header.Get("ETag"))
	}
	mustStatus(t, s.do("PUT", "/api/v1/media/"+m.ID, tok, map[string]string{"alt": "Lost"}, "If-Match", first), 412)
	var list struct{ Total int }
	s.do("GET", "/api/v1/media", tok, nil).json(t, &list)
	if list.Total != 2 {
		t.Fatalf("list: %d", list.Total)
	}
	mustStatus(t, s.do("DELETE", "/api/v1/media/"+m.ID, tok, nil, "Prefer", "wait=5"), 204)
	if st := s.get("/media/" + m.ID + "/original").status; st != 404 {
		t.Fatalf("deleted media still served: %d", st)
	}
	git(t, s.repoDir(), "fsck", "--strict", "--no-dangling")
}

func TestBadUploadsCommitNothing(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, postBody("Something first")), 201)
	photo := testJPEG(64, 64)
	var bomb bytes.Buffer
	(&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&bomb, image.NewGray(image.Rect(0, 0, 10000, 10000)))
	before := git(t, s.repoDir(), "rev-parse", "main")
	for _, tc := range []struct {
		name, file string
		data       []byte
		status     int
		detail     string
	}{
		{"a text file named .jpg", "cat.jpg", []byte("not a picture at all, whatever the name says\n"), 415, "not a JPEG, PNG, WebP, GIF, AVIF or HEIF image"},
		{"a truncated JPEG", "half.jpg", photo[:len(photo)/2], 422, "truncated"},
		{"a 100-megapixel PNG", "bomb.png", bomb.Bytes(), 422, "100.0 megapixels"},
		{"0 bytes", "empty.jpg", nil, 422, "empty"},
		{"30 MiB", "huge.jpg", append(append([]byte{}, photo...), make([]byte, 30<<20)...), 413, "larger than 25 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.upload(tok, tc.file, tc.data)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if d, fields := r.problem(t); !strings.Contains(d, tc.detail) || len(fields) == 0 || fields[0] != "file" {
				t.Fatalf("problem %q %v", d, fields)
			}
		})
	}
	if after := git(t, s.repoDir(), "rev-parse", "main"); after != before {
		t.Fatalf("a refused upload moved main")
	}
	if n := storedObjects(t, data); n != 0 {
		t.Fatalf("%d objects stored from refused uploads", n)
	}
	if tmp, _ := os.ReadDir(filepath.Join(data, "lfs", "tmp")); len(tmp) != 0 {
		t.Fatalf("temporary files left: %d", len(tmp))
	}
	// No file at all, and not multipart at all.
	mustStatus(t, s.upload(tok, "", nil), 422)
	// Limits are settings: a site allowing only 1 megapixel refuses a 2-megapixel JPEG.
	s.stop()
	s = startSite(t, data, func(c *Config) { c.MediaMaxMegapixels = 1 })
	r := s.upload(s.token("ed@example.org"), "two.jpg", testJPEG(2000, 1000))
	if d, _ := r.problem(t); r.status != 422 || !strings.Contains(d, "2.0 megapixels; at most 1.0") {
		t.Fatalf("configured pixel limit: %d %s", r.status, d)
	}
	mustStatus(t, s.do("POST", "/api/v1/media", s.token("ed@example.org"), `{"file":"x"}`), 415)
}

// Originals travel by Git LFS: a clone holds pointers only, `git lfs pull`
// brings the bytes back identical, and a picture added with git-lfs is
// uploaded through the batch API before the push is checked and accepted.
func TestMediaOverGitLFS(t *testing.T) {
	t.Parallel()
	need(t, "git-lfs", "apt-get install git-lfs")
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data, publicAddr(t)) // git-lfs follows the links the site hands out
	tok := s.token("ed@example.org")
	photo := testJPEG(90, 60)
	var m apiMedia
	r := s.upload(tok, "photo.jpg", photo)
	mustStatus(t, r, 201)
	r.json(t, &m)

	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "clone", "-q", s.remote("ed@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	file := filepath.Join(work, "media", m.ID+".jpg")
	if b, _ := os.ReadFile(file); !strings.HasPrefix(string(b), "version https://git-lfs.github.com/spec/v1") {
		t.Fatalf("a plain clone should hold the pointer, not the bytes: %.60q", b)
	}
	for _, args := range [][]string{{"lfs", "install", "--local"}, {"lfs", "pull"}} {
		if out, err := gitTry(t, work, args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if b, _ := os.ReadFile(file); !bytes.Equal(b, photo) {
		t.Fatalf("git lfs pull did not bring the original back byte for byte (%d bytes)", len(b))
	}

	// A new picture, committed through git-lfs with its metadata.
	second := testJPEG(50, 40)
	sum := fmt.Sprintf("%x", sha256.Sum256(second))
	id := "fromgit0000000000000000001"
	pushPicture(t, work, id, second, 50, 40, "Added with git")
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		return wantStatus("/media/"+id+"/original", s.get("/media/"+id+"/original"), 200)
	})
	if got := s.get("/media/" + id + "/original"); !bytes.Equal(got.body, second) {
		t.Fatalf("the git-pushed picture is served wrong (%d bytes)", len(got.body))
	}
	if stored := git(t, s.repoDir(), "show", "main:media/"+id+".jpg"); !strings.Contains(stored, "oid sha256:"+sum) {
		t.Fatalf("the repository holds more than a pointer:\n%.80s", stored)
	}
	git(t, s.repoDir(), "fsck", "--strict", "--no-dangling")
}

func TestVariantsServedAndNegotiated(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	photo := testJPEG(700, 450)
	var m apiMedia
	r := s.upload(tok, "wide.jpg", photo) // waits for every projection: the media one lists JPEG and WebP
	mustStatus(t, r, 201)
	r.json(t, &m)
	wholeSet(t, s, m.ID) // AVIF too
	for _, tc := range []struct{ variant, accept, ctype string }{
		{"w320.webp", "", "image/webp"},
		{"w640.jpg", "", "image/jpeg"},
		{"w320", "image/avif,image/webp,*/*", "image/avif"},
		{"w320", "image/webp,*/*", "image/webp"},
		{"w320", "*/*", "image/jpeg"},
		{"w2400.jpg", "", "image/jpeg"}, // not built (narrower image): the widest there is
		{"original", "", "image/jpeg"},
	} {
		got := s.get("/media/"+m.ID+"/"+tc.variant, "Accept", tc.accept)
		if got.status != 200 || got.header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s (Accept %q): %d %s", tc.variant, tc.accept, got.status, got.header.Get("Content-Type"))
			continue
		}
		size, err := imageWidth(got.body)
		switch {
		case err != nil:
			t.Errorf("%s: %v", tc.variant, err)
		case tc.variant == "original" && !bytes.Equal(got.body, photo):
			t.Errorf("original differs")
		case strings.HasPrefix(tc.variant, "w320") && size != 320, strings.HasPrefix(tc.variant, "w640") && size != 640, tc.variant == "w2400.jpg" && size != 640:
			t.Errorf("%s is %d wide", tc.variant, size)
		}
		if !strings.Contains(tc.variant, ".") && tc.variant != "original" && got.header.Get("Vary") != "Accept" {
			t.Errorf("%s: negotiated without Vary: Accept", tc.variant)
		}
		if cc := got.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s of a whole set: Cache-Control %q, want immutable", tc.variant, cc)
		}
	}
	// Before the set is whole (here: as if its AVIF were still being
	// made), what a variant's URL answers may change, so proxies keep it
	// a minute, not a year; the original's URL is final at once.
	if err := os.Remove(filepath.Join(data, "projections", "variants", m.SHA256, ".done")); err != nil {
		t.Fatal(err)
	}
	for variant, want := range map[string]string{"w320": "public, max-age=60", "w320.webp": "public, max-age=60",
		"original": "public, max-age=31536000, immutable"} {
		if got := s.get("/media/"+m.ID+"/"+variant, "Accept", "image/avif,image/webp,*/*"); got.header.Get("Cache-Control") != want {
			t.Errorf("%s of a set not yet whole: Cache-Control %q, want %q", variant, got.header.Get("Cache-Control"), want)
		}
	}
	// While the set is listed in part (its narrow files made first), a
	// narrower variant does not stand in for the width asked for: the
	// original does, for a minute.
	set := filepath.Join(data, "projections", "variants", m.SHA256)
	mf, _ := json.Marshal([]map[string]any{{"width": 320, "height": 206, "format": "jpg", "file": "w320.jpg"}})
	if err := os.WriteFile(filepath.Join(set, "variants.json"), mf, 0o644); err != nil {
		t.Fatal(err)
	}
	got := s.get("/media/" + m.ID + "/w640")
	if w, err := imageWidth(got.body); err != nil || w != 700 || got.header.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("w640 while only w320 is listed: %d px (%v), Cache-Control %q; want the original (700 px) for a minute", w, err, got.header.Get("Cache-Control"))
	}
}

func TestDeletedVariantsAreRebuiltOnRestart(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	var m apiMedia
	r := s.upload(tok, "wide.jpg", testJPEG(700, 450))
	mustStatus(t, r, 201)
	r.json(t, &m)
	wholeSet(t, s, m.ID)
	built := func() int {
		files, _ := filepath.Glob(filepath.Join(data, "projections", "variants", m.SHA256, "w*"))
		return len(files)
	}
	n := built()
	if n == 0 {
		t.Fatal("no variants built")
	}
	s.stop()
	if err := os.RemoveAll(filepath.Join(data, "projections", "variants")); err != nil {
		t.Fatal(err)
	}
	s = startSite(t, data) // ready means every projection caught up: JPEG and WebP
	wholeSet(t, s, m.ID)   // AVIF follows
	if got := built(); got != n {
		t.Fatalf("%d variants after the restart, %d before", got, n)
	}
	if got := s.get("/media/" + m.ID + "/w320.webp"); got.status != 200 || got.header.Get("Content-Type") != "image/webp" {
		t.Fatalf("rebuilt variant: %d %s", got.status, got.header.Get("Content-Type"))
	}
}

func TestPostsLayOutTheirImages(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	var a, b apiMedia
	r := s.upload(tok, "a.jpg", testJPEG(700, 450), "alt", "A harbour", "caption", "Morning")
	r.json(t, &a)
	r = s.upload(tok, "b.jpg", testJPEG(300, 200), "alt", "A boat")
	r.json(t, &b)
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, map[string]any{"title": "Pictures", "slug": "pictures", "status": "published",
		"content": "Look:\n\n![The harbour at dawn](media:" + a.ID + ")\n", "feature_image": a.ID, "gallery": []string{a.ID, b.ID}}, "Prefer", "wait=5"), 201)
	page := string(s.get("/posts/pictures").body)
	for _, want := range []string{
		`<img src="/media/` + a.ID + `/w640" srcset="/media/` + a.ID + `/w320 320w, /media/` + a.ID + `/w640 640w, /media/` + a.ID + `/original 700w" sizes="(min-width: 44rem) 42rem, 100vw" width="700" height="450" alt="The harbour at dawn" loading="lazy" decoding="async"/>`,
		`<figure class="feature"><img src="/media/` + a.ID + `/w640"`,
		`width="700" height="450" alt="A harbour" decoding="async"><figcaption>Morning</figcaption>`,
		`<section class="gallery" aria-label="Gallery">`,
		`srcset="/media/` + b.ID + `/original 300w"`,
		`alt="A boat" loading="lazy"`,
		`/media/` + a.ID + `/w1600.jpg">`, // og:image, absolute

	} {
		if !strings.Contains(page, want) {
			t.Errorf("post page lacks\n%s", want)
		}
	}
	// The sharing card's image answers (the nearest built variant).
	if r := s.get("/media/" + a.ID + "/w1600.jpg"); r.status != 200 || r.header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("og:image: %d %s", r.status, r.header.Get("Content-Type"))
	}
	// An upload after the post: the page picks it up.
	mustStatus(t, s.do("POST", "/api/v1/posts", tok, map[string]any{"title": "Early", "slug": "early", "status": "published",
		"content": "![soon](media:notyetthere0000000000000000)\n"}, "Prefer", "wait=5"), 201)
	if p := string(s.get("/posts/early").body); !strings.Contains(p, `<img src="/media/notyetthere0000000000000000/original" alt="soon" loading="lazy"/>`) {
		t.Errorf("unknown media reference:\n%s", p)
	}
}

// pushPicture commits a JPEG of w×h under media/ with its metadata in a
// clone set up for git-lfs, and pushes it.
func pushPicture(t *testing.T, work, id string, jpeg []byte, w, h int, alt string) {
	t.Helper()
	sum := fmt.Sprintf("%x", sha256.Sum256(jpeg))
	os.WriteFile(filepath.Join(work, "media", id+".jpg"), jpeg, 0o644)
	write(t, filepath.Join(work, "media", id+".yaml"), fmt.Sprintf("id: %s\nsha256: %s\ntype: image/jpeg\next: jpg\nwidth: %d\nheight: %d\nbytes: %d\nalt: %s\nuploaded_at: 2026-11-21T10:00:00Z\n",
		id, sum, w, h, len(jpeg), alt))
	gitTry(t, work, "add", "-A")
	if out, err := gitTry(t, work, "commit", "-q", "-m", "a picture by git"); err != nil {
		t.Fatalf("commit: %v\n%s", err, out)
	}
	if out, err := gitTry(t, work, "push", "origin", "HEAD:main"); err != nil {
		t.Fatalf("push with git-lfs: %v\n%s", err, out)
	}
}
