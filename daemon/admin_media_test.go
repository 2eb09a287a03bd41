package daemon

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chronicle-cms/chronicle/events/eventstest"
	"github.com/chronicle-cms/chronicle/webui/auth"
)

// upFile is one file of a multipart form.
type upFile struct {
	name string
	data []byte
}

// postFiles sends a multipart form as a browser on the same site would:
// fields (name, value pairs) first, then files in the field "file";
// hdr adds or overrides headers (name, value pairs).
func (b *browser) postFiles(path string, files []upFile, fields []string, hdr ...string) response {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	for _, f := range files {
		fw, _ := mw.CreateFormFile("file", f.name)
		fw.Write(f.data)
	}
	mw.Close()
	req, err := http.NewRequest("POST", b.s.url+path, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.s.url)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.send(req)
}

func testPNG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7), 120, uint8(y * 9), 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

var mediaRefRE = regexp.MustCompile(`value="media:([A-Za-z0-9_-]+)"`)

// mediaIDs are the items the library page shows, in its order.
func mediaIDs(page []byte) []string {
	var ids []string
	for _, m := range mediaRefRE.FindAllSubmatch(page, -1) {
		ids = append(ids, string(m[1]))
	}
	return ids
}

func mustAtoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func commitCount(t testing.TB, s *site) string {
	t.Helper()
	return git(t, s.repoDir(), "rev-list", "--count", "refs/heads/main")
}

