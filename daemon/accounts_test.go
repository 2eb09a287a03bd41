package daemon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/chronicle-cms/chronicle/webui/auth"
)

// from sends a request from a loopback address of the caller's choosing
// (127.0.0.x all reach the daemon), as another client would.
func (s *site) from(ip, method, path, authz string, body any, headers ...string) response {
	s.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(raw))
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	res := response{status: resp.StatusCode, header: resp.Header, body: b}
	checkResponse(s.t, req, raw, res)
	return res
}

func basic(email, secret string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(email, secret)
	return req.Header.Get("Authorization")
}

func (s *site) tokenIDs(jwt string) []string {
	s.t.Helper()
	r := s.do("GET", "/api/v1/tokens", jwt, nil)
	mustStatus(s.t, r, 200)
	var l struct{ Items []struct{ ID string } }
	r.json(s.t, &l)
	var ids []string
	for _, it := range l.Items {
		ids = append(ids, it.ID)
	}
	sort.Strings(ids)
	return ids
}

// The race: a revocation (DELETE → 204) racing a creation, here
// through the API and through `chronicle token create` run as another
// process at the same time. No acknowledged change may be lost.
func TestTokenRevocationRacingCreation(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	jwt := s.token("ed@example.org")
	var want, revoked, good []string
	for round := 0; round < 12; round++ {
		r := s.do("POST", "/api/v1/tokens", jwt, map[string]string{"name": "doomed"})
		mustStatus(t, r, 201)
		var doomed struct{ ID, Token string }
		r.json(t, &doomed)

		var wg sync.WaitGroup
		var del, made response
		var cliOut, cliErr bytes.Buffer
		var cliErrRun error
		wg.Add(3)
		go func() { defer wg.Done(); del = s.do("DELETE", "/api/v1/tokens/"+doomed.ID, jwt, nil) }()
		go func() { defer wg.Done(); made = s.do("POST", "/api/v1/tokens", jwt, map[string]string{"name": "kept"}) }()
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "token", "create", "--data", data, "--email", "ed@example.org", "--name", "cli")
			cmd.Env = append(os.Environ(), "CHRONICLE_TEST_MAIN=1")
			cmd.Stdout, cmd.Stderr = &cliOut, &cliErr
			cliErrRun = cmd.Run()
		}()
		wg.Wait()
		mustStatus(t, del, 204)
		mustStatus(t, made, 201)
		if cliErrRun != nil {
			t.Fatalf("token create: %v\n%s", cliErrRun, cliErr.String())
		}
		var kept struct{ ID, Token string }
		made.json(t, &kept)
		want = append(want, kept.ID, strings.Fields(cliErr.String())[1])
		sort.Strings(want)
		if got := s.tokenIDs(jwt); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("round %d: tokens %v, want %v (revoked %s)", round, got, want, doomed.ID)
		}
		revoked = append(revoked, doomed.Token)
		good = append(good, kept.Token, strings.TrimSpace(cliOut.String()))
	}
	// The revoked tokens are refused (each from an address of its own:
	// wrong tokens count against their address); the others work.
	for i, tok := range revoked {
		mustStatus(t, s.from(fmt.Sprintf("127.0.1.%d", i+1), "GET", "/api/v1/tokens", "Bearer "+tok, nil), 401)
	}
	for _, tok := range good {
		mustStatus(t, s.do("GET", "/api/v1/tokens", tok, nil), 200)
	}
}

