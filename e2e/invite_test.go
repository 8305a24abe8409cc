package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"fleetprompt/store/storetest"
)

// TestInvitationJourney: an admin invites an email from the members page
// and copies the link it shows; a new browser opens the link, sets a name
// and password, and lands on the inviting organization's dashboard with
// the invited role — once with JavaScript (htmx swaps the members page
// and the form's 422 in place) and once without (plain posts and 303s).
func TestInvitationJourney(t *testing.T) {
	a := startApp(t)
	for _, js := range []bool{true, false} {
		t.Run(map[bool]string{true: "with JavaScript", false: "without JavaScript"}[js], func(t *testing.T) {
			slug := storetest.Name("e2einv")
			email := storetest.Name("e2enew") + "@example.com"

			link := inviteFromMembersPage(t, a, js, slug, email)

			newcomer := browser(t)
			if !js {
				disableJS(t, newcomer)
			}
			do(t, newcomer,
				chromedp.Navigate(link),
				chromedp.WaitVisible(chromedp.CSS(`#invite-form`)),
			)
			if org, role := textOf(t, newcomer, `[data-testid=invite-org]`), textOf(t, newcomer, `[data-testid=invite-role]`); org != "Invite Journey" || role != "admin" {
				t.Errorf("the invitation reads %q as %q", org, role)
			}
			if v, _ := chromedp.Run(newcomer, chromedp.Value(chromedp.CSS(`#invite-email`))); v != email {
				t.Errorf("email %q, want the invited %q", v, email)
			}
			// A password too short first: the form says so, the name stays.
			do(t, newcomer,
				chromedp.SendKeys(chromedp.CSS(`#name`), "Nico Newcomer"),
				chromedp.SendKeys(chromedp.CSS(`#password`), "short"),
				chromedp.Click(chromedp.CSS(`[data-testid=invite-join]`)),
				chromedp.WaitVisible(chromedp.CSS(`#field-password .error`)),
			)
			if v, _ := chromedp.Run(newcomer, chromedp.Value(chromedp.CSS(`#name`))); v != "Nico Newcomer" {
				t.Errorf("name not kept after the 422: %q", v)
			}
			do(t, newcomer,
				chromedp.SendKeys(chromedp.CSS(`#password`), "password123"),
				chromedp.Click(chromedp.CSS(`[data-testid=invite-join]`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=role]`)),
			)
			if badge, role := textOf(t, newcomer, `[data-testid=tenant-badge]`), textOf(t, newcomer, `[data-testid=role]`); badge != "org_"+slug || role != "admin" {
				t.Errorf("the newcomer's dashboard: %q as %q, want org_%s as admin", badge, role, slug)
			}
			if who := textOf(t, newcomer, `[data-testid=settings-link]`); who != "Nico Newcomer" {
				t.Errorf("signed in as %q", who)
			}

			// The link is used up.
			do(t, newcomer,
				chromedp.Navigate(link),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=invite][data-mode=gone]`)),
			)
			if h := textOf(t, newcomer, `main h1`); !strings.Contains(h, "used") {
				t.Errorf("reopened link says %q", h)
			}
		})
	}
}

// inviteFromMembersPage registers an organization in a browser, invites
// email as admin from its members page, and returns the link shown.
func inviteFromMembersPage(t *testing.T, a *app, js bool, slug, email string) string {
	t.Helper()
	admin := browser(t)
	if !js {
		disableJS(t, admin)
	}
	do(t, admin,
		chromedp.Navigate(a.URL+"/register"),
		chromedp.WaitVisible(chromedp.CSS(`#register-form`)),
		chromedp.SendKeys(chromedp.CSS(`#org_name`), "Invite Journey"),
		chromedp.SendKeys(chromedp.CSS(`#org_slug`), slug),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Ivy Inviter"),
		chromedp.SendKeys(chromedp.CSS(`#email`), slug+"@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "password123"),
		chromedp.Click(chromedp.CSS(`#register-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=role]`)),
		chromedp.Navigate(a.URL+"/admin/members"),
		chromedp.WaitVisible(chromedp.CSS(`#member-invite`)),
		chromedp.SendKeys(chromedp.CSS(`#invite-email`), email),
		chromedp.SetValue(chromedp.CSS(`#invite-role`), "admin"),
		chromedp.Click(chromedp.CSS(`[data-testid=member-invite]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=invite-link]`)),
	)
	link, err := chromedp.Run(admin, chromedp.Value(chromedp.CSS(`[data-testid=invite-link]`)))
	if err != nil || !strings.HasPrefix(link, a.URL+"/invite/") {
		t.Fatalf("invitation link %q (%v)", link, err)
	}
	if st := textOf(t, admin, `[data-email="`+email+`"] [data-testid=member-status]`); !strings.HasPrefix(st, "invited") {
		t.Errorf("the invited row's status %q", st)
	}
	return link
}
