package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"

	"fleetprompt/store/storetest"
)

// TestRegisterJourney: a newcomer registers an organization and lands on
// its dashboard — once with JavaScript (htmx posts the form and shows the
// error in place) and once with JavaScript disabled (plain posts, the 422
// page, then the 303 to the dashboard).
func TestRegisterJourney(t *testing.T) {
	a := startApp(t)
	for _, js := range []bool{true, false} {
		t.Run(map[bool]string{true: "with JavaScript", false: "without JavaScript"}[js], func(t *testing.T) {
			ctx := browser(t)
			if !js {
				disableJS(t, ctx)
			}
			slug := storetest.Name("e2e")
			do(t, ctx,
				chromedp.Navigate(a.URL+"/register"),
				chromedp.WaitVisible(chromedp.CSS(`#register-form`)),
			)
			if js {
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.fpSameDocument = true`)); err != nil {
					t.Fatal(err)
				}
			}
			do(t, ctx,
				chromedp.SendKeys(chromedp.CSS(`#org_name`), "E2E Org"),
				chromedp.SendKeys(chromedp.CSS(`#org_slug`), "Not Valid"),
				chromedp.SendKeys(chromedp.CSS(`#name`), "Erin Example"),
				chromedp.SendKeys(chromedp.CSS(`#email`), slug+"@example.com"),
				chromedp.SendKeys(chromedp.CSS(`#password`), "password123"),
				chromedp.Click(chromedp.CSS(`#register-form button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`#field-org_slug .error`)),
			)
			// Then polled, not read once: with htmx the form is swapped in
			// place, and the element found during the swap can be the one
			// about to be replaced (the suite once read it empty).
			waitJS(t, ctx, `(document.querySelector("#field-org_slug .error")?.textContent || "").trim() !== ""`, "the slug's error message")
			if js {
				// htmx swapped the form in place: the page was not reloaded,
				// so a value set on window before the submit is still there.
				if v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.fpSameDocument === true`)); err != nil || !v {
					t.Fatalf("the invalid form reloaded the page instead of swapping in place (%v)", err)
				}
				// Focus moves to the first invalid field once the swap has
				// settled (app.js): typing before that sent the password's
				// keys into the slug field.
				waitJS(t, ctx, `document.activeElement && document.activeElement.id === "org_slug"`, "focus on the invalid slug")
			}
			do(t, ctx,
				chromedp.SetValue(chromedp.CSS(`#org_slug`), slug),
				chromedp.SendKeys(chromedp.CSS(`#password`), "password123"),
				chromedp.Click(chromedp.CSS(`#register-form button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=role]`)),
			)
			if badge, role := textOf(t, ctx, `[data-testid=tenant-badge]`), textOf(t, ctx, `[data-testid=role]`); badge != "org_"+slug || role != "owner" {
				t.Errorf("dashboard shows badge %q role %q", badge, role)
			}
		})
	}
}
