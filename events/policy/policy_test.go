package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/chronicle-cms/chronicle/events/content"
	"github.com/chronicle-cms/chronicle/events/policy"
)

// Each role has what the one before it has, and more.
func TestRolesGrow(t *testing.T) {
	rs := policy.Roles()
	for i := 1; i < len(rs); i++ {
		for _, c := range rs[i-1].Capabilities() {
			if !rs[i].Can(c) {
				t.Errorf("%s may %s but %s may not", rs[i-1], c, rs[i])
			}
		}
		if len(rs[i].Capabilities()) <= len(rs[i-1].Capabilities()) {
			t.Errorf("%s adds nothing to %s", rs[i], rs[i-1])
		}
	}
	if policy.Role("").Can(policy.WriteOwnPosts) || policy.Role("owner").Valid() {
		t.Error("an unknown role may do something")
	}
}

func TestCapabilitiesOfEachRole(t *testing.T) {
	want := map[policy.Capability][4]bool{ // contributor, author, editor, admin
		policy.WriteOwnPosts:   {true, true, true, true},
		policy.PublishOwnPosts: {false, true, true, true},
		policy.UploadMedia:     {false, true, true, true},
		policy.UseGit:          {false, true, true, true},
		policy.EditAllPosts:    {false, false, true, true},
		policy.ReadAll:         {false, false, true, true},
		policy.EditAllMedia:    {false, false, true, true},
		policy.EditCategories:  {false, false, true, true},
		policy.EditProfile:     {false, false, true, true},
		policy.Revert:          {false, false, true, true},
		policy.EditSettings:    {false, false, false, true},
		policy.ManageAccounts:  {false, false, false, true},
		policy.Rollback:        {false, false, false, true},
	}
	for c, by := range want {
		for i, r := range policy.Roles() {
			if got := r.Can(c); got != by[i] {
				t.Errorf("%s can %s: %v, want %v", r, c, got, by[i])
			}
			err := policy.Actor{Email: "a@example.org", Role: r}.Check(c)
			if (err == nil) != by[i] || err != nil && !errors.Is(err, policy.ErrForbidden) {
				t.Errorf("%s Check(%s) = %v", r, c, err)
			}
		}
	}
}

func TestPostChanges(t *testing.T) {
	const me, other = "me@example.org", "other@example.org"
	post := func(author string, s content.Status) *content.Post {
		return &content.Post{ID: "p", Author: author, Status: s}
	}
	noted := func(p *content.Post, note string) *content.Post { p.ReviewNote = note; return p }
	type change struct {
		name      string
		cur, next *content.Post
		want      [4]string // per role: "" allowed, else a word of the refusal
	}
	for _, tc := range []change{
		{"create own draft", nil, post(me, content.Draft), [4]string{"", "", "", ""}},
		{"create own, submitted", nil, post(me, content.Pending), [4]string{"", "", "", ""}},
		{"create own, published", nil, post(me, content.Published), [4]string{"contributor saves drafts", "", "", ""}},
		{"create own, scheduled", nil, post(me, content.Scheduled), [4]string{"contributor saves drafts", "", "", ""}},
		{"create for another", nil, post(other, content.Draft), [4]string{"must be you", "must be you", "", ""}},
		{"edit own draft", post(me, content.Draft), post(me, content.Draft), [4]string{"", "", "", ""}},
		{"submit own draft", post(me, content.Draft), post(me, content.Pending), [4]string{"", "", "", ""}},
		{"publish own draft", post(me, content.Draft), post(me, content.Published), [4]string{"contributor saves drafts", "", "", ""}},
		{"edit own published", post(me, content.Published), post(me, content.Published), [4]string{"the post is published", "", "", ""}},
		{"unpublish own", post(me, content.Published), post(me, content.Draft), [4]string{"the post is published", "", "", ""}},
		{"delete own draft", post(me, content.Draft), nil, [4]string{"", "", "", ""}},
		{"delete own published", post(me, content.Published), nil, [4]string{"the post is published", "", "", ""}},
		{"edit another's", post(other, content.Draft), post(other, content.Draft), [4]string{"other@example.org's", "other@example.org's", "", ""}},
		{"take another's", post(other, content.Draft), post(me, content.Draft), [4]string{"other@example.org's", "other@example.org's", "", ""}},
		{"delete another's", post(other, content.Published), nil, [4]string{"other@example.org's", "other@example.org's", "", ""}},
		{"edit one without author", post("", content.Published), post("", content.Published), [4]string{"no author", "no author", "", ""}},
		{"give own away", post(me, content.Draft), post(other, content.Draft), [4]string{"must be you", "must be you", "", ""}},
		{"request changes", post(me, content.Pending), noted(post(me, content.Draft), "Shorter."), [4]string{"review notes", "review notes", "", ""}},
		{"keep the note", noted(post(me, content.Draft), "Shorter."), noted(post(me, content.Draft), "Shorter."), [4]string{"", "", "", ""}},
		{"clear the note", noted(post(me, content.Draft), "Shorter."), post(me, content.Pending), [4]string{"", "", "", ""}},
	} {
		for i, r := range policy.Roles() {
			err := policy.Actor{Email: me, Role: r}.Post(tc.cur, tc.next)
			switch want := tc.want[i]; {
			case want == "" && err != nil:
				t.Errorf("%s as %s: refused: %v", tc.name, r, err)
			case want != "" && (err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, policy.ErrForbidden)):
				t.Errorf("%s as %s: %v, want a refusal saying %q", tc.name, r, err, want)
			}
		}
	}
	if err := (policy.Actor{Email: me}).Post(nil, post(me, content.Draft)); err == nil {
		t.Error("an actor without a role wrote a post")
	}
	var ref *policy.Refusal
	if err := (policy.Actor{Email: me, Role: policy.Contributor}).Post(nil, post(me, content.Published)); !errors.As(err, &ref) || ref.Field != "status" {
		t.Errorf("a contributor's publish: %v, want a refusal of the field status", err)
	}
}

