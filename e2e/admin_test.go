package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"fleetprompt/store"
	"fleetprompt/store/storetest"
)

// TestAdminMemberJourney: an owner adds an existing user as a member; the
// member signs in, works in the forums and sees no admin; the owner
// disables them, and the member's very next click lands outside the
// organization.
func TestAdminMemberJourney(t *testing.T) {
	a := startApp(t)
	slug := storetest.Name("e2eadm")
	memberEmail := storetest.Name("e2emember") + "@example.com"
	createBareUser(t, memberEmail, "Mia Member")

	owner := browser(t)
	do(t, owner,
		chromedp.Navigate(a.URL+"/register"),
		chromedp.WaitVisible(chromedp.CSS(`#register-form`)),
		chromedp.SendKeys(chromedp.CSS(`#org_name`), "Admin Journey"),
		chromedp.SendKeys(chromedp.CSS(`#org_slug`), slug),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Olive Owner"),
		chromedp.SendKeys(chromedp.CSS(`#email`), slug+"@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "password123"),
		chromedp.Click(chromedp.CSS(`#register-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=role]`)),
		// Into the admin through the header link, then add the member.
		chromedp.Click(chromedp.CSS(`nav a[href="/admin"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=admin-nav]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=admin-nav] a[href="/admin/members"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#member-add`)),
		chromedp.SendKeys(chromedp.CSS(`#member-add #email`), memberEmail),
		chromedp.Click(chromedp.CSS(`[data-testid=member-add]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=member-row][data-email="`+memberEmail+`"]`)),
	)
	if role := textOf(t, owner, `[data-email="`+memberEmail+`"] [data-testid=member-role]`); role != "member" {
		t.Fatalf("added as %q, want member", role)
	}

	member := browser(t)
	do(t, member,
		chromedp.Navigate(a.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), memberEmail),
		chromedp.SendKeys(chromedp.CSS(`#password`), "password123"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=role]`)),
	)
	if badge := textOf(t, member, `[data-testid=tenant-badge]`); badge != "org_"+slug {
		t.Fatalf("member works in %q, want org_%s", badge, slug)
	}
	if n := elementCount(t, member, `nav a[href="/admin"]`); n != 0 {
		t.Error("a plain member sees the Admin link")
	}
	do(t, member,
		chromedp.Click(chromedp.CSS(`nav a[href="/forums"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/forums"][aria-current=page]`)),
	)
	if h := textOf(t, member, `main h1`); h != "Forums" {
		t.Errorf("forums page heading %q", h)
	}

	// The owner disables the member (htmx swaps the table in place).
	do(t, owner,
		chromedp.Click(chromedp.CSS(`[data-email="`+memberEmail+`"] [data-testid=member-disable]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-email="`+memberEmail+`"] [data-testid=member-enable]`)),
	)
	if st := textOf(t, owner, `[data-email="`+memberEmail+`"] [data-testid=member-status]`); st != "disabled" {
		t.Errorf("status %q, want disabled", st)
	}

	// The member's next click: outside the organization.
	do(t, member,
		chromedp.Click(chromedp.CSS(`nav a[href="/dashboard"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.panel.narrow a.button[href="/orgs/new"]`)),
	)
	if h := textOf(t, member, `main h1`); h != "No organization" {
		t.Errorf("after being disabled the member sees %q", h)
	}
	if n := elementCount(t, member, `[data-testid=tenant-badge]`); n != 0 {
		t.Error("the disabled member still shows the organization's badge")
	}
}

// createBareUser makes an account with no organization, as an owner would
// find it to add (people register; here the test stands in for that).
func createBareUser(t *testing.T, email, name string) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("password123"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), storetest.DSN(), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), `INSERT INTO users (email, password_hash, name) VALUES ($1, $2, $3)`, email, string(hash), name); err != nil {
		t.Fatal(err)
	}
}

// elementCount returns how many elements match css.
func elementCount(t *testing.T, ctx context.Context, css string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+css+"`"+`).length`))
	if err != nil {
		t.Fatalf("count %s: %v", css, err)
	}
	return n
}