// Git, LFS and the API share one sign-in policy: failures anywhere spend
// the same budgets; over them each answers 429 with Retry-After; and a
// stranger failing on purpose does not lock the owner out of the address
// she signed in from before, nor out of her personal access tokens.
func TestSignInLimitsSharedByAPIGitAndLFS(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data, func(c *Config) { c.SignInEvery = time.Hour }) // no attempt back mid-test
	const owner, stranger, elsewhere, sprayer = "127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"
	refs := "/git/site.git/info/refs?service=git-upload-pack"
	signIn := func(ip, pw string) response {
		return s.from(ip, "POST", "/api/v1/auth/token", "", map[string]string{"email": "ed@example.org", "password": pw})
	}
	mustStatus(t, signIn(owner, password), 200) // the owner's address is known from now on
	pat := strings.TrimSpace(func() string {
		var out, errOut bytes.Buffer
		if code := Main([]string{"token", "create", "--data", data, "--email", "ed@example.org"}, "test", strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("token create: %s", errOut.String())
		}
		return out.String()
	}())

	// The stranger guesses ed's password over git: the account's budget
	// (10, one spent by the owner) runs out, and git says so with 429.
	for i := 0; i < 9; i++ {
		if r := s.from(stranger, "GET", refs, basic("ed@example.org", fmt.Sprint("guess ", i)), nil); r.status != 401 {
			t.Fatalf("guess %d: %d %s", i, r.status, r.body)
		}
	}
	r := s.from(stranger, "GET", refs, basic("ed@example.org", "guess 9"), nil)
	if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "too many sign-in attempts") {
		t.Fatalf("git over the limit: %d %v %s", r.status, r.header, r.body)
	}
	// From another address, the account's budget is spent for the API and
	// LFS too.
	r = signIn(elsewhere, "guess 10")
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("API after git failures: %d %s", r.status, r.body)
	}
	r = s.from(elsewhere, "POST", "/git/site.git/info/lfs/objects/batch", basic("ed@example.org", "guess 11"),
		`{"operation":"download","objects":[]}`, "Content-Type", "application/vnd.git-lfs+json")
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.header.Get("Content-Type") != "application/vnd.git-lfs+json" {
		t.Fatalf("LFS after git failures: %d %v %s", r.status, r.header, r.body)
	}
	// The owner is not locked out: from the address she signed in from,
	// with her password, over the API and git; from anywhere with her token.
	mustStatus(t, signIn(owner, password), 200)
	if r := s.from(owner, "GET", refs, basic("ed@example.org", password), nil); r.status != 200 {
		t.Fatalf("owner's git: %d %s", r.status, r.body)
	}
	if r := s.from(elsewhere, "GET", refs, basic("ed@example.org", pat), nil); r.status != 200 {
		t.Fatalf("owner's token over git: %d %s", r.status, r.body)
	}
	mustStatus(t, s.from(stranger, "GET", "/api/v1/tokens", "Bearer "+pat, nil), 200)

	// Guessed tokens count against their address, on git and the API: over
	// the budget they are told to wait, and so are passwords from there;
	// a good token from the same address still works.
	bogus := func(i int) string { return fmt.Sprintf("%s%012d_%s", auth.TokenPrefix, i, strings.Repeat("A", 43)) }
	for i := 0; i < 10; i++ {
		if i%2 == 0 {
			mustStatus(t, s.from(sprayer, "GET", refs, basic("ed@example.org", bogus(i)), nil), 401)
		} else {
			mustStatus(t, s.from(sprayer, "GET", "/api/v1/tokens", "Bearer "+bogus(i), nil), 401)
		}
	}
	for _, r := range []response{
		s.from(sprayer, "GET", refs, basic("ed@example.org", bogus(10)), nil),
		s.from(sprayer, "GET", "/api/v1/tokens", "Bearer "+bogus(11), nil),
		s.from(sprayer, "POST", "/api/v1/auth/token", "", map[string]string{"email": "ad@example.org", "password": "guess"}),
	} {
		if r.status != 429 || r.header.Get("Retry-After") == "" {
			t.Fatalf("from an address that guessed tokens: %d %s", r.status, r.body)
		}
	}
	mustStatus(t, s.from(sprayer, "GET", "/api/v1/tokens", "Bearer "+pat, nil), 200)
	if r := s.from(sprayer, "GET", refs, basic("ed@example.org", pat), nil); r.status != 200 {
		t.Fatalf("a good token over git from the address that guessed: %d %s", r.status, r.body)
	}
}

