package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"fleetprompt/store"
)

// profileOrg is an organization whose plain member wrote a thread with
// more than a profile page of posts, the last one hidden by moderators.
type profileOrg struct {
	*adminOrg
	member store.User
	thread store.ForumThread
	hidden store.ForumPost
}

func newProfileOrg(t *testing.T) *profileOrg {
	t.Helper()
	as := newAdminSite(t)
	o := as.newAdminOrg("prof")
	tn := as.tenantOf(o.slug)
	member, err := as.store.UserByID(ctx, o.memberID)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := as.store.CreateForumCategory(ctx, tn, o.ownerID, store.NewForumCategory{Name: "General"})
	if err != nil {
		t.Fatal(err)
	}
	th, _, err := as.store.CreateForumThread(ctx, tn, o.memberID, store.NewForumThread{CategoryID: cat.ID, Title: "Member's question", Body: "## How do I\n\nset **this** up?"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range store.UserPostsPerPage + 2 {
		if _, _, err := as.store.CreateForumReply(ctx, tn, o.memberID, th.ID, fmt.Sprintf("Follow-up number %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	_, hidden, err := as.store.CreateForumReply(ctx, tn, o.memberID, th.ID, "A post the moderators hid")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := as.store.DB.ExecContext(ctx, tn.SQL(`UPDATE {tenant}.forum_posts SET status = 'hidden' WHERE id = $1`), hidden.ID); err != nil {
		t.Fatal(err)
	}
	return &profileOrg{adminOrg: o, member: member, thread: th, hidden: hidden}
}

func TestProfileShowsPostsInThisOrganization(t *testing.T) {
	t.Parallel()
	p := newProfileOrg(t)
	o, member, th, hidden := p.adminOrg, p.member, p.thread, p.hidden
	path := "/u/" + member.Handle

	// The owner (a member would see the same, minus the hidden post).
	r := o.owner.get(path)
	wantStatus(t, r, http.StatusOK)
	d := r.doc(t)
	if text(d, `[data-testid=profile-name]`) != member.Name || text(d, `[data-testid=profile-handle]`) != "@"+member.Handle {
		t.Errorf("profile heading %q %q", text(d, `[data-testid=profile-name]`), text(d, `[data-testid=profile-handle]`))
	}
	if d.Find(`.profile-head .avatar`).Length() != 1 {
		t.Error("no avatar")
	}
	first := d.Find(`[data-testid=profile-post]`).First()
	if !strings.Contains(first.Text(), "hidden") {
		t.Errorf("the moderator's newest post is not the hidden one: %q", first.Text())
	}
	href, _ := first.Find("a").Attr("href")
	if !strings.HasPrefix(href, "/forums/t/"+th.ID+"?page=1#post-"+hidden.ID) {
		t.Errorf("post link %q", href)
	}

	r = o.member.get(path)
	wantStatus(t, r, http.StatusOK)
	d = r.doc(t)
	if strings.Contains(r.Body, "moderators hid") {
		t.Error("a member sees a hidden post")
	}
	if n := d.Find(`[data-testid=profile-post]`).Length(); n != store.UserPostsPerPage {
		t.Errorf("%d posts on the first page", n)
	}
	older, _ := d.Find(`[data-testid=profile-older]`).Attr("href")
	if older == "" {
		t.Fatal("no link to older posts")
	}
	// htmx takes the next page's items in place of the link.
	r = o.member.get(older, "HX-Request", "true")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, "set this up") || !strings.Contains(r.Body, `data-testid="profile-post"`) {
		t.Errorf("older posts fragment:\n%.800s", r.Body)
	}
	r = o.member.get(path + "?after=nonsense")
	wantStatus(t, r, http.StatusUnprocessableEntity)

	// The handle in any case, with its @, leads to the one address.
	r = o.member.get("/u/@" + strings.ToUpper(member.Handle))
	if r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != path {
		t.Errorf("non-canonical handle: %d %s", r.StatusCode, r.Header.Get("Location"))
	}

	// A disabled member's profile stays, marked.
	wantStatus(t, o.owner.post("/admin/members/"+strconv.FormatInt(o.memberID, 10), url.Values{"status": {"disabled"}}), http.StatusSeeOther)
	if r := o.admin.get(path); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "no longer active") {
		t.Errorf("disabled member's profile: %d", r.StatusCode)
	}
}

// Someone outside the current organization has no profile here: the
// answer is the same 404 as for a handle nobody has.
func TestProfileOfNonMemberIsNotFound(t *testing.T) {
	t.Parallel()
	as := newAdminSite(t)
	o := as.newAdminOrg("profiso")
	_, _, outsiderID := as.newUser("outsider")
	outsider, err := as.store.UserByID(ctx, outsiderID)
	if err != nil {
		t.Fatal(err)
	}
	a := o.member.get("/u/" + outsider.Handle)
	b := o.member.get("/u/nobody_has_this_handle")
	wantStatus(t, a, http.StatusNotFound)
	wantStatus(t, b, http.StatusNotFound)
	if text(a.doc(t), "main h1") != text(b.doc(t), "main h1") {
		t.Error("a non-member's 404 differs from an unknown handle's")
	}
	// Your own profile offers the settings.
	self, _ := as.store.UserByID(ctx, o.memberID)
	if r := o.member.get("/u/" + self.Handle); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Edit your profile") {
		t.Errorf("own profile: %d", r.StatusCode)
	}
}