func TestMediaChanges(t *testing.T) {
	const me, other = "me@example.org", "other@example.org"
	m := func(by string) *content.Media { return &content.Media{ID: "m", UploadedBy: by} }
	for _, tc := range []struct {
		name      string
		cur, next *content.Media
		want      [4]bool // allowed per role
	}{
		{"upload", nil, m(me), [4]bool{false, true, true, true}},
		{"upload as another", nil, m(other), [4]bool{false, false, true, true}},
		{"describe own", m(me), m(me), [4]bool{false, true, true, true}},
		{"delete own", m(me), nil, [4]bool{false, true, true, true}},
		{"describe another's", m(other), m(other), [4]bool{false, false, true, true}},
		{"delete another's", m(other), nil, [4]bool{false, false, true, true}},
		{"delete one without uploader", m(""), nil, [4]bool{false, false, true, true}},
	} {
		for i, r := range policy.Roles() {
			if err := (policy.Actor{Email: me, Role: r}).Media(tc.cur, tc.next); (err == nil) != tc.want[i] {
				t.Errorf("%s as %s: %v, want allowed %v", tc.name, r, err, tc.want[i])
			}
		}
	}
}

func TestCanRead(t *testing.T) {
	const me = "me@example.org"
	for _, tc := range []struct {
		p    content.Post
		want [5]bool // anonymous, contributor, author, editor, admin
	}{
		{content.Post{Author: "x@example.org", Status: content.Published}, [5]bool{true, true, true, true, true}},
		{content.Post{Author: "x@example.org", Status: content.Draft}, [5]bool{false, false, false, true, true}},
		{content.Post{Author: "x@example.org", Status: content.Pending}, [5]bool{false, false, false, true, true}},
		{content.Post{Author: me, Status: content.Scheduled}, [5]bool{false, true, true, true, true}},
		{content.Post{Status: content.Draft}, [5]bool{false, false, false, true, true}},
	} {
		actors := []policy.Actor{{}}
		for _, r := range policy.Roles() {
			actors = append(actors, policy.Actor{Email: me, Role: r})
		}
		for i, a := range actors {
			if got := a.CanRead(&tc.p); got != tc.want[i] {
				t.Errorf("%q reads a %s post of %q: %v, want %v", a.Role, tc.p.Status, tc.p.Author, got, tc.want[i])
			}
			// Its history: the author's, editors' and admins', whatever its status.
			wantHistory := i >= 3 || i > 0 && tc.p.Author == me
			if got := a.CanReadHistory(&tc.p); got != wantHistory {
				t.Errorf("%q reads the history of a %s post of %q: %v, want %v", a.Role, tc.p.Status, tc.p.Author, got, wantHistory)
			}
		}
	}
}