// A password reset, a role change and a removal (all made with the CLI
// while the daemon runs) end the account's API tokens at once. A
// rotation of the token key (the CLI too, on the data directory's key
// files) keeps them good, the daemon signing the next with the new key;
// one with --drop-old ends them. The accounts and secrets folders are
// private, tightened at start.
func TestCredentialChangesEndAPITokensAtOnce(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	for _, d := range []string{"accounts", "secrets"} {
		os.MkdirAll(filepath.Join(data, d), 0o755)
		os.Chmod(filepath.Join(data, d), 0o755)
	}
	s := startSite(t, data)
	for _, d := range []string{"accounts", "secrets"} {
		if st, err := os.Stat(filepath.Join(data, d)); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", d, st.Mode(), err)
		}
	}
	cli := func(stdin string, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := Main(append(args, "--data", data), "test", strings.NewReader(stdin), &out, &errOut); code != 0 {
			t.Fatalf("%v: %s", args, errOut.String())
		}
		return out.String()
	}
	refused := func(tok, says string) {
		t.Helper()
		r := s.do("GET", "/api/v1/tokens", tok, nil)
		mustStatus(t, r, 401)
		if d, _ := r.problem(t); !strings.Contains(d, says) {
			t.Fatalf("detail %q does not say %q", d, says)
		}
	}
	const newPassword = "a brand new passphrase"
	signIn := func(pw string) string {
		r := s.do("POST", "/api/v1/auth/token", "", map[string]string{"email": "ed@example.org", "password": pw})
		mustStatus(t, r, 200)
		var tok struct{ Token string }
		r.json(t, &tok)
		return tok.Token
	}

	before := s.token("ed@example.org")
	r := s.do("POST", "/api/v1/tokens", before, map[string]string{"name": "ci"})
	mustStatus(t, r, 201)
	var pat struct{ Token string }
	r.json(t, &pat)

	cli(newPassword+"\n", "user", "add", "--reset", "--email", "ed@example.org", "--password-stdin")
	refused(before, "password or role changed")
	after := signIn(newPassword)
	mustStatus(t, s.do("GET", "/api/v1/tokens", after, nil), 200)
	mustStatus(t, s.do("GET", "/api/v1/settings", after, nil), 403)
	mustStatus(t, s.do("GET", "/api/v1/tokens", pat.Token, nil), 200) // personal tokens are revoked one by one

	// The token key rotated with the CLI while the daemon runs: the
	// daemon's tokens stay good, and the next it signs names the new key.
	out := strings.Fields(cli("", "token", "rotate-key"))
	kid := out[len(out)-4]
	mustStatus(t, s.do("GET", "/api/v1/tokens", after, nil), 200)

	cli("", "user", "role", "--email", "ed@example.org", "--role", "admin")
	refused(after, "password or role changed")
	admin := signIn(newPassword)
	if parsed, _, err := jwt.NewParser().ParseUnverified(admin, &jwt.RegisteredClaims{}); err != nil || parsed.Header["kid"] != kid {
		t.Fatalf("after rotate-key the daemon signs with key %v (%v), want the new key %s", parsed.Header["kid"], err, kid)
	}
	mustStatus(t, s.do("GET", "/api/v1/settings", admin, nil), 200)
	mustStatus(t, s.do("GET", "/api/v1/settings", pat.Token, nil), 200) // the account's role, now
	// A rotation with --drop-old refuses the older keys' tokens at once.
	cli("", "token", "rotate-key", "--drop-old")
	refused(admin, "invalid")
	admin = signIn(newPassword)
	if b, err := os.ReadFile(filepath.Join(data, "secrets", "security.log")); err != nil || !strings.Contains(string(b), `"token_key.rotated"`) {
		t.Fatalf("the security log does not record the key rotations: %v\n%s", err, b)
	}

	cli("", "user", "remove", "--email", "ed@example.org")
	refused(admin, "no longer exists")
	refused(pat.Token, "unknown or revoked personal access token")
	mustStatus(t, s.do("POST", "/api/v1/auth/token", "", map[string]string{"email": "ed@example.org", "password": newPassword}), 401)
}

// A personal access token works as an API bearer token with the
// account's role, until it is revoked; each refusal says what was wrong.
func TestPersonalTokensAsBearer(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	addAccount(t, data, "ad@example.org", auth.RoleAdmin)
	s := startSite(t, data)
	newPAT := func(email string) (id, secret string) {
		r := s.do("POST", "/api/v1/tokens", s.token(email), map[string]string{"name": "script"})
		mustStatus(t, r, 201)
		var p struct{ ID, Token string }
		r.json(t, &p)
		return p.ID, p.Token
	}
	edID, ed := newPAT("ed@example.org")
	_, ad := newPAT("ad@example.org")

	r := s.do("POST", "/api/v1/posts", ed, postBody("By a script", "status", "published"))
	mustStatus(t, r, 201)
	var p apiPost
	r.json(t, &p)
	if msg := git(t, s.repoDir(), "log", "-1", "--format=%b", "main"); !strings.Contains(msg, "Chronicle-Actor: ed@example.org") {
		t.Fatalf("commit by a token: %s", msg)
	}
	mustStatus(t, s.do("GET", "/api/v1/posts?status=draft", ed, nil), 200)
	mustStatus(t, s.do("GET", "/api/v1/settings", ed, nil), 403)
	mustStatus(t, s.do("GET", "/api/v1/settings", ad, nil), 200)
	mustStatus(t, s.do("GET", "/api/v1/tokens", "", nil, "Authorization", "bearer "+ed), 200) // the scheme in any case

	// Revoked with the token itself: refused at once, like an unknown one.
	mustStatus(t, s.do("DELETE", "/api/v1/tokens/"+edID, ed, nil), 204)
	unknown := auth.TokenPrefix + "0123456789ab_" + strings.Repeat("A", 43)
	for _, tok := range []string{ed, unknown} {
		r := s.do("GET", "/api/v1/tokens", tok, nil)
		mustStatus(t, r, 401)
		if d, _ := r.problem(t); d != "unknown or revoked personal access token" {
			t.Errorf("detail %q", d)
		}
	}
	for _, authz := range []string{"Basic " + ed, "Bearer", "Bearer " + ad + " extra", ad} {
		r := s.do("GET", "/api/v1/tokens", "", nil, "Authorization", authz)
		mustStatus(t, r, 401)
		if d, _ := r.problem(t); !strings.Contains(d, "malformed Authorization header") {
			t.Errorf("%q: detail %q", authz, d)
		}
	}
}