// The media library with JavaScript off: several pictures uploaded by one
// form, shown as a grid with thumbnails and references; bad files named
// with why and nothing committed for them; alt text and caption edited
// (hostile text shown escaped); a stale or invalid edit refused with the
// input kept; a delete that first lists the posts showing the picture.
func TestAdminMediaWithoutJavaScript(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data, func(c *Config) { c.MediaMaxMiB = 1 })
	b := s.browser()

	if r := b.get("/admin/media"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/admin/login") {
		t.Fatalf("anonymous: %d %q", r.status, r.header.Get("Location"))
	}
	b.signIn("ed@example.org", password)
	lib := b.get("/admin/media")
	mustStatus(t, lib, 200)
	for _, want := range []string{`enctype="multipart/form-data"`, `type="file" multiple`, `accept="image/jpeg,`, "No pictures yet"} {
		if !strings.Contains(string(lib.body), want) {
			t.Errorf("the empty library lacks %s", want)
		}
	}

	// Two pictures, one form.
	photo, shot := testJPEG(120, 80), testPNG(40, 30)
	r := b.postFiles("/admin/media", []upFile{{"photo.jpg", photo}, {"shot.png", shot}}, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/media" {
		t.Fatalf("upload: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	lib = b.follow(r)
	if !strings.Contains(string(lib.body), "Uploaded “photo.jpg”, “shot.png”.") {
		t.Fatalf("no flash naming the uploads:\n%s", lib.body)
	}
	ids := mediaIDs(lib.body)
	if len(ids) != 2 {
		t.Fatalf("the grid shows %d items, want 2:\n%s", len(ids), lib.body)
	}
	shotID, photoID := ids[0], ids[1] // newest first
	for _, id := range ids {
		if !strings.Contains(string(lib.body), `src="/media/`+id+`/w320"`) || !strings.Contains(string(lib.body), `href="/admin/media/`+id+`"`) {
			t.Errorf("item %s has no thumbnail or link", id)
		}
		th := s.do("GET", "/media/"+id+"/w320", "", nil)
		if th.status != 200 || !strings.HasPrefix(th.header.Get("Content-Type"), "image/") {
			t.Errorf("thumbnail of %s: %d %s", id, th.status, th.header.Get("Content-Type"))
		}
	}

	// Bad files: a text file named .png, a file over the 1 MiB limit, no
	// file at all. Each named with why; nothing committed.
	head, objects := headOf(t, s), storedObjects(t, data)
	big := make([]byte, 1<<20+4096)
	rand.Read(big)
	r = b.postFiles("/admin/media", []upFile{{"notes.png", []byte("just some text, not a picture\n")}, {"huge.jpg", big}}, nil)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad files: %d\n%s", r.status, r.body)
	}
	page := string(r.body)
	for _, want := range []string{"2 of 2 files were not uploaded", "notes.png: not a JPEG, PNG, WebP, GIF, AVIF or HEIF image, judging by its bytes",
		"huge.jpg: is larger than 1 MiB", `aria-describedby="file-error file-refused"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, page)
		}
	}
	if headOf(t, s) != head || storedObjects(t, data) != objects {
		t.Fatal("a refused upload moved main or stored bytes")
	}
	r = b.postFiles("/admin/media", []upFile{{"", nil}}, nil) // the form sent with no file chosen
	if r.status != http.StatusUnprocessableEntity || fieldError(t, r.body, "file") != "Choose one or more pictures to upload." {
		t.Fatalf("no file: %d\n%s", r.status, r.body)
	}
	// One good, one bad: the good one is committed, the bad one named.
	count := mustAtoi(t, commitCount(t, s))
	r = b.postFiles("/admin/media", []upFile{{"fake.jpg", []byte("<html>not a jpeg</html>")}, {"small.png", testPNG(8, 8)}}, nil)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "Uploaded “small.png”.") ||
		!strings.Contains(string(r.body), "fake.jpg: not a JPEG") || len(mediaIDs(r.body)) != 3 {
		t.Fatalf("mixed upload: %d\n%s", r.status, r.body)
	}
	if got := commitCount(t, s); got != strconv.Itoa(count+1) {
		t.Fatalf("a mixed upload made %d commits, want 1 (the good file's)", mustAtoi(t, got)-count)
	}

	// The item: its facts, and its description edited.
	item := b.get("/admin/media/" + photoID)
	mustStatus(t, item, 200)
	for _, want := range []string{"image/jpeg", "120 × 80 pixels", `value="media:` + photoID + `"`, "photo.jpg", `src="/media/` + photoID + `/w1024"`, "No post uses this picture."} {
		if !strings.Contains(string(item.body), want) {
			t.Errorf("the item page lacks %q", want)
		}
	}
	version := inputValue(t, item.body, "version")
	if version == "" {
		t.Fatal("the item's form has no version")
	}
	hostileAlt, hostileCaption := `<img src=x onerror=alert(1)> "quoted" & more`, "<script>alert(1)</script>\r\nSecond line."
	r = b.post("/admin/media/"+photoID, url.Values{"alt": {hostileAlt}, "caption": {hostileCaption}, "version": {version}})
	item = b.follow(r)
	if !strings.Contains(string(item.body), "Saved.") || inputValue(t, item.body, "alt") != hostileAlt ||
		inputValue(t, item.body, "caption") != "<script>alert(1)</script>\nSecond line." {
		t.Fatalf("after the edit:\n%s", item.body)
	}
	for _, p := range []response{item, b.get("/admin/media")} {
		if strings.Contains(string(p.body), "<script>alert") || strings.Contains(string(p.body), "<img src=x") {
			t.Fatalf("hostile text unescaped:\n%s", p.body)
		}
	}
	if !strings.Contains(string(b.get("/admin/media").body), "&lt;img src=x onerror=alert(1)&gt; &#34;quoted&#34; &amp; more") {
		t.Error("the library does not show the alt text, escaped")
	}
	newVersion := inputValue(t, item.body, "version")
	if newVersion == version {
		t.Fatal("the version did not move on")
	}

	// Bad descriptions and a stale save: refused, input kept, main unmoved.
	head = headOf(t, s)
	for _, tc := range []struct{ name, field, alt, caption, version string }{
		{"two-line alt", "alt", "one\ntwo", "", newVersion},
		{"long alt", "alt", strings.Repeat("a", 2001), "", newVersion},
		{"long caption", "caption", "ok", strings.Repeat("c", 2001), newVersion},
	} {
		r := b.post("/admin/media/"+photoID, url.Values{"alt": {tc.alt}, "caption": {tc.caption}, "version": {tc.version}})
		if r.status != http.StatusUnprocessableEntity || fieldError(t, r.body, tc.field) == "" {
			t.Fatalf("%s: %d\n%s", tc.name, r.status, r.body)
		}
		if tc.field == "caption" && inputValue(t, r.body, "caption") != tc.caption {
			t.Errorf("%s: the caption was not kept", tc.name)
		}
	}
	r = b.post("/admin/media/"+photoID, url.Values{"alt": {"Mine"}, "caption": {"Kept caption"}, "version": {version}})
	if r.status != http.StatusPreconditionFailed || inputValue(t, r.body, "alt") != "Mine" || !strings.Contains(string(r.body), "Someone else changed") {
		t.Fatalf("stale save: %d\n%s", r.status, r.body)
	}
	if headOf(t, s) != head {
		t.Fatal("a refused edit moved main")
	}

	// Used by two posts (its text; a feature image); a third only has an
	// id that starts the same.
	mk := func(form url.Values) string {
		form.Set("status", "draft")
		r := b.post("/admin/posts", form)
		if r.status != http.StatusSeeOther {
			t.Fatalf("create a post: %d\n%s", r.status, r.body)
		}
		return strings.TrimPrefix(r.header.Get("Location"), "/admin/posts/")
	}
	inText := mk(url.Values{"title": {"Shows it <b>inline</b>"}, "content": {"Look: ![a photo](media:" + photoID + ")\n"}})
	asFeature := mk(url.Values{"title": {"Shows it on top"}, "content": {"Text."}, "feature_image": {"media:" + photoID}})
	other := mk(url.Values{"title": {"Shows another"}, "content": {"![x](media:" + photoID + "x) and ![y](media:" + shotID + ")"}})
	item = b.get("/admin/media/" + photoID)
	for _, id := range []string{inText, asFeature} {
		if !strings.Contains(string(item.body), `href="/admin/posts/`+id+`"`) {
			t.Errorf("the item page does not list post %s as using it", id)
		}
	}
	if strings.Contains(string(item.body), other) || !strings.Contains(string(item.body), "2 posts use it") {
		t.Errorf("the item page's usage is wrong:\n%s", item.body)
	}

	// Delete: refused from a stale page; else a confirmation that lists
	// them, then gone.
	head = headOf(t, s)
	r = b.post("/admin/media/"+photoID+"/delete", url.Values{"version": {version}, "confirm": {"yes"}})
	if r.status != http.StatusSeeOther || !strings.Contains(string(b.follow(r).body), "Not deleted: someone changed this picture") || headOf(t, s) != head {
		t.Fatalf("a stale delete: %d %s", r.status, r.body)
	}
	version = inputValue(t, item.body, "version")
	r = b.post("/admin/media/"+photoID+"/delete", url.Values{"version": {version}})
	mustStatus(t, r, 200)
	confirm := string(r.body)
	if !strings.Contains(confirm, "2 posts show this picture") || !strings.Contains(confirm, `href="/admin/posts/`+inText+`"`) ||
		!strings.Contains(confirm, `href="/admin/posts/`+asFeature+`"`) || strings.Contains(confirm, other) ||
		!strings.Contains(confirm, "Shows it &lt;b&gt;inline&lt;/b&gt;") || !strings.Contains(confirm, `name="confirm" value="yes"`) {
		t.Fatalf("the confirmation:\n%s", confirm)
	}
	if headOf(t, s) != head {
		t.Fatal("asking moved main")
	}
	r = b.post("/admin/media/"+photoID+"/delete", url.Values{"version": {version}, "confirm": {"yes"}})
	lib = b.follow(r)
	if !strings.Contains(string(lib.body), "Deleted “photo.jpg”.") || strings.Contains(string(lib.body), photoID) {
		t.Fatalf("after the delete:\n%s", lib.body)
	}
	mustStatus(t, b.get("/admin/media/"+photoID), 404)
	mustStatus(t, s.do("GET", "/media/"+photoID+"/original", "", nil), 404)
	if headOf(t, s) == head {
		t.Fatal("the delete did not commit")
	}

	// A form from another site is refused.
	head = headOf(t, s)
	r = b.postFiles("/admin/media", []upFile{{"x.png", testPNG(4, 4)}}, nil, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if r.status != http.StatusForbidden || headOf(t, s) != head {
		t.Fatalf("cross-site upload: %d", r.status)
	}
}

// The script's uploads: one file a request, answered as JSON (what the
// editor inserts), refusals as JSON naming the field; and the picker's
// list.
func TestAdminMediaJSON(t *testing.T) {
	t.Parallel()
	s, b := signedIn(t, "ed@example.org", auth.RoleEditor, func(c *Config) { c.MediaMaxMiB = 1 })

	r := b.postFiles("/admin/media", []upFile{{"pasted.png", testPNG(20, 20)}}, []string{"alt", "A <b>small</b> square"}, "Accept", "application/json")
	if r.status != http.StatusCreated || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON upload: %d %s", r.status, r.body)
	}
	var m struct{ ID, Ref, URL, Thumb, Alt string }
	json.Unmarshal(r.body, &m)
	if m.ID == "" || m.Ref != "media:"+m.ID || m.URL != "/media/"+m.ID+"/original" || m.Alt != "A <b>small</b> square" {
		t.Fatalf("JSON upload answer: %s", r.body)
	}
	if api := s.do("GET", "/api/v1/media/"+m.ID, "", nil); api.status != 200 || !strings.Contains(string(api.body), `"original_name":"pasted.png"`) {
		t.Fatalf("the API does not see the upload: %d %s", api.status, api.body)
	}

	head := headOf(t, s)
	big := make([]byte, 2<<20+1)
	for _, tc := range []struct {
		name   string
		file   upFile
		status int
		detail string
	}{
		{"text as a picture", upFile{"text.png", []byte("hello")}, http.StatusUnsupportedMediaType, "text.png: not a JPEG"},
		{"over the limit", upFile{"big.jpg", big[:1<<20+1]}, http.StatusRequestEntityTooLarge, "big.jpg: is larger than 1 MiB"},
		{"declared over the limit", upFile{"bigger.jpg", big}, http.StatusRequestEntityTooLarge, "The file is larger than 1 MiB."},
	} {
		r := b.postFiles("/admin/media", []upFile{tc.file}, nil, "Accept", "application/json")
		var e struct{ Field, Detail string }
		json.Unmarshal(r.body, &e)
		if r.status != tc.status || e.Field != "file" || !strings.HasPrefix(e.Detail, tc.detail) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
	if headOf(t, s) != head {
		t.Fatal("a refused upload moved main")
	}

	r = b.get("/admin/media?format=json")
	var list struct {
		Items []struct{ ID, Ref, Thumb, Alt string }
		Total int
	}
	json.Unmarshal(r.body, &list)
	if r.status != 200 || list.Total != 1 || len(list.Items) != 1 || list.Items[0].Thumb != "/media/"+m.ID+"/w320" {
		t.Fatalf("the picker's list: %d %s", r.status, r.body)
	}
}

// With JavaScript, in Debian's chromium: a picture pasted into a post's
// text and another dropped on it are uploaded to the library (alt text
// asked in a dialog) and inserted as ![alt](media:<id>) where the cursor
// was; the feature image is picked from the library; a file dropped on
// the library is uploaded with a progress bar and added to the grid.
func TestAdminMediaInTheBrowser(t *testing.T) {
	t.Parallel()
	axe := loadAxe(t)
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	ctx, cancel := browserCtx(t, 2*time.Minute)
	defer cancel()
	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("sign in", trapAlerts(), chromedp.Navigate(s.url+"/admin/posts/new"),
		chromedp.SendKeys("#email", "ed@example.org", chromedp.ByQuery),
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Submit("#password", chromedp.ByQuery),
		chromedp.WaitVisible("#content", chromedp.ByQuery))

	// A File made in the page from a PNG's bytes, handed to the text as
	// a paste (clipboardData) or a drop (dataTransfer).
	png := base64.StdEncoding.EncodeToString(testPNG(24, 16))
	send := func(kind, name string) string {
		return `(() => {
  const bytes = Uint8Array.from(atob("` + png + `"), c => c.charCodeAt(0));
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], "` + name + `", {type: "image/png"}));
  const text = document.getElementById("content");
  text.focus();
  text.setSelectionRange(8, 8);
  const ev = "` + kind + `" === "paste"
    ? new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true})
    : new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true});
  text.dispatchEvent(ev);
  return ev.defaultPrevented;
})()`
	}
	describe := func(alt string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.WaitVisible("dialog[open] #alt-dialog-text", chromedp.ByQuery),
			chromedp.SendKeys("#alt-dialog-text", alt, chromedp.ByQuery),
			chromedp.Click(`dialog[open] button[value=insert]`, chromedp.ByQuery),
		}
	}
	var taken bool
	var body string
	run("paste a picture", chromedp.SetValue("#content", "Before. After.", chromedp.ByQuery),
		chromedp.Evaluate(send("paste", "pasted.png"), &taken), chromedp.WaitVisible("dialog[open] #alt-dialog-text", chromedp.ByQuery))
	var focused string
	run("the dialog has the focus", chromedp.Evaluate(`document.activeElement.id`, &focused))
	if focused != "alt-dialog-text" {
		t.Errorf("the alt text dialog opened with the focus on %q", focused)
	}
	axeCheck(t, ctx, axe, "the alt text dialog")
	run("describe the pasted picture", describe("A pasted square"),
		chromedp.WaitVisible("#body-uploads .done", chromedp.ByQuery),
		chromedp.Value("#content", &body, chromedp.ByQuery))
	m := regexp.MustCompile(`^Before\. !\[A pasted square\]\(media:([A-Za-z0-9_-]+)\)After\.$`).FindStringSubmatch(body)
	if !taken || m == nil {
		t.Fatalf("after the paste (taken %v) the text is %q", taken, body)
	}
	pasted := m[1]
	run("drop a picture", chromedp.Evaluate(send("drop", "dropped.png"), &taken), describe("A dropped [square]"),
		chromedp.WaitVisible("#body-uploads li:nth-child(2) .done", chromedp.ByQuery),
		chromedp.Value("#content", &body, chromedp.ByQuery))
	m = regexp.MustCompile(`^Before\. !\[A dropped \\\[square\\\]\]\(media:([A-Za-z0-9_-]+)\)!\[A pasted square\]\(media:` + pasted + `\)After\.$`).FindStringSubmatch(body)
	if !taken || m == nil {
		t.Fatalf("after the drop (taken %v) the text is %q", taken, body)
	}
	dropped := m[1]
	for id, want := range map[string]string{pasted: `"alt":"A pasted square"`, dropped: `"original_name":"dropped.png"`} {
		if r := s.do("GET", "/api/v1/media/"+id, "", nil); r.status != 200 || !strings.Contains(string(r.body), want) {
			t.Errorf("the upload %s is not in the library as expected: %d %s", id, r.status, r.body)
		}
	}

	// The feature image, picked from the library (newest first).
	var feature string
	run("pick the feature image", chromedp.Click(`a[data-pick=feature_image]`, chromedp.ByQuery),
		chromedp.WaitVisible("dialog[open] .picker button", chromedp.ByQuery))
	axeCheck(t, ctx, axe, "the library picker")
	run("pick the newest", chromedp.Click("dialog[open] .picker li:first-child button", chromedp.ByQuery),
		chromedp.Value("#feature_image", &feature, chromedp.ByQuery))
	if feature != "media:"+dropped {
		t.Errorf("picked %q, want media:%s", feature, dropped)
	}
	var where string
	run("save", chromedp.SendKeys("#title", "With pictures", chromedp.ByQuery), chromedp.Click(`button[value=save]`, chromedp.ByQuery),
		chromedp.WaitVisible(".flash", chromedp.ByQuery), chromedp.Location(&where))
	id := where[strings.LastIndex(where, "/")+1:]
	var p struct {
		Content      string
		FeatureImage string `json:"feature_image"`
	}
	s.do("GET", "/api/v1/posts/"+id, s.token("ed@example.org"), nil).json(t, &p)
	if p.FeatureImage != "media:"+dropped || !strings.Contains(p.Content, "(media:"+pasted+")") {
		t.Fatalf("the saved post: %+v", p)
	}
	// Published, the post shows its pictures to readers, and is found and
	// fed.
	run("publish", chromedp.Click(`button[value=publish]`, chromedp.ByQuery), chromedp.WaitVisible(`button[value=unpublish]`, chromedp.ByQuery))
	eventstest.CheckFor(t, 15*time.Second, pollEvery, func() error {
		page := s.get("/posts/with-pictures")
		if page.status != 200 || !strings.Contains(string(page.body), "/media/"+pasted+"/") || !strings.Contains(string(page.body), "/media/"+dropped+"/") {
			return fmt.Errorf("/posts/with-pictures: status %d, pictures not shown yet", page.status)
		}
		if r := s.do("GET", "/api/v1/search?q=pictures", "", nil); !strings.Contains(string(r.body), id) {
			return fmt.Errorf("search: %s", r.body)
		}
		if f := s.get("/feed.xml"); !strings.Contains(string(f.body), "With pictures") {
			return fmt.Errorf("the feed lacks the post")
		}
		return nil
	})

	// A file dropped on the library: a progress bar, then a new card.
	var cards int
	run("drop on the library", chromedp.Navigate(s.url+"/admin/media"), chromedp.WaitVisible("#grid", chromedp.ByQuery),
		chromedp.Evaluate(`(() => {
  const bytes = Uint8Array.from(atob("`+png+`"), c => c.charCodeAt(0));
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], "library.png", {type: "image/png"}));
  document.getElementById("library").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
})()`, nil),
		chromedp.WaitVisible("#uploads .done", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("#grid li.card").length`, &cards))
	if cards != 3 {
		t.Errorf("the grid shows %d cards after the drop, want 3", cards)
	}
	var alerted bool
	chromedp.Run(ctx, chromedp.Evaluate(`window.__alerted === true`, &alerted))
	if alerted {
		t.Error("alert, confirm or prompt was used")
	}
}
