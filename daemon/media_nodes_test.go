package daemon

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/h2non/bimg"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

type apiVariant struct {
	Name, Format, Type, URL string
	Width, Height           int
}

type apiMediaVariants struct {
	ID       string
	Variants []apiVariant
}

// checkVariants fetches every variant an item lists from s and says what
// differs from what it states: each must answer 200 as the stated type,
// in the stated format and dimensions.
func checkVariants(s *site, m apiMediaVariants) error {
	var errs []string
	for _, v := range m.Variants {
		got := s.get(v.URL)
		if got.status != 200 || got.header.Get("Content-Type") != v.Type {
			errs = append(errs, fmt.Sprintf("%s: %d %s, want 200 %s", v.URL, got.status, got.header.Get("Content-Type"), v.Type))
			continue
		}
		size, err := bimg.Size(got.body)
		if err != nil || size.Width != v.Width || size.Height != v.Height {
			errs = append(errs, fmt.Sprintf("%s: %d×%d (%v), listed as %d×%d", v.URL, size.Width, size.Height, err, v.Width, v.Height))
		}
		if f := map[string]string{"jpeg": "jpg"}[bimg.DetermineImageTypeName(got.body)]; f != "" && f != v.Format ||
			f == "" && bimg.DetermineImageTypeName(got.body) != v.Format {
			errs = append(errs, fmt.Sprintf("%s is %s, listed as %s", v.URL, bimg.DetermineImageTypeName(got.body), v.Format))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// wantVariantSet is what a 700 px wide JPEG makes: 320 and 640 (never
// enlarged), in JPEG, WebP and AVIF where libvips saves it.
func wantVariantSet() []string {
	var out []string
	for _, w := range []string{"w320", "w640"} {
		for _, f := range []string{"jpg", "webp", "avif"} {
			if f == "avif" && !bimg.IsTypeSupportedSave(bimg.AVIF) {
				continue
			}
			out = append(out, w+"."+f)
		}
	}
	return out
}

// wantFastSet is the part of wantVariantSet an upload's answer waits for
// (with Prefer: wait): the JPEG and WebP variants; AVIF follows.
func wantFastSet() []string {
	var out []string
	for _, f := range wantVariantSet() {
		if !strings.HasSuffix(f, ".avif") {
			out = append(out, f)
		}
	}
	return out
}

// wholeSet waits until s lists an item's whole variant set (a 700 px
// wide JPEG's) and returns the item as listed then.
func wholeSet(t *testing.T, s *site, id string) apiMediaVariants {
	t.Helper()
	var item apiMediaVariants
	want := strings.Join(wantVariantSet(), " ")
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		s.do("GET", "/api/v1/media/"+id, "", nil).json(t, &item)
		if got := strings.Join(variantFiles(item), " "); got != want {
			return fmt.Errorf("lists %q, want %q", got, want)
		}
		return nil
	})
	return item
}

func variantFiles(m apiMediaVariants) []string {
	var out []string
	for _, v := range m.Variants {
		out = append(out, v.URL[strings.LastIndex(v.URL, "/")+1:])
	}
	return out
}

// The API lists an item's built variants (as WordPress's
// media_details.sizes): each URL answers with what the listing states.
func TestMediaAPIListsVariants(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	tok := s.token("ed@example.org")
	r := s.upload(tok, "wide.jpg", testJPEG(700, 450)) // waits for every projection: the media one lists JPEG and WebP
	mustStatus(t, r, 201)
	var created apiMediaVariants
	r.json(t, &created)
	var fast []string
	for _, f := range variantFiles(created) {
		if !strings.HasSuffix(f, ".avif") { // AVIF may be listed already, or not yet
			fast = append(fast, f)
		}
	}
	if got, want := strings.Join(fast, " "), strings.Join(wantFastSet(), " "); got != want {
		t.Fatalf("the upload's answer lists %q, want %q", got, want)
	}
	want := strings.Join(wantVariantSet(), " ")
	one := wholeSet(t, s, created.ID)
	var list struct{ Items []apiMediaVariants }
	s.do("GET", "/api/v1/media", tok, nil).json(t, &list)
	if len(list.Items) != 1 || strings.Join(variantFiles(list.Items[0]), " ") != want {
		t.Fatalf("the list: %+v", list.Items)
	}
	for _, v := range one.Variants {
		if v.Name != v.URL[strings.LastIndex(v.URL, "/")+1:][:4] || v.Width != map[string]int{"w320": 320, "w640": 640}[v.Name] {
			t.Errorf("variant %+v", v)
		}
	}
	if err := checkVariants(s, one); err != nil {
		t.Fatal(err)
	}
}

// A picture uploaded on the writer is served by read nodes, which have
// no LFS store of their own: they fetch the original from the Object
// Store and build their variants themselves — one following along, and
// one started after the upload.
func TestReadNodesServeMediaFromTheObjectStore(t *testing.T) {
	t.Parallel()
	url := startNATSServer(t)
	wdata := t.TempDir()
	addAccount(t, wdata, "ed@example.org", auth.RoleEditor)
	w := startSite(t, wdata, onNATS(url, "writer"))
	early := startSite(t, t.TempDir(), readNode(url, "early", ""))

	photo := testJPEG(700, 450)
	start := time.Now()
	r := w.upload(w.token("ed@example.org"), "wide.jpg", photo)
	mustStatus(t, r, 201)
	var m apiMediaVariants
	r.json(t, &m)
	if len(m.Variants) == 0 {
		t.Fatal("the writer lists no variants")
	}
	m = wholeSet(t, w, m.ID)
	paths := []string{"/media/" + m.ID + "/original", "/media/" + m.ID + "/w640.jpg", "/media/" + m.ID + "/w640.webp", "/media/" + m.ID + "/w640"}
	want := map[string][]byte{}
	for _, p := range paths {
		got := w.get(p)
		mustStatus(t, got, 200)
		want[p] = got.body
	}
	if !bytes.Equal(want[paths[0]], photo) {
		t.Fatal("the writer's original differs from the upload")
	}
	same := func(node *site) func() error {
		return func() error {
			var item apiMediaVariants
			res := node.do("GET", "/api/v1/media/"+m.ID, "", nil)
			if res.status != 200 {
				return fmt.Errorf("GET /api/v1/media/%s: %d", m.ID, res.status)
			}
			res.json(t, &item)
			if got, want := strings.Join(variantFiles(item), " "), strings.Join(variantFiles(m), " "); got != want {
				return fmt.Errorf("the read node lists %q, the writer %q", got, want)
			}
			for _, p := range paths {
				got := node.get(p)
				if got.status != 200 || !bytes.Equal(got.body, want[p]) {
					return fmt.Errorf("%s: %d, %d bytes, equal to the writer's: %t", p, got.status, len(got.body), bytes.Equal(got.body, want[p]))
				}
			}
			return checkVariants(node, item)
		}
	}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, same(early))
	t.Logf("read node serving the picture and its variants %s after the upload was sent", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	late := startSite(t, t.TempDir(), readNode(url, "late", "")) // ready: variants built
	eventstest.CheckFor(t, 10*time.Second, pollEvery, same(late))
	t.Logf("a read node started after the upload: serving it %s after its start", time.Since(start).Round(time.Millisecond))
}

// A picture pushed with git-lfs enters the writer's LFS store by the LFS
// API, not by an upload: a read node serves it and its variants too.
func TestReadNodeServesAPicturePushedWithGitLFS(t *testing.T) {
	t.Parallel()
	need(t, "git-lfs", "apt-get install git-lfs")
	url := startNATSServer(t)
	wdata := t.TempDir()
	addAccount(t, wdata, "ed@example.org", auth.RoleEditor)
	w := startSite(t, wdata, publicAddr(t), onNATS(url, "writer"))
	rd := startSite(t, t.TempDir(), readNode(url, "reader", ""))
	// An upload first: the repository then tracks media with LFS.
	mustStatus(t, w.upload(w.token("ed@example.org"), "first.jpg", testJPEG(60, 40)), 201)

	work := filepath.Join(t.TempDir(), "w")
	if out, err := gitTry(t, ".", "clone", "-q", w.remote("ed@example.org", password), work); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	if out, err := gitTry(t, work, "lfs", "install", "--local"); err != nil {
		t.Fatalf("git lfs install: %v\n%s", err, out)
	}
	pic := testJPEG(400, 300)
	id := "fromgit0000000000000000002"
	pushPicture(t, work, id, pic, 400, 300, "Pushed")
	paths := []string{"/media/" + id + "/original", "/media/" + id + "/w320.jpg"}
	eventstest.CheckFor(t, 10*time.Second, pollEvery, func() error {
		for _, p := range paths {
			want, got := w.get(p), rd.get(p)
			if want.status != 200 || got.status != 200 || !bytes.Equal(got.body, want.body) {
				return fmt.Errorf("%s: writer %d, read node %d, equal bytes: %t", p, want.status, got.status, bytes.Equal(got.body, want.body))
			}
			if got.header.Get("Content-Type") != "image/jpeg" {
				return fmt.Errorf("%s: %s", p, got.header.Get("Content-Type"))
			}
		}
		return nil
	})
	if got := rd.get(paths[0]); !bytes.Equal(got.body, pic) {
		t.Fatal("the read node's original differs from the pushed picture")
	}
}