// TestDisabledAccountIsRefusedEverywhere disables an account (in the
// admin) while it has an admin session, an API token and a personal
// access token: each is refused on its next request, as are a new
// password sign-in and git; enabled again (on the CLI), it signs in
// and its personal token works again.
func TestDisabledAccountIsRefusedEverywhere(t *testing.T) {
	t.Parallel()
	s, adm := signedIn(t, "ad@example.org", auth.RoleAdmin)
	addAccount(t, s.data, "ed@example.org", auth.RoleEditor)
	ed := s.browser()
	ed.signIn("ed@example.org", password)
	mustStatus(t, ed.get("/admin/"), 200)
	jwt := s.token("ed@example.org")
	r := s.do("POST", "/api/v1/tokens", jwt, map[string]string{"name": "ci"})
	mustStatus(t, r, 201)
	var pat struct{ Token string }
	r.json(t, &pat)
	clone := func(secret string) error {
		_, err := gitTry(t, ".", "clone", "-q", s.remote("ed@example.org", secret), filepath.Join(t.TempDir(), "w"))
		return err
	}
	if err := clone(pat.Token); err != nil {
		t.Fatalf("clone before: %v", err)
	}
	if err := clone(password); err != nil { // and git remembers the password a while
		t.Fatalf("clone with the password before: %v", err)
	}

	page := adm.get("/admin/accounts/edit?email=ed%40example.org")
	mustStatus(t, page, 200)
	r = adm.post("/admin/accounts/disable", url.Values{"email": {"ed@example.org"}, "version": {inputValue(t, page.body, "version")}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	if !strings.Contains(string(adm.follow(r).body), "disabled") {
		t.Error("the account page does not say it is disabled")
	}

	if r := ed.get("/admin/"); r.status != http.StatusSeeOther {
		t.Errorf("the admin session goes on: %d", r.status)
	}
	for name, tok := range map[string]string{"API token": jwt, "personal access token": pat.Token} {
		r := s.do("GET", "/api/v1/posts?status=draft", tok, nil)
		if d, _ := r.problem(t); r.status != 401 || !strings.Contains(d, "disabled") {
			t.Errorf("%s: %d %q", name, r.status, d)
		}
	}
	if r := s.do("POST", "/api/v1/auth/token", "", map[string]string{"email": "ed@example.org", "password": password}); r.status != 403 {
		t.Errorf("a new API token: %d", r.status)
	}
	if r := s.browser().post("/admin/login", url.Values{"email": {"ed@example.org"}, "password": {password}}); r.status != 403 ||
		!strings.Contains(string(r.body), "disabled") {
		t.Errorf("a new admin sign-in: %d", r.status)
	}
	if err := clone(pat.Token); err == nil {
		t.Error("git clone with the disabled account's token")
	}
	if err := clone(password); err == nil {
		t.Error("git clone with the disabled account's password")
	}
	// The last admin is kept; an admin cannot disable themselves.
	self := adm.get("/admin/accounts/edit?email=ad%40example.org")
	if r := adm.post("/admin/accounts/disable", url.Values{"email": {"ad@example.org"}, "version": {inputValue(t, self.body, "version")}}); r.status != 409 {
		t.Errorf("disabling oneself: %d", r.status)
	}

	var out, errOut bytes.Buffer
	if code := Main([]string{"user", "enable", "--email", "ed@example.org", "--data", s.data}, "test", nil, &out, &errOut); code != 0 {
		t.Fatalf("user enable: %s", errOut.String())
	}
	mustStatus(t, s.do("GET", "/api/v1/posts?status=draft", pat.Token, nil), 200)
	if err := clone(pat.Token); err != nil {
		t.Errorf("clone after enabling: %v", err)
	}
	out.Reset()
	if code := Main([]string{"user", "list", "--data", s.data}, "test", nil, &out, &errOut); code != 0 ||
		!regexp.MustCompile(`ed@example.org\s+editor\s+active`).MatchString(out.String()) {
		t.Errorf("user list: %s %s", out.String(), errOut.String())
	}
	var sec struct {
		Items []struct{ Type, Account string }
	}
	s.do("GET", "/api/v1/security-events?type=account.", s.token("ad@example.org"), nil).json(t, &sec)
	var kinds []string
	for _, e := range sec.Items {
		kinds = append(kinds, e.Type)
	}
	if !strings.Contains(strings.Join(kinds, " "), "account.enabled account.disabled") {
		t.Errorf("the security log: %v", kinds)
	}
}

// TestAccountsThroughTheAPI manages accounts with the API as an admin:
// add (with and without a password), list, change role, disable and
// enable, remove; the last admin is kept, stale versions refused, and
// editors may not.
func TestAccountsThroughTheAPI(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	addAccount(t, data, "ad@example.org", auth.RoleAdmin)
	addAccount(t, data, "ed@example.org", auth.RoleEditor)
	s := startSite(t, data)
	adm := s.token("ad@example.org")
	mustStatus(t, s.do("GET", "/api/v1/accounts", s.token("ed@example.org"), nil), 403)
	mustStatus(t, s.do("GET", "/api/v1/accounts", "", nil), 401)

	r := s.do("POST", "/api/v1/accounts", adm, map[string]any{"email": "New@Example.org", "role": "editor", "password": password})
	mustStatus(t, r, 201)
	mustStatus(t, s.do("POST", "/api/v1/accounts", adm, map[string]any{"email": "new@example.org", "role": "editor"}), 409)
	mustStatus(t, s.do("POST", "/api/v1/accounts", adm, map[string]any{"email": "x", "role": "editor"}), 422)
	mustStatus(t, s.do("POST", "/api/v1/accounts", adm, map[string]any{"email": "sso@example.org", "role": "god"}), 422)
	r = s.do("POST", "/api/v1/accounts", adm, map[string]any{"email": "sso@example.org", "role": "editor"})
	mustStatus(t, r, 201)
	var sso struct{ Password bool }
	r.json(t, &sso)
	if sso.Password {
		t.Error("an account made without a password can sign in with one")
	}
	var list struct {
		Items []struct{ Email, Role string }
	}
	s.do("GET", "/api/v1/accounts", adm, nil).json(t, &list)
	if len(list.Items) != 4 || list.Items[2].Email != "new@example.org" {
		t.Errorf("the list: %+v", list.Items)
	}

	newTok := s.token("new@example.org")
	r = s.do("GET", "/api/v1/accounts/new@example.org", adm, nil)
	mustStatus(t, r, 200)
	version := r.header.Get("ETag")
	r = s.do("PATCH", "/api/v1/accounts/new@example.org", adm, map[string]any{"role": "admin"}, "If-Match", version)
	mustStatus(t, r, 200)
	mustStatus(t, s.do("PATCH", "/api/v1/accounts/new@example.org", adm, map[string]any{"disabled": true}, "If-Match", version), 412)
	mustStatus(t, s.do("GET", "/api/v1/tokens", newTok, nil), 401) // issued for the old role
	newTok = s.token("new@example.org")
	mustStatus(t, s.do("PATCH", "/api/v1/accounts/new@example.org", adm, map[string]any{"disabled": true}), 200)
	if r := s.do("GET", "/api/v1/tokens", newTok, nil); r.status != 401 {
		t.Errorf("a disabled account's token: %d", r.status)
	}
	mustStatus(t, s.do("PATCH", "/api/v1/accounts/ad@example.org", adm, map[string]any{"disabled": true}), 409) // oneself
	// The only enabled admin is kept, whoever asks.
	mustStatus(t, s.do("DELETE", "/api/v1/accounts/ad@example.org", adm, nil), 409)
	mustStatus(t, s.do("PATCH", "/api/v1/accounts/ad@example.org", adm, map[string]any{"role": "editor"}), 409)
	mustStatus(t, s.do("PATCH", "/api/v1/accounts/new@example.org", adm, map[string]any{"disabled": false, "password": "another passphrase"}), 200)
	r = s.do("POST", "/api/v1/auth/token", "", map[string]string{"email": "new@example.org", "password": "another passphrase"})
	mustStatus(t, r, 200)
	mustStatus(t, s.do("DELETE", "/api/v1/accounts/new@example.org", adm, nil), 204)
	mustStatus(t, s.do("GET", "/api/v1/accounts/new@example.org", adm, nil), 404)
}
